"""All of England, synthetically: 153 fictional councils of realistic, varied size.

Council sizes (children aged 0-17) are drawn from a log-normal spread like the
real one (a few thousand to over 300,000); referral rates, conversion to plans
and the recoverable parameters vary between councils, so later funnel plots
show a realistic cloud. Totals are scaled to about 650,000 referrals and
60,000 plans started a year. Codes are fictional (801-953) and names are made
up: nothing here depends on, or resembles, the real DfE lists.
"""

from __future__ import annotations

import csv
import json
from dataclasses import replace
from pathlib import Path

import numpy as np

from safeguarding.synth.generator import SynthParams, _generate

N_COUNCILS = 153
FIRST_CODE = 801
ENGLAND_REFERRALS = 650_000
ENGLAND_PLANS = 60_000
#: Share of simulated plans lost because the child was already on a plan (measured; used for calibration).
_PLAN_LOSS = 0.96

_PREFIX = ("Ash", "Bram", "Cal", "Dun", "Elm", "Fen", "Glen", "Hart", "Ives", "Kings", "Lang", "Mar",
           "Nor", "Oak", "Pen", "Rad", "Sil", "Thorn", "Wen", "Wych", "Bex", "Cran", "Lynd", "Stan")
_SUFFIX = ("wold", "mere", "ford", "bury", "ham", "ton", "field", "shire", "dale", "wick", "stow")


def council_names(n: int = N_COUNCILS) -> list[str]:
    """``n`` distinct fictional council names, in a fixed order."""
    names = [p + s for s in _SUFFIX for p in _PREFIX]
    if n > len(names):
        raise ValueError(f"at most {len(names)} fictional council names are available")
    order = np.random.default_rng(153).permutation(len(names))
    return [names[i] for i in order[:n]]


def england_plan(seed: int) -> list[dict]:
    """Per-council sizes and parameters (no files written)."""
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 153]))
    n = N_COUNCILS
    base = SynthParams()
    pop = np.clip(np.exp(np.log(60_000) + 0.65 * rng.standard_normal(n)), 2_500, 330_000)
    rate = base.referral_rate_per_10k * np.exp(0.22 * rng.standard_normal(n) - 0.22**2 / 2)
    refs = pop * rate / 10_000
    refs *= ENGLAND_REFERRALS / refs.sum()
    mult = np.exp(0.25 * rng.standard_normal(n) - 0.25**2 / 2)
    per_ref = (1 - base.nfa_rate) * base.icpc_rate * base.plan_rate * _PLAN_LOSS
    s47 = base.s47_rate * mult
    s47 *= ENGLAND_PLANS / (refs * s47 * per_ref).sum()
    s47 = np.clip(s47, 0.08, 0.85)
    rr = np.clip(rng.normal(base.rereferral_12m_rate, 0.045, n), 0.08, 0.40)
    sub = np.clip(rng.normal(base.subsequent_plan_rate, 0.05, n), 0.08, 0.45)
    icpc15 = np.clip(rng.normal(0.79, 0.09, n), 0.35, 0.98)
    rev = np.clip(rng.normal(base.plan_reviews_on_time_rate, 0.05, n), 0.55, 0.995)
    names = council_names(n)
    out = []
    for i in range(n):
        params = replace(base, referrals_per_year=round(float(refs[i]), 1),
                         referral_rate_per_10k=round(float(rate[i]), 2), s47_rate=round(float(s47[i]), 4),
                         rereferral_12m_rate=round(float(rr[i]), 4), subsequent_plan_rate=round(float(sub[i]), 4),
                         icpc_15wd_rate=round(float(icpc15[i]), 4), plan_reviews_on_time_rate=round(float(rev[i]), 4))
        out.append({"la_code": str(FIRST_CODE + i), "name": names[i], "params": params})
    return out


def generate_england(out_dir: Path, *, seed: int, years: int = 1, end_year: int = 2025) -> dict:
    """Write 153 fictional councils, one subfolder each (same layout as a council), and a manifest.

    Each subfolder ``<la_code>/`` holds the council's raw files and its
    ``ground_truth.json``. ``manifest.csv`` and ``manifest.json`` list every
    council with its folder, population and counts; the returned dict is the
    manifest (councils and England totals).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for c in england_plan(seed):
        truth = _generate(out_dir / c["la_code"], c["params"], seed=seed, scale="england", years=years,
                          end_year=end_year, fault_rate=0.0, la_code=c["la_code"], name=c["name"])
        started = truth["realised"]["started_by_year"]
        p = c["params"]
        rows.append({
            "la_code": c["la_code"], "name": c["name"], "folder": c["la_code"],
            "population": truth["population"][str(end_year)],
            # every year's population, as `pipeline.py build --areas` reads it (safeguarding.areas)
            **{f"population_{y}": n for y, n in sorted(truth["population"].items())},
            "referrals": started["referrals"][str(end_year)],
            "s47": started["s47"][str(end_year)],
            "icpc": started["icpc"][str(end_year)],
            "cp_plans_started": started["cp_plans"][str(end_year)],
            "rereferral_12m_rate": p.rereferral_12m_rate,
            "subsequent_plan_rate": p.subsequent_plan_rate,
            "icpc_15wd_rate": p.icpc_15wd_rate,
            "plan_reviews_on_time_rate": p.plan_reviews_on_time_rate,
        })
    with (out_dir / "manifest.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    totals = {k: int(sum(r[k] for r in rows)) for k in ("population", "referrals", "s47", "icpc", "cp_plans_started")}
    manifest = {"generator": "safeguarding.synth", "synthetic": "entirely fictional councils and children",
                "seed": int(seed), "years": years, "end_year": end_year, "councils": rows,
                "england_totals": totals,
                "note": f"counts are for financial year {end_year - 1}-{end_year % 100:02d}; each council folder "
                        "has its own ground_truth.json with every parameter"}
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return manifest
