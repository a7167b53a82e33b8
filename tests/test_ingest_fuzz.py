"""Fuzzing the ingest (issue #12): random bytes, random CSV dialects and encodings, mutated census XML.

Every input goes through ``run_ingest`` with a small ``report.yml`` in a fresh
temporary project folder. Whatever the input, the run must:

* raise nothing (a bad table is a failed entry in the report, with a fix);
* account for every row: rows read = accepted + rejected, for every table and
  in the totals, with the rejected rows listed in ``ingest_rejected.csv`` and
  the accepted ones in the table's Parquet file;
* write nothing outside the project folder: a sibling folder and the working
  directory are snapshotted before the run and compared after it, and every
  output path the run reports lies inside the project folder;
* leave no cell in ``ingest_rejected.csv`` that Excel would run as a formula.

The census files are written by the project's own synthetic generator and
then mutated; nothing outside the repository is read.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from xml.sax.saxutils import escape

import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from lxml import etree

from safeguarding.config import load_config
from safeguarding.ingest import run_ingest
from safeguarding.ingest.cin_census import ENTITIES as CENSUS_ENTITIES
from safeguarding.synth import generate_council
from safeguarding.synth.cin_census import CIN_FILE

FUZZ = settings(max_examples=60, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
#: The structured inputs find more: about 120 examples each (a run takes some 10-60 ms).
FUZZ_MORE = settings(FUZZ, max_examples=120)
HEADERS = ["Referral ID", "Child ID", "Date of referral", "Source", "Primary need", "NFA", "Team"]
NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


# ---- the harness ------------------------------------------------------------------------------------------

def _snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` with a hash of its bytes (and every folder, as '<dir>')."""
    out = {}
    for p in sorted(folder.rglob("*")):
        rel = str(p.relative_to(folder))
        out[rel] = "<dir>" if p.is_dir() else hashlib.sha256(p.read_bytes()).hexdigest()
    return out


@contextlib.contextmanager
def _workspace() -> Iterator[tuple[Path, Path]]:
    """A fresh ``project`` folder; on leaving, checks nothing was written beside it or in the working directory."""
    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        project, sibling, cwd = root / "project", root / "sibling", root / "cwd"
        for f in (project / "raw", sibling / "shared", cwd):
            f.mkdir(parents=True)
        (sibling / "shared" / "benchmarks.csv").write_text("a,b\n1,2\n")
        (sibling / "report.yml").write_text("area: {name: Elsewhere}\n")
        (cwd / "notes.txt").write_text("working directory\n")
        before = {"sibling": _snapshot(sibling), "cwd": _snapshot(cwd)}
        old = os.getcwd()
        os.chdir(cwd)
        try:
            yield project, root
        finally:
            os.chdir(old)
        assert sorted(p.name for p in root.iterdir()) == ["cwd", "project", "sibling"]
        assert _snapshot(sibling) == before["sibling"], "the ingest wrote beside the project folder"
        assert _snapshot(cwd) == before["cwd"], "the ingest wrote into the working directory"


def _ingest(project: Path, inputs: dict) -> object:
    cfg = {"area": {"name": "Fuzz"}, "year": 2025, "paths": {"raw": "raw", "processed": "out", "reports": "reports"},
           "pseudonymisation": {"key_file": "secret/pseudonym.key"}, "inputs": inputs}
    (project / "report.yml").write_text(yaml.safe_dump(cfg), encoding="utf-8")
    return run_ingest(load_config(project / "report.yml"))


