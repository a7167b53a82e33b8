"""The sections of ``report.yml`` as typed, read-only objects, made once when the file is loaded.

:func:`safeguarding.config.config_from_mapping` checks the whole file first
(:func:`safeguarding.config_schema.check_config`: every key, type and range,
each problem with its key path), then builds one object per section with the
``from_mapping`` of the classes here and attaches it to the
:class:`~safeguarding.config.Config` (``cfg.area``, ``cfg.report``,
``cfg.site``, ``cfg.benchmarks``, ``cfg.ingest``, ``cfg.pseudonymisation``,
``cfg.editorial``, ``cfg.publish``, ``cfg.indicators``, ``cfg.age_bands``;
the ``disclosure:`` section is parsed into a
:class:`~safeguarding.disclosure.policy.Policy`, ``cfg.disclosure``). Modules
read these attributes, never the raw mapping.

Each ``from_mapping`` takes a section that has already been checked, so it
only converts: a section left out (or left empty) gives the defaults
documented in ``docs/configuration.md``. Paths are kept as written (relative
to the project folder); :meth:`~safeguarding.config.Config.resolve` makes them
absolute where they are used.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

#: ``ingest.min_date`` when not set: the earliest plausible event date.
INGEST_MIN_DATE = dt.date(2000, 1, 1)
#: ``publish.targets.<name>.keep`` when not set: releases kept on a target.
PUBLISH_KEEP_DEFAULT = 3
#: ``publish.targets.<name>.audience`` when not set.
PUBLISH_AUDIENCE_DEFAULT = "public"


def _section(value: object) -> Mapping[str, Any]:
    """A checked section: its mapping, or an empty one when it was left out or left empty."""
    return value if isinstance(value, Mapping) else {}


def _text(value: object) -> str | None:
    """A text setting as written, or None when it is not set."""
    return None if value is None else str(value)


def _stripped(value: object) -> str | None:
    """A text setting with surrounding spaces taken away; None when it is not set or blank."""
    return None if value is None else (str(value).strip() or None)


def _date(value: object) -> dt.date | None:
    """A checked date setting (a YAML date, or text ``YYYY-MM-DD``), or None when it is not set."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value).strip())


@dataclass(frozen=True)
class AreaSettings:
    """``area``: the area the review is of.

    ``la_code`` is the DfE council code as written (``873``, ``E06000031``), None when not set; the name and slug
    are also :attr:`Config.area_name <safeguarding.config.Config.area_name>` and ``area_slug`` (the slug made from
    the name when not set).
    """

    name: str = "Unnamed area"
    slug: str = "unnamed-area"
    la_code: str | None = None

    @classmethod
    def from_mapping(cls, section: object, *, slug: str) -> AreaSettings:
        """The checked ``area`` section; ``slug`` is the slug the configuration uses (given or made)."""
        s = _section(section)
        code = s.get("la_code")
        return cls(name=str(s.get("name", cls.name)), slug=slug, la_code=str(code) if code else None)


@dataclass(frozen=True)
class BenchmarkSettings:
    """``benchmarks``: where the DfE and ONS files are (paths as written; none set: benchmarks not configured)."""

    folder: str | None = None
    ons_file: str | None = None
    #: ``benchmarks fetch`` addresses by file name (``c1``, ``sn``, ...), replacing the built-in ones
    sources: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def from_mapping(cls, section: object) -> BenchmarkSettings:
        """The checked ``benchmarks`` section."""
        s = _section(section)
        sources = {str(k): str(v) for k, v in _section(s.get("sources")).items()}
        return cls(folder=_text(s.get("folder")) or None, ons_file=_text(s.get("ons_file")) or None,
                   sources=MappingProxyType(sources))


@dataclass(frozen=True)
class PseudonymisationSettings:
    """``pseudonymisation``: ``key_file`` as written, None for ``$SAFEGUARDING_KEY_FILE`` or the default file."""

    key_file: str | None = None

    @classmethod
    def from_mapping(cls, section: object) -> PseudonymisationSettings:
        """The checked ``pseudonymisation`` section."""
        return cls(key_file=_text(_section(section).get("key_file")) or None)


@dataclass(frozen=True)
class IngestSettings:
    """``ingest``: the plausible range of event dates.

    ``max_date`` None means the later of the day the ingest runs and the year end (it is worked out then).
    """

    min_date: dt.date = INGEST_MIN_DATE
    max_date: dt.date | None = None

    @classmethod
    def from_mapping(cls, section: object) -> IngestSettings:
        """The checked ``ingest`` section."""
        s = _section(section)
        return cls(min_date=_date(s.get("min_date")) or INGEST_MIN_DATE, max_date=_date(s.get("max_date")))


#: ``report`` settings that override the published document's front matter, in this order.
DOCUMENT_KEYS: tuple[str, ...] = ("title", "subtitle", "author", "date")


