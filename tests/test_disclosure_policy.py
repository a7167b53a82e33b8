"""The disclosure policy: its defaults, ``Policy.from_mapping`` and the ``disclosure:`` section of report.yml."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from safeguarding.config import ConfigError, load_config
from safeguarding.disclosure import MARKERS, Policy, suppress_indicator_table, suppress_table
from safeguarding.disclosure.policy import POLICY_KEYS, WHOLE_NUMBER_SETTINGS, resolve
from safeguarding.published_data import publication_summary, safe_note

# --------------------------------------------------------------------------- the policy object


def test_defaults_are_the_department_for_educations_practice_and_the_former_constants():
    p = Policy()
    assert p.threshold == (1, 5) and p.secondary is True
    assert dict(p.period_cost) == {"month": 0, "quarter": 1, "rolling12": 1, "year": 2}
    assert (p.headline_cost, p.latest_year_cost, p.expensive) == (3, 3, 3)
    assert (p.max_cheaper_tries, p.cheaper_depth) == (3, 3)
    assert (p.max_exact, p.max_local_lps, p.max_single_lps, p.max_blame) == (5_000, 200, 100, 512)
    assert dict(p.published_span) == {"year": (120, 120), "quarter": (36, 36), "month": (36, 12)}
    assert p.sparse_share == 0.5 and p.protect_years == 2
    assert POLICY_KEYS[0] == "threshold" and "protect_years" in POLICY_KEYS


def test_the_policy_is_frozen_hashable_and_survives_copy_and_pickle():
    p = Policy(threshold=(1, 9), max_exact=20)
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.threshold = (1, 2)  # type: ignore[misc]
    with pytest.raises(TypeError):
        p.period_cost["month"] = 5  # type: ignore[index]
    assert hash(p) == hash(Policy(threshold=(1, 9), max_exact=20))
    assert pickle.loads(pickle.dumps(p)) == p
    assert copy.deepcopy(p) == p
    assert dataclasses.replace(p, secondary=False).max_exact == 20
    assert Policy.from_mapping(p.to_mapping()) == p


@pytest.mark.parametrize("kwargs", [
    {"threshold": (0, 5)}, {"threshold": (5, 1)}, {"threshold": (1,)}, {"threshold": "1-5"},
    {"threshold": (1.5, 5)}, {"secondary": "yes"}, {"max_exact": 0}, {"max_blame": True},
    {"cheaper_depth": 0}, {"headline_cost": -1}, {"sparse_share": 1.5}, {"sparse_share": "half"},
    {"period_cost": {"month": -1}}, {"published_span": {"rolling12": (12, 12)}},
    {"published_span": {"month": (12,)}}, {"protect_years": -1},
])
def test_the_policy_refuses_values_out_of_range(kwargs):
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        Policy(**kwargs)


def test_small_marks_counts_in_the_threshold_range_whatever_it_is_given():
    p = Policy()
    s = pd.Series([0, 1, 5, 6, np.nan, None], index=list("abcdef"), dtype="float")
    assert p.small(s).tolist() == [False, True, True, False, False, False]
    assert p.small(s).index.tolist() == list("abcdef")
    assert p.small(pd.Series(["3", "x", "12"])).tolist() == [True, False, False]
    assert p.small(np.array([[0.0, 2.0], [7.0, np.nan]])).tolist() == [[False, True], [False, False]]
    assert p.small(3) is True and p.small(0.0) is False and p.small(float("nan")) is False
    assert Policy(threshold=(1, 9)).small(7) is True
    assert not Policy.unsuppressed().small(s).any() and Policy.unsuppressed().small(3) is False


def test_threshold_text_and_markers_follow_the_threshold():
    assert Policy().threshold_text == "from 1 to 5"
    assert Policy(threshold=(1, 9)).threshold_text == "from 1 to 9"
    assert Policy(threshold=(3, 3)).threshold_text == "of 3"
    assert MARKERS == Policy().markers()
    assert "a count from 1 to 5, or a figure" in MARKERS["c"]
    assert "from 1 to 9" in Policy(threshold=(1, 9)).markers()["c"]
    assert set(Policy.unsuppressed().markers()) == set(MARKERS)


def test_unsuppressed_is_the_board_audience_and_the_old_empty_threshold_means_the_same():
    board = Policy.unsuppressed()
    assert board.threshold is None and board.secondary is False
    assert resolve(threshold=(0, -1)).threshold is None
    assert resolve(Policy(max_exact=7), threshold=(1, 3), secondary=False) == Policy(threshold=(1, 3),
                                                                                     secondary=False, max_exact=7)
    ind = _indicator_table([3, 9, 2, 14])
    for shown in (suppress_indicator_table(ind, policy=board), suppress_indicator_table(ind, threshold=(0, -1))):
        assert shown["value"].tolist() == ["12", "3", "9", "16", "2", "14"]
        assert not shown["suppressed"].any()


def test_the_policy_threshold_decides_what_is_suppressed():
    df = pd.DataFrame({"a": [4.0, 20.0], "b": [30.0, 40.0]}, index=["x", "y"])
    default, _ = suppress_table(df, ["a", "b"])
    narrow, _ = suppress_table(df, ["a", "b"], policy=Policy(threshold=(1, 3)))
    assert default.loc["x", "a"] == "c" and narrow.loc["x", "a"] == "4"
    same, _ = suppress_table(df, ["a", "b"], policy=Policy(threshold=(1, 5)), threshold=(1, 3))
    assert same.loc["x", "a"] == "4"  # the older argument overrides the policy's threshold


def test_stats_are_filled_as_before():
    stats: dict = {}
    suppress_indicator_table(_indicator_table([3, 9, 2, 14]), stats=stats)
    assert list(stats) == ["passes", "largest_group", "lps", "interval_lps", "unprotected", "unverified_groups",
                           "unverified_cells", "stuck", "forced", "cells", "primary", "suppressed"]
    assert stats["primary"] == 2 and stats["suppressed"] >= 2


def test_public_notes_state_no_count_of_cases():
    """A count in a note is a published figure a reader can combine with the table (the review's finding:
    '98 referrals fall less than 12 months after the data starts' and 'fewer than 6 ICPCs ... are
    excluded' helped pin hidden re-referral and ICPC counts); durations, dates and section numbers stay."""
    assert safe_note("3 children, 12 visits") == "some children, some visits"
    assert safe_note("98 referrals fall less than 12 months after the referral data starts") == \
        "some referrals fall less than 12 months after the referral data starts"
    assert safe_note("partial period; fewer than 6 ICPCs with no section 47 enquiry are excluded") == \
        "partial period; some ICPCs with no section 47 enquiry are excluded"
    assert safe_note("1,234 plans started within 15 working days") == "some plans started within 15 working days"
    assert safe_note("on 2024-03-05, 7%", Policy(threshold=(1, 9))) == "on 2024-03-05, 7%"
    assert safe_note("no population figure for 2019-20") == "no population figure for 2019-20"
    assert safe_note("3 children", Policy.unsuppressed()) == "3 children"


def test_publication_summary_words_the_policy_threshold():
    ind = pd.DataFrame({"indicator_id": ["A"], "period_type": ["year"], "period_start": ["2024-04-01"],
                        "period_end": ["2025-03-31"], "breakdown": ["all"], "breakdown_value": ["all"],
                        "numerator": [np.nan], "denominator": [np.nan], "value": [7.0], "unit": ["count"]})
    shown = ind.assign(marker="c")
    year_end = pd.Timestamp("2025-03-31")
    (row,) = publication_summary(ind, shown, year_end)["headline_withheld"]
    assert row["reason"] == "withheld to protect a linked count of 1 to 5 (secondary suppression)"
    (row,) = publication_summary(ind, shown, year_end, Policy(threshold=(1, 9)))["headline_withheld"]
    assert row["reason"] == "rests on a count of 1 to 9"


# --------------------------------------------------------------------------- from_mapping


def test_from_mapping_with_nothing_gives_the_defaults():
    assert Policy.from_mapping(None) == Policy() == Policy.from_mapping({})


def test_from_mapping_reads_each_key_and_keeps_the_rest():
    p = Policy.from_mapping({"threshold": [1, 9], "max_exact": 800, "sparse_share": 0.25,
                             "period_cost": {"month": 1}, "published_span": {"month": [24, 12]}})
    assert p.threshold == (1, 9) and p.max_exact == 800 and p.sparse_share == 0.25
    assert dict(p.period_cost) == {"month": 1, "quarter": 1, "rolling12": 1, "year": 2}
    assert dict(p.published_span) == {"year": (120, 120), "quarter": (36, 36), "month": (24, 12)}
    assert p.headline_cost == 3 and p.secondary is True


def test_an_empty_value_keeps_the_default_and_never_turns_suppression_off():
    assert Policy.from_mapping({"threshold": None, "secondary": None, "period_cost": {"year": None}}) == Policy()


@pytest.mark.parametrize("section, key", [
    ({"treshold": [1, 5]}, "disclosure.treshold"),
    ({"threshold": [0, 5]}, "disclosure.threshold"),
    ({"threshold": "1 to 5"}, "disclosure.threshold"),
    ({"max_exact": "big"}, "disclosure.max_exact"),
    ({"period_cost": {"month": 1.5}}, "disclosure.period_cost.month"),
    ({"published_span": {"rolling12": [12, 12]}}, "disclosure.published_span.rolling12"),
])
def test_from_mapping_names_the_key_it_refuses(section, key):
    with pytest.raises(ValueError) as info:
        Policy.from_mapping(section)
    assert str(info.value).startswith(f"{key}:")


def test_from_mapping_suggests_the_key_meant():
    with pytest.raises(ValueError, match="did you mean 'threshold'"):
        Policy.from_mapping({"treshold": [1, 5]})


def test_the_commented_section_in_report_yml_documents_every_key_with_its_default(project):
    lines = (project / "report.yml").read_text(encoding="utf-8").splitlines()
    start = lines.index("# disclosure:")
    block = [line[2:] for line in lines[start:] if line.startswith("# ")]
    section = yaml.safe_load("\n".join(block))["disclosure"]
    assert set(section) == set(POLICY_KEYS)
    assert Policy.from_mapping(section) == Policy()


# --------------------------------------------------------------------------- report.yml


def _write(tmp_path: Path, doc: dict) -> Path:
    p = tmp_path / "report.yml"
    p.write_text(yaml.safe_dump({"year": 2025, **doc}), encoding="utf-8")
    return p


def _problems(path: Path, **overrides) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(path, **overrides)
    return [str(p) for p in info.value.problems]


def test_a_configured_policy_reaches_the_config(tmp_path):
    cfg = load_config(_write(tmp_path, {"disclosure": {"threshold": [1, 9], "max_exact": 800}}))
    assert cfg.disclosure == Policy(threshold=(1, 9), max_exact=800)
    assert load_config(_write(tmp_path, {})).disclosure == Policy()


def test_the_demo_configuration_uses_the_defaults(project):
    assert load_config(project / "report.yml").disclosure == Policy()


@pytest.mark.parametrize("section, key, words", [
    ({"treshold": [1, 5]}, "disclosure.treshold", "did you mean 'threshold'?"),
    ({"max_exat": 10}, "disclosure.max_exat", "did you mean 'max_exact'?"),
    ({"period_cost": {"mnth": 0}}, "disclosure.period_cost.mnth", "did you mean 'month'?"),
    ({"published_span": {"rolling12": [12, 12]}}, "disclosure.published_span.rolling12", "valid: year, quarter"),
])
def test_unknown_keys_are_reported_with_a_suggestion(tmp_path, section, key, words):
    (line,) = _problems(_write(tmp_path, {"disclosure": section}))
    assert line.startswith(f"{key}: unknown ") and words in line


@pytest.mark.parametrize("threshold, words", [
    ([0, 5], "must start at 1 or more"),
    ([5, 1], "lowest first"),
    ([1], "two whole numbers"),
    ("1-5", "two whole numbers"),
    ([1, 5.5], "two whole numbers"),
    ([True, 5], "two whole numbers"),
    (5, "two whole numbers"),
])
def test_the_threshold_must_be_two_whole_numbers_from_1_lowest_first(tmp_path, threshold, words):
    (line,) = _problems(_write(tmp_path, {"disclosure": {"threshold": threshold}}))
    assert line.startswith("disclosure.threshold: ") and words in line


@pytest.mark.parametrize("section, key", [
    ({"secondary": "no"}, "disclosure.secondary"),
    ({"max_exact": 0}, "disclosure.max_exact"),
    ({"max_exact": "5000"}, "disclosure.max_exact"),
    ({"headline_cost": 2.5}, "disclosure.headline_cost"),
    ({"protect_years": -1}, "disclosure.protect_years"),
    ({"sparse_share": 2}, "disclosure.sparse_share"),
    ({"sparse_share": "half"}, "disclosure.sparse_share"),
    ({"period_cost": {"year": -2}}, "disclosure.period_cost.year"),
    ({"period_cost": [0, 1]}, "disclosure.period_cost"),
    ({"published_span": {"month": 12}}, "disclosure.published_span.month"),
    ({"published_span": {"month": [12, -1]}}, "disclosure.published_span.month"),
])
def test_a_wrong_value_is_reported_with_its_key_path(tmp_path, section, key):
    (line,) = _problems(_write(tmp_path, {"disclosure": section}))
    assert line.split(": ")[0] == key, line


def test_a_number_written_as_text_gets_the_fix(tmp_path):
    (line,) = _problems(_write(tmp_path, {"disclosure": {"max_exact": "5000"}}))
    assert "without quotes" in line


def test_secondary_suppression_cannot_be_turned_off_for_the_public(tmp_path):
    p = _write(tmp_path, {"disclosure": {"secondary": False}})
    (line,) = _problems(p)
    assert line.startswith("disclosure.secondary: cannot be false for the public audience")
    assert load_config(p, audience="board").disclosure.secondary is False
    (line,) = _problems(_write(tmp_path, {"audience": "board", "disclosure": {"secondary": False}}),
                        audience="public")
    assert line.startswith("disclosure.secondary:")


def test_every_problem_in_the_section_is_reported_together(tmp_path):
    lines = _problems(_write(tmp_path, {"disclosure": {"threshold": [0, 5], "max_exact": -1, "colour": 1}}))
    assert sorted(line.split(":")[0] for line in lines) == ["disclosure.colour", "disclosure.max_exact",
                                                            "disclosure.threshold"]


def test_the_section_must_be_a_mapping(tmp_path):
    (line,) = _problems(_write(tmp_path, {"disclosure": [1, 5]}))
    assert line.startswith("disclosure: must be a mapping")
    assert load_config(_write(tmp_path, {"disclosure": None})).disclosure == Policy()


_WRONG_VALUES = [None, True, False, 0, -3, 2.5, "", "text", [], [1, "a"], [2, 1], [1, 5], {}, {"x": 1},
                 {"month": [1, 2]}, dt.date(2025, 1, 1)]


@pytest.mark.parametrize("key", POLICY_KEYS)
def test_no_value_of_any_disclosure_key_gives_a_traceback(tmp_path, key):
    """Every key, set to values of every YAML type: the file loads with a valid policy or raises ConfigError."""
    for value in _WRONG_VALUES:
        p = _write(tmp_path, {"disclosure": {key: value}})
        try:
            cfg = load_config(p)
        except ConfigError as exc:
            assert exc.problems and all(str(problem).startswith("disclosure") for problem in exc.problems)
        else:
            assert isinstance(cfg.disclosure, Policy), (key, value)


def test_the_schema_and_the_policy_agree_on_the_whole_number_ranges(tmp_path):
    for name, (lo, _) in WHOLE_NUMBER_SETTINGS.items():
        assert load_config(_write(tmp_path, {"disclosure": {name: lo}})).disclosure == Policy(**{name: lo})
        with pytest.raises(ConfigError):
            load_config(_write(tmp_path, {"disclosure": {name: lo - 1}}))
        with pytest.raises(ValueError):
            Policy(**{name: lo - 1})


# --------------------------------------------------------------------------- helpers


def _indicator_table(values: list[float]) -> pd.DataFrame:
    """A count indicator by a two-value breakdown over two months (headline = sum of the breakdown)."""
    rows = []
    months = [pd.Timestamp("2024-04-01"), pd.Timestamp("2024-05-01")]
    for m, (a, b) in zip(months, [values[:2], values[2:]], strict=True):
        end = m + pd.offsets.MonthEnd(0)
        for bd, bv, v in (("all", "all", a + b), ("sex", "f", a), ("sex", "m", b)):
            rows.append({"indicator_id": "X", "period_type": "month", "period_start": m, "period_end": end,
                         "breakdown": bd, "breakdown_value": bv, "numerator": np.nan, "denominator": np.nan,
                         "value": float(v)})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("values", [
    pd.Series(["98 referrals fall less than 12 months after the data start", None, "", "3 cases", "3 cases"],
              dtype="str"),
    pd.Series(["4 plans", None, float("nan"), "4 plans", "x"], dtype=object, index=[9, 4, 7, 1, 0]),
    pd.Series([], dtype="str"),
], ids=["str", "object-with-both-missing-kinds", "empty"])
def test_notes_made_safe_once_per_distinct_note_as_map_would(values):
    """Issue 19: every note of the 102,434-row table was made safe row by row (0.14 s of the disclosure
    stage); each distinct note is now made safe once. The result is what ``Series.map`` gives: the same
    strings, index and dtype, missing values of either kind included."""
    from safeguarding.published_data import _each_distinct, safe_note

    calls = []

    def fn(text):
        calls.append(text)
        return safe_note(text)

    expected = values.map(safe_note)
    got = _each_distinct(values, fn)
    pd.testing.assert_series_equal(got, expected)
    assert len(calls) <= values.nunique() + 1, "a note was made safe more than once"
