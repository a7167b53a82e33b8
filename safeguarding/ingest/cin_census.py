"""Read the DfE Children in Need census XML into the canonical tables.

One census file feeds six entities: ``children`` (one row per ``<Child>``),
``referrals`` (one per ``<CINdetails>``), ``s47`` (one per ``<Section47>``),
``icpc`` (one per ``<DateOfInitialCPC>``), ``cp_plans`` (one per
``<ChildProtectionPlans>``) and ``cp_reviews`` (one per ``<CPPreviewDate>``).
The file is parsed once (cached by path, modification time and size) and each
entity gets a :class:`~safeguarding.ingest.readers.RawTable` whose headers
are canonical column names and whose row numbers are the line of the element
in the XML file, so the rejected-rows file points at the line to open.

Values are handed over as the census writes them (``NEG``, ``1A``, ``N4``,
``WBRI``, ``1``/``2``/``0``/``9`` for the 2024 ``GenderCurrent``, ``M``/``F``/
``U`` for the 2026 ``Sex``); the ingest's code aliases turn them into canonical
codes and reject what they do not know. The census has no record identifiers,
so they are derived deterministically from ``LAchildID`` and dates (see
:data:`DERIVED_IDS`) and then pseudonymised like every other identifier.
``UPN``, ``FormerUPN``, ``UCN`` and every other element of
``<ChildIdentifiers>`` apart from ``LAchildID``, dates of birth and sex are
never carried over: they are listed as dropped columns, without their values.

Both 2024 and 2026 schema files are read; elements that the canonical tables
do not need (assessments, CIN plans, pre-proceedings, closure reasons) are
ignored. The reader uses the standard library's expat parser and refuses
files that declare entities (a census file never does).

A file that is well-formed XML but not laid out as the schema says is not
read as if it were empty: an element spelt with other capitals than the
schema's (``<CINDetails>`` for ``<CINdetails>``) is an error naming its line
and the right spelling, and so is a file with no ``<Child>`` record under
``<Message><Children>``. Elements in an XML namespace (the DfE schema has
none) and a header whose collection year is older than
:data:`OLDEST_COLLECTION_YEAR` are read, with a warning in the ingest report.
"""

from __future__ import annotations

import os
import re
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from xml.parsers import expat

import numpy as np

from safeguarding.ingest.errors import IngestError
from safeguarding.ingest.readers import RawTable

#: Entities a census file can feed.
ENTITIES = ("children", "referrals", "s47", "icpc", "cp_plans", "cp_reviews")

#: How each derived identifier is built (before pseudonymisation); documented in docs/configuration.md.
DERIVED_IDS = {
    "referral_id": "LAchildID | CINreferralDate",
    "s47_id": "LAchildID | CINreferralDate | S47ActualStartDate",
    "icpc_id": "the s47_id of its <Section47>, or the referral_id of its <CINdetails> for an episode-level "
               "<DateOfInitialCPC> (each in its own pseudonym namespace)",
    "plan_id": "LAchildID | CPPstartDate (a child cannot start two plans on one day)",
}

#: Elements of <ChildIdentifiers> that are read; every other one is dropped (never carried over).
_ID_READ = frozenset({"LAchildID", "PersonBirthDate", "ExpectedPersonBirthDate", "Sex", "GenderCurrent"})
_CHAR_READ = frozenset({"Ethnicity"})
_CIN_READ = frozenset({"CINreferralDate", "ReferralSource", "PrimaryNeedCode", "ReferralNFA", "DateOfInitialCPC"})
_S47_READ = frozenset({"S47ActualStartDate", "DateOfInitialCPC", "ICPCnotRequired"})
_PLAN_READ = frozenset({"CPPstartDate", "CPPendDate", "InitialCategoryOfAbuse", "LatestCategoryOfAbuse",
                        "NumberOfPreviousCPP"})
#: Census disability codes (CIN schema ``disabilitytype``); NONE means no disability.
DISABILITY_CODES = frozenset({"NONE", "MOB", "HAND", "PC", "INC", "COMM", "LD", "HEAR", "VIS", "BEH", "CON",
                              "AUT", "DDA"})

