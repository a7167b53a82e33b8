"""What ``report.yml`` may contain: every section, key, type and range, checked all at once.

:func:`check_config` walks the parsed file and returns every :class:`Problem`
it finds, each with its key path (``inputs.referrals.header_row``) and the fix,
so that :func:`safeguarding.config.load_config` can report them together, in
one error, before any work starts. Nothing here reads an input file or
touches the disk except to resolve the output folders.

The rules follow how each setting is used:

* ``area`` (``name``, ``slug``, ``la_code``): the slug is the folder the report
  is published to under ``reports/`` (and the old one is deleted), so it may
  hold only lowercase letters, digits and hyphens (:data:`SLUG_PATTERN`);
* ``year``: a whole number from 2000 to 2100, the year ending 31 March;
* ``audience``: ``public`` or ``board``;
* ``paths``: ``raw`` is only read and may be anywhere; ``processed`` and
  ``reports`` are written to (and cleared), so they must be folders inside the
  project folder, the folder holding ``report.yml``;
* ``inputs.<table>``: the keys the ingest reads (``safeguarding.ingest.core.SPEC_KEYS``),
  ``header_row`` a whole number from 1, ``sheet`` a name or 1-based number,
  ``encoding``, ``date_format`` and ``format`` values the ingest accepts,
  ``columns`` and ``codes`` keyed by the table's canonical columns;
* ``aggregates``: a list of returns with the keys the reader knows
  (``safeguarding.ingest.partners.SPEC_KEYS``);
* ``population``: positive numbers keyed by year; ``targets``: numbers keyed
  by indicator code; ``benchmarks``, ``pseudonymisation``, ``ingest``,
  ``report``, ``indicators`` and ``age_bands`` as documented in
  ``docs/configuration.md``;
* ``site`` (optional): ``base_url`` an ``https://`` address (:data:`BASE_URL_PATTERN`),
  ``contact_email`` an e-mail address (:data:`EMAIL_PATTERN`), ``organisation`` text,
  ``statement_prepared_on`` a date;
* ``publish`` (optional): ``targets``, each a name with ``url`` (a folder, ``file:///path`` or
  ``sftp://user@host[:port]/path``, never with a password), ``audience`` (``public``, the default,
  or ``board``) and ``keep`` (releases kept, a whole number from 2), as
  :func:`safeguarding.deploy.parse_target` reads them;
* ``editorial``: a folder path (the files in it are checked by
  :func:`safeguarding.editorial.load_editorial` before the build starts);
* ``disclosure``: the keys of ``safeguarding.disclosure.policy.Policy``, with
  the ranges it declares; ``threshold`` two whole numbers ``[lo, hi]`` with
  ``1 <= lo <= hi`` (a true zero is always shown), and ``secondary`` never
  false for the public audience.

Input paths (``paths.raw``, ``inputs.*.file``, ``aggregates[*].file``,
``benchmarks.*``, ``pseudonymisation.key_file``) may point anywhere: they are
read, never cleared.
"""

from __future__ import annotations

import codecs
import datetime as dt
import difflib
import itertools
import math
import os
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from safeguarding.schema import ENTITIES

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


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the configuration: where (``key``) and what, with the fix."""

    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.key}: {self.message}"


# --------------------------------------------------------------------------
# small helpers, usable on their own
# --------------------------------------------------------------------------

def slugify(text: str) -> str:
    """A valid slug made from ``text`` (``Northwold (demo)`` -> ``northwold-demo``); ``area`` if none."""
    ascii_text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode("ascii")
    out = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return out[:SLUG_MAX].rstrip("-") or "area"


def is_slug(value: Any) -> bool:
    """True when ``value`` is a safe publishing folder name (:data:`SLUG_PATTERN`, at most :data:`SLUG_MAX`)."""
    return isinstance(value, str) and len(value) <= SLUG_MAX and SLUG_PATTERN.fullmatch(value) is not None


def whole_number(value: Any) -> int | None:
    """``value`` as an int when it is a whole number (``2025``, ``2025.0``, ``"2025"``), else None.

    True/False are not numbers here, and ``2025.9`` is not whole.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if math.isfinite(value) and value.is_integer() else None
    if isinstance(value, str) and re.fullmatch(r"\s*\d{1,6}\s*", value):
        return int(value)
    return None


