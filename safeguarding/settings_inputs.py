"""The ``inputs`` and ``aggregates`` sections of ``report.yml`` as typed, read-only objects.

:func:`safeguarding.config.config_from_mapping` checks the whole file first
(:func:`safeguarding.config_schema.check_config`), then parses each
``inputs.<table>`` entry into an :class:`InputSpec` (``cfg.inputs``, by table)
and each ``aggregates`` entry into an :class:`AggregateSpec`
(``cfg.aggregates``, in order). The ingest, the ``check`` command, the cache and
the build read these attributes, never the raw mapping.

The parse is also the one converter for settings written by hand (scripts,
tests): :meth:`InputSpec.from_mapping` and :meth:`AggregateSpec.from_mapping`
check each value's type as the schema does and raise :class:`SpecError`,
naming the key path (``inputs.referrals.header_row``), for a key or a shape of
value the schema would refuse, so a typed object never holds a value of a type
the schema rejected. Which names of encodings, formats and date layouts the
readers know (``encoding``, an input's ``format`` and ``date_format``) is
checked where they are used, by the modules that define them, and reported
there with the key path and the names they know.

What a consumer must know about the keys an analyst actually wrote is kept:
``InputSpec.columns`` and ``InputSpec.codes`` are None when the key is absent
and a mapping (perhaps empty) when it is present, even when set to nothing
(``check`` then pastes its suggestions under the existing key); a coded column
under ``codes`` set to nothing is present and maps nothing. An
``AggregateSpec.rows`` of None means no ``rows`` (or ``rows`` set to nothing:
only labels that are themselves indicator codes are read).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from safeguarding.config_schema.checker import describe, whole_number
from safeguarding.config_schema.keys import LAYOUTS, YEAR_MAX, YEAR_MIN, YEAR_RULE
from safeguarding.schema import ENTITIES

#: Keys allowed in one ``inputs.<table>`` entry (also ``safeguarding.ingest.core.SPEC_KEYS``).
INPUT_KEYS: tuple[str, ...] = ("file", "sheet", "header_row", "encoding", "columns", "codes", "date_format",
                               "format")
#: Keys an ``aggregates:`` entry may hold (also ``safeguarding.ingest.partners.SPEC_KEYS``).
AGGREGATE_KEYS: frozenset[str] = frozenset({
    "file", "name", "layout", "sheet", "header_row", "financial_year", "label_column", "ytd_column",
    "rows", "columns", "proportions", "stock_flow", "encoding", "delimiter",
})

Layout = Literal["tidy", "wide"]


class SpecError(ValueError):
    """A setting of an input or a partner's return that the configuration's schema does not allow.

    ``key`` is its key path (``inputs.referrals.header_row``, ``aggregates[0].rows``); the message starts with it.
    """

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key
        self.detail = message


def _empty() -> Mapping[str, str]:
    return MappingProxyType({})


def _entries(value: object, key: str) -> Mapping[object, object]:
    """A mapping setting's entries ({} when set to nothing); :class:`SpecError` when it is something else."""
    if value is None:
        return {}
    if isinstance(value, Mapping):
        return value
    raise SpecError(key, f"must be a mapping (key: value lines), not {describe(value)}")


def _known(entries: Mapping[object, object], key: str, valid: tuple[str, ...] | frozenset[str],
           what: str = "setting") -> None:
    unknown = [k for k in entries if not isinstance(k, str) or k not in valid]
    if unknown:
        raise SpecError(f"{key}.{unknown[0]}", f"unknown {what}; valid: {', '.join(sorted(valid))}")


def _text(value: object, key: str, what: str) -> str:
    """A text setting that is not blank."""
    if isinstance(value, str) and value.strip():
        return value
    raise SpecError(key, f"must be {what} (text, not blank), not {describe(value)}")


def _optional_text(value: object, key: str, what: str) -> str | None:
    return None if value is None else _text(value, key, what)


def _sheet(value: object, key: str) -> str | int | None:
    """A sheet's name or its 1-based number, None when not set."""
    if value is None or (isinstance(value, str) and value.strip()):
        return value
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    raise SpecError(key, f"must be the sheet's name or its 1-based number, not {describe(value)}")


