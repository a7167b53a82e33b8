"""What feeds what: which published table (:data:`TABLE_FILES`) and which of its columns (:class:`Measure`,
:data:`MEASURES`) give each of our indicators, and finding a table's file in the folder."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Measure:
    """Where DfE publishes one of our indicators.

    ``numerator`` and ``denominator`` are columns of the table ``table``
    (``denominator="population"`` means the ONS children aged 0-17);
    ``published`` is DfE's own figure (count or percentage), when it exists.
    """

    indicator_id: str
    table: str
    unit: str  # "count" | "percent" | "rate_per_10k"
    numerator: str
    denominator: str | None = None
    published: str | None = None
    label: str = ""


#: DfE table code -> file name prefix in the benchmarks folder.
TABLE_FILES: dict[str, str] = {
    "b1": "b1_children_in_need",
    "c1": "c1_children_in_need_referrals_and_rereferrals",
    "d3": "d3_cpps_subsequent_plan",
    "d5": "d5_cpps_at31march_by_duration",
    "ons": "ons_mid-year_population_estimates",
    "sn": "sn_model",
}

#: DfE table D5 length-of-plan bands: our label -> DfE column.
D5_BANDS: dict[str, str] = {
    "up to 3 months": "3_months_or_less",
    "3 to 6 months": "more_than_3_months_6_months",
    "6 months to 1 year": "more_than_6_months_less_than_1_year",
    "1 to 2 years": "1_year_less_than_2_years",
    "2 years or more": "2_years_or_more",
}

MEASURES: dict[str, Measure] = {
    m.indicator_id: m
    for m in (
        Measure("REFERRALS", "c1", "count", "referral_count", published="referral_count",
                label="referrals received in the year"),
        Measure("REFERRAL_RATE", "c1", "rate_per_10k", "referral_count", "population",
                label="referrals per 10,000 children aged 0-17"),
        Measure("REREFERRALS_12M", "c1", "percent", "rereferral_count", "referral_count",
                "rereferral_percent", label="% of referrals within 12 months of a previous referral"),
        Measure("CPP_STARTED", "d3", "count", "CPP_start", published="CPP_start",
                label="child protection plans started in the year"),
        Measure("CPP_SUBSEQUENT", "d3", "percent", "CPP_subsequent", "CPP_start", "CPP_subsequent_percent",
                label="% of plans started that were a second or subsequent plan"),
        Measure("CPP_OPEN", "d5", "count", "CPP_At31", published="CPP_At31",
                label="child protection plans open at 31 March"),
        Measure("CPP_OPEN_2YRS", "d5", "percent", "2_years_or_more", "CPP_At31", "2_years_or_more_percent",
                label="% of plans open at 31 March that had lasted 2 years or more"),
        Measure("CPP_RATE", "d5", "rate_per_10k", "CPP_At31", "population",
                label="plans open at 31 March per 10,000 children aged 0-17"),
        Measure("CPP_OPEN_3M_OR_LESS", "d5", "percent", "3_months_or_less", "CPP_At31",
                "3_months_or_less_percent", label="% of open plans: up to 3 months"),
        Measure("CPP_OPEN_3M_6M", "d5", "percent", "more_than_3_months_6_months", "CPP_At31",
                "more_than_3_months_6_months_percent", label="% of open plans: 3 to 6 months"),
        Measure("CPP_OPEN_6M_1Y", "d5", "percent", "more_than_6_months_less_than_1_year", "CPP_At31",
                "more_than_6_months_less_than_1_year_percent", label="% of open plans: 6 months to 1 year"),
        Measure("CPP_OPEN_1Y_2Y", "d5", "percent", "1_year_less_than_2_years", "CPP_At31",
                "1_year_less_than_2_years_percent", label="% of open plans: 1 to 2 years"),
    )
}

#: Our D5 length band label -> the measure key that benchmarks it.
D5_BAND_MEASURES: dict[str, str] = {
    "up to 3 months": "CPP_OPEN_3M_OR_LESS",
    "3 to 6 months": "CPP_OPEN_3M_6M",
    "6 months to 1 year": "CPP_OPEN_6M_1Y",
    "1 to 2 years": "CPP_OPEN_1Y_2Y",
    "2 years or more": "CPP_OPEN_2YRS",
}

ALL_COUNCILS_COLUMNS = ["la_code", "new_la_code", "la_name", "region_name", "numerator", "denominator",
                        "value", "marker"]


def find_table_file(folder: Path, table: str) -> Path | None:
    """Return the file for a DfE table code in ``folder`` (latest coverage if several), or None.

    Files are matched by their EES name prefix (:data:`TABLE_FILES`), so
    ``c1_children_in_need_referrals_and_rereferrals_2013_to_2026.csv`` is found
    after next year's download; with several, the one whose name ends in the
    latest year wins.
    """
    prefix = TABLE_FILES[table]
    hits = sorted(folder.glob(f"{prefix}*.csv"))
    if not hits:
        return None

    def last_year(f: Path) -> int:
        years = re.findall(r"(?<!\d)(\d{4})(?!\d)", f.stem)
        return max((int(y) for y in years), default=0)

    return max(hits, key=lambda f: (last_year(f), f.name))