def suggestion(name: Any, valid: Iterable[str]) -> str | None:
    """The closest valid name to a misspelt ``name`` (difflib), or None when nothing is close."""
    valid = list(valid)
    lowered = {v.lower(): v for v in valid}
    found = difflib.get_close_matches(str(name).lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[found[0]] if found else None


def describe(value: Any) -> str:
    """How a value reads to an analyst: ``the text '2024-25'``, ``the number 2025.9``, ``a list``."""
    if value is None:
        return "nothing (an empty value)"
    if isinstance(value, bool):
        return f"{str(value).lower()} (yes/no)"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, str):
        shown = value if len(value) <= 60 else value[:57] + "..."
        return f"the text {shown!r}"
    if isinstance(value, Mapping):
        return "a mapping (key: value lines)"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dt.datetime):
        return f"the date and time {value.isoformat()}"
    if isinstance(value, dt.date):
        return f"the date {value.isoformat()}"
    return f"a {type(value).__name__}"


def inside_folder(root: Path, value: str) -> bool:
    """True when the path ``value`` (relative to ``root``) names a folder strictly inside ``root``.

    ``..`` is resolved by name first; a path that leaves ``root`` that way is
    outside even if a symbolic link would bring it back. An absolute path
    counts as inside when it is inside ``root`` either as written or once
    symbolic links are resolved (``root`` itself is resolved).
    """
    p = Path(os.path.expanduser(value))
    full = p if p.is_absolute() else root / p
    candidates = [Path(os.path.normpath(full))]
    if p.is_absolute():
        try:
            candidates.append(full.resolve())
        except (OSError, RuntimeError, ValueError):  # pragma: no cover - a symlink loop, a NUL byte
            pass
    return any(c != root and c.is_relative_to(root) for c in candidates)


# --------------------------------------------------------------------------
# the checker
# --------------------------------------------------------------------------

