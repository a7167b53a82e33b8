"""The indicator catalogue: load, validate, and merge the analyst's additions.

The built-in library is ``catalogue.yml`` next to this module. An analyst never
edits it; ``report.yml`` may

* override targets: ``targets: {ICPC_15WD: 85}``;
* add local indicators that are a count or a ratio of existing fields::

    indicators:
      - code: NFA_REFERRALS
        name: Referrals closed with no further action
        table: referrals
        date: referral_date
        filter: {nfa: true}
        unit: count
      - code: NFA_RATE
        name: Share of referrals closed with no further action
        table: referrals
        date: referral_date
        unit: percent
        numerator: {nfa: true}        # filter on top of the denominator's
        denominator: {}               # filter; {} = every row
        polarity: lower_is_better
        target: 30

Any unknown indicator code, breakdown, table, field or key fails with a
:class:`CatalogueError` that lists the valid names.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from safeguarding.indicators.registry import AGGREGATE
from safeguarding.schema import ENTITIES
from safeguarding.yamlload import SAFE_LOADER

if TYPE_CHECKING:
    from safeguarding.config import Config
    from safeguarding.indicators.registry import Method

CATALOGUE_PATH = Path(__file__).with_name("catalogue.yml")

UNITS = ("count", "percent", "rate_per_10k")
POLARITIES = ("higher_is_better", "lower_is_better", "neither")
STATUSES = ("essential", "discretionary")
OBA = ("how_much", "how_well", "better_off")
FREQUENCIES = ("month", "quarter", "year", "rolling12")

#: the chapters an indicator can be reported in (``chapter:`` in the catalogue), one per chapter notebook
#: (``notebooks/NN-<chapter with hyphens>.ipynb``). A new chapter that reports catalogue entries adds itself here.
CHAPTERS = ("referrals", "child_protection", "allegations", "private_fostering")

#: the chapter an entry is reported in when it names none: the chapter of the table its method counts.
#: Partners' aggregate measures have no such table and must name their chapter.
TABLE_CHAPTERS: dict[str, str] = {
    "referrals": "referrals", "s47": "child_protection", "icpc": "child_protection",
    "cp_plans": "child_protection", "cp_reviews": "child_protection", "allegations": "allegations",
    "private_fostering": "private_fostering", "children": "referrals",
}

_CHILD_TABLES = ("referrals", "s47", "icpc", "cp_plans", "private_fostering")

#: breakdown name -> (tables it applies to, description)
BREAKDOWNS: dict[str, tuple[tuple[str, ...], str]] = {
    "age_band": (_CHILD_TABLES, "DfE age band (under 1, 1-4, 5-9, 10-15, 16+) at the reference date"),
    "gender": (_CHILD_TABLES, "child's recorded sex/gender"),
    "ethnicity": (_CHILD_TABLES, "top-level ethnic group (White, Mixed, Asian, Black, Other, Not known)"),
    "referral_source": (("referrals",), "referral source group (DfE groupings)"),
    "primary_need": (("referrals",), "primary need code (CIN census N0-N9)"),
    "referrals_in_12m": (("referrals",),
                         "the child's referrals in the 12 months up to and including this one: 1, 2, 3+"),
    "team": (("referrals", "s47", "cp_plans"), "team recorded on the record"),
    "initial_category": (("cp_plans",), "initial category of abuse"),
    "latest_category": (("cp_plans",), "latest category of abuse"),
    "plan_length": (("cp_plans",), "plan length so far (DfE D5 bands)"),
    "plan_length_6m": (("cp_plans",), "plan length so far in 6-monthly bands"),
    "sector": (("allegations",), "LADO employer sector"),
    "category": (("allegations",), "LADO allegation category"),
    "outcome": (("allegations",), "LADO outcome"),
    "time_to_conclusion": (("allegations",), "time from referral to conclusion (1 month, 3 months, 12 months)"),
    "referrals_in_period": (("referrals",), "the child's referrals in the year: 1, 2, 3+ (children referred)"),
    "action": (("allegations",), "LADO action taken; an allegation may have several actions or none (overlapping)"),
}

#: breakdowns whose values overlap: one record can fall under several values, or under none, so the values
#: do not add up to the headline (which counts each record once). Every other breakdown adds up to its
#: headline (a missing value is counted as "Not recorded"); code that relies on that (tests, the
#: disclosure relations, tables with a total row) must leave these out, or check the sum in the data.
OVERLAPPING_BREAKDOWNS: dict[str, str] = {
    "action": "an allegation may lead to several actions, or to none; the headline counts allegations with at "
              "least one action",
}


def _methods() -> dict[str, Method]:
    """The registered indicator methods (``safeguarding/indicators/methods/``: each declares its table, and
    the breakdowns and frequencies only it allows, where it has any)."""
    from safeguarding.indicators.registry import registered

    return registered()


def method_breakdowns() -> dict[str, tuple[str, ...]]:
    """Breakdowns only one method computes (it counts something other than the table's rows: children, or
    allegation-action pairs): method -> the breakdowns it accepts."""
    return {name: m.breakdowns for name, m in _methods().items() if m.breakdowns is not None}


_FIELDS = (
    "code", "name", "definition", "numerator", "denominator", "unit", "polarity", "target",
    "target_source", "method", "source", "frequencies", "status", "oba", "owner", "breakdowns",
    "band", "months", "table", "date", "filter", "numerator_filter", "denominator_filter", "local", "chapter",
)
_LOCAL_KEYS = (
    "code", "name", "definition", "table", "date", "filter", "unit", "numerator", "denominator",
    "polarity", "target", "target_source", "frequencies", "status", "oba", "owner", "breakdowns",
)


class CatalogueError(ValueError):
    """The catalogue or the configuration's indicator settings are invalid."""


