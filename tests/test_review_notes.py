"""A figure's note in the review: said where the figure is, and said to the public as the data files say it.

Found reading the demo as a board member and as an attacker:

* the review printed an indicator row's note as the indicator table holds it
  ("Second or subsequent plans: 3 plans have unknown history ...", "not
  available: 2 ... excluded") in the public review too, where the data files
  make every count of cases "some" (``published_data.safe_note``) and say
  nothing of a withheld figure: a small count published unsuppressed in a
  sentence, and two strings for one note;
* the yearly charts plot figures whose notes qualify them without saying so:
  Figure 2.7 shows 83.7% of ICPCs on time in 2019-20, when 11 ICPCs with no
  section 47 enquiry are left out of that year (the data files say so, the
  review nowhere).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from test_findings import _ctx as findings_ctx

from safeguarding.escape import unescape_markdown
from safeguarding.published_data import safe_note
from safeguarding.report import figures, tables, text
from safeguarding.report.context import ReportContext

UNKNOWN = ("3 plans have unknown history (no recorded previous plans and the child was born before the plan data "
           "starts on 01/04/2019); counted as first plans, so the figure is a lower bound")
EXCLUDED = "11 ICPCs with no section 47 enquiry for the child are excluded"


def _ctx(tmp_path: Path, rows: list[dict], *, public: bool, withheld: tuple[str, ...] = ()) -> ReportContext:
    """A report context over ``rows`` (``test_findings``'); for the public every row is published but those
    ending on ``withheld``."""
    shown = None
    if public:
        shown = {(r["indicator_id"], r["period_type"], pd.Timestamp(r["period_end"]), "all", "all"):
                 _published(r, r["period_end"] in withheld) for r in rows}
    return findings_ctx(tmp_path, rows, shown=shown)


def _published(row: dict, withheld: bool) -> dict[str, str]:
    """The strings the disclosure-controlled table gives for a fixture row (``c`` throughout when withheld)."""
    if withheld:
        return {"numerator": "c", "denominator": "c", "value": "c", "marker": "c"}
    def fmt(v: object) -> str:
        return "z" if v is None or pd.isna(v) else f"{v:g}"
    return {"numerator": fmt(row["numerator"]), "denominator": fmt(row["denominator"]), "value": fmt(row["value"]),
            "marker": ""}


def _year(code: str, year_end: int, num: float, den: float | None, note: str = "", **extra) -> dict:
    value = 100 * num / den if den else num
    return {"indicator_id": code, "period_type": "year", "period_start": f"{year_end - 1}-04-01",
            "period_end": f"{year_end}-03-31", "numerator": num, "denominator": den, "value": value, "note": note,
            **extra}


def _subsequent(note: str) -> list[dict]:
    return [_year("CPP_SUBSEQUENT", 2024, 36, 130), _year("CPP_SUBSEQUENT", 2025, 37, 142, note)]


def test_the_public_review_says_a_note_as_the_data_files_do(tmp_path):
    board = text.limitations(_ctx(tmp_path, _subsequent(UNKNOWN), public=False))
    assert f"Second or subsequent plans: {UNKNOWN}." in board, "the board pack keeps the count"
    public = text.limitations(_ctx(tmp_path, _subsequent(UNKNOWN), public=True))
    assert "3 plans" not in " ".join(public)
    assert f"Second or subsequent plans: {safe_note(UNKNOWN)}." in public
    assert safe_note(UNKNOWN).startswith("some plans have unknown history")


def test_the_note_of_a_withheld_figure_is_not_said_to_the_public(tmp_path):
    """The data files blank the note of a withheld figure (it would tell a zero from a count): so does the review."""
    ctx = _ctx(tmp_path, _subsequent(UNKNOWN), public=True, withheld=("2025-03-31",))
    assert not any("unknown history" in s for s in text.limitations(ctx))
    assert ctx.note(ctx.row("CPP_SUBSEQUENT", "year")) == ""


def test_a_missing_figures_reason_is_said_to_the_public_without_its_count(tmp_path):
    rows = [_year("ICPC_15WD", 2024, 150, 170), _year("ICPC_15WD", 2025, 0, 0, "2 ICPCs dated before their "
                                                      "section 47 start are invalid and excluded", status="ok")]
    rows[-1]["value"] = np.nan
    public = text.percentage_verdict(_ctx(tmp_path, rows, public=True), "ICPC_15WD")
    assert "2 ICPCs" not in public and "some ICPCs dated before" in public, public
    board = text.percentage_verdict(_ctx(tmp_path, rows, public=False), "ICPC_15WD")
    assert "2 ICPCs dated before" in board, board


def _icpc_years(note_2020: str) -> list[dict]:
    nums = {2020: 144, 2021: 161, 2022: 132, 2023: 152, 2024: 153, 2025: 147}
    dens = {2020: 172, 2021: 196, 2022: 170, 2023: 187, 2024: 175, 2025: 192}
    return [_year("ICPC_15WD", y, nums[y], dens[y], note_2020 if y == 2020 else "", target=90.0) for y in nums]


def test_a_yearly_chart_says_the_notes_of_the_figures_it_plots(tmp_path):
    board = unescape_markdown(figures.yearly_interval(_ctx(tmp_path, _icpc_years(EXCLUDED), public=False),
                                                      "ICPC_15WD", label="b"))
    assert f"2019-20: {EXCLUDED}." in board, board
    public = unescape_markdown(figures.yearly_interval(_ctx(tmp_path, _icpc_years(EXCLUDED), public=True),
                                                       "ICPC_15WD", label="p"))
    assert f"2019-20: {safe_note(EXCLUDED)}." in public and "11 ICPCs" not in public, public


def test_a_yearly_chart_says_no_note_of_a_year_it_leaves_out(tmp_path):
    """A withheld year is a gap (the caption says so); its note is not said, as the data files say none."""
    ctx = _ctx(tmp_path, _icpc_years(EXCLUDED), public=True, withheld=("2020-03-31",))
    md = unescape_markdown(figures.yearly_interval(ctx, "ICPC_15WD", label="w"))
    assert "No figure is shown for 2019-20" in md and "excluded" not in md, md


def test_a_yearly_lines_chart_names_the_measure_and_year_of_each_note(tmp_path):
    rows = []
    for y, (s, e) in zip(range(2020, 2026), [(129, 128), (142, 134), (129, 131), (145, 150), (136, 140),
                                              (142, 144)], strict=True):
        rows.append(_year("CPP_STARTED", y, s, None, "the extract starts on 2019-04-01; this period is only partly "
                          "covered" if y == 2020 else ""))
        rows.append(_year("CPP_ENDED", y, e, None))
    md = unescape_markdown(figures.yearly_lines(_ctx(tmp_path, rows, public=False),
                                                {"CPP_STARTED": "Plans started", "CPP_ENDED": "Plans ended"},
                                                title="t", label="l"))
    assert "Plans started, 2019-20: the extract starts on 2019-04-01; this period is only partly covered." in md, md


NO_VISIT = "1 new arrangement has no initial visit recorded (counted as not on time)"


def _pf_years() -> list[dict]:
    earlier = ((2021, 12, 16), (2022, 10, 14), (2023, 12, 16), (2024, 12, 14))
    return [*(_year("PF_VISIT_7WD", y, n, d) for y, n, d in earlier), _year("PF_VISIT_7WD", 2025, 10, 16, NO_VISIT)]


def test_a_yearly_table_is_followed_by_the_notes_of_the_figures_it_shows(tmp_path):
    """The demo's board pack showed 62.5% of initial visits on time in 2024-25 without saying that one arrangement,
    with no visit recorded, is counted as late."""
    labels = {"PF_VISIT_7WD": "Initial visit within 7 working days"}
    board = unescape_markdown(tables.yearly_table_md(_ctx(tmp_path, _pf_years(), public=False), ["PF_VISIT_7WD"],
                                                     labels, caption="Private fostering by year", label="pf"))
    assert f"Note: Initial visit within 7 working days, 2024-25: {NO_VISIT}." in board
    assert board.index("| 2024-25") < board.index("Note:"), "the note follows the table"
    public = unescape_markdown(tables.yearly_table_md(_ctx(tmp_path, _pf_years(), public=True), ["PF_VISIT_7WD"],
                                                      labels, caption="c", label="p"))
    assert "2024-25: some new arrangements have no initial visit recorded (counted as not on time)." in public
    assert "1 new" not in public and "arrangement has" not in public
    hidden = tables.yearly_table_md(_ctx(tmp_path, _pf_years(), public=True, withheld=("2025-03-31",)),
                                    ["PF_VISIT_7WD"], labels, caption="c", label="w")
    assert "Note" not in hidden and "initial visit recorded" not in hidden


def test_a_note_names_every_figure_that_shares_it_once(tmp_path):
    rows = _icpc_years(EXCLUDED)
    rows[1]["note"] = EXCLUDED  # 2020-21 too
    ctx = _ctx(tmp_path, rows, public=False)
    said = tables.notes_text(ctx, [(str(r["period_end"])[:4], ctx.row("ICPC_15WD", "year",
                                                                      period_end=pd.Timestamp(r["period_end"])))
                                   for r in rows])
    assert said == f" Note: 2020 and 2021: {EXCLUDED}."


def _monthly(code: str, values: list[float], notes: dict[int, str]) -> list[dict]:
    starts = pd.date_range(end="2025-03-01", periods=len(values), freq="MS")
    return [{"indicator_id": code, "period_type": "month", "period_start": s, "period_end": s + pd.offsets.MonthEnd(0),
             "numerator": np.nan, "denominator": np.nan, "value": v, "note": notes.get(i, "")}
            for i, (s, v) in enumerate(zip(starts, values, strict=True))]


PARTIAL = "the extract starts on 2023-04-12 (earlier records are only those still open then); this period is only " \
          "partly covered"


def test_a_monthly_chart_says_the_notes_of_the_months_it_plots_as_spans(tmp_path):
    """A council whose extract starts inside the chart's window: the months it covers only in part are said."""
    rng = np.random.default_rng(3)
    values = [float(v) for v in rng.poisson(120, 24)]
    rows = _monthly("REFERRALS", values, {0: PARTIAL, 1: PARTIAL, 2: PARTIAL, 5: PARTIAL})
    md = unescape_markdown(figures.xmr(_ctx(tmp_path, rows, public=False), "REFERRALS", label="x"))
    assert f"Note: April 2023 to June 2023 and September 2023: {PARTIAL}." in md, md