class _Checker:
    """Collects :class:`Problem` s while walking the file."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.problems: list[Problem] = []

    def add(self, key: str, message: str) -> None:
        self.problems.append(Problem(key, message))

    # -- shapes ------------------------------------------------------------

    def mapping(self, value: Any, key: str, example: str, keys: tuple[str, ...] | None = None,
                what: str = "setting") -> dict[str, Any] | None:
        """The mapping at ``key`` ({} when empty), or None (problem recorded) when it is something else.

        With ``keys``, every key of the mapping not among them is reported too (:meth:`known_keys`).
        """
        if value is None:
            return {}
        if isinstance(value, dict):
            if keys is not None:
                self.known_keys(value, key, keys, what)
            return value
        self.add(key, f"must be a mapping of settings, not {describe(value)}; write it as {example}")
        return None

    def known_keys(self, section: Mapping[Any, Any], key: str, valid: tuple[str, ...], what: str = "setting",
                   ) -> None:
        """Report every key of ``section`` not in ``valid``, with a suggestion and the valid keys."""
        for name in section:
            if name in valid:
                continue
            near = suggestion(name, valid)
            hint = f" (did you mean {near!r}?)" if near else ""
            where = f"{key}.{name}" if key else str(name)
            self.add(where, f"unknown {what}{hint}; valid: {', '.join(valid)}")

    # -- scalars -----------------------------------------------------------

    def text(self, value: Any, key: str, what: str, *, blank_ok: bool = False) -> str | None:
        if isinstance(value, str) and (blank_ok or value.strip()):
            return value
        if isinstance(value, str):
            self.add(key, f"is blank; give {what}, or remove the line")
        else:
            self.add(key, f"must be {what} (text), not {describe(value)}")
        return None

    def choice(self, value: Any, key: str, valid: tuple[str, ...], *,
               normalise: Callable[[str], str] = lambda s: s) -> str | None:
        if isinstance(value, str) and normalise(value) in valid:
            return normalise(value)
        near = suggestion(value, valid) if isinstance(value, str) else None
        hint = f" (did you mean {near!r}?)" if near else ""
        self.add(key, f"must be one of {', '.join(valid)}, not {describe(value)}{hint}")
        return None

    def whole(self, value: Any, key: str, lo: int, what: str) -> int | None:
        """A whole number (int, not text) from ``lo``."""
        if isinstance(value, int) and not isinstance(value, bool) and value >= lo:
            return value
        fix = ""
        if isinstance(value, str) and whole_number(value) is not None:
            fix = f"; write {key.rsplit('.', 1)[-1]}: {value.strip()} without quotes"
        self.add(key, f"must be a whole number from {lo} ({what}), not {describe(value)}{fix}")
        return None

    def year(self, value: Any, key: str) -> int | None:
        n = whole_number(value)
        if n is not None and YEAR_MIN <= n <= YEAR_MAX:
            return n
        fix = ""
        m = re.fullmatch(r"\s*(\d{4})\s*[-/]\s*(\d{2}|\d{4})\s*", value) if isinstance(value, str) else None
        if m:
            fix = f"; for {m.group(1)}-{m.group(2)[-2:]} write {key.rsplit('.', 1)[-1]}: {int(m.group(1)) + 1}"
        elif n is not None:
            fix = f" (it must be from {YEAR_MIN} to {YEAR_MAX})"
        self.add(key, f"{YEAR_RULE}, not {describe(value)}{fix}")
        return None

    def number(self, value: Any, key: str, what: str, *, positive: bool = False) -> float | None:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        if ok and (not positive or value > 0):
            return float(value)
        kind = "a positive number" if positive else "a number"
        self.add(key, f"must be {kind} ({what}), not {describe(value)}")
        return None

    def sheet(self, value: Any, key: str) -> None:
        if isinstance(value, str) and value.strip():
            return
        if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
            return
        self.add(key, f"must be the sheet's name or its 1-based number, not {describe(value)}")

    def date(self, value: Any, key: str) -> dt.date | None:
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value.strip())
            except ValueError:
                pass
        self.add(key, f"must be a date written YYYY-MM-DD, not {describe(value)}")
        return None

    def input_path(self, value: Any, key: str) -> None:
        self.text(value, key, "a file or folder path, relative to report.yml")

    def output_folder(self, value: Any, key: str) -> None:
        if self.text(value, key, "a folder path, relative to report.yml") is None:
            return
        if not inside_folder(self.root, value):
            default = OUTPUT_DEFAULTS.get(key.rsplit(".", 1)[-1], "output")
            self.add(key, f"{value!r} is not a folder inside the project folder {self.root} (the folder "
                          f"holding report.yml); the pipeline writes to and clears this folder, so it must "
                          f"stay inside the project: use a relative path without '..', e.g. {default!r}")


# --------------------------------------------------------------------------
# sections
# --------------------------------------------------------------------------

def _area(c: _Checker, value: Any) -> None:
    area = c.mapping(value, "area", "area: {name: Northwold, slug: northwold, la_code: '873'}", AREA_KEYS)
    if area is None:
        return
    if "name" in area:
        c.text(area["name"], "area.name", "the area's name")
    if area.get("slug") is not None:
        slug = area["slug"]
        if isinstance(slug, int) and not isinstance(slug, bool):  # digits written without quotes
            slug = str(slug)
        if not is_slug(slug):
            better = slugify(slug) if isinstance(slug, str) else slugify(str(area.get("name") or "area"))
            c.add("area.slug", f"{describe(slug)} is not allowed: the slug names the folder the report is "
                               f"published to under reports/, so it may hold {SLUG_RULE}; use e.g. {better!r}")
    code = area.get("la_code")
    if code is not None and (isinstance(code, bool) or not isinstance(code, (str, int)) or not str(code).strip()):
        c.add("area.la_code", f"must be the DfE council code, e.g. '873' or 'E06000031', not {describe(code)}")


def _paths(c: _Checker, value: Any) -> None:
    paths = c.mapping(value, "paths", "paths: {raw: data/raw, processed: data/processed, reports: reports}", PATHS_KEYS)
    if paths is None:
        return
    if "raw" in paths:
        c.input_path(paths["raw"], "paths.raw")
    for name in ("processed", "reports"):
        if name in paths:
            c.output_folder(paths[name], f"paths.{name}")


def _population(c: _Checker, value: Any) -> None:
    pop = c.mapping(value, "population", "one 'year: children aged 0-17' line per year, e.g. {2025: 29800}")
    if pop is None:
        return
    for year, n in pop.items():
        key = f"population.{year}"
        y = whole_number(year)
        if y is None or not YEAR_MIN <= y <= YEAR_MAX:
            c.add(key, f"each key must be a year ending 31 March (e.g. 2025 for 2024-25), not {describe(year)}")
        c.number(n, key, "children aged 0-17 that year", positive=True)


def _benchmarks(c: _Checker, value: Any) -> None:
    bench = c.mapping(value, "benchmarks", "benchmarks: {folder: path/to/dfe/csvs}", BENCHMARKS_KEYS)
    if bench is None:
        return
    for name in ("folder", "ons_file"):
        if bench.get(name) is not None:
            c.input_path(bench[name], f"benchmarks.{name}")
    if bench.get("sources") is not None:
        _benchmark_sources(c, bench["sources"])


def _benchmark_sources(c: _Checker, value: Any) -> None:
    """``benchmarks.sources``: download addresses for ``benchmarks fetch``, keyed by its file names."""
    sources = c.mapping(value, "benchmarks.sources", "sources: {sn: https://.../sn_model_2025_wide.csv}")
    if sources is None:
        return
    from safeguarding.benchmarks_fetch import SOURCE_NAMES  # only when sources are configured (imports pandas)

    c.known_keys(sources, "benchmarks.sources", SOURCE_NAMES, what="benchmark file")
    for name, url in sources.items():
        if not (isinstance(url, str) and re.fullmatch(r"https?://\S+", url.strip())):
            c.add(f"benchmarks.sources.{name}", f"must be a web address starting with https:// (or http://), "
                                                f"not {describe(url)}")


def _targets(c: _Checker, value: Any) -> None:
    targets = c.mapping(value, "targets", "one 'INDICATOR_CODE: number' line per target, e.g. {ICPC_15WD: 85}")
    if targets is None:
        return
    for code, t in targets.items():
        if not isinstance(code, str):
            c.add(f"targets.{code}", f"each key must be an indicator code, not {describe(code)}")
        if t is not None:
            c.number(t, f"targets.{code}", "the target; leave it empty to remove the catalogue's target")


def _local_list(c: _Checker, value: Any, key: str) -> None:
    if not isinstance(value, list):
        c.add(key, f"must be a list of local indicators ('- code: ...' entries), not {describe(value)}")
        return
    for i, entry in enumerate(value):
        if not isinstance(entry, dict):
            c.add(f"{key}[{i}]", f"each local indicator must be a mapping (code, name, table, date, ...), "
                                 f"not {describe(entry)}")


def _indicators(c: _Checker, value: Any) -> None:
    if value is None:
        return
    if isinstance(value, list):
        _local_list(c, value, "indicators")
        return
    ind = c.mapping(value, "indicators", "a list of local indicators, or {local: [...], start: YYYY-MM-DD, ...}",
                    INDICATORS_KEYS)
    if ind is None:
        return
    if ind.get("local") is not None:
        _local_list(c, ind["local"], "indicators.local")
    for name in INDICATORS_KEYS[1:]:
        if ind.get(name) is not None:
            c.date(ind[name], f"indicators.{name}")


def _age_bands(c: _Checker, value: Any) -> None:
    if value is None or value == []:
        return
    ok = (isinstance(value, list)
          and all(isinstance(b, int) and not isinstance(b, bool) and b >= 0 for b in value)
          and all(a < b for a, b in itertools.pairwise(value)))
    if not ok:
        c.add("age_bands", f"must list the lower bounds in years, rising, e.g. [0, 1, 5, 10, 16], not "
                           f"{describe(value) if not isinstance(value, list) else value!r}")


def _input(c: _Checker, table: str, value: Any, rules: InputRules) -> None:
    key = f"inputs.{table}"
    spec = c.mapping(value, key, f"{key}: {{file: data/raw/{table}.csv}}", rules.keys)
    if spec is None:
        return
    if spec.get("file") is None:
        c.add(f"{key}.file", "is not set; give the extract's path, relative to report.yml")
    else:
        c.input_path(spec["file"], f"{key}.file")
    if spec.get("sheet") is not None:
        c.sheet(spec["sheet"], f"{key}.sheet")
    if spec.get("header_row") is not None:
        c.whole(spec["header_row"], f"{key}.header_row", 1, "the spreadsheet row holding the column names")
    if spec.get("encoding") is not None:
        c.choice(spec["encoding"], f"{key}.encoding", rules.encodings)
    if spec.get("date_format") is not None:
        fmt = spec["date_format"]
        if not rules.date_format_ok(fmt):
            near = suggestion(fmt, rules.date_modes) if isinstance(fmt, str) else None
            hint = f" (did you mean {near!r}?)" if near else ""
            c.add(f"{key}.date_format", f"must be one of {', '.join(rules.date_modes)} or a layout such as "
                                        f"\"%m/%d/%Y\", not {describe(fmt)}{hint}")
    if spec.get("format") is not None:
        c.choice(spec["format"], f"{key}.format", rules.formats,
                 normalise=lambda s: s.strip().lower().replace("-", "_").replace(" ", "_"))
    entity = ENTITIES[table]
    columns = c.mapping(spec.get("columns"), f"{key}.columns",
                        f"one 'canonical_column: \"Source header\"' line per column, under {key}.columns")
    if columns:
        c.known_keys(columns, f"{key}.columns", tuple(entity.column_names), what=f"column of {table}")
        for col, header in columns.items():
            if isinstance(header, bool) or not isinstance(header, (str, int, float)) or not str(header).strip():
                c.add(f"{key}.columns.{col}", f"must be the source's column header (text), not {describe(header)}")
    codes = c.mapping(spec.get("codes"), f"{key}.codes",
                      f"one 'canonical_column: {{source value: CODE}}' entry per coded column, under {key}.codes")
    if codes:
        coded = tuple(col.name for col in entity.columns if col.codes)
        c.known_keys(codes, f"{key}.codes", coded, what=f"coded column of {table}")
        for col, mapping in codes.items():
            if not isinstance(mapping, dict):
                c.add(f"{key}.codes.{col}", f"must map source values to codes ('source value: CODE' lines), "
                                            f"not {describe(mapping)}")


def _inputs(c: _Checker, value: Any) -> None:
    inputs = c.mapping(value, "inputs", "one entry per table, e.g. inputs: {referrals: {file: referrals.csv}}")
    if inputs is None:
        return
    c.known_keys(inputs, "inputs", tuple(ENTITIES), what="input table")
    rules = input_rules() if any(t in ENTITIES for t in inputs) else None
    for table, spec in inputs.items():
        if rules is not None and table in ENTITIES:
            _input(c, table, spec, rules)


def _aggregate(c: _Checker, i: int, value: Any, keys: tuple[str, ...] | None) -> None:  # noqa: C901
    key = f"aggregates[{i}]"
    spec = c.mapping(value, key, "{file: return.xlsx, layout: wide, rows: {...}}")
    if spec is None:
        return
    if keys is not None:
        c.known_keys(spec, key, keys)
    if spec.get("file") is None:
        c.add(f"{key}.file", "is not set; give the return's path, relative to paths.raw or report.yml")
    else:
        c.input_path(spec["file"], f"{key}.file")
    if spec.get("name") is not None:
        c.text(spec["name"], f"{key}.name", "a name for the return")
    if spec.get("layout") is not None:
        c.choice(spec["layout"], f"{key}.layout", LAYOUTS, normalise=lambda s: s.strip().lower())
    if spec.get("sheet") is not None:
        c.sheet(spec["sheet"], f"{key}.sheet")
    if spec.get("header_row") is not None:
        c.whole(spec["header_row"], f"{key}.header_row", 1, "the row holding the headings")
    if spec.get("financial_year") is not None:
        c.year(spec["financial_year"], f"{key}.financial_year")
    lc = spec.get("label_column")
    if lc is not None and not ((isinstance(lc, str) and lc.strip())
                               or (isinstance(lc, int) and not isinstance(lc, bool) and lc >= 1)):
        c.add(f"{key}.label_column", f"must be the column's heading, letter or 1-based number, not {describe(lc)}")
    ytd = spec.get("ytd_column")
    if ytd is not None and ytd is not False and not (isinstance(ytd, str) and ytd.strip()):
        c.add(f"{key}.ytd_column", f"must be the year-to-date column's heading, or none, not {describe(ytd)}")
    rows = c.mapping(spec.get("rows"), f"{key}.rows", "one '\"Row label\": INDICATOR_ID' line per measure")
    for label, target in (rows or {}).items():
        if not ((isinstance(target, str) and target.strip()) or isinstance(target, dict)):
            c.add(f"{key}.rows[{label!r}]", f"must be an indicator code or {{indicator: ID, breakdown: ..., "
                                            f"breakdown_value: ...}}, not {describe(target)}")
    c.mapping(spec.get("columns"), f"{key}.columns", "one 'canonical_name: \"Source heading\"' line per column")
    props = spec.get("proportions")
    if props is not None and not (isinstance(props, list) and all(isinstance(p, str) for p in props)):
        c.add(f"{key}.proportions", f"must be a list of indicator codes, not {describe(props)}")
    sf = spec.get("stock_flow")
    if sf is not None and not (isinstance(sf, dict) or (isinstance(sf, list) and all(isinstance(r, dict)
                                                                                   for r in sf))):
        c.add(f"{key}.stock_flow", f"must be a list of {{open: ID, new: ID, closed: ID}} rules, not {describe(sf)}")
    enc = spec.get("encoding")
    if enc is not None and not _is_codec(enc):
        c.add(f"{key}.encoding", f"must be the name of a text encoding (utf-8, cp1252, ...), not {describe(enc)}")
    delim = spec.get("delimiter")
    if delim is not None and not (isinstance(delim, str) and len(delim) == 1):
        c.add(f"{key}.delimiter", f"must be one character, e.g. ',' or ';', not {describe(delim)}")


def _is_codec(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        codecs.lookup(value)
    except LookupError:
        return False
    return True


def _aggregates(c: _Checker, value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, list):
        c.add("aggregates", f"must be a list of returns, each starting '- file: ...', not {describe(value)}")
        return
    keys = aggregate_keys() if value else None
    for i, spec in enumerate(value):
        _aggregate(c, i, spec, keys)


def _pseudonymisation(c: _Checker, value: Any) -> None:
    section = c.mapping(value, "pseudonymisation", "pseudonymisation: {key_file: ~/.config/safeguarding/key}",
                        PSEUDONYMISATION_KEYS)
    if section is None:
        return
    if section.get("key_file") is not None:
        c.input_path(section["key_file"], "pseudonymisation.key_file")


def _ingest(c: _Checker, value: Any) -> None:
    section = c.mapping(value, "ingest", "ingest: {min_date: 2000-01-01, max_date: 2025-03-31}", INGEST_KEYS)
    if section is None:
        return
    dates = {name: c.date(section[name], f"ingest.{name}") for name in INGEST_KEYS if section.get(name) is not None}
    lo, hi = dates.get("min_date"), dates.get("max_date")
    if lo is not None and hi is not None and lo > hi:
        c.add("ingest.max_date", f"{hi.isoformat()} is before ingest.min_date {lo.isoformat()}")


def _report(c: _Checker, value: Any) -> None:
    section = c.mapping(value, "report", "report: {title: ..., subtitle: ..., author: ..., date: ...}", REPORT_KEYS)
    if section is None:
        return
    for name in ("title", "subtitle"):
        if section.get(name) is not None:
            c.text(section[name], f"report.{name}", f"the document's {name}", blank_ok=True)
    author = section.get("author")
    if author is not None:
        items = author if isinstance(author, list) else [author]
        if not all(isinstance(a, str) or (isinstance(a, dict) and "name" in a) for a in items):
            c.add("report.author", f"must be a name or a list of names, not {describe(author)}")
    status = section.get("status")
    if status is not None and status not in REPORT_STATUSES:
        c.add("report.status", f"must be one of {', '.join(REPORT_STATUSES)}, not {describe(status)}")
    for name in ("approved_on", "published_on"):
        if section.get(name) is not None:
            c.date(section[name], f"report.{name}")
    if status == "approved" and section.get("approved_on") is None:
        c.add("report.approved_on", "is not set; an approved report gives the date the board approved it "
                                    "(YYYY-MM-DD)")
    if status == "draft" and section.get("approved_on") is not None:
        c.add("report.approved_on", "is set but report.status is draft; set status: approved, or remove it")
    version = section.get("version")
    if version is not None and not isinstance(version, (str, int, float)):
        c.add("report.version", f"must be text such as '1.0', not {describe(version)}")
    date = section.get("date")
    if date is not None and not isinstance(date, (str, dt.date)):
        c.add("report.date", f"must be a date (YYYY-MM-DD), 'today' or text such as 'March 2025', "
                             f"not {describe(date)}")


def _disclosure(c: _Checker, value: Any) -> None:
    """``disclosure``: the tuning of disclosure control, keys and ranges as ``disclosure.policy`` declares them."""
    if value is None:
        return
    # only when the section is present (imports the disclosure package, and with it pandas)
    from safeguarding.disclosure.policy import (
        PERIOD_TYPES,
        POLICY_KEYS,
        PUBLISHED_PERIOD_TYPES,
        WHOLE_NUMBER_SETTINGS,
        Policy,
    )

    before = len(c.problems)
    section = c.mapping(value, "disclosure", "disclosure: {threshold: [1, 5]}", POLICY_KEYS)
    if section is None:
        return
    if section.get("threshold") is not None:
        _threshold(c, section["threshold"], "disclosure.threshold")
    flag = section.get("secondary")
    if flag is not None and not isinstance(flag, bool):
        c.add("disclosure.secondary", f"must be true or false, not {describe(flag)}")
    for name, (lo, what) in WHOLE_NUMBER_SETTINGS.items():
        if section.get(name) is not None:
            c.whole(section[name], f"disclosure.{name}", lo, what)
    costs = c.mapping(section.get("period_cost"), "disclosure.period_cost",
                      "one 'period type: cost' line per period type, e.g. {month: 0, year: 2}", PERIOD_TYPES,
                      what="period type")
    for ptype, cost in (costs or {}).items():
        if ptype in PERIOD_TYPES and cost is not None:
            c.whole(cost, f"disclosure.period_cost.{ptype}", 0, "cost of hiding a cell of that period type")
    span = c.mapping(section.get("published_span"), "disclosure.published_span",
                     "one 'period type: [headline months, breakdown months]' line, e.g. {month: [36, 12]}",
                     PUBLISHED_PERIOD_TYPES, what="period type that may be published")
    for ptype, months in (span or {}).items():
        ok = isinstance(months, list) and len(months) == 2 and all(
            isinstance(m, int) and not isinstance(m, bool) and m >= 0 for m in months)
        if ptype in PUBLISHED_PERIOD_TYPES and months is not None and not ok:
            c.add(f"disclosure.published_span.{ptype}", "must be two whole numbers of months back from the year "
                  f"end, [headline, breakdowns], e.g. [36, 12], not {describe(months)}")
    share = section.get("sparse_share")
    if share is not None and c.number(share, "disclosure.sparse_share", "a share of a breakdown's counts") is not None \
            and not 0 <= share <= 1:
        c.add("disclosure.sparse_share", f"must be from 0 to 1 (a share of a breakdown's counts), not {share!r}")
    if len(c.problems) == before:  # whatever the policy itself refuses is refused here too
        try:
            Policy.from_mapping(section)
        except ValueError as exc:
            c.add("disclosure", str(exc).removeprefix("disclosure."))


def _threshold(c: _Checker, value: Any, key: str) -> None:
    """Two whole numbers ``[lo, hi]``, ``1 <= lo <= hi``: the counts hidden as ``c``."""
    whole = isinstance(value, list) and len(value) == 2 and all(
        isinstance(v, int) and not isinstance(v, bool) for v in value)
    if not whole:
        shown = value if isinstance(value, list) else describe(value)
        c.add(key, f"must be two whole numbers [lowest, highest], the counts hidden as c, e.g. [1, 5], not {shown}")
    elif value[0] < 1:
        c.add(key, f"must start at 1 or more, not {value[0]}: a true zero is published as 0, never hidden "
                   "(e.g. [1, 5])")
    elif value[0] > value[1]:
        c.add(key, f"the lowest count {value[0]} is above the highest {value[1]}; write them lowest first, "
                   "e.g. [1, 5]")


def _public_keeps_secondary(c: _Checker, raw: Mapping[Any, Any], audience: Any) -> None:
    """``disclosure.secondary: false`` leaves the public report's small counts recoverable from its totals."""
    section = raw.get("disclosure")
    if not isinstance(section, dict) or section.get("secondary") is not False:
        return
    effective = audience if audience is not None else raw.get("audience")
    if effective is None or effective == "public":
        c.add("disclosure.secondary", "cannot be false for the public audience: without secondary suppression a "
                                      "hidden count could be worked out from the totals published with it; remove "
                                      "the line (the board audience is never suppressed)")


