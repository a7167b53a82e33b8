"""Ofsted Annex A workbook preset: the right list, column names and codes built in.

Annex A (the child-level lists a council prepares for an Ofsted inspection of
local authority children's services) is one workbook with a sheet per list.
The preset reads

* ``referrals`` from list 3 (referrals),
* ``s47`` and ``icpc`` from list 5 (section 47 enquiries and initial child
  protection conferences: one row per enquiry; rows with a conference date are
  the conferences),
* ``cp_plans`` from list 7 (children who are the subject of a child protection
  plan),
* ``children`` from the list named by ``sheet:`` (every list repeats the
  child's characteristics; identical repeats of one child are read once).

The header row is found below any title rows. Annex A has no record
identifiers, so ``referral_id``, ``s47_id``, ``icpc_id`` and ``plan_id`` are
derived from the child's identifier and the record's date (see
:data:`DERIVED`) and pseudonymised like every other identifier. Coded values
such as ``a) Neglect``, ``q) 6: Police`` or ``b) No`` are understood; staff
names (``Allocated Worker``) are never carried over. Anything an analyst sets
under ``columns``, ``codes`` or ``sheet`` wins over the preset.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from pathlib import Path
from types import MappingProxyType

import numpy as np

from safeguarding.ingest.errors import IngestError
from safeguarding.ingest.mapping import compact, known_headers
from safeguarding.ingest.readers import RawTable
from safeguarding.ingest.validate import NULL_TOKENS
from safeguarding.ingest.workbooks import read_xlsx
from safeguarding.schema import REFERRAL_SOURCE, Entity
from safeguarding.settings_inputs import InputSpec

#: Annex A list number read for each entity (``children`` needs ``sheet:``).
LISTS: dict[str, int] = {"referrals": 3, "s47": 5, "icpc": 5, "cp_plans": 7}

_CHILD = ("Child Unique ID", "Child ID", "Unique Child ID", "Child Unique Identifier")
_TEAM = ("Allocated Team", "Team")
_S47_START = ("Strategy discussion initiating Section 47 Enquiry Start Date", "Section 47 Enquiry Start Date",
              "S47 Start Date", "Date of Strategy Discussion")

#: Headers every Annex A list starts with (they locate the header row below the titles).
_COMMON = ("Child Unique ID", "Gender", "Ethnicity", "Date of Birth", "Age", "Allocated Team", "Allocated Worker")

#: Canonical column -> Annex A headers (first found wins), per entity.
COLUMNS: dict[str, dict[str, tuple[str, ...]]] = {
    "referrals": {
        "child_id": _CHILD,
        "referral_date": ("Date of Referral", "Referral Date"),
        "referral_source": ("Referral Source", "Source of Referral"),
        "nfa": ("Referral NFA?", "Referral NFA", "Was the referral NFA?"),
        "team": _TEAM,
    },
    "s47": {"child_id": _CHILD, "s47_start_date": _S47_START, "team": _TEAM},
    "icpc": {
        "child_id": _CHILD,
        "icpc_date": ("Date of Initial Child Protection Conference", "Date of ICPC", "ICPC Date"),
        "plan_resulted": ("Did the Initial Child Protection Conference Result in a Child Protection Plan",
                          "Did the ICPC result in a CP Plan", "ICPC resulted in a CP Plan"),
    },
    "cp_plans": {
        "child_id": _CHILD,
        "plan_start_date": ("Child Protection Plan Start Date", "CP Plan Start Date"),
        "plan_end_date": ("Child Protection Plan End Date", "CP Plan End Date"),
        "initial_category": ("Initial Category of Abuse",),
        "latest_category": ("Latest Category of Abuse",),
        "previous_plans": ("Number of Previous Child Protection Plans", "Number of Previous CP Plans"),
        "team": _TEAM,
    },
    "children": {
        "child_id": _CHILD,
        "date_of_birth": ("Date of Birth", "DOB"),
        "sex": ("Gender", "Sex"),
        "ethnicity": ("Ethnicity",),
        "disability": ("Does the Child have a Disability", "Disability"),
    },
}

#: Derived identifier -> (the child column, the date it is made from). ``_s47_start`` is list 5's enquiry date.
DERIVED: dict[str, dict[str, tuple[str, str]]] = {
    "referrals": {"referral_id": ("child_id", "referral_date")},
    "s47": {"s47_id": ("child_id", "s47_start_date")},
    "icpc": {"icpc_id": ("child_id", "_s47_start"), "s47_id": ("child_id", "_s47_start")},
    "cp_plans": {"plan_id": ("child_id", "plan_start_date")},
}
_HELPERS: dict[str, tuple[str, ...]] = {"_s47_start": _S47_START}

#: Annex A code labels the built-in aliases do not know (source label -> canonical code).
CODES: dict[str, dict[str, str]] = {
    "sex": {"Not stated/recorded": "U", "Not stated": "U", "Not recorded": "U", "Neither": "U",
            "Unknown": "U", "Indeterminate": "U"},
}

_ENUM = re.compile(r"^\s*\(?[a-z]{1,2}\)\s*(\S.*)$", re.IGNORECASE)
_SOURCE = re.compile(r"^\s*(?:\(?[a-z]{1,2}\)\s*)?([0-9]{1,2}[a-f]?)\s*(?:[:\-–]|$)", re.IGNORECASE)


def _list_pattern(number: int) -> re.Pattern[str]:
    return re.compile(rf"^\s*list\s*0*{number}(?!\d)", re.IGNORECASE)


def _sheet_names(path: Path) -> list[str]:
    """The workbook's sheet names, or [] when it cannot be opened (read_xlsx then reports why)."""
    try:
        import python_calamine

        return list(python_calamine.CalamineWorkbook.from_path(str(path)).sheet_names)
    except ImportError:
        pass
    except Exception:  # damaged or missing: read_xlsx gives the precise error
        return []
    try:
        import openpyxl

        wb = openpyxl.load_workbook(path, read_only=True)
        try:
            return list(wb.sheetnames)
        finally:
            wb.close()
    except Exception:
        return []


