"""Checking one configured input: read with the ingest's readers, its headers mapped as the ingest maps
them, its coded columns' distinct values looked up; and every input and return (:func:`check_inputs`)."""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Mapping
from typing import Any

import numpy as np

from safeguarding.check.aggregates import check_aggregates
from safeguarding.check.findings import CheckResult, Finding, InputCheck, _shown, looks_like_value
from safeguarding.config import Config
from safeguarding.ingest.errors import IngestError
from safeguarding.ingest.mapping import ColumnMap, code_lookup, compact, header_scorer, is_personal, map_columns
from safeguarding.ingest.readers import RawTable
from safeguarding.ingest.validate import NULL_TOKENS, blank_uniques, convert, display, factorize
from safeguarding.scaffold import yaml_text
from safeguarding.schema import CODE_LISTS, ENTITIES, Entity, build_aliases, normalise_code_text
from safeguarding.settings_inputs import InputSpec

#: A coded column with more distinct unrecognised values than this is not listed value by value.
MAX_VALUES_LISTED = 60
#: A coded column none of whose values is recognised is not listed value by value above this many.
WHOLLY_UNKNOWN_LISTED = 25
#: How close (difflib ratio of compact forms) a header must be to a column's names to be suggested.
HEADER_CUTOFF = 0.5
#: How close an unmapped header must be to an unmapped column to be suggested for it.
GUESS_CUTOFF = 0.6


def _nonblank(values: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(codes, uniques, ok_u)`` of a raw column: ok_u marks the unique values that are not blank."""
    codes, uniques, blank_u = factorize(values)
    if blank_u is None:
        blank_u = blank_uniques(uniques)
    return codes, uniques, ~blank_u


def _row_mask(codes: np.ndarray, ok_u: np.ndarray) -> np.ndarray:
    mask = np.zeros(len(codes), dtype=bool)
    present = codes >= 0
    mask[present] = ok_u[codes[present]]
    return mask


def _value_text(v: Any) -> str:
    """A raw value as the ingest's code lookup sees it."""
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v)).lower()
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return display(v).strip()


