"""The one configuration file an analyst edits (``report.yml``).

Paths in the file are relative to the file's own folder. The whole file is
checked when it is loaded (:mod:`safeguarding.config_schema`): every problem is
reported at once, with its key path, before any work starts. See
``docs/configuration.md`` for every key.

Once checked, the file is parsed once into typed, read-only objects
(:mod:`safeguarding.settings`), attributes of :class:`Config`: ``cfg.area``,
``cfg.report``, ``cfg.site``, ``cfg.benchmarks``, ``cfg.ingest``,
``cfg.pseudonymisation``, ``cfg.editorial``, ``cfg.publish``,
``cfg.indicators``, ``cfg.age_bands``, ``cfg.disclosure`` (the
:class:`~safeguarding.disclosure.policy.Policy`), ``cfg.inputs`` (each
input's :class:`~safeguarding.settings_inputs.InputSpec`, by table) and
``cfg.aggregates`` (each partner's return's
:class:`~safeguarding.settings_inputs.AggregateSpec`). Modules read those; the raw
mapping (``cfg.raw``) is kept for what needs the file as written (the cache
key, the build's run record).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from safeguarding.config_schema import (
    TOP_LEVEL_KEYS,
    YEAR_RULE,
    Problem,
    check_config,
    describe,
    slugify,
    whole_number,
)
from safeguarding.settings import (
    AreaSettings,
    BenchmarkSettings,
    EditorialSettings,
    IndicatorSettings,
    IngestSettings,
    PseudonymisationSettings,
    PublishSettings,
    ReportSettings,
    SiteDetails,
    age_bands_from,
)
from safeguarding.settings_inputs import AggregateSpec, InputSpec, SpecError, aggregates_from, inputs_from

if TYPE_CHECKING:  # pragma: no cover
    from safeguarding.disclosure.policy import Policy


class ConfigError(ValueError):
    """The configuration file is missing, unreadable or wrong; ``problems`` lists every fault found.

    The message names the file and then every problem, one per line, each
    starting with its key path (``inputs.referrals.header_row: ...``).
    """

    def __init__(self, message: str, problems: Sequence[Problem] = ()) -> None:
        super().__init__(message)
        self.problems: tuple[Problem, ...] = tuple(problems)


#: Top-level settings ``report.yml`` may hold (see :mod:`safeguarding.config_schema`).
KNOWN_TOP_LEVEL = frozenset(TOP_LEVEL_KEYS)


def _default_policy() -> Policy:
    from safeguarding.disclosure.policy import Policy

    return Policy()


@dataclass
class Config:
    """A loaded and checked ``report.yml``, its sections parsed into typed objects (:mod:`safeguarding.settings`).

    ``raw`` is the file as written: only the cache key and the build's run record read it; modules read the typed
    attributes (``area``, ``report``, ``site``, ...), and :meth:`section` is kept for notebooks and scripts.
    """

    path: Path
    raw: dict[str, Any]
    root: Path
    area_name: str
    area_slug: str
    year: int
    audience: str
    raw_dir: Path
    processed_dir: Path
    reports_dir: Path
    #: each ``inputs.<table>`` entry, by table (:class:`~safeguarding.settings_inputs.InputSpec`)
    inputs: Mapping[str, InputSpec]
    #: each ``aggregates`` entry, in order (:class:`~safeguarding.settings_inputs.AggregateSpec`)
    aggregates: tuple[AggregateSpec, ...] = ()
    population: dict[int, float] = field(default_factory=dict)
    targets: dict[str, float] = field(default_factory=dict)
    area: AreaSettings = field(default_factory=AreaSettings)
    benchmarks: BenchmarkSettings = field(default_factory=BenchmarkSettings)
    indicators: IndicatorSettings = field(default_factory=IndicatorSettings)
    #: lower bounds of the age bands in years, rising; empty: the built-in bands
    age_bands: tuple[int, ...] = ()
    pseudonymisation: PseudonymisationSettings = field(default_factory=PseudonymisationSettings)
    ingest: IngestSettings = field(default_factory=IngestSettings)
    report: ReportSettings = field(default_factory=ReportSettings)
    #: the disclosure policy for the public audience (``disclosure:``; the defaults when absent)
    disclosure: Policy = field(default_factory=_default_policy)
    editorial: EditorialSettings = field(default_factory=EditorialSettings)
    site: SiteDetails = field(default_factory=SiteDetails)
    publish: PublishSettings = field(default_factory=PublishSettings)

    @property
    def year_label(self) -> str:
        """Financial year label, e.g. ``2024-25`` for year 2025."""
        from safeguarding.periods import financial_year_label

        return financial_year_label(self.year)

    @property
    def year_start(self) -> dt.date:
        """1 April that opens the reporting year."""
        return dt.date(self.year - 1, 4, 1)

    @property
    def year_end(self) -> dt.date:
        """31 March that closes the reporting year."""
        return dt.date(self.year, 3, 31)

    def resolve(self, value: str | os.PathLike[str]) -> Path:
        """Resolve a path from the file relative to the configuration's folder."""
        p = Path(os.path.expanduser(str(value)))
        return p if p.is_absolute() else (self.root / p)

    def section(self, name: str) -> Mapping[str, object]:
        """Return a top-level mapping section as written (a dict of YAML values), or an empty dict.

        Kept for notebooks and scripts; the package's modules read the typed attributes instead
        (``cfg.report``, ``cfg.benchmarks``, ...: :mod:`safeguarding.settings`), parsed once when the file was
        loaded.
        """
        value = self.raw.get(name) or {}
        if not isinstance(value, dict):
            raise ConfigError(f"{self.path}: '{name}' must be a mapping")
        return value