#: Every element of the DfE CIN census schemas (2024 and 2026, with the 2026 pre-proceedings elements): an
#: element spelt like one of these but with other capitals is an error, as it would silently not be read.
KNOWN_ELEMENTS = frozenset({
    "Message", "Header", "CollectionDetails", "Collection", "Year", "ReferenceDate", "Source", "SourceLevel", "LEA",
    "SoftwareCode", "Release", "SerialNo", "DateTime", "Children", "Child", "ChildIdentifiers", "LAchildID", "UPN",
    "FormerUPN", "UPNunknown", "PersonBirthDate", "ExpectedPersonBirthDate", "GenderCurrent", "Sex",
    "PersonDeathDate", "ChildCharacteristics", "Ethnicity", "Disabilities", "Disability", "CINdetails",
    "CINreferralDate", "ReferralSource", "PrimaryNeedCode", "CINclosureDate", "ReasonForClosure",
    "DateOfInitialCPC", "ReferralNFA", "Assessments", "AssessmentActualStartDate", "AssessmentInternalReviewDate",
    "AssessmentAuthorisationDate", "AssessmentFactors", "FactorsIdentifiedAtAssessment", "CINPlanDates",
    "CINPlanStartDate", "CINPlanEndDate", "Section47", "S47ActualStartDate", "InitialCPCtarget", "ICPCnotRequired",
    "ChildProtectionPlans", "CPPstartDate", "CPPendDate", "InitialCategoryOfAbuse", "LatestCategoryOfAbuse",
    "NumberOfPreviousCPP", "Reviews", "CPPreviewDate", "PreProceedingsandFGDM", "CourtAppDate", "FGDMMeetingFac",
    "FGDMMeetingOffer", "InitialPPMeetingDate", "LBPSentDate", "LetterInitCPDate", "PPOutcome", "PPStartDate",
    "ReviewMeetingsCount", "StepDecisionDate",
})
_SPELLING = {name.lower(): name for name in KNOWN_ELEMENTS}
#: The oldest collection year (``<Header><CollectionDetails><Year>``) whose files this reader is known to read:
#: the DfE-format fake sample is 2022 and the schemas read are 2024 and 2026. Older files were written to older
#: schemas; they are read, with a warning that elements those schemas named differently are not.
OLDEST_COLLECTION_YEAR = 2022
#: Namespaces that may be declared without putting the census elements in them.
_HARMLESS_NAMESPACES = frozenset({"http://www.w3.org/2001/XMLSchema-instance"})

_CACHE_SIZE = 2
_cache: OrderedDict[tuple[str, int, int], CensusFile | IngestError] = OrderedDict()


@dataclass
class _Record:
    """One element of interest: its line, the leaf values read below it (text, line) and nested records."""

    line: int
    values: dict[str, tuple[str, int]] = field(default_factory=dict)
    children: dict[str, list[_Record]] = field(default_factory=dict)
    #: a child's Disability codes
    items: list[str] = field(default_factory=list)
    #: a plan's review dates with their lines
    reviews: list[tuple[str, int]] = field(default_factory=list)

    def get(self, name: str) -> str:
        """The text of a leaf element ('' when absent)."""
        v = self.values.get(name)
        return v[0] if v else ""

    def nested(self, name: str) -> list[_Record]:
        """Nested records of one kind, in document order."""
        return self.children.get(name, [])


