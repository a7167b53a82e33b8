"""How the report context formats a single figure (``ReportContext.fmt_pct``, ``fmt_rate``, ``fmt_count``)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from safeguarding.config import load_config
from safeguarding.markers import NOT_AVAILABLE, WITHHELD
from safeguarding.report.context import ReportContext

PROJECT = Path(__file__).resolve().parents[1]


def _ctx(tmp_path: Path, audience: str) -> ReportContext:
    cfg = load_config(PROJECT / "report.yml", audience=audience)
    return ReportContext(config=cfg, audience=audience, build_dir=tmp_path, indicators=pd.DataFrame(),
                         catalogue=None, benchmarks=None)


@pytest.mark.parametrize("audience", ["board", "public"])
def test_a_percentage_with_no_figure_is_not_available_never_nan(tmp_path, audience):
    """A missing numerator, or a row whose value is missing, is ':' (it printed 'nan%')."""
    ctx = _ctx(tmp_path, audience)
    assert ctx.fmt_pct(None, 40) == NOT_AVAILABLE
    assert ctx.fmt_pct(float("nan"), 40) == NOT_AVAILABLE
    assert ctx.fmt_pct(30, 40, float("nan")) == NOT_AVAILABLE
    assert ctx.fmt_pct(30, 40) == ctx.fmt_pct(30, 40, 75.0) == "75.0%"
    assert ctx.fmt_pct(30, None) == ctx.fmt_pct(30, 0) == NOT_AVAILABLE


def test_a_small_numerator_is_withheld_in_public_only(tmp_path):
    assert _ctx(tmp_path, "public").fmt_pct(3, 40) == WITHHELD
    assert _ctx(tmp_path, "board").fmt_pct(3, 40) == "7.5%"
    assert _ctx(tmp_path, "public").fmt_rate(float("nan")) == NOT_AVAILABLE
    assert _ctx(tmp_path, "public").fmt_count(None) == NOT_AVAILABLE