def _row_number(value: object, key: str) -> int | None:
    """A 1-based row number (a whole number, not text), None when not set."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    raise SpecError(key, f"must be a whole number from 1 (a row number), not {describe(value)}")


def code_text(value: object) -> str:
    """A source value of a ``codes`` setting as the ingest's code lookup reads it (``1.0`` -> ``1``)."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _header(value: object, key: str) -> str:
    """A configured source column header: text or a number, not blank."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)) or not str(value).strip():
        raise SpecError(key, f"must be the source's column header (text), not {describe(value)}")
    return str(value)


@dataclass(frozen=True)
class InputSpec:
    """One ``inputs.<table>`` entry: where the table's extract is and how to read it.

    ``file`` is the path as written (relative to the project folder); ``sheet`` a name or 1-based number;
    ``header_row`` 1-based; ``encoding`` None for ``auto``; ``format`` a national format as written
    (``cin_census``, ``annex_a``), None for a CSV/XLSX extract. ``columns`` (canonical column -> source
    header) and ``codes`` (coded column -> {source value: code}) are None when the key is absent.
    """

    table: str
    file: str
    sheet: str | int | None = None
    header_row: int | None = None
    encoding: str | None = None
    date_format: str = "auto"
    format: str | None = None
    columns: Mapping[str, str] | None = None
    codes: Mapping[str, Mapping[str, str]] | None = None

    @property
    def key(self) -> str:
        """``inputs.<table>``, the key path of this entry."""
        return f"inputs.{self.table}"

    @property
    def configured_columns(self) -> dict[str, str]:
        """``columns`` as a plain dict, empty when not set."""
        return dict(self.columns or {})

    @classmethod
    def from_mapping(cls, table: str, value: object) -> InputSpec:
        """One checked (or hand-written) ``inputs.<table>`` entry; :class:`SpecError` names a key the schema refuses."""
        key = f"inputs.{table}"
        entity = ENTITIES.get(table)
        if entity is None:
            raise SpecError(key, f"unknown input table; valid: {', '.join(ENTITIES)}")
        s = _entries(value, key)
        _known(s, key, INPUT_KEYS)
        if s.get("file") is None:
            raise SpecError(f"{key}.file", "is not set; give the extract's path, relative to report.yml")
        fmt = s.get("date_format")
        return cls(table=table, file=_text(s["file"], f"{key}.file", "a file path"),
                   sheet=_sheet(s.get("sheet"), f"{key}.sheet"),
                   header_row=_row_number(s.get("header_row"), f"{key}.header_row"),
                   encoding=_optional_text(s.get("encoding"), f"{key}.encoding", "an encoding"),
                   date_format="auto" if fmt is None else _text(fmt, f"{key}.date_format", "a date format"),
                   format=_optional_text(s.get("format"), f"{key}.format", "a format"),
                   columns=_columns(s, key, tuple(entity.column_names)),
                   codes=_codes(s, key, tuple(c.name for c in entity.columns if c.codes)))


def _columns(s: Mapping[object, object], key: str, valid: tuple[str, ...]) -> Mapping[str, str] | None:
    if "columns" not in s:
        return None
    entries = _entries(s["columns"], f"{key}.columns")
    _known(entries, f"{key}.columns", valid, "column")
    return MappingProxyType({str(k): _header(v, f"{key}.columns.{k}") for k, v in entries.items()})


def _codes(s: Mapping[object, object], key: str, coded: tuple[str, ...]) -> Mapping[str, Mapping[str, str]] | None:
    if "codes" not in s:
        return None
    entries = _entries(s["codes"], f"{key}.codes")
    _known(entries, f"{key}.codes", coded, "coded column")
    out: dict[str, Mapping[str, str]] = {}
    for col, mapping in entries.items():
        if not isinstance(mapping, Mapping):
            raise SpecError(f"{key}.codes.{col}", f"must map source values to codes ('source value: CODE' lines), "
                                                  f"not {describe(mapping)}")
        out[str(col)] = MappingProxyType({code_text(src): str(code) for src, code in mapping.items()})
    return MappingProxyType(out)


@dataclass(frozen=True)
class RowTarget:
    """Where one row of a wide return goes: an indicator and its breakdown.

    ``indicator`` is None when the entry names no indicator code (the reader reports the row's setting).
    """

    indicator: str | None
    breakdown: str = "all"
    breakdown_value: str = "all"

    @classmethod
    def from_setting(cls, label: str, value: object, key: str) -> RowTarget:
        """``rows["label"]``: an indicator code, or ``{indicator: ID, breakdown: ..., breakdown_value: ...}``."""
        if isinstance(value, str) and value.strip():
            return cls(value.strip())
        if not isinstance(value, Mapping):
            raise SpecError(key, f"must be an indicator code or {{indicator: ID, breakdown: ..., "
                                 f"breakdown_value: ...}}, not {describe(value)}")
        indicator = value.get("indicator")
        if not isinstance(indicator, str):
            return cls(None)
        bd = str(value.get("breakdown") or "all").strip()
        bv = value.get("breakdown_value")
        text = str(bv).strip() if bv not in (None, "") else ("all" if bd == "all" else label.strip())
        return cls(indicator.strip(), bd, text)


@dataclass(frozen=True)
class StockFlowRule:
    """One ``stock_flow`` rule: indicator codes (None when not given as text) and the opening figure."""

    open: str | None
    new: str | None
    closed: str | None
    opening: float | None = None

    @classmethod
    def from_setting(cls, value: Mapping[object, object]) -> StockFlowRule:
        """One rule as written (the reader reports a rule without its three codes)."""
        def code(name: str) -> str | None:
            v = value.get(name)
            return v if isinstance(v, str) and v else None

        opening = value.get("opening")
        figure = float(opening) if isinstance(opening, (int, float)) and not isinstance(opening, bool) else None
        return cls(code("open"), code("new"), code("closed"), figure)


@dataclass(frozen=True)
class AggregateSpec:
    """One ``aggregates`` entry: a partner's return of counts and how to read it.

    ``file`` as written (looked up in ``paths.raw``, then beside ``report.yml``); ``layout`` as set, or ``wide``
    when ``rows`` is given and ``tidy`` otherwise; ``financial_year`` None for the report's year;
    ``label_column`` a heading, letter or 1-based number (None: the first column); ``ytd_column`` a heading,
    False (or a heading ``none``) for none, None to find it; ``rows`` None when not given; ``columns`` (tidy)
    canonical name -> source heading; ``encoding`` and ``delimiter`` None to find them.
    """

    index: int
    file: str
    name: str | None = None
    layout: Layout = "tidy"
    sheet: str | int | None = None
    header_row: int | None = None
    financial_year: int | None = None
    label_column: str | int | None = None
    ytd_column: str | Literal[False] | None = None
    rows: Mapping[str, RowTarget] | None = None
    columns: Mapping[str, str] = field(default_factory=_empty)
    proportions: tuple[str, ...] = ()
    stock_flow: tuple[StockFlowRule, ...] = ()
    encoding: str | None = None
    delimiter: str | None = None

    @property
    def key(self) -> str:
        """``aggregates[i]``, the key path of this entry."""
        return f"aggregates[{self.index}]"

    @classmethod
    def from_mapping(cls, value: object, *, index: int) -> AggregateSpec:
        """One checked (or hand-written) ``aggregates`` entry; :class:`SpecError` names a key the schema refuses."""
        key = f"aggregates[{index}]"
        if not isinstance(value, Mapping):
            raise SpecError(key, f"must be a mapping with at least 'file' and 'layout', not {describe(value)}; "
                                 "write it as {file: return.csv, layout: tidy}")
        _known(value, key, AGGREGATE_KEYS)
        if value.get("file") is None:
            raise SpecError(f"{key}.file", "is not set; give the return's path, relative to paths.raw or report.yml")
        rows = _rows(value.get("rows"), key)
        return cls(index=index, file=_text(value["file"], f"{key}.file", "a file path"),
                   name=_optional_text(value.get("name"), f"{key}.name", "a name for the return"),
                   layout=_layout(value.get("layout"), f"{key}.layout", wide=bool(rows)),
                   sheet=_sheet(value.get("sheet"), f"{key}.sheet"),
                   header_row=_row_number(value.get("header_row"), f"{key}.header_row"),
                   financial_year=_year(value.get("financial_year"), f"{key}.financial_year"),
                   label_column=_label_column(value.get("label_column"), f"{key}.label_column"),
                   ytd_column=_ytd_column(value.get("ytd_column"), f"{key}.ytd_column"),
                   rows=rows,
                   columns=MappingProxyType({str(k): str(v) for k, v in
                                             _entries(value.get("columns"), f"{key}.columns").items()}),
                   proportions=_proportions(value.get("proportions"), f"{key}.proportions"),
                   stock_flow=_stock_flow(value.get("stock_flow"), f"{key}.stock_flow"),
                   encoding=_optional_text(value.get("encoding"), f"{key}.encoding", "a text encoding"),
                   delimiter=_delimiter(value.get("delimiter"), f"{key}.delimiter"))


def _rows(value: object, key: str) -> Mapping[str, RowTarget] | None:
    if value is None:
        return None
    return MappingProxyType({str(label): RowTarget.from_setting(str(label), target, f"{key}.rows[{label!r}]")
                             for label, target in _entries(value, f"{key}.rows").items()})


def _layout(value: object, key: str, *, wide: bool) -> Layout:
    if value is None:
        return "wide" if wide else "tidy"
    text = value.strip().lower() if isinstance(value, str) else None
    if text == "tidy":
        return "tidy"
    if text == "wide":
        return "wide"
    raise SpecError(key, f"must be one of {', '.join(LAYOUTS)}, not {describe(value)}")


def _year(value: object, key: str) -> int | None:
    if value is None:
        return None
    n = whole_number(value)
    if n is None or not YEAR_MIN <= n <= YEAR_MAX:
        raise SpecError(key, f"{YEAR_RULE}, not {describe(value)}")
    return n


def _label_column(value: object, key: str) -> str | int | None:
    if value is None or (isinstance(value, str) and value.strip()):
        return value
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    raise SpecError(key, f"must be the column's heading, letter or 1-based number, not {describe(value)}")


def _ytd_column(value: object, key: str) -> str | Literal[False] | None:
    if value is None or value is False:
        return value
    if isinstance(value, str) and value.strip():
        return value
    raise SpecError(key, f"must be the year-to-date column's heading, or none, not {describe(value)}")


def _proportions(value: object, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, list) and all(isinstance(p, str) for p in value):
        return tuple(value)
    raise SpecError(key, f"must be a list of indicator codes, not {describe(value)}")


def _stock_flow(value: object, key: str) -> tuple[StockFlowRule, ...]:
    if value is None:
        return ()
    rules = [value] if isinstance(value, Mapping) else value
    if isinstance(rules, list) and all(isinstance(r, Mapping) for r in rules):
        return tuple(StockFlowRule.from_setting(r) for r in rules if isinstance(r, Mapping))
    raise SpecError(key, f"must be a list of {{open: ID, new: ID, closed: ID}} rules, not {describe(value)}")


def _delimiter(value: object, key: str) -> str | None:
    if value is None or (isinstance(value, str) and len(value) == 1):
        return value
    raise SpecError(key, f"must be one character, e.g. ',' or ';', not {describe(value)}")


def inputs_from(value: object) -> Mapping[str, InputSpec]:
    """The checked ``inputs`` section: each table's :class:`InputSpec`, by table, in the order written."""
    return MappingProxyType({str(table): InputSpec.from_mapping(str(table), spec)
                             for table, spec in _entries(value, "inputs").items()})


def aggregates_from(value: object) -> tuple[AggregateSpec, ...]:
    """The checked ``aggregates`` section: each return's :class:`AggregateSpec`, in the order written."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise SpecError("aggregates", f"must be a list of returns, each starting '- file: ...', not {describe(value)}")
    return tuple(AggregateSpec.from_mapping(spec, index=i) for i, spec in enumerate(value))


__all__ = [
    "AGGREGATE_KEYS", "INPUT_KEYS", "AggregateSpec", "InputSpec", "Layout", "RowTarget", "SpecError",
    "StockFlowRule", "aggregates_from", "code_text", "inputs_from",
]
