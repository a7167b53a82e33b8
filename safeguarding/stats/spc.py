"""Statistical process control charts in the NHS "Making Data Count" style.

``xmr_chart`` (XmR / individuals chart, for counts and other measures) and
``p_chart`` (for percentages with varying denominators, optionally Laney's
p-prime) return one row per point with the centre line, 3-sigma process
limits, 2-sigma lines, whether the point shows special cause variation and
which rules fired. The rules and constants follow NHSRplotthedots (the NHS-R
reference implementation of "Making Data Count"); every difference is listed
in ``docs/statistics.md``.

Rules (evaluated within each rebased segment, on the points that have a value):

* ``outside limits``: a point above the upper or below the lower 3-sigma limit;
* ``run of 7 on one side``: 7 or more consecutive points on the same side of the
  centre line (a point exactly on the centre line breaks the run);
* ``trend of 7``: 7 or more consecutive points each higher (or each lower)
  than the one before (an equal value breaks the trend);
* ``2 of 3 near limits``: 2 or 3 out of 3 consecutive points between the 2-sigma
  and 3-sigma lines, all 3 points on the same side of the centre line (only
  the near points are flagged).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = [
    "MR_SCREEN_FACTOR",
    "RULE_NAMES",
    "XMR_LIMIT_FACTOR",
    "assurance",
    "normalise_improvement",
    "p_chart",
    "spc_summary",
    "xmr_chart",
]

#: 3-sigma limits of an XmR chart are the mean ± 2.66 × mean moving range (3 / 1.128).
XMR_LIMIT_FACTOR = 2.66
#: Moving ranges above 3.267 × the mean moving range are screened out when asked (NHSRplotthedots).
MR_SCREEN_FACTOR = 3.267
#: d2 for moving ranges of 2 points: sigma = mean moving range / 1.128.
D2 = 1.128
RUN_LENGTH = 7
TREND_LENGTH = 7

RULE_OUTSIDE = "outside limits"
RULE_TREND = "trend of 7"
RULE_TWO_OF_THREE = "2 of 3 near limits"
RULE_RUN = "run of 7 on one side"
RULE_NAMES = (RULE_OUTSIDE, RULE_TREND, RULE_TWO_OF_THREE, RULE_RUN)

_IMPROVEMENT_ALIASES = {
    "increase": 1,
    "higher": 1,
    "high": 1,
    "up": 1,
    "higher is better": 1,
    "decrease": -1,
    "lower": -1,
    "low": -1,
    "down": -1,
    "lower is better": -1,
    "neutral": 0,
    "none": 0,
    "neither": 0,
    "": 0,
}


def normalise_improvement(improvement) -> int:
    """Return +1 (higher is better), -1 (lower is better) or 0 (no direction).

    Accepts ``'increase'``/``'decrease'`` (NHSRplotthedots), catalogue polarities
    such as ``'higher'``/``'lower'``/``'higher is better'``, ``'neutral'`` or ``None``.
    """
    if improvement is None or (isinstance(improvement, float) and np.isnan(improvement)):
        return 0
    if isinstance(improvement, (int, np.integer)) and improvement in (-1, 0, 1):
        return int(improvement)
    key = str(improvement).strip().lower().replace("_", " ")
    if key not in _IMPROVEMENT_ALIASES:
        raise ValueError(
            f"improvement must be 'increase', 'decrease' or None (or a polarity such as 'higher is better'), "
            f"got {improvement!r}"
        )
    return _IMPROVEMENT_ALIASES[key]


def xmr_chart(
    values,
    periods=None,
    *,
    improvement=None,
    target: float | None = None,
    baseline=None,
    rebase: Sequence | None = None,
    screen_outliers: bool = False,
    min_points: int = 12,
) -> pd.DataFrame:
    """XmR (individuals) chart: centre = mean, limits = mean ± 2.66 × mean moving range.

    Parameters
    ----------
    values:
        The measure, one value per period in time order (NaN for a missing period).
    periods:
        Labels for the points (dates, periods or strings), sorted ascending. Default:
        the Series index, or 0..n-1.
    improvement:
        ``'increase'`` or ``'decrease'`` (or a catalogue polarity); ``None`` means no
        direction, so special causes are labelled ``'neither'``.
    target:
        Optional target in the units of ``values``; stored for :func:`assurance`.
    baseline:
        Fix the limits: an ``int`` uses the first n points of each segment; a ``slice``
        of period labels (inclusive) uses the points in that range. Later points are
        judged against the fixed limits.
    rebase:
        Periods at which new limits start (each must be one of ``periods``).
    screen_outliers:
        Leave out moving ranges above 3.267 × the mean moving range when computing
        the limits (NHSRplotthedots ``screen_outliers``).
    min_points:
        Segments whose limits rest on fewer points trigger a warning (also in
        ``df.attrs['notes']``); limits are still drawn from 2 points upwards.

    Returns
    -------
    DataFrame with columns period, value, centre, lower, upper, lower_2s, upper_2s,
    special_cause, rule, signal, then segment (0, 1, ... per rebase) and direction
    ('higher' | 'lower' | '' for the side of the special cause).
    """
    y, per = _series_input(values, periods, "values")
    segments = _segments(per, rebase)
    base = _baseline_mask(per, segments, baseline)
    n = len(y)
    centre = np.full(n, np.nan)
    half3 = np.full(n, np.nan)
    notes: list[str] = []
    for seg in np.unique(segments):
        in_seg = segments == seg
        use = in_seg & base & np.isfinite(y)
        if not use.any():
            use = in_seg & np.isfinite(y)
        yb = y[use]
        _note_short(yb.size, min_points, seg, notes)
        if yb.size < 2:
            continue
        mr = np.abs(np.diff(yb))
        amr = mr.mean()
        if screen_outliers:
            kept = mr[mr < MR_SCREEN_FACTOR * amr]
            amr = kept.mean() if kept.size else amr
        centre[in_seg] = yb.mean()
        half3[in_seg] = XMR_LIMIT_FACTOR * amr
    lower, upper = centre - half3, centre + half3
    lower2, upper2 = centre - half3 * 2.0 / 3.0, centre + half3 * 2.0 / 3.0
    df = _assemble(per, y, centre, lower, upper, lower2, upper2, segments, improvement)
    df.attrs.update(
        {"chart": "xmr", "improvement": normalise_improvement(improvement), "target": target, "notes": notes}
    )
    return df


def p_chart(
    numerators,
    denominators,
    periods=None,
    *,
    laney: bool = False,
    improvement=None,
    target: float | None = None,
    baseline=None,
    rebase: Sequence | None = None,
    min_points: int = 12,
) -> pd.DataFrame:
    """p-chart for a percentage with a varying denominator (optionally Laney's p').

    ``value`` is the percentage 100 × numerator / denominator, and ``centre``,
    ``lower``, ``upper``, ``lower_2s``, ``upper_2s`` and ``target`` are in the same
    PERCENT units (0-100). The centre is p̄ = Σ numerators / Σ denominators over the
    baseline points; sigma_i = √(p̄(1 - p̄)/n_i); limits p̄ ± 3 sigma_i (and 2 sigma_i)
    clipped to 0-100%. With ``laney=True`` sigma_i is multiplied by
    sigma_z = mean moving range of the z-scores (p_i - p̄)/sigma_i ÷ 1.128
    (Laney 2002), which widens limits when large denominators make the plain
    p-chart flag everything.

    A period with denominator 0 (or missing) has value NaN and is not judged.
    Other parameters and the extra columns are as for :func:`xmr_chart`; the
    result also carries ``numerator`` and ``denominator`` columns.
    """
    num_arr, per = _series_input(numerators, periods, "numerators")
    den_arr, _ = _series_input(denominators, per, "denominators")
    if num_arr.shape != den_arr.shape:
        raise ValueError("numerators and denominators must have the same length")
    _check_nonnegative(num_arr, per, "numerator")
    _check_nonnegative(den_arr, per, "denominator")
    over = np.flatnonzero((num_arr > den_arr) & np.isfinite(num_arr) & np.isfinite(den_arr))
    if over.size:
        i = int(over[0])
        raise ValueError(
            f"numerator ({num_arr[i]:g}) is larger than denominator ({den_arr[i]:g}) for period {per[i]}; "
            "a percentage needs numerator <= denominator"
        )
    valid = np.isfinite(num_arr) & np.isfinite(den_arr) & (den_arr > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.where(valid, num_arr / den_arr, np.nan)
    segments = _segments(per, rebase)
    base = _baseline_mask(per, segments, baseline)
    n = len(p)
    pbar = np.full(n, np.nan)
    sigma = np.full(n, np.nan)
    notes: list[str] = []
    for seg in np.unique(segments):
        in_seg = segments == seg
        use = in_seg & base & valid
        if not use.any():
            use = in_seg & valid
        _note_short(int(use.sum()), min_points, seg, notes)
        if not use.any():
            continue
        centre = num_arr[use].sum() / den_arr[use].sum()
        with np.errstate(invalid="ignore", divide="ignore"):
            s = np.sqrt(centre * (1.0 - centre) / den_arr)
        s = np.where(in_seg & valid, s, np.nan)
        if laney:
            with np.errstate(invalid="ignore", divide="ignore"):
                z = (p[use] - centre) / s[use]
            z = z[np.isfinite(z)]
            if z.size >= 2:
                sigma_z = np.abs(np.diff(z)).mean() / D2
                s = s * sigma_z
        pbar[in_seg] = centre
        sigma[in_seg] = s[in_seg]
    lower = np.clip(pbar - 3.0 * sigma, 0.0, 1.0) * 100.0
    upper = np.clip(pbar + 3.0 * sigma, 0.0, 1.0) * 100.0
    lower2 = np.clip(pbar - 2.0 * sigma, 0.0, 1.0) * 100.0
    upper2 = np.clip(pbar + 2.0 * sigma, 0.0, 1.0) * 100.0
    df = _assemble(per, p * 100.0, pbar * 100.0, lower, upper, lower2, upper2, segments, improvement)
    df["numerator"] = num_arr
    df["denominator"] = den_arr
    df.attrs.update(
        {
            "chart": "laney p'" if laney else "p",
            "improvement": normalise_improvement(improvement),
            "target": target,
            "notes": notes,
        }
    )
    return df


def assurance(chart_df: pd.DataFrame, target: float | None = None, improvement=None) -> str:
    """Whether the process will meet a target, judged from the latest process limits.

    As NHSRplotthedots: with higher-is-better, a target above the upper limit is
    'consistently failing', below the lower limit 'consistently passing', otherwise
    'hit and miss' (mirror image for lower-is-better). Returns 'no target' without a
    target and 'no direction' without an improvement direction. ``target`` and
    ``improvement`` default to those given when the chart was made; ``target`` is
    in the chart's units (percent for a p-chart).
    """
    if target is None:
        target = chart_df.attrs.get("target")
    direction = normalise_improvement(improvement) if improvement is not None else chart_df.attrs.get("improvement", 0)
    if target is None or (isinstance(target, float) and np.isnan(target)):
        return "no target"
    if direction == 0:
        return "no direction"
    rows = chart_df[np.isfinite(chart_df["upper"].to_numpy(dtype=float))]
    if rows.empty:
        return "hit and miss"
    last = rows.iloc[-1]
    if target > last["upper"]:
        return "consistently failing" if direction > 0 else "consistently passing"
    if target < last["lower"]:
        return "consistently passing" if direction > 0 else "consistently failing"
    return "hit and miss"


def spc_summary(chart_df: pd.DataFrame) -> dict:
    """Summarise a chart as the "Making Data Count" icons would.

    ``variation`` describes the latest point with a value: 'special cause improvement',
    'special cause concern', 'special cause high' / 'special cause low' (no improvement
    direction given) or 'common cause'. Also returns ``assurance`` (see
    :func:`assurance`), the latest period, value and limits, the number of points and
    the periods showing special cause.
    """
    have = chart_df[np.isfinite(chart_df["value"].to_numpy(dtype=float))]
    out = {
        "variation": "no data",
        "assurance": assurance(chart_df),
        "n_points": len(have),
        "n_special": int(have["special_cause"].sum()) if len(have) else 0,
        "special_periods": list(have.loc[have["special_cause"], "period"]),
        "latest_period": None,
        "latest_value": np.nan,
        "centre": np.nan,
        "lower": np.nan,
        "upper": np.nan,
        "latest_rule": "",
    }
    if have.empty:
        return out
    last = have.iloc[-1]
    if not last["special_cause"]:
        variation = "common cause"
    elif last["signal"] in ("improvement", "concern"):
        variation = f"special cause {last['signal']}"
    else:
        variation = "special cause high" if last["direction"] == "higher" else "special cause low"
    out.update(
        {
            "variation": variation,
            "latest_period": last["period"],
            "latest_value": float(last["value"]),
            "centre": float(last["centre"]),
            "lower": float(last["lower"]),
            "upper": float(last["upper"]),
            "latest_rule": last["rule"],
        }
    )
    return out


# --------------------------------------------------------------------------------------------
# rules


def _run_bounds(a: np.ndarray) -> list[tuple[int, int, float]]:
    """Start, end (exclusive) and value of each stretch of equal consecutive values."""
    if a.size == 0:
        return []
    change = np.flatnonzero(np.diff(a) != 0) + 1
    starts = np.r_[0, change]
    ends = np.r_[change, a.size]
    return [(int(s), int(e), float(a[s])) for s, e in zip(starts, ends, strict=True)]


def _run_rule(side: np.ndarray, length: int = RUN_LENGTH) -> np.ndarray:
    """Flag every point in a run of ``length`` or more points on one side (side = ±1; 0 breaks runs)."""
    side = np.asarray(side, dtype=float)
    flags = np.zeros(side.size, dtype=bool)
    for s, e, v in _run_bounds(side):
        if v != 0 and e - s >= length:
            flags[s:e] = True
    return flags


def _trend_rule(y: np.ndarray, length: int = TREND_LENGTH) -> tuple[np.ndarray, np.ndarray]:
    """Flag points in a trend of ``length`` or more rising or falling points; return (flags, direction)."""
    y = np.asarray(y, dtype=float)
    flags = np.zeros(y.size, dtype=bool)
    if y.size < length:
        return flags, np.zeros(y.size)
    d = np.sign(np.diff(y))
    for s, e, v in _run_bounds(d):
        if v != 0 and e - s >= length - 1:
            flags[s : e + 1] = True
    # direction of each trend point: the step to its right if the next point is in the
    # trend too (a peak or trough belongs to the trend that follows), else the step to its left
    direction = np.zeros(y.size)
    for i in np.flatnonzero(flags):
        if i + 1 < y.size and flags[i + 1]:
            direction[i] = d[i]
        else:
            direction[i] = d[i - 1]
    return flags, direction


def _two_of_three_rule(close: np.ndarray, side: np.ndarray) -> np.ndarray:
    """Flag near-limit points in any 3 consecutive points with ≥ 2 near a limit, all 3 on one side."""
    close = np.asarray(close, dtype=bool)
    side = np.asarray(side, dtype=float)
    flags = np.zeros(close.size, dtype=bool)
    for i in range(close.size - 2):
        window = slice(i, i + 3)
        if close[window].sum() >= 2 and abs(side[window].sum()) == 3:
            flags[window] |= close[window]
    return flags


def _assemble(per, y, centre, lower, upper, lower2, upper2, segments, improvement) -> pd.DataFrame:
    n = len(y)
    special = np.zeros(n, dtype=bool)
    rule = np.array([""] * n, dtype=object)
    direction = np.zeros(n)
    judged = np.isfinite(y) & np.isfinite(centre) & np.isfinite(lower) & np.isfinite(upper)
    for seg in np.unique(segments):
        idx = np.flatnonzero((segments == seg) & judged)
        if idx.size == 0:
            continue
        ys = y[idx]
        side = np.sign(ys - centre[idx])
        outside = (ys > upper[idx]) | (ys < lower[idx])
        close = ~outside & ((ys > upper2[idx]) | (ys < lower2[idx]))
        trend, trend_dir = _trend_rule(ys)
        two = _two_of_three_rule(close, side)
        run = _run_rule(side)
        fired = {RULE_OUTSIDE: outside, RULE_TREND: trend, RULE_TWO_OF_THREE: two, RULE_RUN: run}
        names = ["; ".join(name for name, flags in fired.items() if flags[j]) for j in range(idx.size)]
        # direction precedence as NHSRplotthedots: outside limits, trend, 2 of 3, run
        dirs = np.where(outside, side, np.where(trend, trend_dir, np.where(two | run, side, 0.0)))
        special[idx] = outside | trend | two | run
        rule[idx] = names
        direction[idx] = dirs
    imp = normalise_improvement(improvement)
    signal = np.array([""] * n, dtype=object)
    if imp == 0:
        signal[special] = "neither"
    else:
        signal[special & (direction * imp > 0)] = "improvement"
        signal[special & (direction * imp < 0)] = "concern"
        signal[special & (direction == 0)] = "neither"
    dir_label = np.where(special & (direction > 0), "higher", np.where(special & (direction < 0), "lower", ""))
    return pd.DataFrame(
        {
            "period": per,
            "value": y,
            "centre": centre,
            "lower": lower,
            "upper": upper,
            "lower_2s": lower2,
            "upper_2s": upper2,
            "special_cause": special,
            "rule": rule.astype(str),
            "signal": signal.astype(str),
            "segment": segments,
            "direction": dir_label,
        }
    )


# --------------------------------------------------------------------------------------------
# inputs


def _series_input(values, periods, what: str) -> tuple[np.ndarray, pd.Index]:
    if isinstance(values, pd.Series):
        arr = pd.to_numeric(values, errors="coerce").astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        bad = values.notna() & pd.to_numeric(values, errors="coerce").isna()
        if bad.any():
            pos = int(np.flatnonzero(bad.to_numpy())[0])
            raise ValueError(f"{what} must be numeric: {values.iloc[pos]!r} at {values.index[pos]!r}")
        default_periods = values.index
    else:
        arr = np.asarray(values, dtype=float).ravel()
        default_periods = pd.RangeIndex(arr.size)
    per = pd.Index(periods) if periods is not None else pd.Index(default_periods)
    if len(per) != arr.size:
        raise ValueError(f"{what} has {arr.size} values but {len(per)} periods were given")
    if per.has_duplicates:
        dup = per[per.duplicated()][0]
        raise ValueError(f"period {dup!r} appears more than once; give one value per period")
    if len(per) > 1 and not per.is_monotonic_increasing:
        raise ValueError("periods must be in ascending time order (sort the data by period first)")
    return arr, per


def _segments(per: pd.Index, rebase) -> np.ndarray:
    seg = np.zeros(len(per), dtype=int)
    if rebase is None:
        return seg
    if isinstance(rebase, (str, pd.Timestamp)) or np.isscalar(rebase):
        rebase = [rebase]
    for r in rebase:
        try:
            loc = per.get_loc(pd.Timestamp(r) if isinstance(per, pd.DatetimeIndex) else r)
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"rebase period {r!r} is not one of the chart's periods") from None
        if not isinstance(loc, (int, np.integer)):
            raise ValueError(f"rebase period {r!r} does not identify a single period")
        seg[int(loc) :] += 1
    # renumber 0, 1, 2 ... (a rebase at the first period would otherwise start at 1)
    _, seg = np.unique(seg, return_inverse=True)
    return seg.astype(int)


def _baseline_mask(per: pd.Index, segments: np.ndarray, baseline) -> np.ndarray:
    n = len(per)
    if baseline is None:
        return np.ones(n, dtype=bool)
    if isinstance(baseline, (int, np.integer)) and not isinstance(baseline, bool):
        if baseline < 2:
            raise ValueError(f"baseline must be at least 2 points, got {baseline}")
        mask = np.zeros(n, dtype=bool)
        for seg in np.unique(segments):
            idx = np.flatnonzero(segments == seg)
            mask[idx[:baseline]] = True
        return mask
    if isinstance(baseline, slice):
        positions = pd.Series(np.arange(n), index=per)
        try:
            chosen = positions.loc[baseline].to_numpy()
        except (KeyError, TypeError) as exc:
            raise ValueError(f"baseline {baseline!r} does not match the chart's periods: {exc}") from None
        if chosen.size == 0:
            raise ValueError(f"baseline {baseline!r} contains none of the chart's periods")
        mask = np.zeros(n, dtype=bool)
        mask[chosen] = True
        return mask
    raise ValueError("baseline must be None, a number of points (int) or a slice of periods")


def _note_short(count: int, min_points: int, seg, notes: list[str]) -> None:
    if count < min_points:
        msg = (
            f"limits for segment {int(seg)} rest on {count} point{'s' if count != 1 else ''}, fewer than "
            f"{min_points}; treat them as provisional"
        )
        notes.append(msg)
        warnings.warn(msg, UserWarning, stacklevel=3)


def _check_nonnegative(arr: np.ndarray, per: pd.Index, what: str) -> None:
    neg = np.flatnonzero(arr < 0)
    if neg.size:
        i = int(neg[0])
        raise ValueError(f"{what} must not be negative: {arr[i]:g} for period {per[i]}")