@dataclass(frozen=True)
class Indicator:
    """One catalogue entry (see ``catalogue.yml`` for the meaning of each field)."""

    code: str
    name: str
    definition: str
    unit: str
    method: str
    source: tuple[str, ...]
    numerator: str | None = None
    denominator: str | None = None
    polarity: str = "neither"
    target: float | None = None
    target_source: str | None = None
    frequencies: tuple[str, ...] = FREQUENCIES
    status: str = "discretionary"
    oba: str = "how_much"
    owner: str = "Children's social care"
    breakdowns: tuple[str, ...] = ()
    band: str | None = None
    months: int | None = None
    table: str | None = None
    date: str | None = None
    filter: dict[str, object] = field(default_factory=dict)
    numerator_filter: dict[str, object] = field(default_factory=dict)
    denominator_filter: dict[str, object] = field(default_factory=dict)
    local: bool = False
    #: the chapter that reports the indicator (:data:`CHAPTERS`); for a partner's aggregate measure, where its
    #: chart and verdicts are printed (:mod:`safeguarding.report.sections.partners`)
    chapter: str = "referrals"

    @property
    def is_aggregate(self) -> bool:
        """True for a measure supplied by a partner's aggregate return (counts of events as returned)."""
        return self.method == "aggregate"

    def __getitem__(self, key: str) -> Any:
        """Dictionary-style access to a field (``entry["unit"]``)."""
        if key not in _FIELDS:
            raise KeyError(key)
        return getattr(self, key)

    @property
    def is_ratio(self) -> bool:
        """True for percentages (numerator over denominator)."""
        return self.unit == "percent"

    @property
    def overlapping(self) -> tuple[str, ...]:
        """This indicator's breakdowns whose values overlap (:data:`OVERLAPPING_BREAKDOWNS`): they do not
        add up to the headline."""
        return tuple(b for b in self.breakdowns if b in OVERLAPPING_BREAKDOWNS)


