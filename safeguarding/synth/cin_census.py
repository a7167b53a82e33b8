"""Write the synthetic council's child-level records as one DfE CIN census XML file.

``python pipeline.py synth --out DIR --format cin-census`` writes
``cin_census.xml`` (valid against the DfE ``CIN_schema_2026.xsd`` when no
faults are injected) in place of the six case-system extracts ``children``,
``referrals``, ``s47``, ``icpc``, ``cp_plans`` and ``cp_reviews``; allegations,
private fostering and the police return are written as usual. The same
simulation and the same faults as the CSV/XLSX extracts are written, in census
form:

* every record sits in its place: a ``<CINdetails>`` (a referral) holds its
  ``<Section47>`` enquiries, the conference (``DateOfInitialCPC``) and its
  ``<ChildProtectionPlans>`` with their reviews. An enquiry, conference or
  plan whose referral precedes the data window is written inside that earlier
  referral's ``<CINdetails>`` (a *context* referral, as a real census holds
  every episode open in the year); such referrals are not in ``referrals.csv``;
* children known only through private fostering are not children in need and
  are not in the census (they stay in ``private_fostering.csv``);
* the council's team, the ICPC's "plan made" flag and record identifiers are
  not census items: the ingest derives identifiers from ``LAchildID`` and dates
  and the conference outcome from the plan start date.

Row faults (``--fault-rate``) are written as census faults, each recorded in
``ground_truth.json`` with its entity, kind, the line of the record's element
(``row``, what the ingest reports) and the line of the faulty element
(``line``):

=================  ============================================  ==================
CSV fault          in the census file                            schema
=================  ============================================  ==================
bad_date           the same text in the date element              invalid (xs:date)
unknown_code       the same text in the coded element             invalid (enumeration)
end_before_start   ``CPPendDate`` before ``CPPstartDate``         valid
icpc_before_s47    ``DateOfInitialCPC`` before ``S47ActualStart``  valid
duplicate_row      the element written twice                      valid
blank_identifier   written as bad_date in the record's own date   invalid (xs:date)
=================  ============================================  ==================

A census record has no identifier of its own (the ingest derives it from
``LAchildID`` and the record's date) and ``LAchildID`` belongs to the child,
not the record, so a blank record identifier is written as an unusable key
date instead: the record is rejected either way. A repeated ``<Child>`` or a
repeated conference needs a container to be schema-valid, so a copy of the
child's first ``<CINdetails>`` (or of the conference's ``<Section47>``) is
written with it; those copies are recorded as ``collateral`` faults. So the
only schema-invalid content is a bad date or an unknown code, each of them a
row the ingest rejects.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape as xml_escape

import numpy as np

from safeguarding.synth import generator as gen
from safeguarding.synth.faults import Fault, SourceTable, format_days
from safeguarding.synth.simulate import _Sim

CIN_FILE = "cin_census.xml"
SCHEMA = "CIN_schema_2026.xsd"
#: Extract files the census replaces, and the entity each feeds.
REPLACES: dict[str, str] = {"children.csv": "children", "referrals.csv": "referrals", "s47.csv": "s47",
                            "icpc.csv": "icpc", "cp_plans.xlsx": "cp_plans", "cp_reviews.csv": "cp_reviews"}
ENTITIES = tuple(REPLACES.values())
#: Unusable dates written where the CSV had a blank record identifier (chosen by row, no randomness).
FALLBACK_DATES = ("2024-02-30", "unknown", "2023-13-01", "TBC")
#: Census disability codes written for a disabled child (chosen by the child's number).
DISABILITY_CODES = ("MOB", "HAND", "PC", "INC", "COMM", "LD", "HEAR", "VIS", "BEH", "CON", "AUT", "DDA")

_SOURCE = {label: code for code, (label, _share) in gen.REFERRAL_SOURCES.items()}
_SEX = {label: code for code, (label, _share) in gen.SEXES.items()}
_CATEGORY = {label: code for code, (label, _share) in gen.CATEGORIES.items()}
_FILE_OF = {v: k for k, v in REPLACES.items()}


@dataclass
class _Episode:
    """One referral (``<CINdetails>``) and what hangs off it, as row indices of the source tables."""

    ref: str
    day: int
    sim_index: int
    row: int | None = None  # referrals.csv row; None for a context referral
    s47: list[int] = field(default_factory=list)
    icpc: int | None = None  # icpc.csv row held at episode level (its enquiry is not written)
    plans: list[int] = field(default_factory=list)


class _Xml:
    """Lines of the document, one element per line, so every element's line number is known."""

    def __init__(self) -> None:
        self.lines: list[str] = ['<?xml version="1.0" encoding="UTF-8"?>']

    def open(self, depth: int, name: str) -> int:
        self.lines.append(f"{'  ' * depth}<{name}>")
        return len(self.lines)

    def close(self, depth: int, name: str) -> None:
        self.lines.append(f"{'  ' * depth}</{name}>")

    def leaf(self, depth: int, name: str, text: str) -> int:
        self.lines.append(f"{'  ' * depth}<{name}>{xml_escape(text)}</{name}>")
        return len(self.lines)