@dataclass
class CensusFile:
    """A parsed census file: its children in document order and what was found but not read."""

    path: Path
    children: list[_Record]
    dropped_identifiers: list[str]
    repeated: dict[str, int]
    #: file-level findings (namespace, old header), repeated in every table read from the file
    warnings: list[str] = field(default_factory=list)

    def table(self, entity: str, key: str) -> RawTable:
        """The raw table for one entity (see the module docstring)."""
        build = {"children": _children, "referrals": _referrals, "s47": _s47, "icpc": _icpc,
                 "cp_plans": _plans, "cp_reviews": _reviews}
        if entity not in build:
            raise IngestError(
                f"{self.path}: a CIN census file has no {entity} data; it can feed {', '.join(ENTITIES)}.",
                file=str(self.path), key=f"{key}.format",
                fix=f"remove 'format: cin_census' from {key} and point it at the {entity} extract")
        rows, warnings = build[entity](self.children)
        warnings[:0] = self.warnings
        names = _COLUMNS[entity]
        n = len(rows)
        columns: list[np.ndarray] = []
        for name in names:
            col = np.empty(n, dtype=object)
            col[:] = [r[name] for r in rows]
            columns.append(col)
        # dropped identifiers: the header only, never the values (they are listed as dropped columns)
        columns.extend(np.full(n, None, dtype=object) for _ in self.dropped_identifiers)
        numbers = np.fromiter((r["_line"] for r in rows), dtype=np.int64, count=n)
        if self.repeated:
            warnings.append("elements that may appear once were repeated; the first was read: "
                            + ", ".join(f"{k} ({v}x)" for k, v in sorted(self.repeated.items())))
        return RawTable(self.path, "cin_census", [*names, *self.dropped_identifiers], columns, numbers, 0, False,
                        None, None, {}, warnings)


#: One row of a canonical table as read from the census: its column values and ``_line``, the XML line it starts on.
_Row = dict[str, str | int | None]

_COLUMNS: dict[str, list[str]] = {
    "children": ["child_id", "date_of_birth", "sex", "ethnicity", "disability"],
    "referrals": ["referral_id", "child_id", "referral_date", "referral_source", "primary_need", "nfa"],
    "s47": ["s47_id", "child_id", "s47_start_date", "referral_id"],
    "icpc": ["icpc_id", "child_id", "icpc_date", "s47_id", "plan_resulted"],
    "cp_plans": ["plan_id", "child_id", "plan_start_date", "plan_end_date", "initial_category",
                 "latest_category", "previous_plans"],
    "cp_reviews": ["plan_id", "child_id", "review_date"],
}


def _key(child: str, *parts: str) -> str | None:
    """A derived identifier: blank when the child identifier is blank."""
    return "|".join((child, *parts)) if child else None


def _blank(text: str) -> str | None:
    return text if text else None


def _children(children: list[_Record]) -> tuple[list[_Row], list[str]]:
    rows = []
    unborn = 0
    odd: set[str] = set()
    for c in children:
        dob = c.get("PersonBirthDate")
        if not dob and c.get("ExpectedPersonBirthDate"):
            dob = c.get("ExpectedPersonBirthDate")
            unborn += 1
        codes = [d.strip().upper() for d in c.items if d.strip()]
        odd.update(d for d in codes if d not in DISABILITY_CODES)
        disability = None if not codes else ("1" if any(d != "NONE" for d in codes) else "0")
        rows.append({"_line": c.line, "child_id": _blank(c.get("LAchildID")), "date_of_birth": _blank(dob),
                     "sex": _blank(c.get("Sex") or c.get("GenderCurrent")),
                     "ethnicity": _blank(c.get("Ethnicity")), "disability": disability})
    warnings = []
    if unborn:
        warnings.append(f"{unborn} child(ren) have no PersonBirthDate: their ExpectedPersonBirthDate (unborn "
                        "child) was used as the date of birth")
    if odd:
        warnings.append("Disability code(s) not in the census list were read as a disability: "
                        + ", ".join(sorted(odd)))
    return rows, warnings


def _episodes(children: list[_Record]) -> Iterator[tuple[_Record, str, _Record, str]]:
    """Each child's <CINdetails>: (child, its LAchildID, the episode, its CINreferralDate)."""
    for c in children:
        child = c.get("LAchildID")
        for cin in c.nested("CINdetails"):
            yield c, child, cin, cin.get("CINreferralDate")


def _referrals(children: list[_Record]) -> tuple[list[_Row], list[str]]:
    rows = [{"_line": cin.line, "referral_id": _key(child, ref), "child_id": _blank(child),
             "referral_date": _blank(ref), "referral_source": _blank(cin.get("ReferralSource")),
             "primary_need": _blank(cin.get("PrimaryNeedCode")), "nfa": _blank(cin.get("ReferralNFA"))}
            for _, child, cin, ref in _episodes(children)]
    return rows, []