def _editorial(c: _Checker, value: Any) -> None:
    """``editorial``: the folder of the board's own words (``safeguarding.editorial``), read, never written."""
    if value is not None:
        c.input_path(value, "editorial")


def _based_on(c: _Checker, value: Any) -> None:
    """``based_on``: written by ``build --areas`` into one area's settings: the ``report.yml`` they were made from,
    whose folder is the project folder (notebooks, ``_quarto.yml``, outputs)."""
    if not isinstance(value, str) or not Path(value).is_absolute() or not Path(value).is_file():
        c.add("based_on", f"must be the absolute path of the report.yml these settings were made from, not "
                          f"{describe(value)}; build --areas writes it, so rerun build --areas")


def _site(c: _Checker, value: Any) -> None:
    """``site``: where the area's pages are published and who to contact about them (all optional)."""
    section = c.mapping(value, "site", "site: {base_url: https://www.example.gov.uk/safeguarding/northwold, "
                                       "contact_email: scp@example.gov.uk, organisation: Northwold SCP}", SITE_KEYS)
    if section is None:
        return
    url = section.get("base_url")
    if url is not None and not (isinstance(url, str) and BASE_URL_PATTERN.fullmatch(url.strip())):
        c.add("site.base_url", f"must be the https:// address the area's folder is published at (letters, digits, "
                               f"'.', '-', '/' only; no query or #), e.g. https://www.example.gov.uk/scp/northwold, "
                               f"not {describe(url)}")
    email = section.get("contact_email")
    if email is not None and not (isinstance(email, str) and EMAIL_PATTERN.fullmatch(email.strip())):
        c.add("site.contact_email", f"must be an e-mail address such as scp@example.gov.uk, not {describe(email)}")
    if section.get("organisation") is not None:
        c.text(section["organisation"], "site.organisation", "the organisation responsible for the site")
    if section.get("statement_prepared_on") is not None:
        c.date(section["statement_prepared_on"], "site.statement_prepared_on")


