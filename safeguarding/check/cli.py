"""``pipeline.py check``: its options, and the run with its exit status."""

from __future__ import annotations

import argparse
import sys

from safeguarding.check.inputs import check_inputs
from safeguarding.check.printed import format_report
from safeguarding.config import ConfigError, load_config_with_inputs


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``check`` options to ``parser``."""
    parser.add_argument("--config", default="report.yml", help="the configuration file (default: report.yml)")
    parser.add_argument("--year", type=int, default=None, help="override the reporting year (year ending 31 March)")
    parser.add_argument("--strict", action="store_true",
                        help="exit with status 1 also when coded values are not recognised")
    parser.add_argument("--verbose", action="store_true", help="also list which header each column was mapped to")


def run(args: argparse.Namespace) -> int:
    """Run the check; exit status 0 (nothing blocks a build), 1 (something does) or 2 (configuration error)."""
    from safeguarding.build import check_editorial

    try:
        cfg = load_config_with_inputs(args.config, year=args.year)
        editorial = check_editorial(cfg)  # the editorial files too: a mistake there would stop the build
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    result = check_inputs(cfg)
    print(format_report(result, verbose=getattr(args, "verbose", False)))
    for warning in editorial.warnings:
        print(f"warning: {warning}")
    return result.exit_status(strict=getattr(args, "strict", False))
