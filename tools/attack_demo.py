"""Attack a build's public indicator table with the independent reader-attacker (tests/attacker.py).

Builds nothing. Given a build's processed folder (default ``data/processed``)
it reads the true table (``indicators.parquet``) and what the public actually
gets: the public ``indicators.csv`` the build wrote under
``reports/<area>/<year>/data/`` (found next to the processed folder, or given
with ``--csv``), matched to the truth row by row on indicator, period and
breakdown; every row the CSV leaves out (rolling 12 months, periods outside
the publication scope) counts as withheld (``x``). Without a CSV it falls
back to the protected parquet (``indicators_public.parquet``) cut to the
publication scope restated here from the README (years back 10 years,
quarters 3, months 3 years for headline figures and 1 year for breakdowns,
nothing after the year end), and says so.

It prints the relations found by family, then:

* recoverable cells: hidden cells pinned to a range narrower than 1 (true
  value 1 to 5, and 6 or more, apart);
* unprotected primary cells: true value 1 to 5, and every value consistent
  with the publication from 1 to 5;
* inconsistent pairs: the same count shown as a number in one place and
  hidden in another (``c`` and ``x`` apart);

with a few examples of each. Exit status 1 when a ``c`` or a small withheld
figure is recoverable or unprotected, or a ``c`` is published elsewhere,
else 0.

Usage::

    python tools/attack_demo.py [PROCESSED] [--csv PATH] [--examples N] [--ablate] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import attacker  # tests/attacker.py: shares no code with safeguarding

WHERE = ["indicator_id", "measure", "period_type", "period_end", "breakdown", "breakdown_value", "shown", "true"]
#: months of each period type published before the year end (headline, breakdowns), restated from the README
SPAN = {"year": (120, 120), "quarter": (36, 36), "month": (36, 12)}


def find_csv(processed: Path) -> Path | None:
    """The newest public ``indicators.csv`` under the project's ``reports/`` (board builds, ``-board``, skipped)."""
    for project in (processed.parent.parent, processed.parent, Path.cwd()):
        found = [p for p in (project / "reports").glob("*/*/data/indicators.csv")
                 if not p.parent.parent.name.endswith("-board")]
        if found:
            return max(found, key=lambda p: p.stat().st_mtime)
    return None


def scope(table: pd.DataFrame, year_end: pd.Timestamp) -> np.ndarray:
    """Rows in the publication scope as the README states it (no rolling 12 months, nothing after the year end)."""
    end = pd.to_datetime(table["period_end"])
    ptype = table["period_type"].astype(str)
    head = table["breakdown"].astype(str).eq("all").to_numpy()
    keep = np.zeros(len(table), dtype=bool)
    for name, (h, b) in SPAN.items():
        months = np.where(head, h, b)
        after = np.array([year_end - pd.DateOffset(months=int(m)) for m in months], dtype="datetime64[ns]")
        keep |= ptype.eq(name).to_numpy() & (end <= year_end).to_numpy() & (end.to_numpy() > after)
    return keep