def _check(result: object, project: Path) -> None:
    """Accounting, outputs inside the project and a formula-free rejected-rows file."""
    report = result.report
    for path in result.outputs:
        assert Path(path).resolve().is_relative_to(project.resolve()), path
    for p in project.rglob("*"):
        top = p.relative_to(project).parts[0]
        assert top in ("raw", "out", "secret", "report.yml"), p
    rej = pd.read_csv(project / "out" / "ingest_rejected.csv", dtype=str, keep_default_na=False,
                      encoding="utf-8-sig")
    totals = {"rows_read": 0, "rows_accepted": 0, "rows_rejected": 0}
    for e in report["inputs"]:
        for k in totals:
            totals[k] += e[k]
        assert e["rows_read"] == e["rows_accepted"] + e["rows_rejected"], e
        listed = rej.loc[rej["table"] == e["table"], "row_number"].nunique()
        assert listed == e["rows_rejected"], e
        parquet = project / "out" / f"{e['table']}.parquet"
        if e["status"] == "built":
            assert sum(e["rejected_by_reason"].values()) == e["rows_rejected"]
            assert len(pd.read_parquet(parquet)) == e["rows_accepted"]
            # a table with rows read but none accepted is a file-level error, never a built empty table
            assert e["rows_read"] == 0 or e["rows_accepted"] > 0, e
            # text decoded in the wrong width (UTF-16 read as UTF-8) leaves NUL bytes in the headers
            assert not any("\x00" in (h or "") for h in e["column_mapping"].values()), e["column_mapping"]
        else:
            assert e["status"] == "failed" and "Fix:" in e["error"], e
            assert e["rows_accepted"] == 0 and not parquet.exists()
    assert report["totals"] == totals
    for col in rej.columns:
        for cell in rej[col]:
            live = cell[:1] in ("=", "@", "\t", "\r") or (cell[:1] in ("+", "-") and not NUMBER.fullmatch(cell))
            assert not live, (col, cell)


# ---- random bytes ---------------------------------------------------------------------------------------------

@FUZZ
@given(data=st.binary(max_size=800), name=st.sampled_from(["r.csv", "r.txt", "r.xlsx", "r.dat"]),
       encoding=st.sampled_from([None, "auto", "utf-8", "cp1252", "utf-16"]))
def test_random_bytes_never_crash_or_lose_a_row(data, name, encoding):
    with _workspace() as (project, _):
        (project / "raw" / name).write_bytes(data)
        spec = {"file": f"raw/{name}"}
        if encoding and not name.endswith(".xlsx"):
            spec["encoding"] = encoding
        _check(_ingest(project, {"referrals": spec}), project)


# ---- random CSV dialects --------------------------------------------------------------------------------------

_value = st.one_of(
    st.sampled_from(["R1", "R2", "C1", "C2", "", " ", "01/02/2024", "2024-04-05", "31/02/2024", "12/31/2024",
                     "45292", "Schools", "Police", "6", "2A", "N1", "Yes", "No", "=HYPERLINK(\"x\")", "-3", "@x",
                     "+1", "Café – Nord", "a,b", 'say "hi"', "line\nbreak", "\x00", "\ufeff"]),
    st.text(max_size=12),
)
_codecs = {  # codec -> the encoding setting that names it
    "utf-8": "utf-8", "utf-8-sig": "utf-8-sig", "cp1252": "cp1252", "utf-16": "utf-16", "utf-16-le": "utf-16",
    "utf-16-be": "utf-16", "utf-32": "utf-32",
}


_GOOD = {"Referral ID": ["R1", "R2", "R3", "R4"], "Child ID": ["C1", "C2", "C3"],
         "Date of referral": ["01/02/2024", "2024-04-05", "15/03/2024", "45292"], "Source": ["Schools", "Police", "2A"],
         "Primary need": ["N1", "N4"], "NFA": ["Yes", "No", ""], "Team": ["East", "West", ""]}