def _publish(c: _Checker, value: Any) -> None:
    """``publish``: the targets ``pipeline.py publish --to NAME`` sends the area's site to (all optional)."""
    from safeguarding.deploy import KEEP_MIN, PUBLISH_KEYS, TARGET_KEYS, TargetError, parse_target

    section = c.mapping(value, "publish", "publish: {targets: {website: {url: sftp://user@host/path}}}",
                        PUBLISH_KEYS)
    if section is None:
        return
    targets = c.mapping(section.get("targets"), "publish.targets",
                        "one 'name: {url: ..., audience: public}' entry per target, under publish.targets")
    for name, spec in (targets or {}).items():
        key = f"publish.targets.{name}"
        if not (isinstance(name, str) and re.fullmatch(r"[A-Za-z0-9_-]+", name)):
            c.add(key, f"a target's name is letters, digits, '-' and '_' (it is written after --to), "
                       f"not {describe(name)}")
        target = c.mapping(spec, key, f"{key}: {{url: sftp://user@host/path, audience: public}}", TARGET_KEYS)
        if target is None:
            continue
        audience = target.get("audience")
        if audience is not None:
            c.choice(audience, f"{key}.audience", AUDIENCES)
        keep = target.get("keep")
        if keep is not None:
            c.whole(keep, f"{key}.keep", KEEP_MIN, "releases kept on the target, the current one and the one "
                                                   "--rollback returns to among them")
        url = target.get("url")
        if url is None:
            c.add(f"{key}.url", "is not set; give a folder, file:///path or sftp://user@host[:port]/path")
        elif c.text(url, f"{key}.url", "a folder, file:///path or sftp://user@host[:port]/path") is not None:
            try:
                parse_target(url, base=c.root)
            except TargetError as exc:
                c.add(f"{key}.url", str(exc))