def _s47(children: list[_Record]) -> tuple[list[_Row], list[str]]:
    rows = [{"_line": s.line, "s47_id": _key(child, ref, s.get("S47ActualStartDate")), "child_id": _blank(child),
             "s47_start_date": _blank(s.get("S47ActualStartDate")), "referral_id": _key(child, ref)}
            for _, child, cin, ref in _episodes(children) for s in cin.nested("Section47")]
    return rows, []


def _icpc(children: list[_Record]) -> tuple[list[_Row], list[str]]:
    rows: list[_Row] = []
    repeats = 0
    for c, child, cin, ref in _episodes(children):
        plan_days = {p.get("CPPstartDate") for x in c.nested("CINdetails") for p in x.nested("ChildProtectionPlans")}
        found: list[tuple[int, _Row]] = []
        s47_dates = set()
        for s in cin.nested("Section47"):
            if "DateOfInitialCPC" not in s.values:
                continue
            date, line = s.values["DateOfInitialCPC"]
            s47_dates.add(date)
            key = _key(child, ref, s.get("S47ActualStartDate"))
            found.append((line, {"_line": line, "icpc_id": key, "child_id": _blank(child), "icpc_date": _blank(date),
                                 "s47_id": key, "plan_resulted": "1" if date and date in plan_days else "0"}))
        if "DateOfInitialCPC" in cin.values:
            date, line = cin.values["DateOfInitialCPC"]
            if date and date in s47_dates:
                repeats += 1
            else:
                found.append((line, {"_line": line, "icpc_id": _key(child, ref), "child_id": _blank(child),
                                     "icpc_date": _blank(date), "s47_id": None,
                                     "plan_resulted": "1" if date and date in plan_days else "0"}))
        rows.extend(r for _, r in sorted(found, key=lambda x: x[0]))
    warnings = []
    if repeats:
        warnings.append(f"{repeats} episode-level DateOfInitialCPC repeat the conference date of a <Section47> in "
                        "the same <CINdetails>: each such conference is counted once")
    return rows, warnings


def _plans(children: list[_Record]) -> tuple[list[_Row], list[str]]:
    rows = [{"_line": p.line, "plan_id": _key(child, p.get("CPPstartDate")), "child_id": _blank(child),
             "plan_start_date": _blank(p.get("CPPstartDate")), "plan_end_date": _blank(p.get("CPPendDate")),
             "initial_category": _blank(p.get("InitialCategoryOfAbuse")),
             "latest_category": _blank(p.get("LatestCategoryOfAbuse")),
             "previous_plans": _blank(p.get("NumberOfPreviousCPP"))}
            for _, child, cin, _ref in _episodes(children) for p in cin.nested("ChildProtectionPlans")]
    return rows, []


def _reviews(children: list[_Record]) -> tuple[list[_Row], list[str]]:
    rows = [{"_line": line, "plan_id": _key(child, p.get("CPPstartDate")), "child_id": _blank(child),
             "review_date": _blank(text)}
            for _, child, cin, _ref in _episodes(children) for p in cin.nested("ChildProtectionPlans")
            for text, line in p.reviews]
    return rows, []


