"""Map a source's column headers and code values onto the canonical schema.

Headers are compared in a compact form (lower case, letters and digits only),
so ``LA Child ID``, ``la_child_id`` and ``LAChildID`` agree. Configured
mappings (``inputs.<table>.columns``) win, then each canonical name itself,
then the built-in aliases of :mod:`safeguarding.schema`. Source columns that
look personal (names, addresses, notes, ...) are never carried over.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from safeguarding.ingest.errors import IngestError
from safeguarding.schema import (
    CODE_GROUPS,
    CODE_LISTS,
    GROUP_OTHER_CODE,
    PERSONAL_COLUMN_PATTERNS,
    Entity,
    build_aliases,
    code_group,
    normalise_code_text,
)
from safeguarding.settings_inputs import code_text

_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_PERSONAL = tuple(_NON_ALNUM.sub("", p.lower()) for p in PERSONAL_COLUMN_PATTERNS)


def compact(text: object) -> str:
    """Compact form of a header for matching: lower case, letters and digits only."""
    return _NON_ALNUM.sub("", str(text).lower())


def is_personal(header: str) -> bool:
    """True when a source header looks like personal or free-text data (never carried over)."""
    c = compact(header)
    return bool(c) and any(p in c for p in _PERSONAL)


def known_headers(entity: Entity, configured: dict[str, str]) -> dict[str, str]:
    """Compact header -> canonical column, from configuration, canonical names and aliases (first wins)."""
    known: dict[str, str] = {}
    for canon, source in configured.items():
        known.setdefault(compact(source), canon)
    for canon in entity.column_names:
        known.setdefault(compact(canon), canon)
    for canon, aliases in entity.aliases.items():
        for a in aliases:
            known.setdefault(compact(a), canon)
    return known


def header_scorer(entity: Entity, configured: dict[str, str]) -> Callable[[list[str]], int]:
    """Return a function scoring a candidate header row by how many canonical columns it names."""
    known = known_headers(entity, configured)

    def score(cells: list[str]) -> int:
        return len({known[c] for c in map(compact, cells) if c and c in known})

    return score


@dataclass
class ColumnMap:
    """Result of mapping headers: canonical column -> source column position, and what was left out."""

    positions: dict[str, int]
    headers: list[str]
    personal_dropped: list[str] = field(default_factory=list)
    extra_ignored: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def source_header(self, canon: str) -> str:
        """The source header mapped to ``canon``."""
        return self.headers[self.positions[canon]]


def map_columns(headers: list[str], entity: Entity, configured: dict[str, str], *, where: str,  # noqa: C901
                key: str) -> ColumnMap:
    """Map source headers to the entity's canonical columns.

    Raises :class:`IngestError` naming the configuration key when a configured
    header is absent or a required column cannot be found.
    """
    compacts = [compact(h) for h in headers]
    positions: dict[str, int] = {}
    used: set[int] = set()
    warnings: list[str] = []
    for canon, source in configured.items():
        if canon not in entity.column_names:
            raise IngestError(f"{where}: {key}.columns names {canon!r}, which is not a column of "
                              f"{entity.name}.", key=f"{key}.columns",
                              fix=f"use one of: {', '.join(entity.column_names)}")
        target = compact(source)
        exact = [i for i, h in enumerate(headers) if h == str(source).strip()]
        loose = [i for i, c in enumerate(compacts) if c == target and c]
        found = exact or loose
        if not found:
            raise IngestError(
                f"{where}: {key}.columns.{canon} is {source!r} but the file has no such column "
                f"(headers: {', '.join(repr(h) for h in headers)}).", key=f"{key}.columns.{canon}",
                column=str(source), fix=f"set {key}.columns.{canon} to the header exactly as it appears in the file")
        positions[canon] = found[0]
        used.add(found[0])
    names = {compact(c): c for c in entity.column_names}
    alias_map: dict[str, str] = {}
    for canon, aliases in entity.aliases.items():
        for a in aliases:
            alias_map.setdefault(compact(a), canon)
    for lookup in (names, alias_map):
        for i, c in enumerate(compacts):
            if i in used or not c or c not in lookup:
                continue
            canon = lookup[c]
            if canon in positions:
                if compacts[positions[canon]] == c or lookup is alias_map:
                    warnings.append(f"column {headers[i]!r} also looks like {canon}; used "
                                    f"{headers[positions[canon]]!r} (set {key}.columns.{canon} to choose)")
                continue
            positions[canon] = i
            used.add(i)
    missing = [c for c in entity.required if c not in positions]
    if missing:
        canon = missing[0]
        glued = _glued_header(headers, canon, {**names, **alias_map, **{compact(s): c for c, s in configured.items()}})
        if glued is not None:  # no columns setting can name part of a header: the split itself is wrong
            header, sep = glued
            raise IngestError(
                f"{where}: required column {canon!r} not found: it is inside the header {header!r}, which holds "
                f"several column names separated by {sep!r} (the file mixes delimiters).",
                key=f"{key}.file", column=header,
                fix="export the extract again as 'CSV (Comma delimited)' from Excel, so that every line, the header "
                    "included, is separated by commas")
        raise IngestError(
            f"{where}: required column {canon!r} not found (headers: {', '.join(repr(h) for h in headers)}).",
            key=f"{key}.columns.{canon}", column=canon,
            fix=f"set {key}.columns.{canon} to the header that holds it"
                + (f" (also missing: {', '.join(missing[1:])})" if len(missing) > 1 else ""))
    personal: list[str] = []
    extra: list[str] = []
    for i, h in enumerate(headers):
        if i in used:
            continue
        if is_personal(h):
            personal.append(h)
        else:
            extra.append(h or f"(blank header, column {i + 1})")
    return ColumnMap(positions, headers, personal, extra, warnings)


def _glued_header(headers: list[str], canon: str, lookup: dict[str, str]) -> tuple[str, str] | None:
    """A header holding ``canon`` and another known name, joined by a delimiter: (header, delimiter), or None."""
    for h in headers:
        for sep in (",", ";", "\t", "|"):
            found = [lookup.get(compact(part)) for part in h.split(sep)] if sep in h else []
            if canon in found and sum(1 for f in found if f) >= 2:
                return h, sep
    return None


@dataclass
class CodeLookup:
    """Source value -> canonical code for one column: configured overrides, then built-in aliases."""

    code_list: str
    overrides_exact: dict[str, str]
    overrides_norm: dict[str, str]
    aliases: dict[str, str]

    def lookup(self, text: str) -> str | None:
        """Canonical code for one stripped source value, or None when unknown."""
        hit = self.overrides_exact.get(text)
        if hit is not None:
            return hit
        norm = normalise_code_text(text)
        hit = self.overrides_norm.get(norm)
        if hit is not None:
            return hit
        return self.aliases.get(norm)


def code_lookup(code_list: str, overrides: Mapping[str, str] | None, *, key: str) -> CodeLookup:
    """Build the lookup for one code column; configured targets must be canonical codes."""
    valid = CODE_LISTS[code_list]
    exact: dict[str, str] = {}
    norm: dict[str, str] = {}
    for src, target in (overrides or {}).items():
        t = str(target).strip()
        if t not in valid:
            raise IngestError(f"{key}: {src!r} is mapped to {target!r}, which is not a {code_list} code.",
                              key=key, fix=f"map it to one of: {', '.join(valid)}")
        s = code_text(src)  # the settings' source values are read so already (a hand-made mapping may not be)
        exact[s] = t
        norm.setdefault(normalise_code_text(s), t)
    return CodeLookup(code_list, exact, norm, build_aliases(code_list))


@dataclass(frozen=True)
class Suggestion:
    """What an unmapped source value probably means: a code to map it to (or None) and why."""

    code: str | None
    #: the DfE group the value names, when it is a group label (``Health services``)
    group: str | None
    reason: str


_GROUP_SEPARATOR = re.compile(r"\s+[–—-]\s+|\s*:\s*")


def _group_and_part(code_list: str, value: str) -> Suggestion | None:
    """'Health services – GP': a DfE group, then one of its codes by the part of its label after the colon."""
    pieces = _GROUP_SEPARATOR.split(value.strip(), maxsplit=1)
    if len(pieces) != 2 or code_list not in CODE_GROUPS:
        return None
    group = code_group(code_list, pieces[0])
    if group is None:
        return None
    codes = CODE_LISTS[code_list]
    members = {c: normalise_code_text(codes[c].split(":", 1)[-1]) for c, g in CODE_GROUPS[code_list].items()
               if g == group}
    part = normalise_code_text(pieces[1])
    exact = [c for c, label in members.items() if label == part]
    close = exact or [c for c, label in members.items()
                      if part and difflib.SequenceMatcher(None, part, label).ratio() >= 0.75]
    if len(close) == 1:
        code = close[0]
        return Suggestion(code, group, f"the DfE group '{group}', then '{pieces[1]}': {code} ({codes[code]})"
                                       + ("" if exact else "; check it"))
    return None


def suggest_code(code_list: str, value: str) -> Suggestion:
    """Suggest a canonical code for a source value the lookup did not know (never applied automatically).

    A group label (``Health services``) is suggested its group's catch-all code
    (``3F`` Health: other), which keeps the by-group breakdowns right; a value
    equal to the part of a label after its colon (``Health visitor`` for
    ``Health: health visitor``) or within a typing slip of a known spelling is
    suggested that code. Otherwise no code is suggested.
    """
    codes = CODE_LISTS[code_list]
    within = _group_and_part(code_list, str(value))
    if within is not None:
        return within
    group = code_group(code_list, value)
    if group is not None:
        members = [c for c, g in CODE_GROUPS[code_list].items() if g == group]
        other = GROUP_OTHER_CODE.get(code_list, {}).get(group)
        if other is not None:
            return Suggestion(other, group, f"names the DfE group '{group}' ({', '.join(members)}), not one code; "
                                            f"{other} ({codes[other]}) is the group's catch-all code")
        return Suggestion(None, group, f"names the DfE group '{group}', not one code: choose one of "
                                       f"{', '.join(members)}")
    norm = normalise_code_text(value)
    parts: dict[str, set[str]] = {}
    for code, label in codes.items():
        if ":" in label:
            parts.setdefault(normalise_code_text(label.split(":", 1)[1]), set()).add(code)
    hit = parts.get(norm)
    if norm and hit is not None and len(hit) == 1:
        code = next(iter(hit))
        return Suggestion(code, None, f"matches the label '{codes[code]}'")
    aliases = {**{p: next(iter(c)) for p, c in parts.items() if p and len(c) == 1}, **build_aliases(code_list)}
    close = difflib.get_close_matches(norm, list(aliases), n=3, cutoff=0.85) if len(norm) >= 4 else []
    found = {aliases[c] for c in close}
    if len(found) == 1:
        code = found.pop()
        return Suggestion(code, None, f"close to '{close[0]}' ({code}: {codes[code]}); check it")
    return Suggestion(None, None, "no close match in the code list")