class Catalogue(Mapping[str, Indicator]):
    """An ordered, read-only mapping of indicator code to :class:`Indicator`."""

    def __init__(self, indicators: list[Indicator]):
        self._items: dict[str, Indicator] = {}
        for ind in indicators:
            if ind.code in self._items:
                raise CatalogueError(f"indicator code {ind.code!r} is defined twice")
            self._items[ind.code] = ind

    def __getitem__(self, code: str) -> Indicator:
        try:
            return self._items[code]
        except KeyError:
            raise KeyError(f"unknown indicator {code!r}; valid: {', '.join(self._items)}") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    @property
    def codes(self) -> list[str]:
        """Indicator codes in catalogue order."""
        return list(self._items)

    def with_targets(self, targets: Mapping[str, float | None], *, where: str = "targets") -> Catalogue:
        """Return a copy with targets overridden; unknown codes raise listing the valid ones."""
        unknown = [c for c in targets if c not in self._items]
        if unknown:
            raise CatalogueError(
                f"{where}: unknown indicator(s) {', '.join(map(str, unknown))}; valid: {', '.join(self._items)}"
            )
        items = []
        for code, ind in self._items.items():
            if code in targets:
                t = targets[code]
                t = None if t is None else _number(t, f"{where}: {code}")
                ind = replace(ind, target=t, target_source="report.yml")
            items.append(ind)
        return Catalogue(items)

    def select(self, codes: list[str]) -> Catalogue:
        """Return a catalogue of the named indicators only (unknown codes raise)."""
        for c in codes:
            self[c]
        return Catalogue([self._items[c] for c in codes])

    def to_frame(self):
        """The catalogue as a pandas DataFrame, one row per indicator."""
        import pandas as pd

        rows = []
        for ind in self._items.values():
            rows.append({
                "code": ind.code, "name": ind.name, "unit": ind.unit, "polarity": ind.polarity,
                "target": ind.target, "target_source": ind.target_source, "status": ind.status,
                "oba": ind.oba, "owner": ind.owner, "source": ", ".join(ind.source),
                "frequencies": ", ".join(ind.frequencies), "breakdowns": ", ".join(ind.breakdowns),
                "definition": ind.definition, "numerator": ind.numerator, "denominator": ind.denominator,
                "chapter": ind.chapter,
            })
        return pd.DataFrame(rows)


def _number(value: Any, where: str) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise CatalogueError(f"{where}: target must be a number, not {value!r}") from None
    if not math.isfinite(out):
        raise CatalogueError(f"{where}: target must be a finite number, not {value!r}")
    return out


def _choice(value: object, valid: tuple[str, ...], where: str) -> str:
    if value not in valid:
        raise CatalogueError(f"{where}: {value!r} is not valid; valid: {', '.join(valid)}")
    return str(value)


def _list(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)


def _check_breakdowns(breakdowns: tuple[str, ...], table: str, where: str, method: str | None = None) -> None:
    own_breakdowns = method_breakdowns()
    if method in own_breakdowns:
        valid = list(own_breakdowns[method])
        scope = f"method {method}"
    else:
        own = {b for bs in own_breakdowns.values() for b in bs}
        valid = [b for b, (tables, _) in BREAKDOWNS.items() if table in tables and b not in own]
        scope = f"table {table}"
    bad = [b for b in breakdowns if b not in valid]
    if bad:
        raise CatalogueError(
            f"{where}: unknown breakdown(s) {', '.join(bad)} for {scope}; "
            f"valid: {', '.join(valid) or '(none)'}"
        )


def _check_filter(flt: object, table: str, where: str) -> dict[str, object]:
    if flt is None:
        return {}
    if not isinstance(flt, dict):
        raise CatalogueError(f"{where}: a filter must be a mapping of field: value, not {flt!r}")
    valid = ENTITIES[table].column_names
    bad = [k for k in flt if k not in valid]
    if bad:
        raise CatalogueError(
            f"{where}: unknown field(s) {', '.join(map(str, bad))} in table {table}; valid: {', '.join(valid)}"
        )
    return dict(flt)


