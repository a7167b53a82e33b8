"""What the published data files mean: their columns, statuses and markers, for the XLSX notes and the README.

The build publishes ``indicators.csv``, ``indicators.xlsx`` and ``findings.csv``
beside the report. An analyst who opens one of them without the report needs
to know what each column holds, what each status and marker (``c``, ``x``,
``z``, ``:``, ``0``) means, and which rows answer which of the report's
tables. This module holds that text once: :func:`notes_sections` gives it as
the sections of the workbook's ``notes`` sheet and :func:`readme_text` as the
plain-text ``README.txt`` beside the files. It writes nothing itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

#: the columns of ``indicators.csv`` (and the workbook's data sheet), in order
INDICATOR_COLUMNS: dict[str, str] = {
    "indicator_id": "the indicator's code in the catalogue (e.g. CPP_STARTED)",
    "indicator_name": "the indicator's name",
    "period_type": "year (financial year, April to March), quarter (financial quarter) or month",
    "period_start": "first day of the period (YYYY-MM-DD)",
    "period_end": "last day of the period (YYYY-MM-DD)",
    "breakdown": "'all' for the headline figure; otherwise what the rows are split by (e.g. age_band)",
    "breakdown_value": "'all' for the headline; otherwise the group (e.g. 10-15)",
    "numerator": "the count: for a percentage the cases that meet the definition, for a rate the count per "
                 "10,000 is worked out from",
    "denominator": "for a percentage the cases counted; for a rate the population of children aged 0-17; "
                   "z for a count",
    "value": "the figure: a count, a percentage (0 to 100, one decimal place) or a rate per 10,000 children",
    "ci_lower": "lower limit of the 95% confidence interval (percentages and rates)",
    "ci_upper": "upper limit of the 95% confidence interval (percentages and rates)",
    "unit": "count, percent or rate_per_10k",
    "status": "whether there is a figure, and how complete it is (see Status)",
    "target": "the board's target, where it has one",
    "rag": "Green (at least 95% of the target achieved), Amber (at least 90%), Red (below), N/A (no target, "
           "or no figure)",
    "marker": "the symbol that stands in place of the value, if any (see the symbols); empty for a published value",
    "note": "why a figure is missing or only partly covered, and records excluded or of unknown history",
}

#: the statuses of ``indicators.csv``
STATUSES: dict[str, str] = {
    "ok": "a figure from data that cover the whole period",
    "partial": "the data cover only part of the period: they start or end inside it, or it falls before the "
               "start of an extract that holds only the cases still open then (the note gives the date). A "
               "count is what the data hold, so likely an undercount; do not compare the figure with complete "
               "periods",
    "no data": "no figure: the period is outside the months the data cover, or a percentage has no cases to be "
               "a percentage of",
    "not available": "no figure: the data (or the population, for a rate) were not supplied; the note says "
                     "which",
    "withheld": "the figure is not published in this row (marker c or x). Of a c nothing more is said, not "
                "even whether it is zero, anywhere in the table; an x may be published in another row (see x)",
}

#: the columns of ``findings.csv`` (``safeguarding.report.findings.COLUMNS``; docs/statistics.md)
FINDINGS_COLUMNS: dict[str, str] = {
    "indicator": "the indicator's code in the catalogue",
    "name": "the indicator's name",
    "period": "the year (or the months, for a within-year finding; the last year, for a trend)",
    "comparison": "year on year, within year, seasonal, trend, target, benchmark or funnel",
    "method": "the test or rule, as the sentence names it",
    "verdict": "the result, e.g. significant decrease, no significant change, common cause, special cause, met, "
               "not significantly different, within, not published",
    "baseline_period": "what the figure is compared with: last year, England (or its year), the first year of a "
                       "trend",
    "baseline_value": "the figure it is compared with",
    "value": "this period's figure as the report prints it",
    "estimate": "the estimate: a difference in proportion, a rate ratio, a yearly change, or the gap from a "
                "target",
    "lower": "lower limit of the estimate's 95% confidence interval",
    "upper": "upper limit of the estimate's 95% confidence interval",
    "estimate_unit": "the estimate's unit (percentage points as a proportion, x100 to read as points; rate "
                     "ratio; ratio to an average month; percent a year; rate per 10,000; count)",
    "statistic": "the test statistic (z, odds ratio, events, likelihood ratio, unusual months)",
    "statistic_name": "what the statistic is",
    "p_value": "the two-sided p-value",
    "limits": "control or funnel limits, the months at 0% or 100%, the years a month was busiest",
    "status": "for a target: the RAG status (Green, Amber, Red)",
    "target": "for a target: the target",
    "detail": "what the sentence lists or gives as a reason (the unusual months, why a figure is not compared)",
    "polarity": "1 higher is better, -1 lower is better, 0 neither",
    "sentence": "the sentence the report prints, written from the other columns alone",
}

#: rows that look alike but are counted differently, and the report tables they answer
LOOK_ALIKE: tuple[tuple[str, str], ...] = (
    ("REFERRALS by referrals_in_12m",
     "counts REFERRALS (not children) in the period by how many referrals the child had in the 12 months up to "
     "and including each one (1, 2, 3+). A child referred twice in the year is counted twice, once under 1 and "
     "once under 2."),
    ("REFERRALS_CHILDREN by referrals_in_period",
     "counts CHILDREN referred in the financial year (each once) by how many referrals they had in that year "
     "(1, 2, 3+): the report's table of children referred by number of referrals. Years only."),
    ("LADO_ACTIONS by action",
     "allegations concluded in the period by the action taken (the report's table of actions): an allegation "
     "may have several actions or none, so the actions need not add up to the headline, which counts the "
     "allegations with at least one action."),
)


def notes_sections(columns: Sequence[str]) -> list[tuple[str, list[tuple[str, str]]]]:
    """The workbook's notes after the markers: the data sheet's ``columns``, the statuses, and look-alike rows.

    Raises KeyError for a column this module does not describe (a new column must be explained before it is
    published).
    """
    return [("Column", [(c, INDICATOR_COLUMNS[c]) for c in columns]),
            ("Status", list(STATUSES.items())),
            ("Rows that look alike", list(LOOK_ALIKE))]


def _block(rows: Sequence[tuple[str, str]], width: int) -> list[str]:
    return [f"  {term:<{width}}  {meaning}" for term, meaning in rows]


def readme_text(markers: Mapping[str, str], columns: Sequence[str], *, title: str) -> str:
    """``README.txt`` for the data folder: the files, every marker, status and column, and look-alike rows.

    ``markers`` maps each marker to its meaning (the disclosure policy's wording), ``columns`` are those of
    ``indicators.csv``, and ``title`` names the report (area and year). Plain text, so that it reads the same in
    any viewer.
    """
    out = [title, "=" * len(title), "",
           "Files",
           "  indicators.csv   every indicator by period and breakdown, one row each (UTF-8, comma-separated)",
           "  indicators.xlsx  the same rows as a workbook (numbers stored as numbers), with a notes sheet",
           "  findings.csv     one row per sentence of the report that states a statistical finding, with the",
           "                   numbers behind it",
           "  README.txt       this file",
           "",
           "Symbols in numerator, denominator and value (the marker column gives the value's)"]
    out += _block([(k, v) for k, v in markers.items()], 3)
    out += ["", "Status (indicators.csv, status column)"]
    out += _block(list(STATUSES.items()), 13)
    out += ["", "Columns of indicators.csv"]
    out += _block([(c, INDICATOR_COLUMNS[c]) for c in columns], 15)
    out += ["", "Rows that look alike but are counted differently"]
    for term, meaning in LOOK_ALIKE:
        out += [f"  {term}", f"    {meaning}"]
    out += ["", "Columns of findings.csv"]
    out += _block(list(FINDINGS_COLUMNS.items()), 15)
    out += ["", "Text cells that a spreadsheet could read as a formula start with a single quote (').", ""]
    return "\n".join(out)