@dataclass(frozen=True)
class ReportSettings:
    """``report``: the published document's front matter and the cover's standing (all optional).

    ``author`` and ``date`` are kept as written, as they go to the document's metadata unchanged (``date`` a
    date, ``today`` or text such as ``March 2025``; ``author`` a name or a list of names). ``status`` is
    ``draft``, ``approved`` or None (neither stated); ``version`` is text.
    """

    title: str | None = None
    subtitle: str | None = None
    author: str | list[Any] | None = None
    date: str | dt.date | None = None
    status: str | None = None
    approved_on: dt.date | None = None
    version: str | None = None
    published_on: dt.date | None = None

    @classmethod
    def from_mapping(cls, section: object) -> ReportSettings:
        """The checked ``report`` section."""
        s = _section(section)
        author = s.get("author")
        version = s.get("version")
        return cls(title=_text(s.get("title")), subtitle=_text(s.get("subtitle")),
                   author=list(author) if isinstance(author, list) else _text(author),
                   date=s.get("date"), status=_text(s.get("status")), approved_on=_date(s.get("approved_on")),
                   version=None if version is None else str(version), published_on=_date(s.get("published_on")))

    def document_metadata(self) -> dict[str, object]:
        """The settings that override the document's ``title``, ``subtitle``, ``author`` and ``date`` (those set)."""
        values = {"title": self.title, "subtitle": self.subtitle, "author": self.author, "date": self.date}
        return {k: list(v) if isinstance(v, list) else v for k, v in values.items() if v is not None}


@dataclass(frozen=True)
class SiteDetails:
    """``site``: the area's site (all optional; text stripped of surrounding spaces, blank as not set).

    ``base_url`` has no trailing ``/``; ``statement_prepared_on`` None means the day the site is written.
    """

    base_url: str | None = None
    contact_email: str | None = None
    organisation: str | None = None
    statement_prepared_on: dt.date | None = None

    @classmethod
    def from_mapping(cls, section: object) -> SiteDetails:
        """The checked ``site`` section."""
        s = _section(section)
        base = _stripped(s.get("base_url"))
        return cls(base_url=base.rstrip("/") if base else None, contact_email=_stripped(s.get("contact_email")),
                   organisation=_stripped(s.get("organisation")),
                   statement_prepared_on=_date(s.get("statement_prepared_on")))


@dataclass(frozen=True)
class PublishTarget:
    """One ``publish.targets.<name>``: ``url`` as written (a folder, ``file:///path`` or ``sftp://...``)."""

    url: str
    audience: str = PUBLISH_AUDIENCE_DEFAULT
    keep: int = PUBLISH_KEEP_DEFAULT


@dataclass(frozen=True)
class PublishSettings:
    """``publish``: the targets of ``pipeline.py publish --to NAME``, by name (none when not set)."""

    targets: Mapping[str, PublishTarget] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def from_mapping(cls, section: object) -> PublishSettings:
        """The checked ``publish`` section."""
        targets = {}
        for name, spec in _section(_section(section).get("targets")).items():
            t = _section(spec)
            targets[str(name)] = PublishTarget(url=str(t.get("url", "")),
                                               audience=str(t.get("audience") or PUBLISH_AUDIENCE_DEFAULT),
                                               keep=int(t.get("keep") or PUBLISH_KEEP_DEFAULT))
        return cls(targets=MappingProxyType(targets))


@dataclass(frozen=True)
class EditorialSettings:
    """``editorial``: the folder of the board's own words as written, None when not set.

    The files in it are read and checked by :func:`safeguarding.editorial.load_editorial`.
    """

    folder: str | None = None

    @classmethod
    def from_mapping(cls, value: object) -> EditorialSettings:
        """The checked ``editorial`` value (a folder path, or nothing)."""
        return cls(folder=_stripped(value) and str(value))


@dataclass(frozen=True)
class IndicatorSettings:
    """``indicators``: local indicators (their specs as written, read by the catalogue) and the run's dates.

    ``start`` and ``end`` fix the reporting window, ``history_start`` the date plan history is complete from,
    ``data_end`` the date the data are complete to; None leaves each to the data.
    """

    local: tuple[Mapping[str, Any], ...] = ()
    start: dt.date | None = None
    end: dt.date | None = None
    history_start: dt.date | None = None
    data_end: dt.date | None = None

    @classmethod
    def from_mapping(cls, value: object) -> IndicatorSettings:
        """The checked ``indicators`` value: a list of local indicators, or a mapping with ``local`` and dates."""
        if isinstance(value, list):
            return cls(local=tuple(value))
        s = _section(value)
        return cls(local=tuple(s.get("local") or ()), start=_date(s.get("start")), end=_date(s.get("end")),
                   history_start=_date(s.get("history_start")), data_end=_date(s.get("data_end")))

    def run_dates(self) -> dict[str, dt.date]:
        """The dates that are set, by name (``start``, ``end``, ``history_start``, ``data_end``)."""
        values = {"start": self.start, "end": self.end, "history_start": self.history_start,
                  "data_end": self.data_end}
        return {k: v for k, v in values.items() if v is not None}


def age_bands_from(value: object) -> tuple[int, ...]:
    """The checked ``age_bands``: lower bounds in years, rising; empty when not set (the built-in bands)."""
    return tuple(int(b) for b in value) if isinstance(value, list) else ()
