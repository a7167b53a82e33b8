"""The rules of the other sections of ``report.yml``: area, year, audience, paths, population,
benchmarks, targets, indicators, age bands, pseudonymisation, ingest, report, editorial, based_on, site and
publish."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from pathlib import Path
from typing import Any

from safeguarding.config_schema.checker import _Checker, describe, is_slug, slugify, whole_number
from safeguarding.config_schema.keys import (
    AREA_KEYS,
    AUDIENCES,
    BASE_URL_PATTERN,
    BENCHMARKS_KEYS,
    EMAIL_PATTERN,
    INDICATORS_KEYS,
    INGEST_KEYS,
    PATHS_KEYS,
    PSEUDONYMISATION_KEYS,
    REPORT_KEYS,
    REPORT_STATUSES,
    SITE_KEYS,
    SLUG_RULE,
    YEAR_MAX,
    YEAR_MIN,
)


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