class _Parser:
    """Streaming expat handlers that keep only the elements the canonical tables need."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.p = expat.ParserCreate()
        self.p.buffer_text = True
        self.p.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        self.p.StartElementHandler = self.start
        self.p.EndElementHandler = self.end
        self.p.CharacterDataHandler = self.text
        self.p.EntityDeclHandler = self.entity
        self.stack: list[str] = []
        self.texts: list[list[str]] = []
        self.lines: list[int] = []
        self.children: list[_Record] = []
        self.dropped: dict[str, None] = {}
        self.repeated: dict[str, int] = {}
        self.child: _Record | None = None
        self.cin: _Record | None = None
        self.s47: _Record | None = None
        self.plan: _Record | None = None
        self.root_ok = False
        #: (line, element as written, schema spelling) of every element spelt with other capitals
        self.miscased: list[tuple[int, str, str]] = []
        #: (namespace, line, element) of each namespace the elements are put in
        self.namespaces: list[tuple[str, int, str]] = []
        self.prefixes: dict[str, str] = {}
        #: <CollectionDetails> leaf -> (text, line)
        self.header: dict[str, tuple[str, int]] = {}
        self.children_seen = False
        self.stray_child: int | None = None

    def entity(self, name: str, *args: object) -> None:
        raise IngestError(
            f"{self.path}: the file declares the XML entity {name!r} (line {self.p.CurrentLineNumber}); a CIN census "
            "file never declares entities, so it is not read.", file=str(self.path), row=self.p.CurrentLineNumber,
            fix="export the CIN census XML again from the case system")

    def _names(self, name: str, attrs: dict[str, str], line: int, local: str) -> None:
        """Note namespaces declared or used and elements spelt with other capitals than the schema's."""
        for k, v in (attrs or {}).items():
            if k == "xmlns" and v and v not in _HARMLESS_NAMESPACES:
                self.namespaces.append((v, line, name))
            elif k.startswith("xmlns:"):
                self.prefixes[k[6:]] = v
        if ":" in name:
            prefix = name.split(":", 1)[0]
            uri = self.prefixes.get(prefix, f"undeclared prefix {prefix}:")
            if not any(ns == uri for ns, _, _ in self.namespaces):
                self.namespaces.append((uri, line, name))
        if local not in KNOWN_ELEMENTS:
            right = _SPELLING.get(local.lower())
            if right is not None:
                self.miscased.append((line, local, right))

    def start(self, name: str, attrs: dict[str, str]) -> None:
        local = name.rsplit(":", 1)[-1]
        line = self.p.CurrentLineNumber
        parent = self.stack[-1] if self.stack else None
        self._names(name, attrs, line, local)
        if local == "Children":
            self.children_seen = True
        elif local == "Child" and parent != "Children" and self.stray_child is None:
            self.stray_child = line
        if parent is None:
            if local != "Message" and _SPELLING.get(local.lower()) != "Message":
                raise _NotCensusError(local)
            self.root_ok = True
        elif local == "Child" and parent == "Children":
            self.child = _Record(line)
            self.children.append(self.child)
        elif local == "CINdetails" and parent == "Child" and self.child is not None:
            self.cin = _Record(line)
            self.child.children.setdefault("CINdetails", []).append(self.cin)
        elif local == "Section47" and parent == "CINdetails" and self.cin is not None:
            self.s47 = _Record(line)
            self.cin.children.setdefault("Section47", []).append(self.s47)
        elif local == "ChildProtectionPlans" and parent == "CINdetails" and self.cin is not None:
            self.plan = _Record(line)
            self.cin.children.setdefault("ChildProtectionPlans", []).append(self.plan)
        self.stack.append(local)
        self.texts.append([])
        self.lines.append(line)

    def text(self, data: str) -> None:
        if self.texts:
            self.texts[-1].append(data)

    def _set(self, record: _Record | None, local: str, text: str, line: int) -> None:
        if record is None:
            return
        if local in record.values:
            self.repeated[local] = self.repeated.get(local, 0) + 1
            return
        record.values[local] = (text, line)

    def end(self, name: str) -> None:
        local = self.stack.pop()
        text = "".join(self.texts.pop()).strip()
        line = self.lines.pop()
        parent = self.stack[-1] if self.stack else None
        if parent == "ChildIdentifiers" and self.child is not None:
            if local in _ID_READ:
                self._set(self.child, local, text, line)
            else:
                self.dropped.setdefault(local, None)
        elif parent == "ChildCharacteristics" and local in _CHAR_READ:
            self._set(self.child, local, text, line)
        elif parent == "Disabilities" and local == "Disability" and self.child is not None:
            self.child.items.append(text)
        elif parent == "CINdetails" and local in _CIN_READ:
            self._set(self.cin, local, text, line)
        elif parent == "Section47" and local in _S47_READ:
            self._set(self.s47, local, text, line)
        elif parent == "ChildProtectionPlans" and local in _PLAN_READ:
            self._set(self.plan, local, text, line)
        elif parent == "Reviews" and local == "CPPreviewDate" and self.plan is not None:
            self.plan.reviews.append((text, line))
        elif parent == "CollectionDetails" and local in ("Collection", "Year", "ReferenceDate"):
            self.header.setdefault(local, (text, line))
        if local == "Child":
            self.child = None
        elif local == "CINdetails":
            self.cin = None
        elif local == "Section47":
            self.s47 = None
        elif local == "ChildProtectionPlans":
            self.plan = None


