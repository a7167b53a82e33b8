"""The keys ``report.yml`` may hold and the rules of their values: names, patterns, ranges, defaults,
and what the ingest accepts in an input's entry (:class:`InputRules`)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

#: Top-level settings, in the order the documentation lists them.
TOP_LEVEL_KEYS: tuple[str, ...] = (
    "area", "year", "audience", "paths", "population", "benchmarks", "targets", "indicators",
    "age_bands", "inputs", "aggregates", "pseudonymisation", "ingest", "report", "disclosure", "editorial", "site",
    "publish", "based_on",
)
AREA_KEYS: tuple[str, ...] = ("name", "slug", "la_code")
PATHS_KEYS: tuple[str, ...] = ("raw", "processed", "reports")
BENCHMARKS_KEYS: tuple[str, ...] = ("folder", "ons_file", "sources")
PSEUDONYMISATION_KEYS: tuple[str, ...] = ("key_file",)
INGEST_KEYS: tuple[str, ...] = ("min_date", "max_date")
REPORT_KEYS: tuple[str, ...] = ("title", "subtitle", "author", "date", "status", "approved_on", "version",
                                 "published_on")
#: ``site``: the area's site (``reports/<area>/index.html``, the accessibility statement and the sitemap)
SITE_KEYS: tuple[str, ...] = ("base_url", "contact_email", "organisation", "statement_prepared_on")
#: an e-mail address as far as a configuration check can tell: one ``@``, a dot in the domain, no spaces or markup
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
EMAIL_PATTERN = re.compile(rf"[^@\s<>\"'(),;:\[\]\\]+@{_LABEL}(?:\.{_LABEL})+")
#: ``site.base_url``: https, a host, an optional path; no query, fragment, spaces or quotes
BASE_URL_PATTERN = re.compile(r"https://[A-Za-z0-9.-]+(?::\d{1,5})?(?:/[A-Za-z0-9._~%/-]*)?")
#: ``report.status``: a draft is watermarked; an approved report names the board meeting that approved it
REPORT_STATUSES: tuple[str, ...] = ("draft", "approved")
#: Keys of ``indicators`` when it is a mapping (as ``safeguarding.indicators.inputs.run_options`` reads them).
INDICATORS_KEYS: tuple[str, ...] = ("local", "start", "end", "history_start", "data_end")

AUDIENCES: tuple[str, ...] = ("public", "board")
YEAR_MIN, YEAR_MAX = 2000, 2100
LAYOUTS: tuple[str, ...] = ("tidy", "wide")

SLUG_MAX = 60
#: A publishing folder name: lowercase letters, digits and single or repeated hyphens inside.
SLUG_PATTERN = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?")
SLUG_RULE = (f"only lowercase letters, digits and hyphens, not starting or ending with a hyphen, "
             f"at most {SLUG_MAX} characters")
YEAR_RULE = "must be a whole number, the year ending 31 March, e.g. 2025 for 2024-25"

#: Where each output folder goes by default (used in the fix).
OUTPUT_DEFAULTS: dict[str, str] = {"processed": "data/processed", "reports": "reports"}


@dataclass(frozen=True)
class InputRules:
    """What the ingest accepts in one ``inputs.<table>`` entry, read from the ingest itself.

    Taken from the modules that use the settings (so the check can never be
    stricter or looser than the ingest): the keys (``ingest.core.SPEC_KEYS``),
    encodings (``ingest.readers.ENCODINGS``), national formats
    (``ingest.formats.FORMATS``) and ``date_format`` values (``ingest.dates``).
    """

    keys: tuple[str, ...]
    encodings: tuple[str, ...]
    formats: tuple[str, ...]
    date_modes: tuple[str, ...]
    date_format_ok: Callable[[Any], bool]


def input_rules() -> InputRules:
    """The ingest's :class:`InputRules` (imports the ingest, so it is called only when inputs are configured)."""
    from safeguarding.ingest import dates
    from safeguarding.ingest.core import SPEC_KEYS
    from safeguarding.ingest.formats import FORMATS
    from safeguarding.ingest.readers import ENCODINGS

    modes = tuple(dates.DATE_MODES)
    accepts = getattr(dates, "is_date_format", None)  # explicit layouts such as "%m/%d/%Y", where supported
    return InputRules(tuple(SPEC_KEYS), tuple(ENCODINGS), tuple(FORMATS), modes,
                      accepts if callable(accepts) else (lambda v: v in modes))


def aggregate_keys() -> tuple[str, ...] | None:
    """Keys of one ``aggregates`` entry (``safeguarding.ingest.partners.SPEC_KEYS``), None if that reader is absent."""
    try:
        from safeguarding.ingest.partners import SPEC_KEYS
    except ImportError:  # the ingest reports the missing reader itself
        return None
    return tuple(sorted(SPEC_KEYS))