def _ratio(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio() if a and b else 0.0


def _names(entity: Entity, canon: str, extra: tuple[str, ...] = ()) -> set[str]:
    return {n for n in (compact(canon), *(compact(a) for a in entity.aliases.get(canon, ())),
                        *(compact(e) for e in extra)) if n}


def closest_header(entity: Entity, canon: str, headers: dict[int, str], extra: tuple[str, ...] = ()
                   ) -> tuple[int, float] | None:
    """The position of the header closest to ``canon`` (its name, aliases and ``extra`` names), with its score.

    Only ``headers`` (position -> header) are considered; None when none
    reaches :data:`HEADER_CUTOFF`.
    """
    names = _names(entity, canon, extra)
    best: tuple[int, float] | None = None
    for i, h in headers.items():
        c = compact(h)
        score = max((_ratio(c, n) for n in names), default=0.0)
        if score >= HEADER_CUTOFF and (best is None or score > best[1]):
            best = (i, score)
    return best


def closest_code(code_list: str, value: str) -> tuple[str, float]:
    """The canonical code closest to ``value``, and how sure (0-1).

    The ingest's own suggestion is used when it has one (``mapping.suggest_code``, where the installed
    ingest provides it: a DfE group label suggests the group's catch-all code); otherwise the code whose
    code, label or known spelling is closest by :mod:`difflib`.
    """
    from safeguarding.ingest import mapping

    suggest = getattr(mapping, "suggest_code", None)
    if callable(suggest):
        hit = getattr(suggest(code_list, value), "code", None)
        if hit in CODE_LISTS[code_list]:
            return str(hit), 1.0
    aliases = build_aliases(code_list)
    norm = normalise_code_text(value) or str(value).strip().lower()
    best_code, best = next(iter(CODE_LISTS[code_list])), -1.0
    for alias, code in aliases.items():
        score = _ratio(norm, alias)
        if score > best:
            best_code, best = code, score
    return best_code, max(best, 0.0)


def _describe_source(chk: InputCheck, raw: RawTable) -> None:
    chk.fmt = raw.fmt
    chk.sheet = raw.sheet
    chk.header_row = raw.header_row or None
    chk.header_detected = raw.header_detected
    chk.encoding = raw.encoding


def check_input(cfg: Config, spec: InputSpec) -> InputCheck:
    """Check one configured input: read it, map its headers, look at its coded values (see the module docstring)."""
    from safeguarding.ingest.formats import read_format
    from safeguarding.ingest.readers import read_input

    table = spec.table
    entity = ENTITIES[table]
    key = spec.key
    chk = InputCheck(table, spec.file, spec)
    path = cfg.resolve(spec.file)
    configured = spec.configured_columns
    codes_spec: Mapping[str, Mapping[str, str]] = spec.codes or {}
    try:
        if spec.format is not None:
            raw, configured, used = read_format(path, entity, spec, configured, key=key)
            codes_spec = used.codes or {}
        else:
            raw = read_input(path, header_scorer(entity, configured), sheet=spec.sheet,
                             header_row=spec.header_row, encoding=spec.encoding or "auto", key=key)
    except IngestError as exc:
        chk.findings.append(Finding("unreadable", True, str(exc), key=exc.key or f"{key}.file"))
        return chk
    except Exception as exc:  # a damaged file: never a traceback, and never the exception's text (it may quote data)
        chk.findings.append(Finding("unreadable", True, f"{path}: cannot be read ({type(exc).__name__}); open it in "
                                    "Excel and save it again as .xlsx or CSV", key=f"{key}.file"))
        return chk
    _describe_source(chk, raw)
    for w in raw.warnings:
        chk.findings.append(Finding("warning", False, w))
    headers = list(raw.headers)
    chk.headers = headers
    chk.suspect_header = any(looks_like_value(h) for h in headers)
    if chk.suspect_header:
        row = f"row {raw.header_row}" if raw.header_row else "the row read as the header"
        chk.findings.append(Finding(
            "warning", False, f"{row}, read as the header, holds values that look like identifiers or dates, so "
            f"no header of this file is shown: set {key}.header_row to the row holding the column names "
            "(or remove it to find that row automatically)", key=f"{key}.header_row"))
    _map(chk, entity, raw, headers, configured)
    _codes(chk, entity, raw, codes_spec)
    return chk




def _map(chk: InputCheck, entity: Entity, raw: RawTable, headers: list[str], configured: dict[str, str]) -> None:  # noqa: C901
    key = chk.key
    compacts = [compact(h) for h in headers]
    absent: dict[str, str] = {}
    present: dict[str, str] = {}
    for canon, source in configured.items():
        found = any(h == source.strip() for h in headers) or any(c == compact(source) and c for c in compacts)
        (present if found else absent)[canon] = source
    # the ingest's own mapping, with every column optional so that it reports rather than stops
    relaxed = dataclasses.replace(entity, columns=tuple(dataclasses.replace(c, required=False)
                                                        for c in entity.columns))
    where = str(raw.path) + (f" (sheet {raw.sheet!r})" if raw.sheet else "")
    try:
        cmap: ColumnMap = map_columns(headers, relaxed, present, where=where, key=key)
    except IngestError as exc:  # pragma: no cover - configured names are checked by the configuration schema
        chk.findings.append(Finding("unreadable", True, str(exc), key=exc.key))
        return
    if not chk.suspect_header:  # these warnings quote headers
        chk.findings.extend(Finding("warning", False, w) for w in cmap.warnings)
    positions = dict(cmap.positions)
    chk.mapped = {c: headers[i] for c, i in positions.items()}
    used = set(positions.values())
    # per-column non-blank counts (and the rows with any value)
    counts: dict[int, int] = {}
    any_value = np.zeros(raw.n_rows, dtype=bool)
    for j, values in enumerate(raw.columns):
        codes, _, ok_u = _nonblank(values)
        mask = _row_mask(codes, ok_u)
        counts[j] = int(mask.sum())
        any_value |= mask
    chk.rows = int(any_value.sum())
    free = {} if chk.suspect_header else {i: h for i, h in enumerate(headers)
                                          if i not in used and h.strip() and not is_personal(h)}
    taken: set[int] = set()
    # configured headers that are not in the file: the ingest stops there
    for canon, source in absent.items():
        pos: int | None
        if canon in positions and not chk.suspect_header:  # a built-in spelling finds it; the setting wins
            pos, how = positions[canon], "the built-in spellings find it"
        else:
            hit = closest_header(entity, canon, {i: h for i, h in free.items() if i not in taken}, (source,))
            pos, how = (hit[0], "closest header") if hit else (None, "")
        if pos is not None:
            taken.add(pos)
            chk.columns[canon] = headers[pos]
            chk.replace.add(canon)
        suggestion = headers[pos] if pos is not None else None
        tail = (f"; {how}: {_shown(chk, headers[pos], pos)}" if pos is not None else
                "; the header row looks like data (see the notes)" if chk.suspect_header else
                "; no header in the file is close: find the column that holds it")
        chk.findings.append(Finding(
            "configured_absent", True,
            f"{key}.columns.{canon} is {yaml_text(source)}, but the file has no such header{tail}",
            key=f"{key}.columns.{canon}", column=canon, header=source, suggestion=suggestion))
    # required columns that nothing maps
    for canon in entity.required:
        if canon in positions or canon in absent:
            continue
        hit = closest_header(entity, canon, {i: h for i, h in free.items() if i not in taken})
        if hit is not None:
            taken.add(hit[0])
            chk.columns[canon] = headers[hit[0]]
            tail = f"; closest header: {_shown(chk, headers[hit[0]], hit[0])}"
        else:
            tail = ("; the header row looks like data (see the notes)" if chk.suspect_header else
                    "; no header in the file is close: find the column that holds it")
        chk.findings.append(Finding(
            "missing_required", True,
            f"required column {canon} ({_column_kind(entity, canon)}) is not mapped to any header{tail}",
            key=f"{key}.columns.{canon}", column=canon,
            suggestion=headers[hit[0]] if hit is not None else None))
    # headers the ingest does not read
    unmapped_optional = [c.name for c in entity.columns if not c.required and c.name not in positions
                         and c.name not in chk.columns and c.name not in absent]
    for j, h in enumerate(headers):
        if j in used:
            continue
        shown = _shown(chk, h, j)
        if h.strip() and is_personal(h):
            n = counts.get(j, 0)
            chk.findings.append(Finding("personal_header", False,
                                        f"{shown}" + ("" if raw.fmt == "cin_census" else f": {n:,} non-blank values"),
                                        header=None if chk.suspect_header else h, count=n))
            continue
        note = ""
        target = next((c for c, s in chk.columns.items() if s == h), None)
        if target is not None:
            note = f"; suggested for {target}"
        elif h.strip() and not chk.suspect_header:
            guess = None
            best = 0.0
            for canon in unmapped_optional:
                score = max((_ratio(compact(h), n) for n in _names(entity, canon)), default=0.0)
                if score >= GUESS_CUTOFF and score > best and canon not in chk.guesses:
                    guess, best = canon, score
            if guess is not None:
                chk.guesses[guess] = h
                note = f"; it may hold the optional column {guess} (offered below, commented out)"
        chk.findings.append(Finding("unmapped_header", False,
                                    f"{shown}: {counts.get(j, 0):,} non-blank values{note}",
                                    header=None if chk.suspect_header else h, count=counts.get(j, 0)))
    missing = [c for c in unmapped_optional if c not in chk.guesses]
    if missing:
        chk.findings.append(Finding("missing_optional", False,
                                    f"optional column(s) not in the file: {', '.join(missing)} (the report goes "
                                    "without them)"))


def _column_kind(entity: Entity, canon: str) -> str:
    col = entity.column(canon)
    return {"id": "an identifier", "date": "a date", "code": f"{col.codes} codes",
            "codes": f"{col.codes} codes", "bool": "yes/no", "int": "a whole number"}.get(col.kind, "text")


def _sensitive_values(entity: Entity, raw: RawTable, positions: dict[str, str], headers: list[str]) -> set[str]:
    """Distinct texts of the identifier and date columns of this file (never to be printed as codes)."""
    out: set[str] = set()
    index = {h: i for i, h in enumerate(headers)}
    for col in entity.columns:
        if col.kind in ("id", "date") and col.name in positions:
            _, uniques, ok_u = _nonblank(raw.columns[index[positions[col.name]]])
            out.update(_value_text(v).lower() for v in uniques[ok_u])
    return out


def _codes(chk: InputCheck, entity: Entity, raw: RawTable, codes_spec: Mapping[str, Mapping[str, str]]) -> None:
    """Distinct values of every mapped coded column that the aliases and ``codes`` settings do not recognise."""
    if not chk.mapped:
        return
    headers = list(raw.headers)
    index = {h: i for i, h in enumerate(headers)}
    sensitive: set[str] | None = None
    for col in entity.columns:
        if not col.codes or col.name not in chk.mapped:
            continue
        key = f"{chk.key}.codes.{col.name}"
        overrides = codes_spec.get(col.name)
        try:
            lookup = code_lookup(col.codes, overrides, key=key)
        except IngestError:
            valid = CODE_LISTS[col.codes]
            bad = {s: t for s, t in (overrides or {}).items() if str(t).strip() not in valid}
            for s, t in bad.items():
                shown = yaml_text(str(s)) if not looks_like_value(str(s)) else "(a value not shown)"
                chk.findings.append(Finding(
                    "bad_code_setting", True,
                    f"{key}: {shown} is mapped to {yaml_text(str(t))}, which is not a {col.codes} code; use one of: "
                    f"{', '.join(valid)}", key=key, column=col.name))
            lookup = code_lookup(col.codes, {s: t for s, t in (overrides or {}).items() if s not in bad}, key=key)
        header = chk.mapped[col.name]
        values = raw.columns[index[header]]
        conv = convert(col.kind, values, lookup=lookup, column=header, key=chk.key)
        unknown_u = np.nonzero(conv.reason_u == "unknown_code")[0]
        if not unknown_u.size:
            continue
        rows_u = np.bincount(conv.codes[conv.codes >= 0], minlength=len(conv.uniques))
        # value (or part of a multi-code value) -> rows holding it
        found: dict[str, int] = {}
        for u in unknown_u:
            text = _value_text(conv.uniques[u])
            if col.kind == "codes":
                parts = [p.strip() for p in text.replace("|", ";").replace(",", ";").split(";")]
                parts = [p for p in parts if p.lower() not in NULL_TOKENS and lookup.lookup(p) is None]
            else:
                parts = [text]
            for p in dict.fromkeys(parts):
                found[p] = found.get(p, 0) + int(rows_u[u])
        if sensitive is None:
            sensitive = _sensitive_values(entity, raw, chk.mapped, headers)
        hidden = {v: n for v, n in found.items() if looks_like_value(v) or v.lower() in sensitive}
        recognised = bool((~conv.blank_u & np.equal(conv.reason_u, None)).any())  # type: ignore[call-overload]
        # many values, values nearly one per row, none recognised among many, or a personal column:
        # an identifier, names or free text rather than codes, so no value is shown
        if (len(found) > MAX_VALUES_LISTED or (len(found) > 20 and sum(found.values()) < 2 * len(found))
                or (not recognised and len(found) > WHOLLY_UNKNOWN_LISTED) or is_personal(header)
                or chk.suspect_header):
            total = sum(found.values())
            chk.findings.append(Finding(
                "hidden_codes", False,
                f"{_shown(chk, header, index[header])} ({col.name}): {len(found):,} different values in {total:,} "
                f"rows are not {col.codes} codes; they do not look like codes (too many, nearly one per row, or a "
                "personal column), so none is shown: check that "
                f"{chk.key}.columns.{col.name} names the right header", key=f"{chk.key}.columns.{col.name}",
                column=col.name, count=total))
            continue
        for value, n in sorted(found.items(), key=lambda kv: (-kv[1], kv[0])):
            if value in hidden:
                chk.findings.append(Finding(
                    "hidden_codes", False,
                    f"{_shown(chk, header, index[header])} ({col.name}): a value that looks like an identifier or a "
                    "date (not shown) "
                    f"in {n:,} rows is not a {col.codes} code; check that {chk.key}.columns.{col.name} names the "
                    "right header", key=key, column=col.name, count=n))
                continue
            code, score = closest_code(col.codes, value)
            label = CODE_LISTS[col.codes][code]
            chk.codes.setdefault(col.name, {})[value] = code
            chk.code_labels[(col.name, value)] = (f"{label} (closest code: check it)" if score < 0.6
                                                  else label)
            chk.findings.append(Finding(
                "unknown_code", False,
                f"{_shown(chk, header, index[header])} ({col.name}): {yaml_text(value)} in {n:,} "
                f"row{'s' if n != 1 else ''} is not a {col.codes} code; closest: {code} ({label})"
                + ("" if score >= 0.6 else ", a guess: check it"),
                key=key, column=col.name, value=value, count=n, suggestion=code))


def check_inputs(cfg: Config) -> CheckResult:
    """Check every configured input and aggregate return of ``cfg`` (nothing is written)."""
    tables = [t for t in ENTITIES if t in cfg.inputs]
    return CheckResult(cfg, [check_input(cfg, cfg.inputs[t]) for t in tables],
                       check_aggregates(cfg))