@st.composite
def csv_files(draw: st.DrawFn) -> tuple[bytes, dict]:
    """A CSV export in a random dialect and encoding, with blank lines and ragged rows, and its input settings.

    Most columns hold plausible values, so that many files are read and validated row by row; some values are
    hostile (formulas, NUL, quotes, line breaks, random text) and some rows are short or long.
    """
    optional = draw(st.lists(st.sampled_from(HEADERS[3:]), max_size=4, unique=True))
    headers = draw(st.permutations(HEADERS[:3] + optional))
    if draw(st.integers(0, 5)) == 0:  # now and then a required column is missing
        headers = headers[1:]

    def cell(h: str) -> st.SearchStrategy[str]:
        return st.one_of(st.sampled_from(_GOOD[h]), st.sampled_from(_GOOD[h]), _value)

    row = st.tuples(*[cell(h) for h in headers]).map(list)
    rows = draw(st.lists(st.one_of(row, row, row.map(lambda r: r[:2]), row.map(lambda r: [*r, "x", "y,z"]),
                                   st.just([])), max_size=15))
    title = draw(st.lists(st.lists(_value, max_size=2), max_size=2))
    delimiter = draw(st.sampled_from([",", ",", ",", ";", "\t", "|"]))
    quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC, csv.QUOTE_NONE]))
    terminator = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, quoting=quoting, lineterminator=terminator, escapechar="\\")
    for r in [*title, headers, *rows]:
        try:
            writer.writerow(r)
        except csv.Error:  # QUOTE_NONE cannot write some records: write them as a careless exporter would
            buf.write(delimiter.join(r) + terminator)
    text = buf.getvalue()
    if draw(st.booleans()):  # blank lines anywhere
        lines = text.split(terminator)
        for _ in range(draw(st.integers(1, 3))):
            lines.insert(draw(st.integers(0, len(lines))), draw(st.sampled_from(["", " ", delimiter * 3])))
        text = terminator.join(lines)
    codec = draw(st.sampled_from(sorted(_codecs)))
    data = text.encode(codec, errors="replace")
    if codec in ("utf-16-le", "utf-16-be") and draw(st.booleans()):
        data = ("\ufeff".encode(codec)) + data
    setting = draw(st.sampled_from([None, "auto", _codecs[codec], "utf-8", "cp1252"]))
    spec: dict = {}
    if setting is not None:
        spec["encoding"] = setting
    if draw(st.integers(0, 4)) == 0:
        spec["header_row"] = draw(st.integers(1, 4))
    if draw(st.integers(0, 4)) == 0:
        spec["date_format"] = draw(st.sampled_from(["auto", "dayfirst", "iso"]))
    return data, spec


@FUZZ_MORE
@given(csv_files())
def test_random_csv_dialects_and_encodings_never_crash_or_lose_a_row(file):
    data, spec = file
    with _workspace() as (project, _):
        (project / "raw" / "ref.csv").write_bytes(data)
        result = _ingest(project, {"referrals": {"file": "raw/ref.csv", **spec}})
        _check(result, project)
        e = result.report["inputs"][0]
        event("built" if e["status"] == "built" else f"failed after reading {min(e['rows_read'], 1)}+ rows")


# ---- mutated census XML ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def census_lines(tmp_path_factory) -> list[str]:
    """The lines of a synthetic census (the project's generator) cut to its first six children."""
    folder = tmp_path_factory.mktemp("fuzz-census")
    generate_council(folder, seed=5, scale="small", years=1, fault_rate=0.05, fmt="cin_census")
    lines = (folder / CIN_FILE).read_text(encoding="utf-8").splitlines()
    ends = [i for i, line in enumerate(lines) if line.strip() == "</Child>"]
    return [*lines[: ends[5] + 1], "  </Children>", "</Message>"]


_TAG = re.compile(r"<(/?)([A-Za-z][\w:]*)")
_LEAF = re.compile(r"<([\w:]+)>[^<]*</\1>")
_line = st.integers(0, 10**6)
_benign = st.one_of(  # the file stays a readable census: rows change, duplicate or go
    st.tuples(st.just("delete"), _line),
    st.tuples(st.just("duplicate"), _line),
    st.tuples(st.just("text"), _line, st.text(max_size=15), st.just(True)),
    st.tuples(st.just("text"), _line, st.sampled_from(["", "2024-02-30", "NEG", "N9", "1", "x" * 300]), st.just(True)),
    st.tuples(st.just("namespace"), st.sampled_from(["http://example.org/cin", "urn:x", ""])),
    st.tuples(st.just("year"), st.sampled_from(["2017", "2025", "twenty", "", "2017-18"])),
)
_hostile = st.one_of(  # the file may stop being a readable census
    st.tuples(st.just("swapcase"), _line),
    st.tuples(st.just("delete_any"), _line),
    st.tuples(st.just("rename"), _line, st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,12}", fullmatch=True)),
    st.tuples(st.just("text"), _line, st.text(max_size=15), st.just(False)),
    st.tuples(st.just("truncate"), _line),
    st.tuples(st.just("bytes"), _line, st.binary(min_size=1, max_size=8)),
)
_mutation = st.one_of(_benign, _benign, _hostile)


