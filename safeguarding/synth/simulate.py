"""The simulation: day numbers, calendars and the vectorised events of the safeguarding system."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import holidays
import numpy as np
import pandas as pd

from safeguarding.synth.faults import (
    NA_DAY,
)
from safeguarding.synth.params import (
    AGE_AT_FIRST_REFERRAL,
    BURN_IN_YEARS,
    CWD_TEAM,
    LADO_ACTIONS,
    LADO_NOTES,
    SynthParams,
)

# --------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------


def _day(d: dt.date) -> int:
    return int(np.datetime64(d, "D").astype(np.int64))


def _date(day: int) -> dt.date:
    return dt.date(1970, 1, 1) + dt.timedelta(days=int(day))


def _ymd(days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Calendar year and month of day numbers."""
    m = np.asarray(days, dtype=np.int64).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    return m // 12 + 1970, m % 12 + 1


def _fy(days: np.ndarray) -> np.ndarray:
    y, m = _ymd(days)
    return y + (m >= 4)


def _choice(rng: np.random.Generator, mix: dict[str, float], n: int) -> np.ndarray:
    keys = np.array(list(mix), dtype=object)
    p = np.array(list(mix.values()), dtype=float)
    return keys[rng.choice(len(keys), size=n, p=p / p.sum())]


def _trunc_exp(rng: np.random.Generator, scale: float, upper: float, n: int) -> np.ndarray:
    """Exponential(scale) truncated to [0, upper], by inverse CDF."""
    u = rng.random(n)
    return -scale * np.log1p(-u * (1.0 - math.exp(-upper / scale)))


def _add_years(days: np.ndarray, years: int) -> np.ndarray:
    """Same day-of-month ``years`` later (29 February -> 1 March)."""
    d = np.asarray(days, dtype=np.int64).astype("datetime64[D]")
    month = d.astype("datetime64[M]")
    dom = (d - month.astype("datetime64[D]")).astype(np.int64)
    return ((month + 12 * years).astype("datetime64[D]") + dom).astype(np.int64)


@lru_cache(maxsize=8)
def _bank_holidays(first_year: int, last_year: int) -> np.ndarray:
    hol = holidays.country_holidays("GB", subdiv="ENG", years=range(first_year, last_year + 1))
    return np.array(sorted(hol.keys()), dtype="datetime64[D]")


class _Calendar:
    """England and Wales working days."""

    def __init__(self, first_year: int, last_year: int) -> None:
        self.holidays = _bank_holidays(first_year, last_year)
        self.cal = np.busdaycalendar(weekmask="1111100", holidays=self.holidays)

    def offset(self, days: np.ndarray, n: np.ndarray | int) -> np.ndarray:
        """``n`` working days after ``days`` (rolled forward to a working day first)."""
        d = np.asarray(days, dtype=np.int64).astype("datetime64[D]")
        return np.busday_offset(d, n, roll="forward", busdaycal=self.cal).astype(np.int64)

    def is_holiday(self, days: np.ndarray) -> np.ndarray:
        """True on bank holidays."""
        return np.isin(np.asarray(days, dtype=np.int64), self.holidays.astype(np.int64))


def _link(day: np.ndarray, who: np.ndarray, gap_lo: int, gap_hi: int, scale: float, used: np.ndarray,
          rng: np.random.Generator) -> np.ndarray:
    """Give each referral in ``who`` a distinct, unused earlier referral gap_lo..gap_hi days before it.

    Returns ``pred`` (index of the earlier referral, -1 when none: the gap
    drawn reaches before the simulation, i.e. history outside the data).
    ``day`` must be sorted. Marks chosen predecessors in ``used``.
    """
    pred = np.full(len(day), -1, dtype=np.int64)
    pending = rng.permutation(who)
    for _ in range(40):
        if pending.size == 0:
            break
        gap = gap_lo + np.floor(_trunc_exp(rng, scale, gap_hi - gap_lo + 0.999, pending.size)).astype(np.int64)
        target = day[pending] - gap
        inside = target >= day[0]
        pending, target = pending[inside], target[inside]
        # a random referral on the target day (the last one before it when the day has none)
        lo = np.searchsorted(day, target, side="left")
        hi = np.searchsorted(day, target, side="right")
        j = np.where(hi > lo, lo + np.floor(rng.random(pending.size) * (hi - lo)).astype(np.int64), lo - 1)
        j = np.clip(j, 0, None)
        ok = (day[j] >= day[pending] - gap_hi) & (day[j] <= day[pending] - gap_lo) & ~used[j]
        cand, idx = j[ok], np.flatnonzero(ok)
        uniq, first = np.unique(cand, return_index=True)
        pred[pending[idx[first]]] = uniq
        used[uniq] = True
        done = np.zeros(pending.size, dtype=bool)
        done[idx[first]] = True
        pending = pending[~done]
    for i in np.sort(pending):  # rare leftovers: exhaustive search
        lo = np.searchsorted(day, day[i] - gap_hi, side="left")
        hi = np.searchsorted(day, day[i] - gap_lo, side="right")
        free = lo + np.flatnonzero(~used[lo:hi])
        if free.size:
            j = int(free[rng.integers(free.size)])
            pred[i] = j
            used[j] = True
    return pred


