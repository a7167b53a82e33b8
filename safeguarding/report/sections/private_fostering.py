"""Private fostering chapter: notifications, assessments, arrangements and visits."""

from __future__ import annotations

from safeguarding.report import figures, text
from safeguarding.report.context import ReportContext
from safeguarding.report.markdown import Block
from safeguarding.report.tables import yearly_table_md


def overview(ctx: ReportContext) -> Block:
    """Notifications, arrangements assessed, started, ended and open, and initial visits on time."""
    b = Block()
    b.heading("Private fostering arrangements")
    b.add("A child under 16 (18 if disabled) cared for for 28 days or more by someone who is not a close "
          "relative, by private arrangement, is privately fostered. The council must be told and must visit.")
    b.text(text.count_with_change(ctx, "PF_NOTIFICATIONS", "private fostering notifications were received"))
    b.text(text.count_with_change(ctx, "PF_OPEN", "private fostering arrangements were open at 31 March",
                                 period_type="year"))
    b.add(yearly_table_md(ctx, ["PF_NOTIFICATIONS", "PF_ASSESSED", "PF_NEW", "PF_ENDED", "PF_OPEN",
                                "PF_VISIT_7WD"], {
        "PF_NOTIFICATIONS": "Notifications", "PF_ASSESSED": "Confirmed after assessment",
        "PF_NEW": "New arrangements", "PF_ENDED": "Ended", "PF_OPEN": "Open at 31 March",
        "PF_VISIT_7WD": "Initial visit within 7 working days"},
        caption="Private fostering by year", label="pf-years"))
    b.text(text.percentage_verdict(ctx, "PF_VISIT_7WD", benchmark=False))
    b.add(figures.monthly_line(ctx, "PF_OPEN", title="Private fostering arrangements open at each month end",
                               label="pf-open", what="arrangements open"))
    return b