def published(processed: Path, csv: Path | None, truth: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """What the public gets, and where it came from."""
    if csv is not None and csv.is_file():
        return pd.read_csv(csv, dtype=str, keep_default_na=False), f"public CSV {csv}"
    pub = pd.read_parquet(processed / "indicators_public.parquet")
    years = truth[truth["period_type"].astype(str).eq("year")]
    year_end = pd.to_datetime(years["period_end"]).max()
    return (pub[scope(pub, year_end)].reset_index(drop=True),
            f"{processed / 'indicators_public.parquet'} cut to the README's publication scope "
            f"(year end {year_end.date()}); no public CSV found")


def compare_with_parquet(processed: Path, pub: pd.DataFrame) -> int:
    """Cells where the CSV shows a different string from the protected parquet (should be none)."""
    path = processed / "indicators_public.parquet"
    if not path.is_file() or "numerator" not in pub:
        return 0
    par = pd.read_parquet(path)
    key = ["indicator_id", "period_type", "period_start", "breakdown", "breakdown_value"]
    a = pub[[*key, "numerator", "denominator"]].copy()
    b = par[[*key, "numerator", "denominator"]].copy()
    for d in (a, b):
        d["period_start"] = pd.to_datetime(d["period_start"])
        for c in ("numerator", "denominator"):
            d[c] = d[c].astype("object").where(d[c].notna(), "").astype(str)
    m = a.merge(b, on=key, suffixes=("_csv", "_parquet"))
    return int((m["numerator_csv"] != m["numerator_parquet"]).sum()
               + (m["denominator_csv"] != m["denominator_parquet"]).sum())


def describe(cells: pd.DataFrame, i: int, extra: str = "") -> str:
    """One cell in words: where it is, what is shown and what is true."""
    r = cells.loc[i]
    measure = r["measure"]
    if measure.startswith(attacker.NOTE):
        measure = f"count in the note '{measure[len(attacker.NOTE):][:40]}...'"
    end = pd.Timestamp(r["period_end"]).date()
    place = "" if r["breakdown"] == "all" else f" {r['breakdown']}={r['breakdown_value']}"
    return (f"{r['indicator_id']} {measure} {r['period_type']} to {end}{place}: shown {r['shown']!r}, "
            f"true {r['true']:g}{extra}")


def _rng(lo: float, hi: float) -> str:
    return f", range [{lo:.3g}, {hi:.3g}]"


def attack(cells: pd.DataFrame, skip=()) -> dict:
    """Every attacker question on ``cells``, with the relation families in ``skip`` left out, and the time taken."""
    fam: dict[str, int] = {}
    t0 = time.perf_counter()
    eqs, ineqs = attacker.reader_system(cells, families=fam, skip=skip)
    t1 = time.perf_counter()
    rec = attacker.recoverable(cells, eqs, ineqs)
    t2 = time.perf_counter()
    unp = attacker.unprotected(cells, eqs, ineqs)
    t3 = time.perf_counter()
    inc = attacker.inconsistent(cells, eqs)
    t4 = time.perf_counter()
    return {"families": fam, "eqs": len(eqs), "ineqs": len(ineqs), "same": attacker.same_count(cells, eqs),
            "recoverable": rec, "unprotected": unp,
            "inconsistent": inc, "seconds": {"relations": t1 - t0, "recoverable": t2 - t1, "unprotected": t3 - t2,
                                             "inconsistent": t4 - t3}}


def main(argv: list[str] | None = None) -> int:  # noqa: C901
    """Attack the build's public table and print what a reader could work out (exit 1 if anything)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("processed", nargs="?", default="data/processed", type=Path,
                    help="the build's processed folder (default data/processed)")
    ap.add_argument("--csv", type=Path, help="the public indicators.csv (default: the newest under reports/)")
    ap.add_argument("--examples", type=int, default=5, help="examples of each finding (default 5)")
    ap.add_argument("--rolling12", action="store_true",
                    help="keep rolling 12-month rows in the truth (unknowns tied to nothing; slower)")
    ap.add_argument("--ablate", action="store_true",
                    help="also rerun with each relation family, the notes and the status left out (slow)")
    ap.add_argument("--json", type=Path, help="write the findings here as JSON")
    args = ap.parse_args(argv)

    t_start = time.perf_counter()
    truth = pd.read_parquet(args.processed / "indicators.parquet")
    if not args.rolling12:
        truth = truth[~truth["period_type"].astype(str).eq("rolling12")].reset_index(drop=True)
    pub, source = published(args.processed, args.csv if args.csv else find_csv(args.processed), truth)
    print(f"truth: {args.processed / 'indicators.parquet'} ({len(truth)} rows"
          f"{'' if args.rolling12 else ', rolling 12 months left out'})")
    print(f"published: {source} ({len(pub)} rows)")
    if source.startswith("public CSV"):
        diff = compare_with_parquet(args.processed, pub)
        print(f"  CSV against the protected parquet: {diff} count cells differ")
    cells = attacker.reader_cells(pub, truth)
    shown = cells["shown"]
    print(f"cells: {len(cells)} counts ({int(shown.eq('c').sum())} c, {int(shown.eq('x').sum())} x or left out, "
          f"{int(cells['measure'].str.startswith(attacker.NOTE).sum())} stated in notes); "
          f"primary (hidden, true 1-5): {int(attacker.primary(cells).sum())}")

    res = attack(cells)
    same = res["same"]

    def distinct(found) -> str:
        """How many different counts the findings are (a stock under three period types is one count), and
        how many of those are shown as c somewhere."""
        labels = {int(same[r[0]]) for r in found}
        with_c = {int(same[i]) for i in np.flatnonzero(cells["shown"].eq("c").to_numpy())} & labels
        return f"{len(labels)} distinct counts, {len(with_c)} of them shown as c somewhere"

    print(f"\nrelations ({res['eqs']} equalities, {res['ineqs']} inequalities):")
    for name in attacker.FAMILIES:
        print(f"  {name:40s} {res['families'].get(name, 0):7d}")
    true = cells["true"].to_numpy()
    n_ex = args.examples

    rec = res["recoverable"]
    small = [r for r in rec if 1 <= true[r[0]] <= 5]
    print(f"\nrecoverable (pinned to a range under 1): {len(rec)} ({distinct(rec)}) — true 1-5: {len(small)}, "
          f"6 or more: {len(rec) - len(small)}")
    for mark in ("c", "x"):
        part = [r for r in rec if cells.at[r[0], "shown"] == mark]
        noted = sum(cells.at[r[0], "measure"].startswith(attacker.NOTE) for r in part)
        print(f"  shown {mark}: {len(part)}" + (f" (of which {noted} counts in notes)" if noted else ""))
    if small and n_ex:
        print("  e.g. true 1-5:")
    for r in small[:n_ex]:
        print("   -", describe(cells, r[0], _rng(r[1], r[2])))
    large = [r for r in rec if true[r[0]] > 5]
    if large and n_ex:
        print("  e.g. true 6 or more (secondary cells; each one pinned weakens what it protects):")
    for r in large[:n_ex]:
        print("   -", describe(cells, r[0], _rng(r[1], r[2])))

    unp = res["unprotected"]
    print(f"\nunprotected primary cells (every consistent value from 1 to 5): {len(unp)} ({distinct(unp)}) — "
          f"shown c: {sum(cells.at[r[0], 'shown'] == 'c' for r in unp)}, "
          f"x or left out: {sum(cells.at[r[0], 'shown'] == 'x' for r in unp)}")
    by = pd.Series([f"{cells.at[r[0], 'indicator_id']} {cells.at[r[0], 'period_type']}" for r in unp]).value_counts()
    if len(by):
        print("  most: " + ", ".join(f"{k} {v}" for k, v in by.head(6).items()))
    pinned = {r[0] for r in rec}
    for r in ([r for r in unp if r[0] not in pinned][:n_ex]):  # the pinned ones are shown above
        print("   -", describe(cells, r[0], _rng(r[1], r[2])))

    inc = res["inconsistent"]
    inc_c = [p for p in inc if cells.at[p[1], "shown"] == "c"]
    print(f"\ninconsistent (one count shown as a number and hidden elsewhere): {len(inc)} — "
          f"hidden as c: {len(inc_c)}, withheld as x: {len(inc) - len(inc_c)}")
    for s, h in (inc_c[:n_ex] or inc[:n_ex]):
        print(f"   - {describe(cells, h)}\n     published as {describe(cells, s)}")

    secs = res["seconds"]
    print("\ntime: " + ", ".join(f"{k} {v:.1f} s" for k, v in secs.items())
          + f"; total {time.perf_counter() - t_start:.1f} s")

    out = {"source": source, "cells": len(cells), "families": res["families"],
           "recoverable": len(rec), "recoverable_small": len(small), "unprotected": len(unp),
           "recoverable_distinct": distinct(rec), "unprotected_distinct": distinct(unp),
           "inconsistent_c": len(inc_c), "inconsistent_x": len(inc) - len(inc_c), "seconds": secs}
    if args.ablate:
        print("\nleft out one at a time (recoverable / unprotected):")
        runs = [(name, dict(skip=(name,))) for name in attacker.FAMILIES]
        runs += [("notes", dict(notes=False)), ("status", dict(status=False))]
        out["ablation"] = {}
        for name, kw in runs:
            c2 = attacker.reader_cells(pub, truth, **{k: v for k, v in kw.items() if k in ("notes", "status")})
            r2 = attack(c2, skip=kw.get("skip", ()))
            out["ablation"][name] = {"recoverable": len(r2["recoverable"]), "unprotected": len(r2["unprotected"])}
            print(f"  without {name:40s} {len(r2['recoverable']):6d} {len(r2['unprotected']):6d}", flush=True)
    if args.json:
        examples = {"recoverable": [describe(cells, r[0], _rng(r[1], r[2])) for r in rec],
                    "unprotected": [describe(cells, r[0], _rng(r[1], r[2])) for r in unp],
                    "inconsistent": [[describe(cells, s), describe(cells, h)] for s, h in inc]}
        args.json.write_text(json.dumps({**out, "findings": examples}, indent=1), encoding="utf-8")
    bad = (len(small) + sum(cells.at[r[0], "shown"] == "c" for r in rec if r not in small) + len(unp) + len(inc_c))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
