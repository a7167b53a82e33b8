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

from pathlib import Path

from safeguarding.ingest.errors import IngestError
from safeguarding.ingest.readers import RawTable
from safeguarding.schema import Entity
from safeguarding.settings_inputs import InputSpec

#: Accepted values of ``inputs.<table>.format`` (hyphens and capitals are also accepted).
FORMATS = ("cin_census", "annex_a")

#: Settings that do not apply to a census file (its elements are fixed).
_NOT_FOR_CENSUS = ("sheet", "header_row", "encoding", "columns")


def _set(spec: InputSpec, name: str) -> bool:
    """True when the setting ``name`` (one of :data:`_NOT_FOR_CENSUS`) is set (``columns``: maps a column)."""
    if name == "sheet":
        return spec.sheet is not None
    if name == "header_row":
        return spec.header_row is not None
    if name == "encoding":
        return spec.encoding is not None
    return bool(spec.columns)


def format_name(value: object, *, key: str) -> str:
    """Normalise a ``format`` setting (``CIN-census`` -> ``cin_census``); raise for an unknown one."""
    name = str(value).strip().lower().replace("-", "_").replace(" ", "_")
    if name not in FORMATS:
        raise IngestError(f"{key}.format is {value!r}, which is not a known format.", key=f"{key}.format",
                          fix=f"use one of: {', '.join(FORMATS)} (leave 'format' out for CSV/XLSX extracts)")
    return name


def read_format(path: Path, entity: Entity, spec: InputSpec, configured: dict[str, str], *,
                key: str) -> tuple[RawTable, dict[str, str], InputSpec]:
    """Read an input that declares ``format``.

    Returns ``(raw, columns, spec)``: the raw table, the column mapping to use
    in place of ``inputs.<table>.columns`` and the input settings to use from
    here on (a preset may add ``codes``). Raises :class:`IngestError` naming the
    setting to change.
    """
    fmt = format_name(spec.format, key=key)
    if fmt == "cin_census":
        from safeguarding.ingest.cin_census import read_census

        bad = [k for k in _NOT_FOR_CENSUS if _set(spec, k)]
        if bad:
            raise IngestError(
                f"{key}: {', '.join(bad)} {'does' if len(bad) == 1 else 'do'} not apply to a CIN census file "
                "(its elements are fixed).", key=f"{key}.{bad[0]}",
                fix=f"remove {', '.join(f'{key}.{b}' for b in bad)}")
        return read_census(path, entity.name, key=key), {}, spec
    from safeguarding.ingest.annex_a import read_annex_a

    if spec.encoding is not None:
        raise IngestError(f"{key}: encoding does not apply to an Annex A workbook.", key=f"{key}.encoding",
                          fix=f"remove {key}.encoding")
    return read_annex_a(path, entity, spec, configured, key=key)