class _NotCensusError(Exception):
    def __init__(self, root: str) -> None:
        super().__init__(root)
        self.root = root


def parse_census(path: Path, data: bytes) -> CensusFile:
    """Parse census XML bytes; raise :class:`IngestError` (file, line, fix) when it is not usable."""
    where = str(path)
    if not data.strip():
        raise IngestError(f"{where}: the file is empty.", file=where,
                          fix="export the CIN census XML again from the case system")
    parser = _Parser(path)
    try:
        parser.p.Parse(data, True)
    except expat.ExpatError as exc:
        reason = expat.errors.messages.get(exc.code, str(exc))
        raise IngestError(
            f"{where}: not well-formed XML at line {exc.lineno}, column {exc.offset + 1}: {reason}. No table "
            "is read from this file (the other inputs are still built).", file=where, row=exc.lineno,
            fix=f"the file is damaged or incomplete (for example cut short during export): export the CIN census "
                f"XML again from the case system, or open it in a text editor and correct line {exc.lineno}") from None
    except _NotCensusError as exc:
        raise IngestError(f"{where}: not a CIN census file: its root element is <{exc.root}>, not <Message>.",
                          file=where, row=1,
                          fix="point the input at the CIN census XML, or remove 'format: cin_census'") from None
    if not parser.root_ok:  # pragma: no cover - expat rejects a document without a root element
        raise IngestError(f"{where}: no XML root element.", file=where, fix="export the CIN census XML again")
    if parser.miscased:
        raise _miscased_error(where, parser.miscased)
    warnings = _namespace_warnings(parser.namespaces) + _header_warnings(parser.header)
    if not parser.children:
        raise _no_children_error(where, parser, warnings)
    return CensusFile(path, parser.children, list(parser.dropped), parser.repeated, warnings)


def _miscased_error(where: str, miscased: list[tuple[int, str, str]]) -> IngestError:
    """The error for elements spelt with other capitals than the schema's (they would not be read)."""
    line, found, right = miscased[0]
    kinds: dict[tuple[str, str], list[int]] = {}
    for ln, f, r in miscased:
        kinds.setdefault((f, r), []).append(ln)
    listed = "; ".join(f"<{f}> for <{r}> {len(lines)}x (first at line {lines[0]})"
                       for (f, r), lines in list(kinds.items())[:5])
    more = f" ({len(kinds) - 5} more spellings)" if len(kinds) > 5 else ""
    return IngestError(
        f"{where}: line {line}: element <{found}> should be spelt <{right}>: CIN census element names are "
        f"case-sensitive, so it would not be read and what it holds would be silently missing. No table is "
        f"read from this file. Elements spelt this way: {listed}{more}.", file=where, row=line, column=found,
        fix=f"export the CIN census XML again from the case system, or correct <{found}> to <{right}> (and "
            "every other spelling listed) throughout the file")


def _namespace_warnings(namespaces: list[tuple[str, int, str]]) -> list[str]:
    """The warning for elements put in an XML namespace (the census schema has none), naming the first."""
    if not namespaces:
        return []
    uri, line, element = namespaces[0]
    others = sorted({ns for ns, _, _ in namespaces[1:]} - {uri})
    return [f"the census elements are in the XML namespace '{uri}' (on <{element}> at line {line})"
            + (f" and {', '.join(repr(o) for o in others)}" if others else "")
            + "; the DfE CIN census schema has no namespace, so this may not be a CIN census export or may be "
            "another version of it. The elements were read by their names without the namespace: check the "
            "counts, and export the census again from the case system if they look wrong"]