def _entry(raw: dict[str, Any], defaults: dict[str, Any], where: str) -> Indicator:
    unknown = set(raw) - set(_FIELDS)
    if unknown:
        raise CatalogueError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}; valid: {', '.join(_FIELDS)}")
    d = {**defaults, **raw}
    code = str(d.get("code") or "")
    if not code or not code.replace("_", "").isalnum() or code.upper() != code:
        raise CatalogueError(f"{where}: code {code!r} must be upper case letters, digits and underscores")
    where = f"{where} ({code})"
    for key in ("name", "definition", "unit", "method"):
        if not d.get(key):
            raise CatalogueError(f"{where}: '{key}' is required")
    method = str(d["method"])
    methods = _methods()
    if method != AGGREGATE and method not in methods:
        raise CatalogueError(f"{where}: unknown method {method!r}; valid: {', '.join([*methods, AGGREGATE])}")
    spec = methods.get(method)
    freqs = _list(d.get("frequencies")) or FREQUENCIES
    for f in freqs:
        _choice(f, (spec.frequencies if spec else None) or FREQUENCIES, f"{where} frequencies")
    table = "aggregates" if spec is None else spec.table or str(d.get("table"))
    breakdowns = _list(d.get("breakdowns"))
    if table != "aggregates":
        _check_breakdowns(breakdowns, table, where, method)
    elif breakdowns:
        raise CatalogueError(f"{where}: aggregate indicators take their breakdowns from the return; list none")
    target = d.get("target")
    chapter = d.get("chapter")
    if chapter is None:
        if table not in TABLE_CHAPTERS:
            raise CatalogueError(f"{where}: 'chapter' is required for a measure from {table}: name the chapter that "
                                 f"reports it; valid: {', '.join(CHAPTERS)}")
        chapter = TABLE_CHAPTERS[table]
    chapter = _choice(chapter, CHAPTERS, f"{where} chapter")
    return Indicator(
        code=code,
        name=str(d["name"]),
        definition=" ".join(str(d["definition"]).split()),
        unit=_choice(d["unit"], UNITS, f"{where} unit"),
        method=method,
        source=_list(d.get("source")) or (table,),
        numerator=d.get("numerator") if isinstance(d.get("numerator"), str) else None,
        denominator=d.get("denominator") if isinstance(d.get("denominator"), str) else None,
        polarity=_choice(d.get("polarity", "neither"), POLARITIES, f"{where} polarity"),
        target=None if target is None else _number(target, where),
        target_source=d.get("target_source"),
        frequencies=freqs,
        status=_choice(d.get("status", "discretionary"), STATUSES, f"{where} status"),
        oba=_choice(d.get("oba", "how_much"), OBA, f"{where} oba"),
        owner=str(d.get("owner") or "Children's social care"),
        breakdowns=breakdowns,
        band=d.get("band"),
        months=None if d.get("months") is None else int(d["months"]),
        table=d.get("table"),
        date=d.get("date"),
        filter=dict(d.get("filter") or {}),
        numerator_filter=dict(d.get("numerator_filter") or {}),
        denominator_filter=dict(d.get("denominator_filter") or {}),
        local=bool(d.get("local", False)),
        chapter=chapter,
    )