def find_list(path: Path, number: int, *, key: str) -> str:
    """The sheet holding Annex A list ``number`` (``List 3``, ``List 3 - Referrals``, ``list3``...)."""
    names = _sheet_names(path)
    pattern = _list_pattern(number)
    for name in names:
        if pattern.match(name):
            return name
    if not names:
        return f"List {number}"
    raise IngestError(
        f"{path}: no Annex A list {number} sheet (sheets: {', '.join(map(repr, names))}).", file=str(path),
        key=f"{key}.sheet", fix=f"set {key}.sheet to the name of the sheet holding Annex A list {number}")


def _text(value: object) -> str:
    """A cell as identifier text: dates as YYYY-MM-DD, whole numbers without '.0'."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _is_blank(value: object) -> bool:
    text = _text(value)
    return text.lower() in NULL_TOKENS


def _position(headers: list[str], wanted: str | tuple[str, ...]) -> int | None:
    """Index of the first header matching ``wanted`` (one header or alternatives), compared compactly."""
    compacts = [compact(h) for h in headers]
    for alt in (wanted,) if isinstance(wanted, str) else wanted:
        exact = [i for i, h in enumerate(headers) if h == alt.strip()]
        if exact:
            return exact[0]
        c = compact(alt)
        if c and c in compacts:
            return compacts.index(c)
    return None


def _strip_enumerators(values: np.ndarray) -> np.ndarray:
    """``a) Yes`` -> ``Yes`` (for yes/no columns, which have no code aliases)."""
    out = values.copy()
    for i, v in enumerate(values):
        if isinstance(v, str):
            m = _ENUM.match(v)
            if m:
                out[i] = m.group(1).strip()
    return out


def _source_codes(values: np.ndarray) -> dict[str, str]:
    """``q) 6: Police`` -> ``6`` for every distinct referral source label holding a census code."""
    found: dict[str, str] = {}
    for v in set(x for x in values if isinstance(x, str)):
        m = _SOURCE.match(v)
        if m and m.group(1).upper() in REFERRAL_SOURCE:
            found[v.strip()] = m.group(1).upper()
    return found


def _keep(raw: RawTable, mask: np.ndarray) -> None:
    """Keep only the data rows where ``mask`` is True (columns, row numbers and extra fields)."""
    index = np.cumsum(mask) - 1
    raw.columns = [np.asarray(c, dtype=object)[mask] for c in raw.columns]
    raw.row_numbers = raw.row_numbers[mask]
    raw.extra_fields = {int(index[i]): v for i, v in raw.extra_fields.items() if mask[i]}


def read_annex_a(path: Path, entity: Entity, spec: InputSpec, configured: dict[str, str], *,  # noqa: C901
                 key: str) -> tuple[RawTable, dict[str, str], InputSpec]:
    """Read one entity from an Annex A workbook.

    Returns the raw table (with derived identifier columns), the column mapping
    to use (the preset's headers found in the sheet, overridden by
    ``configured``) and the input settings with the preset's codes added
    (configured codes win). Raises :class:`IngestError` naming the setting to
    change when the list or a needed column is missing.
    """
    name = entity.name
    where = str(path)
    if name == "cp_reviews":
        raise IngestError(
            f"{where}: Annex A holds only each plan's latest review date (list 7), not every review, so "
            "cp_reviews cannot be read from it (review timeliness would be wrong).", file=where,
            key=f"{key}.format", fix=f"point {key} at the case system's review extract (without 'format: annex_a'), "
                                     "or leave cp_reviews out")
    if name not in COLUMNS:
        raise IngestError(f"{where}: Annex A has no {name} list; it can feed {', '.join([*LISTS, 'children'])}.",
                          file=where, key=f"{key}.format",
                          fix=f"remove 'format: annex_a' from {key} and point it at the {name} extract")
    sheet = spec.sheet
    if name == "children" and sheet is None:
        raise IngestError(
            f"{where}: Annex A has no list of children; every list repeats the child's characteristics.",
            file=where, key=f"{key}.sheet",
            fix=f"set {key}.sheet to the list to take them from (e.g. 'List 7' for children on plans), or read "
                "children from the case-system extract or the CIN census (format: cin_census)")
    if sheet is None:
        sheet = find_list(path, LISTS[name], key=key)
    preset = COLUMNS[name]
    helpers = {h: _HELPERS[h] for d in DERIVED.get(name, {}).values() for h in d if h in _HELPERS}
    known = known_headers(entity, configured)
    for canon, alts in preset.items():
        for alt in alts:
            known.setdefault(compact(alt), canon)
    for helper, alts in helpers.items():
        for alt in alts:
            known.setdefault(compact(alt), helper)
    for common in _COMMON:  # every list's header row has these, so the header of any list is found
        known.setdefault(compact(common), f"_annex {common}")

    def score(cells: list[str]) -> int:
        return len({known[c] for c in map(compact, cells) if c and c in known})

    raw = read_xlsx(path, score, sheet=sheet, header_row=spec.header_row, key=key)
    raw.fmt = "annex_a"
    resolved = dict(configured)
    for canon, alts in preset.items():
        if canon not in resolved:
            pos = _position(raw.headers, alts)
            if pos is not None:
                resolved[canon] = raw.headers[pos]
    source_where = f"{where} (sheet {raw.sheet!r})"
    canon_of = known_headers(entity, resolved)
    present = {canon_of.get(compact(h)) for h in raw.headers}
    for ident, (child_col, date_col) in DERIVED.get(name, {}).items():
        if ident in resolved or ident in present:
            continue  # the workbook has its own identifier column
        cols = []
        for src in (child_col, date_col):
            wanted = resolved.get(src) or helpers.get(src) or preset.get(src, ())
            pos = _position(raw.headers, wanted)
            if pos is None:
                label = (wanted if isinstance(wanted, str) else wanted[0]) if wanted else src
                raise IngestError(
                    f"{source_where}: no {label!r} column, which {ident} is made from (Annex A has no record "
                    f"identifiers; headers: {', '.join(map(repr, raw.headers))}).", file=where,
                    key=f"{key}.columns.{src}" if src in entity.column_names else f"{key}.sheet",
                    fix=f"check that {key}.sheet is the right Annex A list"
                        + (f", or set {key}.columns.{src} to the header that holds it"
                           if src in entity.column_names else ""))
            cols.append(raw.columns[pos])
        child, date = cols
        values = np.empty(raw.n_rows, dtype=object)
        values[:] = [f"{_text(c)}|{_text(d)}" if _text(c) else None for c, d in zip(child, date, strict=True)]
        raw.headers.append(ident)
        raw.columns.append(values)
        resolved[ident] = ident
    if name == "icpc" and "icpc_date" in resolved:
        pos = _position(raw.headers, resolved["icpc_date"])
        if pos is not None:
            held = np.array([not _is_blank(v) for v in raw.columns[pos]], dtype=bool)
            filled = np.array([any(not _is_blank(c[i]) for c in raw.columns) for i in range(raw.n_rows)], dtype=bool)
            without = int((~held & filled).sum())
            _keep(raw, held)
            if without:
                raw.warnings.append(f"{without} row(s) of {raw.sheet!r} have no conference date (enquiries without "
                                    "an initial conference) and are not conferences: not read for icpc")
    for canon, header in resolved.items():
        if canon in entity.column_names and entity.column(canon).kind == "bool":
            pos = _position(raw.headers, header)
            if pos is not None:
                raw.columns[pos] = _strip_enumerators(np.asarray(raw.columns[pos], dtype=object))
    if name == "children":
        _dedupe_children(raw, entity, resolved)
    codes: dict[str, dict[str, str]] = {col: {src: code for src, code in mapping.items()}
                                              for col, mapping in CODES.items()
                                              if col in entity.column_names and entity.column(col).codes}
    if "referral_source" in resolved and "referral_source" in entity.column_names:
        pos = _position(raw.headers, resolved["referral_source"])
        if pos is not None:
            codes.setdefault("referral_source", {}).update(_source_codes(np.asarray(raw.columns[pos], dtype=object)))
    for col, mapping in (spec.codes or {}).items():
        codes.setdefault(col, {}).update(mapping)
    return raw, resolved, dataclasses.replace(spec, codes=MappingProxyType(
        {col: MappingProxyType(mapping) for col, mapping in codes.items()}))


def _dedupe_children(raw: RawTable, entity: Entity, resolved: dict[str, str]) -> None:
    """Read each child once when a list repeats identical details (one row per referral or plan)."""
    positions = [p for c in entity.column_names if c in resolved
                 for p in [_position(raw.headers, resolved[c])] if p is not None]
    if not positions:
        return
    seen: set[tuple[str, ...]] = set()
    keep = np.ones(raw.n_rows, dtype=bool)
    for i in range(raw.n_rows):
        row = tuple(_text(raw.columns[p][i]) for p in positions)
        if not any(row):
            continue
        if row in seen:
            keep[i] = False
        seen.add(row)
    repeats = int((~keep).sum())
    if repeats:
        _keep(raw, keep)
        raw.warnings.append(f"{repeats} row(s) of {raw.sheet!r} repeat a child with identical details (one row "
                            "per record on the list): each child is read once")
