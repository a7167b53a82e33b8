"""``python pipeline.py indicators --config report.yml``: compute and write the indicator table."""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``indicators`` command's options."""
    parser.add_argument("--config", default="report.yml", help="configuration file (default: report.yml)")
    parser.add_argument("--year", type=int, default=None,
                        help="reporting year ending 31 March (overrides the file), e.g. 2025 for 2024-25")
    parser.add_argument("--areas", default=None, metavar="MANIFEST",
                        help="ingest every area of a manifest (CSV, as for build --areas) and compute all their "
                             "indicators in one pass, each into its own processed folder")
    parser.add_argument("--force", action="store_true",
                        help="with --areas: recompute even where the build's cache holds an area's results")
    parser.add_argument("--chunk", type=int, default=40,
                        help="with --areas: areas whose indicators are computed together (default 40; fewer "
                             "use less memory)")
    parser.add_argument("--no-cache", action="store_true",
                        help="with --areas: neither read nor fill the build's cache (a later build --areas then "
                             "ingests and computes each area again)")
    parser.add_argument("--jobs", type=int, default=1,
                        help="with --areas: processes, each ingesting and computing its share of the areas "
                             "(default 1)")


def run(args: argparse.Namespace) -> int:
    """Compute every catalogue indicator; return 0 on success, 1 on a configuration or input error."""
    from safeguarding.config import ConfigError, load_config
    from safeguarding.indicators.catalogue import CatalogueError
    from safeguarding.indicators.engine import IndicatorInputError, run_indicators

    if args.areas:
        from safeguarding.areas_data import run as run_areas_data

        return run_areas_data(args)
    try:
        cfg = load_config(args.config, year=args.year)
        table = run_indicators(cfg)
    except (ConfigError, CatalogueError, IndicatorInputError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    counts = table.groupby("status").size().to_dict()
    print(f"indicators: {len(table):,} rows written to {cfg.processed_dir / 'indicators.parquet'} "
          f"(and indicators.csv); " + ", ".join(f"{k}: {v:,}" for k, v in sorted(counts.items())))
    for w in table.attrs.get("warnings", []):
        print(f"warning: {w}", file=sys.stderr)
    na = table[(table["status"] == "not available") & (table["breakdown"] == "all")]
    for code, note in na.drop_duplicates("indicator_id")[["indicator_id", "note"]].itertuples(index=False):
        print(f"note: {code}: {note}", file=sys.stderr)
    return 0
