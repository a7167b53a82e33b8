"""``python pipeline.py synth``: write a seeded synthetic council, or all of England, to a folder."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from safeguarding.synth.generator import DEMO_SEED, SCALES


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``synth`` options to ``parser``."""
    parser.add_argument("--out", required=True, type=Path, help="folder to write the raw files into")
    parser.add_argument("--scale", choices=[*SCALES, "england"], default="small",
                        help="small (~1,500 referrals a year), large (~20,000) or england (153 councils, "
                             "~650,000); default small")
    parser.add_argument("--years", type=int, default=None,
                        help="financial years of data (default 6 for a council, 1 for england)")
    parser.add_argument("--end-year", type=int, default=2025,
                        help="last financial year, as the year ending 31 March (2025 = 2024-25)")
    parser.add_argument("--seed", type=int, default=DEMO_SEED, help=f"random seed (default {DEMO_SEED}, the demo)")
    parser.add_argument("--fault-rate", type=float, default=0.0,
                        help="probability that a row carries an injected fault, e.g. 0.02 (council scales only)")
    parser.add_argument("--la-code", default="999", help="the fictional council's 3-digit code (default 999)")
    parser.add_argument("--name", default="Northwold", help="the fictional council's name (default Northwold)")
    parser.add_argument("--format", dest="fmt", choices=("csv", "cin-census"), default="csv",
                        help="child-level records as case-system extracts (csv, the default: CSV and XLSX files) or "
                             "as one DfE CIN census XML file (cin-census: cin_census.xml, valid against the 2026 "
                             "schema; allegations, private fostering and the police return stay CSV/XLSX)")


def run(args: argparse.Namespace) -> int:
    """Generate the data set described by ``args``; return the exit status."""
    from safeguarding.synth.england import generate_england
    from safeguarding.synth.generator import generate_council

    out = Path(args.out)
    if args.years is not None and args.years < 1:
        print("synth: --years must be at least 1", file=sys.stderr)
        return 2
    if not 0.0 <= args.fault_rate < 0.5:
        print("synth: --fault-rate must be between 0 and 0.5 (e.g. 0.02)", file=sys.stderr)
        return 2
    fmt = getattr(args, "fmt", "csv").replace("-", "_")
    if args.scale == "england":
        if fmt != "csv":
            print("synth: --format cin-census applies to one council (--scale small or large), not england",
                  file=sys.stderr)
            return 2
        if args.fault_rate:
            print("synth: --fault-rate applies to one council (--scale small or large), not england",
                  file=sys.stderr)
            return 2
        manifest = generate_england(out, seed=args.seed, years=args.years or 1, end_year=args.end_year)
        t = manifest["england_totals"]
        print(f"wrote {len(manifest['councils'])} synthetic councils to {out} (manifest.csv): "
              f"{t['referrals']:,} referrals and {t['cp_plans_started']:,} plans started in {args.end_year}")
        return 0
    if fmt == "cin_census" and not (len(args.la_code) == 3 and args.la_code.isdigit()):
        print("synth: a CIN census file needs a 3-digit --la-code (e.g. 999)", file=sys.stderr)
        return 2
    truth = generate_council(out, seed=args.seed, scale=args.scale, years=args.years or 6,
                             end_year=args.end_year, fault_rate=args.fault_rate, la_code=args.la_code,
                             name=args.name, fmt=fmt)
    print(f"wrote synthetic council {truth['council']['name']} ({truth['council']['la_code']}), "
          f"{truth['window']['start']} to {truth['window']['end']}, to {out}:")
    for fname, info in truth["files"].items():
        print(f"  {fname:<28} {info['rows']:>8,} rows")
    survey = out / "survey.csv"  # the children's survey: its own seeded stream (safeguarding.synth.survey)
    if survey.exists():
        rows = survey.read_text(encoding="utf-8").count("\n") - 1
        print(f"  {survey.name:<28} {rows:>8,} rows (synthetic survey, not in ground_truth.json)")
    if args.fault_rate:
        print(f"  injected {truth['faults']['total_row_faults']:,} row faults (see ground_truth.json 'faults')")
    print(f"  ground truth: {out / 'ground_truth.json'}")
    return 0