def _header_warnings(header: dict[str, tuple[str, int]]) -> list[str]:
    """Warnings about ``<Header><CollectionDetails>``: another collection, an unreadable or too old year."""
    out = []
    collection = header.get("Collection")
    if collection and collection[0].upper() != "CIN":
        out.append(f"the header names the collection {collection[0]!r} (<Collection> at line {collection[1]}), not "
                   "CIN: check that this is the Children in Need census")
    year = header.get("Year")
    if year is None and header.get("ReferenceDate"):
        text, line = header["ReferenceDate"]
        m = re.match(r"(\d{4})-", text)
        year = (m.group(1), line) if m else None
    if year is None:
        return out
    text, line = year
    if not re.fullmatch(r"\d{4}", text):
        out.append(f"the header's collection year is {text!r} (line {line}), not a year such as 2025: the file "
                   "may not follow the DfE CIN census schema")
    elif int(text) < OLDEST_COLLECTION_YEAR:
        out.append(f"the header's collection year is {text} (line {line}), older than the oldest census this reader "
                   f"supports ({OLDEST_COLLECTION_YEAR} on, the 2024 and 2026 DfE schemas): elements that older "
                   "schemas named differently are not read, so counts may be low. Check that this is the census "
                   "for the year under review")
    return out


def _no_children_error(where: str, parser: _Parser, warnings: list[str]) -> IngestError:
    """The error for a well-formed file with no <Child> record where the schema puts them."""
    if parser.stray_child is not None:
        why = (f"there is a <Child> element at line {parser.stray_child}, but not inside <Message><Children> "
               "where the schema puts it")
    elif not parser.children_seen:
        why = "the file has no <Children> element"
    else:
        why = "<Children> is empty"
    if parser.namespaces:
        why += f"; the elements are in the XML namespace '{parser.namespaces[0][0]}', which the census has not"
    return IngestError(
        f"{where}: no <Child> records found: {why}. No table is read from this file (it is not taken as a census "
        "with no children).", file=where, row=1,
        fix="export the CIN census XML again from the case system: a census file holds <Message><Children> with "
            "one <Child> per child (element names are case-sensitive)")


def load_census(path: Path, *, key: str = "inputs.<table>") -> CensusFile:
    """Parse ``path`` once: later calls with the same file (same modification time and size) reuse the result."""
    where = str(path)
    try:
        st = path.stat()
    except FileNotFoundError:
        raise IngestError(f"{where}: file not found.", file=where,
                          fix=f"put the CIN census XML there, or set {key}.file to its path "
                              "(relative to report.yml)") from None
    if path.is_dir():
        raise IngestError(f"{where} is a folder, not a file.", file=where, fix=f"set {key}.file to the XML file")
    cache_key = (os.path.realpath(path), st.st_mtime_ns, st.st_size)
    hit = _cache.get(cache_key)
    if hit is None:
        try:
            hit = parse_census(path, path.read_bytes())
        except IngestError as exc:
            hit = exc
        except OSError as exc:
            hit = IngestError(f"{where}: cannot be read ({exc.strerror}).", file=where,
                              fix="check the file's permissions and that it is not open and locked")
        _cache[cache_key] = hit
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    else:
        _cache.move_to_end(cache_key)
    if isinstance(hit, IngestError):
        raise hit
    return hit


def clear_cache() -> None:
    """Forget every parsed file (the next read parses again)."""
    _cache.clear()


def read_census(path: Path, entity: str, *, key: str) -> RawTable:
    """The :class:`RawTable` of one entity from a CIN census file (parsed once per file version)."""
    try:
        census = load_census(path, key=key)
    except IngestError as exc:
        raise IngestError(exc.reason, table=entity, file=exc.file, row=exc.row, key=f"{key}.file",
                          fix=exc.fix) from None
    return census.table(entity, key)
