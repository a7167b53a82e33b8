"""Child protection chapter: plans, national indicators, enquiries and conferences."""

from __future__ import annotations

from safeguarding.report import figures, text
from safeguarding.report.context import ReportContext
from safeguarding.report.markdown import Block, md_table
from safeguarding.report.tables import breakdown_counts, publish_breakdown, yearly_table_md
from safeguarding.schema import CATEGORY_OF_ABUSE

AGE_ORDER = ["Under 1", "1-4", "5-9", "10-15", "16+"]


def overview(ctx: ReportContext) -> Block:
    """Children on a plan at year end, the rate per 10,000 and how it compares."""
    b = Block()
    b.heading("Children on a child protection plan")
    b.text(text.count_with_change(ctx, "CPP_OPEN", "children were on a child protection plan at 31 March "
                                 f"{ctx.year}", period_type="year"))
    b.text(text.rate_with_benchmarks(ctx, "CPP_RATE"))
    b.add(yearly_table_md(ctx, ["CPP_OPEN", "CPP_RATE", "CPP_STARTED", "CPP_ENDED"], {
        "CPP_OPEN": "On a plan at 31 March", "CPP_RATE": "Rate per 10,000",
        "CPP_STARTED": "Plans started", "CPP_ENDED": "Plans ended"},
        caption="Child protection plans by year", label="cp-years"))
    return b


def open_by_characteristics(ctx: ReportContext) -> Block:
    """Plans open at year end by age band, gender, category and ethnicity."""
    b = Block()
    b.heading("Who is on a plan", 3)
    specs = [
        ("age_band", "Age band", AGE_ORDER, None),
        ("gender", "Gender", None, {"M": "Male", "F": "Female", "U": "Unknown"}),
        ("latest_category", "Category of abuse (latest)", list(CATEGORY_OF_ABUSE), CATEGORY_OF_ABUSE),
        ("ethnicity", "Ethnic group", None, None),
    ]
    for breakdown, title, order, labels in specs:
        raw = breakdown_counts(ctx, "CPP_OPEN", breakdown, order=order, labels=labels)
        if raw.empty:
            b.add(f"Plans open at year end by {title.lower()}: not available in this year's data.")
            continue
        table = publish_breakdown(ctx, raw, label_title=title)
        b.add(md_table(table, caption=f"Children on a plan at 31 March {ctx.year} by {title.lower()}",
                       label=f"cp-open-{breakdown}"))
        if breakdown == "latest_category":
            chart_title = text.largest_share_title(raw, "of children on a plan", public=ctx.public)
            b.add(figures.category_bar(ctx, raw, title=chart_title,
                                       label="cp-open-category", what="children on a plan at 31 March"))
    return b


def starts_and_ends(ctx: ReportContext) -> Block:
    """Plans started and ended each quarter of the year and over several years."""
    b = Block()
    b.heading("Plans started and ended", 3)
    b.text(text.count_with_change(ctx, "CPP_STARTED", "child protection plans started in the year"))
    b.text(text.count_with_change(ctx, "CPP_ENDED", "plans ended in the year"))
    b.add(figures.yearly_lines(ctx, {"CPP_STARTED": "Plans started", "CPP_ENDED": "Plans ended"},
                               title="Plans started and ended each year", label="cp-start-end"))
    return b


def open_by_month(ctx: ReportContext) -> Block:
    """Plans open at each month end by category and by length of plan so far."""
    b = Block()
    b.heading("Plans open each month", 3)
    b.add(figures.monthly_stacked(ctx, "CPP_OPEN", "latest_category", labels=CATEGORY_OF_ABUSE,
                                  title="Plans open at each month end, by category of abuse",
                                  label="cp-open-month-category"))
    b.add(figures.monthly_stacked(ctx, "CPP_OPEN", "plan_length", labels=None,
                                  title="Plans open at each month end, by length of plan so far",
                                  label="cp-open-month-length"))
    return b


NATIONAL = [
    ("CPP_SUBSEQUENT", "Second or subsequent plans (NI 65)"),
    ("CPP_ENDED_2YRS", "Plans ended after 2 years or more (NI 64)"),
    ("CPP_OPEN_2YRS", "Plans open for 2 years or more"),
    ("CPP_REVIEWS_ON_TIME", "Plans reviewed on time (NI 67)"),
    ("ICPC_15WD", "Initial conferences within 15 working days"),
]


def national_indicators(ctx: ReportContext) -> Block:
    """Each national indicator: this year against target, England and the expected variation."""
    b = Block()
    b.heading("National indicators", 3)
    for code, title in NATIONAL:
        if code not in ctx.catalogue:
            continue
        b.heading(title, 4)
        b.text(text.percentage_verdict(ctx, code))
        b.add(figures.yearly_interval(ctx, code, label=f"years-{code.lower()}"))
        b.add(figures.p_chart(ctx, code, label=f"spc-{code.lower()}"))
        funnel = figures.funnel(ctx, code, label=f"funnel-{code.lower()}")
        if funnel:
            b.add(funnel)
    return b


def enquiries_and_conferences(ctx: ReportContext) -> Block:
    """Section 47 enquiries by month and initial conferences per year."""
    b = Block()
    b.heading("Enquiries and conferences", 3)
    b.text(text.count_with_change(ctx, "S47_STARTED", "section 47 enquiries started in the year"))
    b.text(text.count_with_change(ctx, "ICPC_HELD", "initial child protection conferences held"))
    b.add(figures.xmr(ctx, "S47_STARTED", label="spc-s47"))
    b.add(yearly_table_md(ctx, ["S47_STARTED", "ICPC_HELD", "CPP_STARTED"], {
        "S47_STARTED": "Section 47 enquiries", "ICPC_HELD": "Initial conferences",
        "CPP_STARTED": "Plans started"}, caption="Enquiries, conferences and plans by year", label="cp-s47-icpc"))
    return b

