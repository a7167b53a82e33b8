"""Breakdown values and bands (``safeguarding/indicators/bands.py``), checked by hand."""

from __future__ import annotations

import numpy as np

from safeguarding import schema
from safeguarding.indicators.bands import (
    DEFAULT_AGE_BANDS,
    FIXED_VALUES,
    PLAN_LENGTH_D5,
    PLAN_LENGTH_D5_CUTS,
    age_band_labels,
    band,
    band_values,
    labels,
    text,
)
from safeguarding.indicators.catalogue import BREAKDOWNS


def test_fixed_values_first_then_others_sorted():
    assert band_values("plan_length", ["2 years or more", "Zebra", "Not recorded"]) == [
        *PLAN_LENGTH_D5, "Not recorded", "Zebra"]
    assert band_values("gender", []) == ["Male", "Female", "Unknown"]
    assert band_values("team", ["West", "East"]) == ["East", "West"]        # no fixed list


def test_ethnicity_lists_each_group_once():
    values = band_values("ethnicity", [])
    assert len(values) == len(set(values)) == len(set(schema.ETHNIC_GROUP.values()))


def test_age_bands_unborn_only_when_seen():
    assert band_values("age_band", ["1-4"]) == ["Under 1", "1-4", "5-9", "10-15", "16+"]
    assert band_values("age_band", ["Unborn"])[0] == "Unborn"
    own = age_band_labels([0, 5, 18])
    assert own == ((0, "0-4"), (5, "5-17"), (18, "18+"))
    assert band_values("age_band", [], own) == ["0-4", "5-17", "18+"]
    assert age_band_labels([0, 1, 5, 10, 16]) == DEFAULT_AGE_BANDS


def test_every_breakdown_with_fixed_values_is_declared():
    free = {"age_band", "team"}          # age bands come from the run; teams are whatever is recorded
    assert set(FIXED_VALUES) == set(BREAKDOWNS) - free


def test_band_edges():
    months = np.array([0, 2.99, 3, 5, 6, 11, 12, 23, 24, 40, np.nan])
    got = band(months, PLAN_LENGTH_D5_CUTS, PLAN_LENGTH_D5)
    u3, m3, m6, y1, y2 = PLAN_LENGTH_D5
    assert got.tolist() == [u3, u3, m3, m3, m6, m6, y1, y1, y2, y2, "Not recorded"]


def test_labels_and_text():
    import pandas as pd

    assert labels(pd.Series(["M", None, "X", "F"]), schema.SEX).tolist() == [
        "Male", "Not recorded", "Not recorded", "Female"]
    assert text(pd.Series([" East ", "", None])).tolist() == ["East", "Not recorded", "Not recorded"]
