"""Shape handling shared by the statistics modules (private).

Every public function accepts scalars, numpy arrays or pandas Series and
returns the same shape: floats for scalars, arrays for arrays, Series (with
the first Series argument's index) for Series.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def as_float_arrays(*values) -> tuple[np.ndarray, ...]:
    """Convert the arguments to float arrays broadcast to one shape."""
    arrays = []
    for v in values:
        if isinstance(v, pd.Series):
            arr = pd.to_numeric(v, errors="raise").astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        else:
            arr = np.asarray(v, dtype=float)
        arrays.append(arr)
    return tuple(np.broadcast_arrays(*arrays)) if len(arrays) > 1 else (arrays[0],)


def template_of(*values):
    """Return the first Series among the arguments (to copy its index), else the first argument."""
    for v in values:
        if isinstance(v, pd.Series):
            return v
    return values[0]


def like(out: np.ndarray, template):
    """Return ``out`` shaped like ``template``: float, ndarray or Series."""
    if isinstance(template, pd.Series):
        return pd.Series(np.asarray(out, dtype=float), index=template.index, name=template.name)
    if np.ndim(out) == 0:
        return float(out)
    return np.asarray(out, dtype=float)


def check_confidence(confidence: float) -> float:
    """Return the confidence level as a fraction; accept 0.95 or 95 (as PHE does)."""
    c = float(confidence)
    if 50.0 <= c < 100.0:
        c = c / 100.0
    if not 0.0 < c < 1.0:
        raise ValueError(f"confidence must be a fraction such as 0.95 (or a percentage such as 95), got {confidence!r}")
    return c
