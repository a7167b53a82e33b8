"""The national formats an input can declare with ``format:`` in ``report.yml``.

``format: cin_census`` reads the DfE Children in Need census XML
(:mod:`safeguarding.ingest.cin_census`); ``format: annex_a`` reads Ofsted's
Annex A workbook with its lists, headers and codes built in
(:mod:`safeguarding.ingest.annex_a`). Without ``format`` an input is a
CSV/XLSX extract read by :func:`safeguarding.ingest.readers.read_input`.
The ingest calls :func:`read_format` in place of ``read_input``; everything
after reading (column mapping, codes, validation, pseudonyms, row
accounting) is shared.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Literal, TypedDict

from safeguarding.ingest.errors import IngestError
from safeguarding.ingest.readers import RawTable
from safeguarding.schema import Entity

#: Accepted values of ``inputs.<table>.format`` (hyphens and capitals are also accepted).
FORMATS = ("cin_census", "annex_a")

#: Settings that do not apply to a census file (its elements are fixed).
_NOT_FOR_CENSUS = ("sheet", "header_row", "encoding", "columns")


class InputSettings(TypedDict, total=False):
    """One ``inputs.<table>`` entry as the ingest reads it once the file is read (:func:`input_settings`).

    The settings are as ``report.yml`` holds them (each checked where it is
    read), but for ``codes``: each coded column's ``{source value: code}``.
    """

    file: object
    sheet: object
    header_row: object
    encoding: object
    columns: object
    codes: Mapping[str, Mapping[object, object]]
    date_format: object
    format: object


#: The settings :class:`InputSettings` holds as they are set.
_AS_SET: tuple[Literal["file", "sheet", "header_row", "encoding", "columns", "date_format", "format"], ...] = (
    "file", "sheet", "header_row", "encoding", "columns", "date_format", "format")


def configured_codes(value: object, *, key: str) -> dict[str, Mapping[object, object]]:
    """``inputs.<table>.codes`` as set: canonical column -> ``{source value: code}`` ({} when not set).

    A column set to nothing maps nothing. Raises :class:`IngestError` when the
    setting, or a column's entry, is not a mapping.
    """
    if not value:
        return {}
    if not isinstance(value, Mapping):
        raise IngestError(f"{key}.codes must be a mapping.", key=f"{key}.codes",
                          fix=f"write {key}.codes as canonical_name: value lines")
    out: dict[str, Mapping[object, object]] = {}
    for col, mapping in value.items():
        if mapping and not isinstance(mapping, Mapping):
            raise IngestError(f"{key}.codes.{col} must map source values to codes.", key=f"{key}.codes.{col}",
                              fix="write one 'source value: CODE' per line")
        out[str(col)] = mapping or {}
    return out


def input_settings(spec: Mapping[str, object], *, key: str) -> InputSettings:
    """The settings of one ``inputs.<table>`` entry with its ``codes`` read (see :func:`configured_codes`)."""
    out: InputSettings = {}
    for name in _AS_SET:
        if name in spec:
            out[name] = spec[name]
    if "codes" in spec:
        out["codes"] = configured_codes(spec["codes"], key=key)
    return out


def format_name(value: object, *, key: str) -> str:
    """Normalise a ``format`` setting (``CIN-census`` -> ``cin_census``); raise for an unknown one."""
    name = str(value).strip().lower().replace("-", "_").replace(" ", "_")
    if name not in FORMATS:
        raise IngestError(f"{key}.format is {value!r}, which is not a known format.", key=f"{key}.format",
                          fix=f"use one of: {', '.join(FORMATS)} (leave 'format' out for CSV/XLSX extracts)")
    return name


def read_format(path: Path, entity: Entity, spec: Mapping[str, object], configured: dict[str, str], *,
                key: str) -> tuple[RawTable, dict[str, str], InputSettings]:
    """Read an input that declares ``format``.

    Returns ``(raw, columns, spec)``: the raw table, the column mapping to use
    in place of ``inputs.<table>.columns`` and the input settings to use from
    here on (a preset may add ``codes``). Raises :class:`IngestError` naming the
    setting to change.
    """
    fmt = format_name(spec.get("format"), key=key)
    if fmt == "cin_census":
        from safeguarding.ingest.cin_census import read_census

        bad = [k for k in _NOT_FOR_CENSUS if spec.get(k) is not None]
        if bad:
            raise IngestError(
                f"{key}: {', '.join(bad)} {'does' if len(bad) == 1 else 'do'} not apply to a CIN census file "
                "(its elements are fixed).", key=f"{key}.{bad[0]}",
                fix=f"remove {', '.join(f'{key}.{b}' for b in bad)}")
        return read_census(path, entity.name, key=key), {}, input_settings(spec, key=key)
    from safeguarding.ingest.annex_a import read_annex_a

    if spec.get("encoding") is not None:
        raise IngestError(f"{key}: encoding does not apply to an Annex A workbook.", key=f"{key}.encoding",
                          fix=f"remove {key}.encoding")
    return read_annex_a(path, entity, spec, configured, key=key)