def _slug(text: str) -> str:
    return slugify(text)


def _problems_message(path: str | Path, problems: Sequence[Problem]) -> str:
    n = len(problems)
    head = f"{path}: {n} problem{'s' if n != 1 else ''} in the configuration; correct {'them' if n != 1 else 'it'} " \
           "and run again (see docs/configuration.md):"
    return "\n".join([head, *(f"  - {p}" for p in problems)])


def load_config(path: str | os.PathLike[str], *, year: int | None = None,
                audience: str | None = None) -> Config:
    """Load and check a configuration file.

    ``year`` and ``audience`` override the file's values (command-line options).
    Every section, key, type and range is checked before anything is returned
    (:func:`safeguarding.config_schema.check_config`); all the problems found are
    raised together as one :class:`ConfigError` naming the file and, for each
    problem, its key path and the fix. The file being missing or not YAML is
    reported the same way.
    """
    p = Path(path)
    if not p.exists():
        raise ConfigError(f"configuration file not found: {p} (pass --config with the path to report.yml)")
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8-sig")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{p}: not valid YAML: {exc}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{p}: cannot be read as UTF-8 text: {exc}") from exc
    return config_from_mapping(raw, p, year=year, audience=audience)


def config_from_mapping(raw: object, path: Path, *, year: int | None = None, audience: str | None = None,
                        label: str | None = None) -> Config:
    """Check and load settings already read from ``path`` (or made from it, e.g. one area of several).

    Paths in ``raw`` are relative to ``path``'s folder, which is the project folder (its notebooks,
    ``_quarto.yml``, cache and logs). Problems are reported as :func:`load_config` reports them, naming
    ``label`` (default: the file) as where they are.
    """
    p = Path(path)
    where = label or str(p)
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: the top level must be a mapping of settings (key: value lines), "
                          f"not {describe(raw)}")
    # one area's settings written by build --areas live in build/areas/; their project is report.yml's folder
    based_on = raw.get("based_on")
    root = Path(based_on).resolve().parent if isinstance(based_on, str) and Path(based_on).is_file() \
        else p.resolve().parent
    problems = check_config(raw, root, year=year, audience=audience)
    if problems:
        raise ConfigError(_problems_message(where, problems), problems)
    # from here every value has the type and range the schema promises
    area = raw.get("area") or {}
    name = str(area.get("name", "Unnamed area"))
    yr = whole_number(year if year is not None else raw.get("year"))
    if yr is None:  # pragma: no cover - check_config has reported it
        raise ConfigError(f"{where}: year: {YEAR_RULE}")
    aud = str(audience or raw.get("audience") or "public")
    paths = raw.get("paths") or {}
    try:
        inputs, aggregates = inputs_from(raw.get("inputs")), aggregates_from(raw.get("aggregates"))
    except SpecError as exc:  # pragma: no cover - check_config has reported it
        raise ConfigError(_problems_message(where, [Problem(exc.key, exc.detail)]),
                          [Problem(exc.key, exc.detail)]) from exc
    slug = str(area["slug"]) if area.get("slug") is not None else _slug(name)
    cfg = Config(
        path=p,
        raw=raw,
        root=root,
        area_name=name,
        area_slug=slug,
        year=yr,
        audience=aud,
        raw_dir=Path(),
        processed_dir=Path(),
        reports_dir=Path(),
        inputs=inputs,
        aggregates=aggregates,
        population={int(k): float(v) for k, v in (raw.get("population") or {}).items()},
        targets={str(k): float(v) for k, v in (raw.get("targets") or {}).items() if v is not None},
        area=AreaSettings.from_mapping(area, slug=slug),
        benchmarks=BenchmarkSettings.from_mapping(raw.get("benchmarks")),
        indicators=IndicatorSettings.from_mapping(raw.get("indicators")),
        age_bands=age_bands_from(raw.get("age_bands")),
        pseudonymisation=PseudonymisationSettings.from_mapping(raw.get("pseudonymisation")),
        ingest=IngestSettings.from_mapping(raw.get("ingest")),
        report=ReportSettings.from_mapping(raw.get("report")),
        disclosure=_policy(raw, where),
        editorial=EditorialSettings.from_mapping(raw.get("editorial")),
        site=SiteDetails.from_mapping(raw.get("site")),
        publish=PublishSettings.from_mapping(raw.get("publish")),
    )
    cfg.raw_dir = cfg.resolve(paths.get("raw", "data/raw"))
    # output folders are used exactly as checked: '..' taken away by name, so that a symbolic link
    # before a '..' cannot lead the writes outside the project folder
    cfg.processed_dir = Path(os.path.normpath(cfg.resolve(paths.get("processed", "data/processed"))))
    cfg.reports_dir = Path(os.path.normpath(cfg.resolve(paths.get("reports", "reports"))))
    return cfg


def _policy(raw: dict[str, Any], where: str) -> Policy:
    """The ``disclosure:`` section of a checked file as a :class:`~safeguarding.disclosure.policy.Policy`."""
    from safeguarding.disclosure.policy import Policy

    try:
        return Policy.from_mapping(raw.get("disclosure"))
    except ValueError as exc:  # pragma: no cover - check_config has checked the section
        raise ConfigError(f"{where}: {exc}") from exc


def load_config_with_inputs(path: str | os.PathLike[str], *, year: int | None = None) -> Config:
    """:func:`load_config`, and a :class:`ConfigError` when the file configures no input at all.

    For the commands that read the inputs (``ingest``, ``check``).
    """
    cfg = load_config(path, year=year)
    if not cfg.inputs and not cfg.aggregates:
        raise ConfigError(f"{cfg.path} configures no inputs; add them under 'inputs:' (see docs/configuration.md)")
    return cfg