def _mutate(lines: list[str], mutations: list[tuple]) -> bytes:
    lines = list(lines)
    tail = b""
    for m in mutations:
        kind, i = m[0], (m[1] % len(lines) if isinstance(m[1], int) and lines else 0)
        leaves = [j for j, line in enumerate(lines) if _LEAF.search(line)]
        leaf = leaves[m[1] % len(leaves)] if leaves and isinstance(m[1], int) else None
        if kind == "delete" and leaf is not None:  # a leaf element: the file stays well-formed
            del lines[leaf]
        elif kind == "duplicate" and leaf is not None:
            lines.insert(leaf, lines[leaf])
        elif kind == "delete_any" and lines:
            del lines[i]
        elif kind == "swapcase" and lines:
            lines[i] = _TAG.sub(lambda t: f"<{t.group(1)}{t.group(2).swapcase()}", lines[i])
        elif kind == "rename" and lines:
            lines[i] = _TAG.sub(lambda t, new=m[2]: f"<{t.group(1)}{new}", lines[i])
        elif kind == "text" and lines:
            value = escape(m[2]) if m[3] else m[2]
            lines[i] = re.sub(r">[^<]*</", lambda _, v=value: f">{v}</", lines[i], count=1)
        elif kind == "namespace":
            lines = [line.replace("<Message>", f'<Message xmlns="{m[1]}">', 1) for line in lines]
        elif kind == "year":
            lines = [re.sub(r"<Year>[^<]*</Year>", f"<Year>{m[1]}</Year>", line) for line in lines]
        elif kind == "truncate":
            data = "\n".join(lines).encode()
            return data[: m[1] % (len(data) + 1)]
        elif kind == "bytes":
            data = "\n".join(lines).encode()
            pos = m[1] % (len(data) + 1)
            tail = m[2]
            return data[:pos] + tail + data[pos:]
    return "\n".join(lines).encode() + tail


@FUZZ_MORE
@given(mutations=st.lists(_mutation, min_size=1, max_size=4))
def test_mutated_census_never_crashes_or_loses_a_row(census_lines, mutations):
    data = _mutate(census_lines, mutations)
    with _workspace() as (project, _):
        (project / "raw" / "census.xml").write_bytes(data)
        inputs = {t: {"file": "raw/census.xml", "format": "cin_census"} for t in CENSUS_ENTITIES}
        result = _ingest(project, inputs)
        _check(result, project)
        event(f"{len(result.report['tables_built'])} of 6 census tables built")
        if result.report["tables_built"]:
            _check_census_built(data, census_lines)


def _check_census_built(data: bytes, base: list[str]) -> None:
    """A census that was built holds <Child> records and no element spelt with other capitals (checked by lxml)."""
    known = {m.group(2) for line in base for m in _TAG.finditer(line)}
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    root = etree.fromstring(data, parser)
    names = {etree.QName(el).localname for el in root.iter() if isinstance(el.tag, str)}
    lower = {k.lower(): k for k in known}
    assert not [n for n in names if n not in known and n.lower() in lower], names
    assert root.xpath("count(/*[local-name()='Message']/*[local-name()='Children']/*[local-name()='Child'])") > 0


@FUZZ
@given(data=st.binary(max_size=600))
def test_random_bytes_as_census_never_crash(data):
    with _workspace() as (project, _):
        (project / "raw" / "census.xml").write_bytes(data)
        _check(_ingest(project, {"children": {"file": "raw/census.xml", "format": "cin_census"}}), project)


def test_the_unmutated_census_is_built(census_lines):
    """The fuzzing starts from a census the ingest reads (so mutations, not the base file, cause failures)."""
    with _workspace() as (project, _):
        (project / "raw" / "census.xml").write_bytes("\n".join(census_lines).encode())
        inputs = {t: {"file": "raw/census.xml", "format": "cin_census"} for t in CENSUS_ENTITIES}
        result = _ingest(project, inputs)
        assert result.report["tables_built"] == list(CENSUS_ENTITIES), result.failed
        _check(result, project)
