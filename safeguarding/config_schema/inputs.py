"""The rules of the ``inputs`` and ``aggregates`` sections (each input's and each return's keys and values)."""

from __future__ import annotations

import codecs
from typing import Any

from safeguarding.config_schema.checker import _Checker, describe, suggestion
from safeguarding.config_schema.keys import LAYOUTS, InputRules, aggregate_keys, input_rules
from safeguarding.schema import ENTITIES


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