class _Writer:
    """Renders the source tables (with their faults) as census elements and records each fault's lines."""

    def __init__(self, tables: dict[str, SourceTable], sim: _Sim, links: dict[str, np.ndarray]) -> None:
        self.t = {REPLACES[f]: tables[f] for f in REPLACES}
        self.sim = sim
        self.links = links
        self.x = _Xml()
        self.faults: list[Fault] = []
        self.counts = dict.fromkeys(ENTITIES, 0)
        self.fault_at = {e: {f["_index"]: f for f in tab.faults} for e, tab in self.t.items()}
        self.iso = {e: {c: format_days(tab.data[c], "iso") for c in tab.date_columns} for e, tab in self.t.items()}

    # ---- values -------------------------------------------------------------
    def value(self, entity: str, column: str, i: int) -> str:
        """A cell as census text: the injected value when there is one, dates as YYYY-MM-DD."""
        tab = self.t[entity]
        fault = self.fault_at[entity].get(i)
        spec = gen.FAULT_SPECS[_FILE_OF[entity]]
        if fault and fault["kind"] == "blank_identifier" and column == spec.date_column:
            return FALLBACK_DATES[i % len(FALLBACK_DATES)]
        if i in tab.overrides.get(column, {}) and column not in spec.id_columns:
            return str(tab.overrides[column][i])
        if column in tab.date_columns:
            return str(self.iso[entity][column][i])
        return str(tab.data[column][i])

    def coded(self, entity: str, column: str, i: int, codes: dict[str, str]) -> str:
        """A labelled value as its census code (an injected unknown value is written as it is)."""
        tab = self.t[entity]
        if i in tab.overrides.get(column, {}):
            return str(tab.overrides[column][i])
        return codes[str(tab.data[column][i])]

    # ---- faults -------------------------------------------------------------
    def record(self, entity: str, i: int, row_line: int, lines: dict[str, int], values: dict[str, str], *,
               copy: bool = False, collateral: str | None = None, original: int | None = None) -> None:
        """Count one written row of ``entity`` (source row ``i``, -1 for a context referral); record its fault.

        An original row carries its source row's fault, if any. A ``copy`` is
        either the injected duplicate (``collateral`` None: a duplicate row) or a
        container written with one (``collateral`` says which): it is rejected
        like its original, as a duplicate when the original is clean.
        """
        self.counts[entity] += 1
        fault = self.fault_at[entity].get(i) if i >= 0 else None
        clean = fault is None or fault["kind"] == "duplicate_row"
        if not copy and clean:
            return
        source = None if fault is None else fault["kind"]
        column = None
        if copy and (collateral is None or clean):
            kind = "duplicate_row"
        else:
            assert fault is not None
            kind = "bad_date" if source == "blank_identifier" else str(source)
            date_column = gen.FAULT_SPECS[_FILE_OF[entity]].date_column
            column = date_column if source in ("blank_identifier", "bad_date", "icpc_before_s47") \
                else fault.get("column")
        element = _ELEMENT.get((entity, column)) if column else None
        entry: Fault = {"file": CIN_FILE, "entity": entity, "kind": kind, "row": row_line,
                                 "line": lines.get(element, row_line) if element else row_line}
        if element:
            entry.update({"element": element, "value": values.get(element, "")})
        if source and source != kind:
            entry["written_for"] = source
        if original is not None:
            entry["copy_of_row"] = original
        if collateral:
            entry["collateral"] = collateral
        self.faults.append(entry)

    # ---- elements -----------------------------------------------------------
    def child(self, c: int, pid: str, episodes: list[_Episode]) -> None:
        """One ``<Child>`` with its episodes; a duplicated child row is written again after it."""
        x = self.x
        line = x.open(2, "Child")
        lines, values = self._identity(c, pid)
        self.record("children", c, line, lines, values)
        for ep in episodes:
            self.episode(ep, pid)
        x.close(2, "Child")
        fault = self.fault_at["children"].get(c)
        if fault and fault["kind"] == "duplicate_row":
            copy = x.open(2, "Child")
            self._identity(c, pid)
            self.record("children", c, copy, {}, {}, copy=True, original=line)
            self.episode(episodes[0], pid, referral_only=True, collateral=f"container of the repeated <Child> at "
                                                                          f"line {copy}")
            x.close(2, "Child")

    def _identity(self, c: int, pid: str) -> tuple[dict[str, int], dict[str, str]]:
        x = self.x
        lines: dict[str, int] = {}
        values: dict[str, str] = {}
        x.open(3, "ChildIdentifiers")
        x.leaf(4, "LAchildID", pid)
        x.leaf(4, "UPN", fake_upn(pid))
        dob = self.value("children", "DOB", c)
        if dob:
            lines["PersonBirthDate"] = x.leaf(4, "PersonBirthDate", dob)
            values["PersonBirthDate"] = dob
        sex = self.coded("children", "Gender", c, _SEX)
        lines["Sex"] = x.leaf(4, "Sex", sex)
        values["Sex"] = sex
        x.close(3, "ChildIdentifiers")
        x.open(3, "ChildCharacteristics")
        x.leaf(4, "Ethnicity", self.value("children", "Ethnicity", c))
        x.open(4, "Disabilities")
        disabled = self.t["children"].data["Disabled"][c] == "Yes"
        x.leaf(5, "Disability", DISABILITY_CODES[int(pid) % len(DISABILITY_CODES)] if disabled else "NONE")
        x.close(4, "Disabilities")
        x.close(3, "ChildCharacteristics")
        return lines, values

    def _referral_fields(self, ep: _Episode) -> tuple[dict[str, int], dict[str, str]]:
        x = self.x
        if ep.row is not None:
            date = self.value("referrals", "Date of Referral", ep.row)
            source = self.coded("referrals", "Source of Referral", ep.row, _SOURCE)
            need = self.value("referrals", "Primary Need", ep.row)
            nfa = "1" if self.t["referrals"].data["NFA?"][ep.row] == "Y" else "0"
        else:
            r = self.sim.tables["referrals"]
            date = str(format_days(np.array([ep.day]), "iso")[0])
            source, need = str(r["source"][ep.sim_index]), str(r["need"][ep.sim_index])
            nfa = "1" if r["nfa"][ep.sim_index] else "0"
        lines = {"CINreferralDate": x.leaf(4, "CINreferralDate", date)}
        x.leaf(4, "ReferralSource", source)
        x.leaf(4, "PrimaryNeedCode", need)
        return lines, {"CINreferralDate": date, "ReferralSource": source, "PrimaryNeedCode": need, "_nfa": nfa}

    def episode(self, ep: _Episode, pid: str, *, referral_only: bool = False, with_icpc: bool = False,
                collateral: str | None = None, original: int | None = None) -> int:
        """One ``<CINdetails>``; ``referral_only`` writes a copy without what hangs off the referral.

        Returns the line of the ``<CINdetails>`` element.
        """
        x = self.x
        line = x.open(3, "CINdetails")
        lines, values = self._referral_fields(ep)
        row = ep.row if ep.row is not None else -1
        self.record("referrals", row, line, lines, values, copy=referral_only, collateral=collateral,
                    original=original)
        if ep.icpc is not None and (with_icpc or not referral_only):
            self.icpc(ep.icpc, depth=4, copy=with_icpc)
        if not referral_only:
            for j in ep.s47:
                self.section47(j)
        x.leaf(4, "ReferralNFA", values["_nfa"])
        if not referral_only:
            for p in ep.plans:
                self.plan(p)
        x.close(3, "CINdetails")
        if referral_only:
            return line
        if ep.row is not None and self._is_dup("referrals", ep.row):
            self.episode(ep, pid, referral_only=True, original=line)
        if ep.icpc is not None and self._is_dup("icpc", ep.icpc):
            self.episode(ep, pid, referral_only=True, with_icpc=True, original=line,
                         collateral="container of a repeated episode-level conference")
        return line

    def _is_dup(self, entity: str, i: int) -> bool:
        f = self.fault_at[entity].get(i)
        return bool(f and f["kind"] == "duplicate_row")

    def icpc(self, k: int, *, depth: int, copy: bool = False) -> None:
        """One conference: a ``DateOfInitialCPC`` in its ``<Section47>`` or its ``<CINdetails>``."""
        date = self.value("icpc", "Date of ICPC", k)
        line = self.x.leaf(depth, "DateOfInitialCPC", date)
        self.record("icpc", k, line, {"DateOfInitialCPC": line}, {"DateOfInitialCPC": date}, copy=copy)

    def section47(self, j: int, *, copy: str | None = None, with_icpc: bool = False,
                  original: int | None = None) -> None:
        """One ``<Section47>`` (with its conference); copies follow a duplicated enquiry or conference."""
        x = self.x
        line = x.open(4, "Section47")
        date = self.value("s47", "Date S47 Started", j)
        lines = {"S47ActualStartDate": x.leaf(5, "S47ActualStartDate", date)}
        self.record("s47", j, line, lines, {"S47ActualStartDate": date}, copy=copy is not None,
                    collateral=copy if with_icpc else None, original=original)
        k = self.s47_icpc.get(j)
        if k is not None and (copy is None or with_icpc):
            self.icpc(k, depth=5, copy=copy is not None)
        x.leaf(5, "ICPCnotRequired", "0" if k is not None else "1")
        x.close(4, "Section47")
        if copy is None:
            if self._is_dup("s47", j):
                self.section47(j, copy="repeated enquiry", original=line)
            if k is not None and self._is_dup("icpc", k):
                self.section47(j, copy="container of a repeated conference", with_icpc=True, original=line)

    def plan(self, p: int, *, copy: bool = False) -> None:
        """One ``<ChildProtectionPlans>`` with its reviews (a copy has none)."""
        x = self.x
        line = x.open(4, "ChildProtectionPlans")
        lines: dict[str, int] = {}
        values: dict[str, str] = {}
        start = self.value("cp_plans", "Plan Start Date", p)
        lines["CPPstartDate"] = x.leaf(5, "CPPstartDate", start)
        values["CPPstartDate"] = start
        end = self.value("cp_plans", "Plan End Date", p)
        if end:
            lines["CPPendDate"] = x.leaf(5, "CPPendDate", end)
            values["CPPendDate"] = end
        initial = self.coded("cp_plans", "Initial Category of Abuse", p, _CATEGORY)
        lines["InitialCategoryOfAbuse"] = x.leaf(5, "InitialCategoryOfAbuse", initial)
        values["InitialCategoryOfAbuse"] = initial
        x.leaf(5, "LatestCategoryOfAbuse", self.coded("cp_plans", "Latest Category of Abuse", p, _CATEGORY))
        x.leaf(5, "NumberOfPreviousCPP", self.value("cp_plans", "Number of Previous CP Plans", p))
        self.record("cp_plans", p, line, lines, values, copy=copy)
        reviews = [] if copy else self.plan_reviews.get(p, [])
        if reviews:
            x.open(5, "Reviews")
            for v in reviews:
                date = self.value("cp_reviews", "Review Date", v)
                rl = x.leaf(6, "CPPreviewDate", date)
                self.record("cp_reviews", v, rl, {"CPPreviewDate": rl}, {"CPPreviewDate": date})
                if self._is_dup("cp_reviews", v):
                    dl = x.leaf(6, "CPPreviewDate", date)
                    self.record("cp_reviews", v, dl, {}, {}, copy=True, original=rl)
            x.close(5, "Reviews")
        x.close(4, "ChildProtectionPlans")
        if not copy and self._is_dup("cp_plans", p):
            self.plan(p, copy=True)

    # ---- the document -------------------------------------------------------
    def build(self, *, la_code: str, end_year: int) -> dict[str, Any]:
        """Write every child; return what the ground truth records about the file."""
        t, links, sim = self.t, self.links, self.sim
        ref_id, child_pid = links["ref_id"], links["child_pid"]
        sim_ref, sim_s47, sim_icpc, sim_plan = (sim.tables[k] for k in ("referrals", "s47", "icpc", "cp_plans"))
        ref_index = {str(r): k for k, r in enumerate(ref_id.tolist())}
        episodes: dict[str, _Episode] = {}

        def ep(ref: str) -> _Episode:
            if ref not in episodes:
                k = ref_index[ref]
                episodes[ref] = _Episode(ref, int(sim_ref["day"][k]), k)
            return episodes[ref]

        refs = t["referrals"].data["Referral Ref"]
        for i in range(t["referrals"].n_rows):
            ep(str(refs[i])).row = i
        s47_pos: dict[str, int] = {}
        for j in range(t["s47"].n_rows):
            s47_pos[str(t["s47"].data["S47 ID"][j])] = j
            ep(str(t["s47"].data["Referral Ref"][j])).s47.append(j)
        s47_ref = {str(s): str(ref_id[sim_s47["referral"][j]]) for j, s in enumerate(links["s47_id"].tolist())}
        self.s47_icpc: dict[int, int] = {}
        for k in range(t["icpc"].n_rows):
            sid = str(t["icpc"].data["S47 ID"][k])
            if sid in s47_pos:
                self.s47_icpc[s47_pos[sid]] = k
            else:
                holder = ep(s47_ref[sid])
                assert holder.icpc is None, "one conference per referral"
                holder.icpc = k
        plan_ref = {str(pid): str(ref_id[sim_s47["referral"][sim_icpc["s47"][sim_plan["icpc"][q]]]])
                    for q, pid in enumerate(links["plan_id"].tolist())}
        plan_pos: dict[str, int] = {}
        for p in range(t["cp_plans"].n_rows):
            pid = str(t["cp_plans"].data["Plan ID"][p])
            plan_pos[pid] = p
            ep(plan_ref[pid]).plans.append(p)
        self.plan_reviews: dict[int, list[int]] = {}
        for v in range(t["cp_reviews"].n_rows):
            self.plan_reviews.setdefault(plan_pos[str(t["cp_reviews"].data["Plan ID"][v])], []).append(v)
        by_child: dict[str, list[_Episode]] = {}
        for e in episodes.values():
            e.s47.sort(key=lambda j: (int(t["s47"].data["Date S47 Started"][j]), j))
            e.plans.sort(key=lambda q: (int(t["cp_plans"].data["Plan Start Date"][q]), q))
            by_child.setdefault(str(child_pid[sim_ref["child"][e.sim_index]]), []).append(e)
        for eps in by_child.values():
            eps.sort(key=lambda e: (e.day, e.ref))

        x = self.x
        x.open(0, "Message")
        x.open(1, "Header")
        x.open(2, "CollectionDetails")
        x.leaf(3, "Collection", "CIN")
        x.leaf(3, "Year", str(end_year))
        x.leaf(3, "ReferenceDate", f"{end_year}-03-31")
        x.close(2, "CollectionDetails")
        x.open(2, "Source")
        x.leaf(3, "SourceLevel", "L")
        x.leaf(3, "LEA", la_code)
        x.leaf(3, "SoftwareCode", "safeguarding.synth (synthetic data, not real children)")
        x.leaf(3, "Release", str(gen.GENERATOR_VERSION))
        x.leaf(3, "SerialNo", "001")
        x.leaf(3, "DateTime", f"{end_year}-04-01T00:00:00")
        x.close(2, "Source")
        x.close(1, "Header")
        x.open(1, "Children")
        kids = t["children"]
        not_in_census = 0
        written = 0
        for c in range(kids.n_rows):
            pid = str(kids.data["Person ID"][c])
            if pid not in by_child:
                not_in_census += 1
                continue
            self.child(c, pid, by_child.pop(pid))
            written += 1
        assert not by_child, "every child in need has a children row"
        x.close(1, "Children")
        x.close(0, "Message")
        context = sum(1 for e in episodes.values() if e.row is None)
        return {"children_written": written, "children_not_in_census": not_in_census, "context_referrals": context}