def local_indicator(spec: object, where: str = "report.yml indicators") -> Indicator:
    """Build a local indicator from a ``report.yml`` entry (a count or ratio of existing fields)."""
    if not isinstance(spec, dict):
        raise CatalogueError(f"{where}: each local indicator must be a mapping, not {spec!r}")
    code = spec.get("code", "?")
    where = f"{where} ({code})"
    unknown = set(spec) - set(_LOCAL_KEYS)
    if unknown:
        raise CatalogueError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}; valid: {', '.join(_LOCAL_KEYS)}")
    table = spec.get("table")
    if table not in ENTITIES:
        raise CatalogueError(f"{where}: unknown table {table!r}; valid: {', '.join(ENTITIES)}")
    ent = ENTITIES[table]
    dates = [c.name for c in ent.columns if c.kind == "date"]
    if spec.get("date") not in dates:
        raise CatalogueError(f"{where}: 'date' must name a date field of {table}; valid: {', '.join(dates)}")
    unit = spec.get("unit", "count")
    if unit not in ("count", "percent"):
        raise CatalogueError(f"{where}: local indicators are a count or a percent; valid units: count, percent")
    base = _check_filter(spec.get("filter"), table, f"{where} filter")
    num: dict[str, object] = {}
    den: dict[str, object] = {}
    if unit == "percent":
        if not isinstance(spec.get("numerator"), dict) or not spec["numerator"]:
            raise CatalogueError(f"{where}: a percent needs 'numerator: {{field: value}}' (a filter on {table})")
        num = _check_filter(spec["numerator"], table, f"{where} numerator")
        den = _check_filter(spec.get("denominator") or {}, table, f"{where} denominator")
    elif spec.get("numerator") is not None or spec.get("denominator") is not None:
        raise CatalogueError(f"{where}: a count takes 'filter', not numerator/denominator")
    flt_text = ", ".join(f"{k} = {v}" for k, v in base.items())
    raw = {
        "code": spec.get("code"),
        "name": spec.get("name") or spec.get("code"),
        "definition": spec.get("definition")
        or f"Local indicator: {table} by {spec['date']}" + (f" where {flt_text}" if flt_text else ""),
        "unit": unit,
        "method": "ratio" if unit == "percent" else "count",
        "table": table,
        "date": spec["date"],
        "filter": base,
        "numerator_filter": num,
        "denominator_filter": den,
        "numerator": ", ".join(f"{k} = {v}" for k, v in num.items()) or None,
        "denominator": ", ".join(f"{k} = {v}" for k, v in den.items()) or None,
        "source": [table],
        "local": True,
        "owner": spec.get("owner", "Local"),
        **{k: spec[k] for k in ("polarity", "target", "target_source", "frequencies", "status", "oba",
                                "breakdowns") if k in spec},
    }
    if "target" in spec and "target_source" not in spec:
        raw["target_source"] = "report.yml"
    return _entry(raw, {}, "report.yml indicators")


def load_catalogue(source: Config | Mapping[str, object] | None = None, *,
                   path: str | os.PathLike[str] | None = None) -> Catalogue:
    """Load the built-in catalogue, then apply a configuration's additions and targets.

    ``source`` may be None (built-in only), a :class:`safeguarding.config.Config`,
    or a mapping shaped like ``report.yml`` (keys ``indicators`` and ``targets``).
    ``path`` replaces the built-in ``catalogue.yml``.
    """
    p = Path(path) if path is not None else CATALOGUE_PATH
    try:
        doc = yaml.load(p.read_text(encoding="utf-8"), Loader=SAFE_LOADER) or {}  # (safe: yamlload)
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogueError(f"{p}: cannot read the catalogue: {exc}") from exc
    defaults = dict(doc.get("defaults") or {})
    entries = [_entry(dict(raw), defaults, f"{p.name} entry {i + 1}")
               for i, raw in enumerate(doc.get("indicators") or [])]
    cat = Catalogue(entries)
    if source is None:
        return cat
    raw_cfg = getattr(source, "raw", source)
    if not isinstance(raw_cfg, Mapping):
        raise CatalogueError(f"cannot read indicator settings from {source!r}")
    local = raw_cfg.get("indicators") or []
    if isinstance(local, Mapping):
        local = local.get("local") or []
    if not isinstance(local, list):
        raise CatalogueError("report.yml indicators: must be a list of local indicators")
    added = [local_indicator(spec, f"report.yml indicators entry {i + 1}") for i, spec in enumerate(local)]
    clash = [a.code for a in added if a.code in cat]
    if clash:
        raise CatalogueError(
            f"report.yml indicators: code(s) {', '.join(clash)} already in the catalogue; choose a new code"
        )
    cat = Catalogue([*cat.values(), *added])
    targets = raw_cfg.get("targets") or {}
    if not isinstance(targets, Mapping):
        raise CatalogueError("report.yml targets: must map indicator codes to numbers")
    return cat.with_targets(dict(targets), where="report.yml targets")


