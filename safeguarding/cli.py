"""Command-line front door used by ``pipeline.py``.

Each sub-command lives in the module that does the work; that module exposes
``add_arguments(parser)`` and ``run(args) -> int``. Modules are imported only
when their command runs, so ``pipeline.py synth`` does not import the
publishing stack.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

#: command -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("safeguarding.scaffold", "scaffold a new area's folder: report.yml, notebooks, data/raw/README.md"),
    "check": ("safeguarding.check", "check the configured inputs' headers and codes, without building"),
    "synth": ("safeguarding.synth.cli", "write a seeded synthetic council (or all of England) to a folder"),
    "ingest": ("safeguarding.ingest.cli", "read, map, validate and pseudonymise the configured inputs"),
    "indicators": ("safeguarding.indicators.cli", "compute every catalogue indicator for every period"),
    "build": ("safeguarding.build", "ingest, indicators, notebooks and publishing in one run"),
    "preview": ("safeguarding.preview", "build and serve the review on 127.0.0.1; rebuild and reload on every save"),
    "site": ("safeguarding.site", "rewrite the area's index, accessibility statement and sitemap from reports/"),
    "publish": ("safeguarding.deploy.cli", "put the area's site on the web server (a folder or SFTP), "
                                           "switched in whole; --dry-run, --rollback"),
    "benchmarks": ("safeguarding.benchmarks_fetch", "benchmarks fetch: download and check DfE's benchmark files"),
}


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run one sub-command; return its exit status."""
    parser = argparse.ArgumentParser(
        prog=os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else "pipeline.py",  # or 'safeguarding'
        description="Annual review pipeline for children's safeguarding partnerships.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    modules = {}
    argv = list(sys.argv[1:] if argv is None else argv)
    chosen = next((a for a in argv if not a.startswith("-")), None)
    for name, (module_name, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        if name == chosen:
            module = importlib.import_module(module_name)
            module.add_arguments(p)
            modules[name] = module
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    return int(modules[args.command].run(args) or 0)


if __name__ == "__main__":  # python -m safeguarding.cli (each area's worker of build --areas)
    from safeguarding import quick_exit

    quick_exit.install()  # the imports above register no exit handler: this one still runs after all others
    quick_exit.leave(main())
