"""``pipeline.py build``: its options, and the run from parsed arguments with its exit status."""

from __future__ import annotations

import argparse
import sys

from safeguarding.build.driver import build
from safeguarding.build.notebooks import DEFAULT_JOBS
from safeguarding.build.outcome import BuildError, BuildInterrupted
from safeguarding.config import ConfigError
from safeguarding.lock import LockedError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``pipeline.py build``."""
    parser.add_argument("--config", default="report.yml", help="configuration file (default: report.yml)")
    parser.add_argument("--year", type=int, help="reporting year ending 31 March, e.g. 2025 for 2024-25")
    parser.add_argument("--audience", choices=("public", "board"),
                        help="public (suppressed, default) or board (everything, OFFICIAL-SENSITIVE)")
    parser.add_argument("--renderer", choices=("auto", "quarto", "builtin"), default="auto",
                        help="quarto if on PATH (auto), or the built-in pandoc + typst publisher")
    parser.add_argument("--allow-missing-inputs", action="store_true",
                        help="publish even when an input table could not be built (its sections say 'not available')")
    parser.add_argument("--keep-build", action="store_true", help="keep the working folder with executed notebooks")
    parser.add_argument("--force", action="store_true",
                        help="run every stage even when its inputs are unchanged (the cache is refreshed)")
    parser.add_argument("--kernels", type=int, default=None, metavar="N",
                        help=f"chapter notebooks executed at once, each in its own kernel, and processes protecting "
                             f"the figures in the disclosure stage (default: "
                             f"{DEFAULT_JOBS}, or one per core on a machine with fewer; with --areas, each area's "
                             "share of --jobs)")
    parser.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                        help="wait up to SECONDS for another build using the same folders to finish (default: stop)")
    parser.add_argument("--areas", metavar="MANIFEST",
                        help="build every area the manifest (CSV) lists, with --config's settings; see the README, "
                             "'Many areas in one run'")
    parser.add_argument("--jobs", type=int, default=None, metavar="N",
                        help="with --areas: N processes in all (default: one per core); N areas are built at "
                             "once, each in its own process, or fewer areas with a share of the N each; "
                             "--jobs 1 builds one area at a time in one process")


def run(args: argparse.Namespace) -> int:
    """Run ``pipeline.py build`` from parsed arguments; return the exit status."""
    if getattr(args, "areas", None):
        from safeguarding.areas import run_areas

        return run_areas(args)
    try:
        result = build(
            args.config, year=args.year, audience=args.audience, renderer=args.renderer,
            allow_missing_inputs=args.allow_missing_inputs, keep_build=args.keep_build, wait=args.wait,
            force=getattr(args, "force", False), jobs=getattr(args, "kernels", None),
        )
    except (ConfigError, LockedError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BuildInterrupted as exc:
        print(f"\nBUILD INTERRUPTED ({exc.signal_name}): its processes were stopped and nothing was published; "
              "the previously published report, if any, was left unchanged.", file=sys.stderr)
        if exc.log_dir:
            print(f"  run log: {exc.log_dir}", file=sys.stderr)
        return 130 if exc.signal_name == "SIGINT" else 143
    except BuildError as exc:
        print(f"\nBUILD FAILED at stage '{exc.stage}': {exc.message}", file=sys.stderr)
        print("The previously published report, if any, was left unchanged.", file=sys.stderr)
        return 1
    print(f"\nPublished {result.output_dir}")
    print(f"  {result.html.name}, {result.pdf.name}, data/: {', '.join(p.name for p in result.data_files)}")
    print(f"  run log: {result.log_dir}")
    if result.warnings:
        where = f", also in {result.log_dir / 'run.json'}" if result.log_dir else ""
        print(f"  {len(result.warnings)} warning(s){where}:")
        for w in result.warnings[:5]:
            print(f"  - {w}")
    return 0