def _year(c: _Checker, value: Any) -> None:
    if value is not None:
        c.year(value, "year")


def _audience(c: _Checker, value: Any) -> None:
    if value is not None:
        c.choice(value, "audience", AUDIENCES)


_SECTIONS: dict[str, Callable[[_Checker, Any], None]] = {
    "area": _area, "year": _year, "audience": _audience, "paths": _paths, "population": _population,
    "benchmarks": _benchmarks, "targets": _targets, "indicators": _indicators, "age_bands": _age_bands,
    "inputs": _inputs, "aggregates": _aggregates, "pseudonymisation": _pseudonymisation, "ingest": _ingest,
    "report": _report, "disclosure": _disclosure, "editorial": _editorial, "site": _site,
    "publish": _publish, "based_on": _based_on,
}


def check_config(raw: Mapping[Any, Any], root: Path, *, year: Any = None, audience: Any = None) -> list[Problem]:
    """Every problem with a parsed ``report.yml``, in the order of the file (empty when it is fine).

    ``root`` is the (resolved) folder holding the file: output folders must be
    inside it. ``year`` and ``audience`` are the command-line overrides, checked
    too (``--year``, ``--audience``); a year is required from one or the other.
    """
    c = _Checker(Path(root))
    c.known_keys(raw, "", TOP_LEVEL_KEYS)
    for name, value in raw.items():
        if name in _SECTIONS:
            _SECTIONS[name](c, value)
    if year is not None:
        c.year(year, "--year")
    elif raw.get("year") is None:
        c.add("year", "is not set: give the year ending 31 March as a whole number, e.g. 2025 for 2024-25 "
                      "(or pass --year)")
    if audience is not None:
        c.choice(audience, "--audience", AUDIENCES)
    _public_keeps_secondary(c, raw, audience)
    return c.problems
