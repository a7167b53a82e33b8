"""``pipeline.py benchmarks fetch``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from safeguarding.benchmarks_fetch.fetch import fetch_benchmarks
from safeguarding.benchmarks_fetch.sources import _BY_NAME, DEFAULT_TIMEOUT, SOURCE_NAMES, FetchError

# --------------------------------------------------------------------------- command line


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``benchmarks fetch`` and its options."""
    sub = parser.add_subparsers(dest="benchmarks_action", metavar="ACTION", required=True)
    p = sub.add_parser(
        "fetch", help="download DfE's current benchmark files, check them and record provenance",
        description="Download the current DfE Children in need tables (C1, D3, D5, B1), the ONS population file "
                    "and DfE's statistical neighbour model into the benchmarks folder. Each file's columns are "
                    "checked before it replaces the one there; PROVENANCE.json and README.md record its address, "
                    "release, download date and SHA-256. See docs/benchmarks.md.")
    p.add_argument("--config", default="report.yml",
                   help="configuration file (default: report.yml); its benchmarks.folder is the destination")
    p.add_argument("--folder", default=None,
                   help="download into this folder instead of benchmarks.folder (relative to the current folder)")
    p.add_argument("--source", action="append", default=[], metavar="NAME=URL",
                   help=f"replace an address; NAME is one of {', '.join(SOURCE_NAMES)} (repeatable)")
    p.add_argument("--only", action="append", default=None, metavar="NAME",
                   help=f"fetch only this file ({', '.join(_BY_NAME)}); repeatable")
    p.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                   help=f"seconds allowed for each file (default {DEFAULT_TIMEOUT:g})")


def _parse_sources(items: Sequence[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        name, sep, url = item.partition("=")
        if not sep or not name.strip() or not url.strip():
            raise FetchError(f"--source {item!r}: write it as NAME=URL, e.g. --source c1=https://...")
        out[name.strip()] = url.strip()
    return out


def run(args: argparse.Namespace) -> int:
    """Run ``benchmarks fetch``; return 0 when every file was saved, 1 otherwise (offline included)."""
    from safeguarding.config import ConfigError, load_config

    overrides: dict[str, str] = {}
    folder: Path | None = Path(args.folder) if args.folder else None
    try:
        if folder is None or Path(args.config).exists():
            cfg = load_config(args.config)
            overrides.update(cfg.benchmarks.sources)
            if folder is None:
                if not cfg.benchmarks.folder:
                    raise FetchError(f"{args.config}: benchmarks.folder is not set; set it (the folder the report "
                                     "reads the DfE files from) or pass --folder DIR")
                folder = cfg.resolve(cfg.benchmarks.folder)
        overrides.update(_parse_sources(args.source))
        assert folder is not None
        report = fetch_benchmarks(folder, overrides=overrides, only=args.only, timeout=args.timeout,
                                  echo=print)
    except (ConfigError, FetchError) as exc:  # OfflineError included: its message says what to do
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if report.provenance:
        print(f"provenance: {report.provenance}")
    for name, msg in report.failed.items():
        print(f"error: {name}: {msg}", file=sys.stderr)
    if report.failed:
        print(f"error: {len(report.failed)} of {len(report.failed) + len(report.fetched)} file(s) failed; the files "
              f"already in {report.folder} for them are unchanged", file=sys.stderr)
        return 1
    return 0