_ELEMENT: dict[tuple[str, str], str] = {
    ("children", "DOB"): "PersonBirthDate", ("children", "Gender"): "Sex",
    ("referrals", "Date of Referral"): "CINreferralDate", ("s47", "Date S47 Started"): "S47ActualStartDate",
    ("icpc", "Date of ICPC"): "DateOfInitialCPC", ("cp_plans", "Plan Start Date"): "CPPstartDate",
    ("cp_plans", "Plan End Date"): "CPPendDate", ("cp_plans", "Initial Category of Abuse"): "InitialCategoryOfAbuse",
    ("cp_reviews", "Review Date"): "CPPreviewDate",
}


def fake_upn(person_id: str) -> str:
    """An obviously fictional UPN-shaped value (pattern of the schema's ``upntype``) for a person id."""
    digits = re.sub(r"\D", "", person_id)[-11:]
    return f"X{int(digits or 0):011d}A"


def write_cin_census(path: Path, tables: dict[str, SourceTable], sim: _Sim, links: dict[str, np.ndarray], *,
                     la_code: str, end_year: int) -> tuple[dict[str, object], list[Fault]]:
    """Write ``tables`` (with their injected faults) as one CIN census XML file at ``path``.

    ``sim`` and ``links`` give each record's referral (also those before the
    data window). Returns the file's ground-truth entry and its faults (census
    lines). Raises ``ValueError`` when ``la_code`` is not the 3-digit code the
    census header needs.
    """
    if not re.fullmatch(r"\d{3}", la_code):
        raise ValueError(f"a CIN census file needs a 3-digit council code (--la-code), not {la_code!r}")
    w = _Writer(tables, sim, links)
    info = w.build(la_code=la_code, end_year=end_year)
    path.write_bytes(("\n".join(w.x.lines) + "\n").encode("utf-8"))
    entry: dict[str, object] = {
        "entity": None, "format": "cin_census", "entities": list(ENTITIES), "schema": SCHEMA,
        "rows": w.counts["children"], "rows_by_entity": dict(w.counts), "lines": len(w.x.lines),
        "replaces": list(REPLACES), "context_referrals": info["context_referrals"],
        "children_not_in_census": info["children_not_in_census"], "personal_elements": ["UPN"],
        "extract_date": str(dt.date(end_year, 3, 31)),
    }
    return entry, w.faults


__all__ = ["CIN_FILE", "ENTITIES", "REPLACES", "SCHEMA", "fake_upn", "write_cin_census"]