def _roots(pred: np.ndarray) -> np.ndarray:
    """Root of each chain by pointer jumping (predecessor index < own index)."""
    root = np.where(pred >= 0, pred, np.arange(len(pred)))
    while True:
        nxt = root[root]
        if np.array_equal(nxt, root):
            return root
        root = nxt


# --------------------------------------------------------------------------
# Simulation
# --------------------------------------------------------------------------


@dataclass
class _Sim:
    """Everything simulated, on day numbers and integer indices."""

    window_start: int
    window_end: int
    sim_start: int
    tables: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    expected: dict[str, Any] = field(default_factory=dict)
    realised: dict[str, Any] = field(default_factory=dict)


def _simulate(p: SynthParams, rng: np.random.Generator, years: int, end_year: int) -> _Sim:
    window_start = _day(dt.date(end_year - years, 4, 1))
    window_end = _day(dt.date(end_year, 3, 31))
    sim_start = _day(dt.date(end_year - years - BURN_IN_YEARS, 4, 1))
    sim = _Sim(window_start, window_end, sim_start)
    cal = _Calendar(end_year - years - BURN_IN_YEARS - 20, end_year + 6)

    # ---- referral intensity and dates --------------------------------------
    days = np.arange(sim_start, window_end + 1, dtype=np.int64)
    fy = _fy(days)
    year, month = _ymd(days)
    dow = (days + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
    w = np.asarray(p.month_factors)[month - 1] * np.asarray(p.dow_factors)[dow]
    w = np.where(cal.is_holiday(days), w * p.holiday_factor, w)
    fys = np.unique(fy)
    annual = {int(y): p.referrals_per_year * (1 + p.annual_trend) ** (int(y) - end_year) for y in fys}
    wsum = {int(y): w[fy == y].sum() for y in fys}
    lam = w * np.array([annual[int(y)] / wsum[int(y)] for y in fy])
    counts = rng.poisson(lam)
    day = np.repeat(days, counts)
    n = day.size
    in_window = days >= window_start
    ym = (year * 100 + month)[in_window]
    exp_month = pd.Series(lam[in_window]).groupby(ym).sum()
    sim.expected["referrals_by_month"] = {f"{k // 100}-{k % 100:02d}": round(float(v), 3)
                                          for k, v in exp_month.items()}
    sim.expected["referrals_by_year"] = {str(y): round(annual[y], 3) for y in annual
                                         if y > end_year - years}

    # ---- children: chains of referrals ------------------------------------
    is_r = rng.random(n) < p.rereferral_12m_rate
    used = np.zeros(n, dtype=bool)
    pred = _link(day, np.flatnonzero(is_r), 7, 360, p.rereferral_gap_scale_days, used, rng)
    returning = (~is_r) & (rng.random(n) < p.returning_child_share)
    pred_f = _link(day, np.flatnonzero(returning), 373, 1826, 500.0, used, rng)
    pred = np.where(pred >= 0, pred, pred_f)
    root = _roots(pred)
    roots, child = np.unique(root, return_inverse=True)
    n_child = roots.size
    first_day = day[roots]
    last_day = np.full(n_child, np.iinfo(np.int64).min)
    np.maximum.at(last_day, child, day)
    sim.realised["simulated_referrals"] = int(n)
    after = day >= _day(dt.date(end_year - years + 1, 4, 1))
    sim.realised["rereferral_flag_share_after_first_year"] = float(is_r[after].mean()) if after.any() else None

    sex = _choice(rng, p.sex_mix, n_child)
    eth = _choice(rng, p.ethnicity_mix, n_child)
    disabled = rng.random(n_child) < p.disability_rate
    bands = list(AGE_AT_FIRST_REFERRAL.values())
    band = rng.choice(len(bands), size=n_child, p=np.array(list(p.age_at_first_referral.values())) /
                      sum(p.age_at_first_referral.values()))
    lo = np.array([b[0] for b in bands])[band]
    hi = np.array([b[1] for b in bands])[band]
    age_days = np.floor((lo + (hi - lo) * rng.random(n_child)) * 365.25).astype(np.int64)
    span = last_day - first_day
    age_days = np.clip(np.minimum(age_days, 6574 - 40 - span), 0, None)
    dob = first_day - age_days

    # ---- referral attributes ------------------------------------------------
    source = _choice(rng, p.referral_sources, n)
    need = _choice(rng, p.primary_needs, n)
    nfa = rng.random(n) < p.nfa_rate
    team = _choice(rng, p.teams, n)
    team = np.where(disabled[child] & (rng.random(n) < p.cwd_team_share_if_disabled), CWD_TEAM, team)
    sim.tables["referrals"] = {"day": day, "child": child, "source": source, "need": need, "nfa": nfa,
                               "team": team}

    # ---- section 47 enquiries ----------------------------------------------
    has47 = (~nfa) & (rng.random(n) < p.s47_rate)
    r47 = np.flatnonzero(has47)
    lag = np.where(rng.random(r47.size) < 0.35, 0, 1 + np.floor(rng.exponential(5.0, r47.size))).astype(np.int64)
    s47_day = cal.offset(day[r47] + np.minimum(lag, 45), 0)
    keep = s47_day <= window_end
    r47, s47_day = r47[keep], s47_day[keep]
    n47 = r47.size
    s47_child = child[r47]

    # ---- initial conferences -----------------------------------------------
    has_icpc = rng.random(n47) < p.icpc_rate
    on_time = rng.random(n47) < p.icpc_15wd_rate
    wd = np.where(on_time, rng.integers(2, 14, n47), rng.integers(18, 46, n47))
    icpc_day = cal.offset(s47_day, wd)
    plan_res = rng.random(n47) < p.plan_rate
    ic = np.flatnonzero(has_icpc & (icpc_day <= window_end))
    ic_s47, ic_day, ic_child = ic, icpc_day[ic], s47_child[ic]
    ic_plan = plan_res[ic]
    ic_ontime = on_time[ic]
    # plan lengths (drawn for every ICPC so the stream does not depend on earlier filters)
    short = rng.random(ic.size) < p.short_plan_share
    dur = np.where(short, rng.integers(20, 89, ic.size),
                   np.round(np.exp(np.log(p.plan_length_median_days) + p.plan_length_sigma *
                                   rng.standard_normal(ic.size)))).astype(np.int64)
    dur = np.maximum(dur, 20)
    bday18 = _add_years(dob, 18)
    end_true = np.minimum(ic_day + dur, bday18[ic_child])
    ic_plan &= ic_day < bday18[ic_child] - 20
    # a child already on a plan gets no initial conference: drop those conferences
    keep = np.ones(ic.size, dtype=bool)
    order = np.lexsort((ic_day, ic_child))
    multi = np.flatnonzero(np.bincount(ic_child, minlength=n_child) > 1)
    cand = order[np.isin(ic_child[order], multi)]
    cur_child, cur_end = -1, np.iinfo(np.int64).min
    for i in cand.tolist():
        c = int(ic_child[i])
        if c != cur_child:
            cur_child, cur_end = c, np.iinfo(np.int64).min
        if ic_day[i] <= cur_end:
            keep[i] = False
            continue
        if ic_plan[i]:
            cur_end = int(end_true[i])
    ic_s47, ic_day, ic_child = ic_s47[keep], ic_day[keep], ic_child[keep]
    ic_plan, ic_ontime = ic_plan[keep], ic_ontime[keep]
    end_true = end_true[keep]
    sim.tables["s47"] = {"day": s47_day, "child": s47_child, "referral": r47, "team": team[r47]}
    sim.tables["icpc"] = {"day": ic_day, "child": ic_child, "s47": ic_s47, "plan": ic_plan, "on_time": ic_ontime}

    # ---- plans --------------------------------------------------------------
    pi = np.flatnonzero(ic_plan)
    pl_start, pl_child, pl_end = ic_day[pi], ic_child[pi], end_true[pi]
    pl_team = team[r47[ic_s47[pi]]]
    npl = pi.size
    order = np.lexsort((pl_start, pl_child))
    rank = np.zeros(npl, dtype=np.int64)
    sc = pl_child[order]
    grp_start = np.r_[0, np.flatnonzero(np.diff(sc)) + 1]
    grp_id = np.repeat(np.arange(grp_start.size), np.diff(np.r_[grp_start, npl]))
    rank[order] = np.arange(npl) - grp_start[grp_id]
    pl_fy = _fy(pl_start)
    s_first = np.zeros(npl)
    exp_sub: dict[str, float] = {}
    m_by_year: dict[str, float] = {}
    for y in np.unique(pl_fy):
        sel = pl_fy == y
        m = float((rank[sel] > 0).mean())
        s1 = min(max((p.subsequent_plan_rate - m) / (1 - m), 0.0), 1.0) if m < 1 else 0.0
        s_first[sel] = s1
        if y > end_year - years:
            m_by_year[str(int(y))] = round(m, 6)
            exp_sub[str(int(y))] = round(m + (1 - m) * s1, 6)
    sim.expected["subsequent_plan_rate_by_year"] = exp_sub
    sim.realised["share_of_plans_with_earlier_simulated_plan_by_year"] = m_by_year
    pre_sub = (rank == 0) & (rng.random(npl) < s_first)
    pre_hist = np.where(pre_sub, 1 + rng.poisson(0.3, npl), 0)
    # previous plans before the child's first simulated plan, carried to its later plans
    first_of_child = np.zeros(n_child, dtype=np.int64)
    first_of_child[pl_child[rank == 0]] = pre_hist[rank == 0]
    prev_plans = first_of_child[pl_child] + rank
    init_cat = _choice(rng, p.category_mix, npl)
    latest_cat = np.where(rng.random(npl) < p.latest_category_same, init_cat, _choice(rng, p.category_mix, npl))
    pl_end_obs = np.where(pl_end <= window_end, pl_end, NA_DAY)
    rev_on_time = rng.random(npl) < p.plan_reviews_on_time_rate
    sim.tables["cp_plans"] = {"start": pl_start, "end": pl_end_obs, "child": pl_child, "init": init_cat,
                              "latest": latest_cat, "prev": prev_plans, "team": pl_team,
                              "reviews_on_time": rev_on_time, "icpc": pi}

    # ---- reviews ------------------------------------------------------------
    limit = np.where(pl_end_obs == NA_DAY, window_end, pl_end_obs - 1)
    k = int(max(1, (limit - pl_start).max(initial=0) // 161 + 2))
    first = np.where(rev_on_time, 89 - rng.integers(1, 21, npl), 92 + rng.integers(7, 46, npl))
    gaps = 182 - rng.integers(1, 22, (npl, max(k - 1, 0)))
    offs = np.concatenate([first[:, None], first[:, None] + np.cumsum(gaps, axis=1)], axis=1)
    rev = pl_start[:, None] + offs
    valid = rev <= limit[:, None]
    rp, _ = np.nonzero(valid)
    sim.tables["cp_reviews"] = {"plan": rp, "day": rev[valid], "child": pl_child[rp]}

    # ---- LADO allegations -----------------------------------------------------
    sim.tables["allegations"] = _simulate_lado(p, rng, cal, days, w, fy, annual)
    # ---- private fostering ------------------------------------------------------
    sim.tables["private_fostering"] = _simulate_pf(p, rng, cal, days, w, fy, annual, window_end)
    sim.tables["children"] = {"dob": dob, "sex": sex, "eth": eth, "disabled": disabled}
    win = [str(y) for y in range(end_year - years + 1, end_year + 1)]

    def by_year(d: np.ndarray) -> dict[str, int]:
        c = pd.Series(_fy(d)).value_counts()
        return {y: int(c.get(int(y), 0)) for y in win}

    sim.realised["started_by_year"] = {"referrals": by_year(day), "s47": by_year(s47_day),
                                       "icpc": by_year(ic_day), "cp_plans": by_year(pl_start)}
    return sim


def _daily_events(rng: np.random.Generator, days: np.ndarray, w: np.ndarray, fy: np.ndarray,
                  annual: dict[int, float], rate: float, weekdays_only: bool) -> np.ndarray:
    ww = w.copy()
    if weekdays_only:
        ww[(days + 3) % 7 >= 5] = 0.0
    lam = np.zeros(days.size)
    for y, a in annual.items():
        sel = fy == y
        lam[sel] = ww[sel] * a * rate / ww[sel].sum()
    return np.repeat(days, rng.poisson(lam))


def _simulate_lado(p: SynthParams, rng: np.random.Generator, cal: _Calendar, days: np.ndarray, w: np.ndarray,
                   fy: np.ndarray, annual: dict[int, float]) -> dict[str, np.ndarray]:
    ref = _daily_events(rng, days, w, fy, annual, p.lado_per_referral, True)
    m = ref.size
    dur = np.round(np.exp(np.log(p.lado_median_days) + p.lado_sigma * rng.standard_normal(m))).astype(np.int64)
    concl = cal.offset(ref + np.maximum(dur, 1), 0)
    sector = _choice(rng, p.lado_sector_mix, m)
    category = _choice(rng, p.lado_category_mix, m)
    outcome = _choice(rng, p.lado_outcome_mix, m)
    subst = outcome == "substantiated"
    n_actions = np.where(subst, rng.choice(4, m, p=[0.15, 0.35, 0.30, 0.20]),
                         rng.choice(4, m, p=[0.55, 0.30, 0.12, 0.03]))
    keys = list(LADO_ACTIONS)
    wts = np.where(subst[:, None], np.array([LADO_ACTIONS[a][1] for a in keys])[None, :],
                   np.array([LADO_ACTIONS[a][2] for a in keys])[None, :])
    # weighted sampling without replacement (Gumbel top-k), in a fixed action order
    score = np.log(wts) - np.log(-np.log(rng.random((m, len(keys)))))
    rank = np.argsort(np.argsort(-score, axis=1), axis=1)
    chosen = rank < n_actions[:, None]
    labels = np.array([LADO_ACTIONS[a][0] for a in keys], dtype=object)
    actions = np.array(["; ".join(labels[row]) for row in chosen], dtype=object)
    notes = np.array(LADO_NOTES, dtype=object)[rng.integers(0, len(LADO_NOTES), m)]
    return {"day": ref, "concluded": concl, "sector": sector, "category": category, "outcome": outcome,
            "actions": actions, "notes": notes}


def _simulate_pf(p: SynthParams, rng: np.random.Generator, cal: _Calendar, days: np.ndarray, w: np.ndarray,
                 fy: np.ndarray, annual: dict[int, float], window_end: int) -> dict[str, np.ndarray]:
    note = _daily_events(rng, days, w, fy, annual, p.pf_per_referral, True)
    m = note.size
    confirmed = rng.random(m) < p.pf_confirmed_rate
    on_time = rng.random(m) < p.pf_visit_7wd_rate
    visit = cal.offset(note, np.where(on_time, rng.integers(1, 6, m), rng.integers(9, 26, m)))
    start = note - np.where(rng.random(m) < 0.7, rng.integers(0, 60, m), -rng.integers(1, 20, m))
    dur = np.round(np.exp(np.log(p.pf_median_days) + 0.8 * rng.standard_normal(m))).astype(np.int64)
    end = start + np.maximum(dur, 28)
    age = np.where(rng.random(m) < 0.6, rng.uniform(12, 15.9, m), rng.uniform(0.2, 12, m))
    dob = note - np.floor(age * 365.25).astype(np.int64)
    end = np.minimum(end, _add_years(dob, 16))
    start = np.where(confirmed, start, NA_DAY)
    end = np.where(confirmed & (end <= window_end), end, NA_DAY)
    visit = np.where(visit <= window_end, visit, NA_DAY)
    sex = _choice(rng, p.sex_mix, m)
    eth = _choice(rng, p.ethnicity_mix, m)
    disabled = rng.random(m) < p.disability_rate
    return {"day": note, "confirmed": confirmed, "visit": visit, "start": start, "end": end,
            "on_time": on_time, "dob": dob, "sex": sex, "eth": eth, "disabled": disabled}