# ------------------------------------------------------------------ documentation

_UNIT_TEXT = {"count": "count", "percent": "%", "rate_per_10k": "per 10,000"}
_OBA_TEXT = {"how_much": "How much did we do?", "how_well": "How well did we do it?",
             "better_off": "Is anyone better off?"}
_POL_TEXT = {"higher_is_better": "higher is better", "lower_is_better": "lower is better", "neither": "neither"}


def _breakdown_list(ind: Indicator) -> str:
    return ", ".join(f"{b} (overlapping)" if b in OVERLAPPING_BREAKDOWNS else b for b in ind.breakdowns)


def catalogue_markdown(catalogue: Catalogue) -> str:
    """The catalogue as Markdown: a summary table, then each indicator's full definition."""
    def cell(text: object) -> str:
        return str(text if text is not None else "").replace("|", "\\|").replace("\n", " ")

    lines = ["| code | name | unit | polarity | target | status | OBA | source | breakdowns |",
             "|---|---|---|---|---|---|---|---|---|"]
    for ind in catalogue.values():
        target = "" if ind.target is None else f"{ind.target:g}"
        lines.append(f"| `{ind.code}` | {cell(ind.name)} | {_UNIT_TEXT[ind.unit]} | {_POL_TEXT[ind.polarity]} | "
                     f"{target} | {ind.status} | {_OBA_TEXT[ind.oba]} | {', '.join(ind.source)} | "
                     f"{_breakdown_list(ind) or '-'} |")
    lines.append("")
    for ind in catalogue.values():
        lines += [f"### `{ind.code}`: {ind.name}", "", ind.definition, ""]
        lines.append(f"- **Numerator:** {ind.numerator or '-'}")
        lines.append(f"- **Denominator:** {ind.denominator or '-'}")
        lines.append(f"- **Unit:** {_UNIT_TEXT[ind.unit]}; **polarity:** {_POL_TEXT[ind.polarity]}; "
                     f"**owner:** {ind.owner}; **frequencies:** {', '.join(ind.frequencies)}; "
                     f"**chapter:** {ind.chapter}")
        for b in ind.overlapping:
            lines.append(f"- **Breakdown `{b}` overlaps** (its values do not add up to the headline): "
                         f"{OVERLAPPING_BREAKDOWNS[b]}")
        if ind.target is not None:
            lines.append(f"- **Default target:** {ind.target:g} ({ind.target_source})")
        lines.append("")
    return "\n".join(lines)


# ------------------------------------------------------------------ RAG


def achievement(value: float, target: float, polarity: str) -> float:
    """Share of target achieved: actual/target (higher is better) or target/actual (lower is better).

    An actual of 0 against a lower-is-better target, or a target of 0 against a
    higher-is-better one, is full achievement (infinity); NaN without a usable pair.
    """
    if value is None or target is None or polarity == "neither":
        return math.nan
    v, t = float(value), float(target)
    if math.isnan(v) or math.isnan(t):
        return math.nan
    num, den = (v, t) if polarity == "higher_is_better" else (t, v)
    if den == 0:
        return math.inf if num >= 0 else math.nan
    return num / den


def rag_status(value: float | None, target: float | None, polarity: str) -> str:
    """Board RAG rule: 'Green' at >= 95% of target achieved, 'Amber' >= 90%, 'Red' below, 'N/A' otherwise.

    'N/A' when there is no target, no value, or the polarity is 'neither'.
    """
    if polarity not in POLARITIES:
        raise ValueError(f"unknown polarity {polarity!r}; valid: {', '.join(POLARITIES)}")
    a = achievement(value, target, polarity)  # type: ignore[arg-type]
    if math.isnan(a):
        return "N/A"
    if a >= 0.95 - 1e-12:
        return "Green"
    if a >= 0.90 - 1e-12:
        return "Amber"
    return "Red"
