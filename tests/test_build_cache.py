"""Incremental builds (issue 17 item 3): a stage is skipped exactly when its inputs are unchanged.

One cold build of the demo council (module fixture), then incremental builds
on the same folders: no change, a chapter's commentary edited, a chapter's code
edited, a raw input edited, corrupted cache entries, touched files, and a
forced build at the end (which must also reproduce the cold build's keys).
The tests run in file order and each leaves the cache warm for the next.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest
import yaml
from e2e import PROJECT, demo_config_copy

import safeguarding.build as b
from safeguarding.cache import MANIFEST, Incremental, StageCache, notebook_code_digest, splice_markdown, stage_key
from safeguarding.config import load_config

pytestmark = pytest.mark.slow

DATA_STAGES = ("ingest", "indicators", "disclosure", "notebooks", "publish", "data")


class Project:
    """The demo copied to a temporary folder, with a spy on the chapter notebooks executed."""

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.root = root
        raw = root / "raw"
        shutil.copytree(PROJECT / "data" / "raw" / "demo", raw)  # the tests edit a raw file
        self.config = demo_config_copy(root)
        spec = yaml.safe_load(self.config.read_text(encoding="utf-8"))
        for inp in spec["inputs"].values():
            inp["file"] = str(raw / Path(inp["file"]).name)
        spec["paths"]["raw"] = str(raw)
        self.config.write_text(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True), encoding="utf-8")
        shutil.copytree(PROJECT / "notebooks", root / "notebooks")  # project_notebooks(cfg) reads these
        self.executed: list[list[str]] = []
        self.messages: list[str] = []
        real = b._execute_all

        def spy(notebooks, *args, **kwargs):
            self.executed.append([p.name for p in notebooks])
            return real(notebooks, *args, **kwargs)

        monkeypatch.setattr(b.stages, "_execute_all", spy)  # where _stage_notebooks looks it up

    def build(self, **kwargs) -> tuple[b.BuildResult, dict]:
        """Build (builtin renderer); return the result and its run.json."""
        self.executed.clear()
        self.messages.clear()
        result = b.build(self.config, renderer="builtin", echo=self.messages.append, **kwargs)
        record = json.loads((result.log_dir / "run.json").read_text(encoding="utf-8"))
        return result, record

    @property
    def ran(self) -> list[str]:
        """The chapters executed by the last build."""
        return [name for batch in self.executed for name in batch]

    def published(self, result: b.BuildResult) -> dict[str, str]:
        """SHA-256 of every published file of the year."""
        return {p.relative_to(result.output_dir).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted(result.output_dir.rglob("*")) if p.is_file()}

    def cache_root(self) -> Path:
        return self.root / "build" / "cache" / "northwold-2025"


def statuses(record: dict) -> dict[str, str]:
    return {name: record["stages"][name]["status"] for name in DATA_STAGES}


def all_cached(record: dict) -> bool:
    return all(s == "cached" for s in statuses(record).values())


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    proj = Project(tmp_path_factory.mktemp("cache"), mp)
    result, record = proj.build()
    proj.cold = (result, record)
    yield proj
    mp.undo()


def test_the_cold_build_runs_every_stage_and_fills_the_cache(project):
    _, record = project.cold
    assert statuses(record) == dict.fromkeys(DATA_STAGES, "ok")
    assert all(record["stages"][s]["cache"] == "no entry" for s in ("ingest", "indicators", "disclosure"))
    chapters = record["stages"]["notebooks"]["chapters"]
    assert len(chapters) == 7 and all(c["status"] == "ok" for c in chapters.values())
    assert sorted(project.ran) == sorted(chapters)
    # the report context was worked out once, for every chapter, and cached for the audience only
    assert record["stages"]["notebooks"]["context"]["cache"] == "no entry"
    assert (project.cache_root() / "public" / "context" / MANIFEST).is_file()
    assert not (project.cache_root() / "board" / "context").exists()
    for stage_id in ("ingest", "indicators", "public/disclosure", "public/publish", "public/data",
                     "public/chapters/03-referrals"):
        assert (project.cache_root() / stage_id / MANIFEST).is_file(), stage_id
    # the chapters' workers and kernels were started while the figures were worked out (issue 19)
    log = (project.cold[0].log_dir / "build.log").read_text(encoding="utf-8")
    assert "chapter workers started ahead" in log
    assert log.count("(in a kernel started ahead)") >= 2


def test_a_build_with_nothing_changed_runs_no_stage_and_publishes_the_same_bytes(project):
    before = project.published(project.cold[0])
    result, record = project.build()
    assert all_cached(record), statuses(record)
    assert project.ran == [], "a chapter was executed"
    assert project.published(result) == before
    assert "[4/8] notebooks from cache" in " ".join(project.messages)
    # the key is recorded for every cached stage, and is the one the cold build stored
    assert record["stages"]["indicators"]["key"] == project.cold[1]["stages"]["indicators"]["key"]
    assert result.timings["notebooks"] < 10
    # nothing to work out, no chapter to run: no worker or kernel is started ahead
    assert "started ahead" not in (result.log_dir / "build.log").read_text(encoding="utf-8")


def test_the_data_files_written_while_publishing_fail_as_the_data_stage(project, monkeypatch):
    """Issue 19: the data files are written in a thread while the review is published. A failure there is
    still the ``data`` stage's, said as before; the published year is left as it was and no staging folder
    is left behind (the failing build waits for the thread before it clears the folder)."""
    import safeguarding.build.driver as driver

    before = project.published(project.cold[0])
    started = []

    def failing(*_a, **_k):
        started.append(1)
        raise OSError("disk-full-marker-3141")

    monkeypatch.setattr(driver, "_stage_data", failing)
    with pytest.raises(b.BuildError, match="disk-full-marker-3141") as caught:
        project.build()
    assert caught.value.stage == "data" and started == [1]
    assert project.published(project.cold[0]) == before
    reports = project.cold[0].output_dir.parent
    assert [p.name for p in reports.iterdir() if "staging" in p.name] == []


def _edit_cell(nb_path: Path, cell_type: str, append: str) -> None:
    nb = json.loads(nb_path.read_text(encoding="utf-8"))
    cell = next(c for c in reversed(nb["cells"]) if c["cell_type"] == cell_type)
    source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
    cell["source"] = source + append
    nb_path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def test_editing_a_chapters_commentary_republishes_it_without_executing_any_chapter(project):
    """Only Markdown changed: the cached executed notebook gets the new text; no kernel starts."""
    nb = project.root / "notebooks" / "03-referrals.ipynb"
    _edit_cell(nb, "markdown", "\n\nThe board noted the commentary-marker-7731 in referrals.\n")
    result, record = project.build()
    assert project.ran == []
    chapters = record["stages"]["notebooks"]["chapters"]
    assert chapters["03-referrals.ipynb"]["status"] == "commentary"
    assert all(c["status"] == "cached" for n, c in chapters.items() if n != "03-referrals.ipynb")
    assert statuses(record) == {**dict.fromkeys(DATA_STAGES, "cached"), "notebooks": "ok", "publish": "ok"}
    assert "6 of 7 chapters from cache, 1 with new commentary" in " ".join(project.messages)
    assert "commentary-marker-7731" in result.html.read_text(encoding="utf-8")
    # and the entry now holds the new text: the next build takes everything from the cache
    _, again = project.build()
    assert all_cached(again)


def test_editing_a_chapters_code_executes_that_chapter_only(project):
    nb = project.root / "notebooks" / "04-allegations.ipynb"
    _edit_cell(nb, "code", "\nprint('code-marker-5150')\n")
    result, record = project.build()
    assert project.ran == ["04-allegations.ipynb"]
    chapters = record["stages"]["notebooks"]["chapters"]
    assert (chapters["04-allegations.ipynb"]["status"], chapters["04-allegations.ipynb"]["cache"]) == (
        "ok", "inputs changed")
    assert sum(c["status"] == "cached" for c in chapters.values()) == 6
    # the report context the chapter opens is the cold build's, restored: its sources did not change
    assert record["stages"]["notebooks"]["context"]["status"] == "cached"
    assert record["stages"]["notebooks"]["context"]["key"] == project.cold[1]["stages"]["notebooks"]["context"]["key"]
    assert statuses(record) == {**dict.fromkeys(DATA_STAGES, "cached"), "notebooks": "ok", "publish": "ok"}
    assert "commentary-marker-7731" in result.html.read_text(encoding="utf-8")  # the earlier edit is kept


def test_when_a_chapter_fails_the_chapters_that_ran_are_kept(project):
    """Two chapters edited, one now raises: the build fails; once it is fixed only that chapter runs."""
    broken = project.root / "notebooks" / "05-private-fostering.ipynb"
    fine = project.root / "notebooks" / "02-child-protection.ipynb"
    original = broken.read_bytes()
    _edit_cell(broken, "code", "\nraise ValueError('chapter-failure-4242')\n")
    _edit_cell(fine, "code", "\n# edited\n")
    with pytest.raises(b.BuildError, match="chapter-failure-4242"):
        project.build()
    assert sorted(project.ran) == ["02-child-protection.ipynb", "05-private-fostering.ipynb"]
    broken.write_bytes(original)
    _, record = project.build()
    assert project.ran == [], "02 was kept from the failed build and 05 is as the cache has it"
    assert statuses(record) == {**dict.fromkeys(DATA_STAGES, "cached"), "publish": "ok"}


def test_a_raw_input_edit_reruns_ingest_and_only_what_its_output_changes(project):
    """A column dropped at ingest (Forename) changes the file but not the processed tables: ingest runs,
    everything after it is cached. Editing it back is a cache hit again (content, not time)."""
    children = project.root / "raw" / "children.csv"
    original = children.read_bytes()
    lines = original.decode("utf-8").splitlines(keepends=True)
    header = lines[0].rstrip("\r\n").split(",")
    assert "Forename" in header, header
    col = header.index("Forename")
    row = lines[1].split(",")
    row[col] = "Zebedee"
    children.write_bytes((lines[0] + ",".join(row) + "".join(lines[2:])).encode("utf-8"))
    try:
        _, record = project.build()
        assert record["stages"]["ingest"]["status"] == "ok"
        assert record["stages"]["ingest"]["cache"] == "inputs changed"
        assert {s: record["stages"][s]["status"] for s in DATA_STAGES[1:]} == dict.fromkeys(DATA_STAGES[1:], "cached")
        assert project.ran == []
    finally:
        children.write_bytes(original)
    _, record = project.build()
    assert record["stages"]["ingest"]["status"] == "ok"  # the entry now holds the edited file's run
    _, record = project.build()
    assert all_cached(record)


def test_a_changed_processed_table_changes_the_keys_after_it(project):
    """What a raw edit that changes the data does: the keys of the stages reading the changed table differ."""
    cfg = load_config(project.config)
    notebooks = b.chapter_notebooks(project.root / "notebooks")
    before = Incremental(cfg, "public", b.package_versions()).plan(notebooks)
    table = cfg.processed_dir / "referrals.parquet"
    original = table.read_bytes()
    try:
        import pandas as pd

        frame = pd.read_parquet(table)
        frame.iloc[:1].to_parquet(table, index=False)
        after = Incremental(cfg, "public", b.package_versions()).plan(notebooks)
    finally:
        table.write_bytes(original)
    assert after["ingest"] == before["ingest"]
    assert after["indicators"] != before["indicators"]
    assert after["disclosure"] == before["disclosure"], "disclosure reads indicators.parquet, unchanged here"
    assert all(after[k] != before[k] for k in before if k.startswith("chapters/") or k == "data")


@pytest.mark.parametrize("change, changed", [
    ({"site": {"base_url": "https://example.org/scp"}}, set()),
    ({"report": {"status": "draft", "version": "0.2"}}, {"chapters", "data"}),
    ({"disclosure": {"threshold": [1, 9]}}, {"disclosure", "chapters", "data"}),
    ({"audience": "board"}, {"disclosure", "chapters", "data"}),
    ({"targets": {"REFERRALS": 5}}, {"indicators", "disclosure", "chapters", "data"}),
])
def test_changing_report_yml_invalidates_the_stages_that_read_what_changed(project, tmp_path, change, changed):
    cfg = load_config(project.config)
    notebooks = b.chapter_notebooks(project.root / "notebooks")
    before = Incremental(cfg, cfg.audience, b.package_versions()).plan(notebooks)
    spec = yaml.safe_load(project.config.read_text(encoding="utf-8"))
    spec.update(change)
    other = project.root / "report-changed.yml"  # beside report.yml: the same project folder
    other.write_text(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True), encoding="utf-8")
    try:
        cfg2 = load_config(other)
        after = Incremental(cfg2, cfg2.audience, b.package_versions()).plan(notebooks)
    finally:
        other.unlink()
    differs = {k.split("/")[0] for k in before if before[k] != after[k]}
    assert differs == changed


def test_a_corrupt_entry_is_detected_said_and_rebuilt(project):
    root = project.cache_root()
    # truncate an output, delete a manifest, edit a manifest
    parquet = root / "indicators" / "files" / "indicators.parquet"
    parquet.write_bytes(parquet.read_bytes()[:100])
    (root / "public" / "publish" / MANIFEST).unlink()
    manifest = root / "ingest" / MANIFEST
    data = json.loads(manifest.read_text(encoding="utf-8"))
    name = next(iter(data["files"]))
    data["files"][name]["sha256"] = "0" * 64
    manifest.write_text(json.dumps(data), encoding="utf-8")
    chapter = root / "public" / "chapters" / "05-private-fostering" / "files" / "05-private-fostering.ipynb"
    chapter.write_text(chapter.read_text(encoding="utf-8").replace("Private", "Tampered", 1), encoding="utf-8")

    result, record = project.build()
    said = " ".join(project.messages)
    log = (result.log_dir / "build.log").read_text(encoding="utf-8")
    for stage_id, why in (("indicators", "indicators.parquet has 100 bytes"), ("public/publish", "manifest is missing"),
                          ("ingest", f"{name} does not match its SHA-256"),
                          ("public/chapters/05-private-fostering", "does not match its SHA-256")):
        assert f"cache entry {stage_id} is corrupt" in said and why in said, (stage_id, said)
        assert f"cache entry {stage_id} is corrupt" in log
    assert record["stages"]["indicators"]["cache"].startswith("corrupt")
    assert (record["stages"]["ingest"]["status"], record["stages"]["indicators"]["status"],
            record["stages"]["publish"]["status"]) == ("ok", "ok", "ok")
    assert record["stages"]["disclosure"]["status"] == "cached"  # the rebuilt indicators are the same
    assert project.ran == ["05-private-fostering.ipynb"]
    assert "Tampered" not in result.html.read_text(encoding="utf-8")
    _, again = project.build()
    assert all_cached(again), "the rebuilt entries are trusted again"


def test_touching_files_changes_nothing(project):
    """Keys are content hashes, never modification times."""
    later = 2_000_000_000
    editorial = [(p, p.stat()) for p in (PROJECT / "editorial").rglob("*") if p.is_file()]
    try:
        for folder in (project.root / "raw", project.root / "notebooks", project.root / "processed",
                       PROJECT / "editorial"):
            for p in folder.rglob("*"):
                if p.is_file():
                    os.utime(p, (later, later))
        _, record = project.build()
    finally:
        for p, st in editorial:  # the repository's own files get their times back
            os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert all_cached(record)


def test_an_interrupted_store_leaves_no_entry_that_is_trusted(tmp_path):
    cache = StageCache(tmp_path)
    src = tmp_path / "out.txt"
    src.write_text("one", encoding="utf-8")
    cache.store("s", "k1", {"out.txt": src})

    class Boom(BaseException):
        pass

    import safeguarding.cache.store as c

    real = c.shutil.copyfile
    try:
        c.shutil.copyfile = lambda *a, **k: (_ for _ in ()).throw(Boom())
        with pytest.raises(Boom):
            cache.store("s", "k2", {"out.txt": src})
    finally:
        c.shutil.copyfile = real
    assert cache.lookup("s", "k1").reason == "hit", "the previous entry is intact"
    assert cache.lookup("s", "k2").reason == "inputs changed"
    assert not list(tmp_path.glob(".s.*")), "the half-written entry was removed"
    assert StageCache(tmp_path, force=True).lookup("s", "k1").reason == "forced"


def test_a_cover_dated_today_makes_the_publish_key_depend_on_the_date(tmp_path):
    from safeguarding.cache import _dated_today

    quarto = tmp_path / "_quarto.yml"
    quarto.write_text("book:\n  title: X\n  date: today\n", encoding="utf-8")
    assert _dated_today({}, quarto) and _dated_today({"date": "Today"}, quarto)
    assert not _dated_today({"date": ""}, quarto) and not _dated_today({"date": "Published 30 June 2025"}, quarto)
    quarto.write_text("book:\n  title: X\n  date: 2025-06-30\n", encoding="utf-8")
    assert not _dated_today({}, quarto)


def test_markdown_is_left_out_of_a_notebooks_code_digest():
    nb = json.loads((PROJECT / "notebooks" / "03-referrals.ipynb").read_text(encoding="utf-8"))
    text = json.dumps(nb).encode()
    md = json.loads(text)
    md["cells"][0]["source"] = "# Another title"
    code = json.loads(text)
    code["cells"][3]["source"] = "print(1)"
    assert notebook_code_digest(json.dumps(md).encode()) == notebook_code_digest(text)
    assert notebook_code_digest(json.dumps(code).encode()) != notebook_code_digest(text)
    extra = json.loads(text)
    extra["cells"].append({"cell_type": "markdown", "metadata": {}, "source": "more"})
    assert notebook_code_digest(json.dumps(extra).encode()) != notebook_code_digest(text)
    # papermill's injected cell is skipped when the new text is put in
    executed = json.loads(text)
    executed["cells"].insert(2, {"cell_type": "code", "metadata": {"tags": ["injected-parameters"]}, "source": ""})
    spliced = splice_markdown(executed, md)
    assert spliced["cells"][0]["source"] == "# Another title" and len(spliced["cells"]) == len(nb["cells"]) + 1
    assert splice_markdown(json.loads(text), extra) is None
    assert stage_key("a", {"x": 1}) == stage_key("a", {"x": 1}) != stage_key("b", {"x": 1})


def test_force_reruns_every_stage_and_reproduces_the_cold_builds_keys(project, monkeypatch):
    """--force: every stage runs; the keys equal the cold build's (the keys are deterministic).

    Issue 19, in the same build: the chapter workers are closed (and the kernel they did not use shut down)
    while the review is published, not before (0.13 s on the way to the published review). The spy below
    holds the closing until the publish stage has begun: a build that closed them first would wait here.
    """
    import threading

    import safeguarding.build.driver as driver
    from safeguarding.build.notebooks import WorkersAhead

    publishing = threading.Event()
    closed_while_publishing: list[bool] = []
    real_close, real_publish = WorkersAhead.close, driver._stage_publish

    def close(self, *, stop=False):
        if self.workers is not None and not stop:
            closed_while_publishing.append(publishing.wait(timeout=60))
        return real_close(self, stop=stop)

    def publish(*args, **kwargs):
        publishing.set()
        return real_publish(*args, **kwargs)

    monkeypatch.setattr(WorkersAhead, "close", close)
    monkeypatch.setattr(driver, "_stage_publish", publish)
    # put the notebooks back as the cold build had them
    shutil.rmtree(project.root / "notebooks")
    shutil.copytree(PROJECT / "notebooks", project.root / "notebooks")
    _, record = project.build(force=True)
    assert closed_while_publishing == [True]
    assert statuses(record) == dict.fromkeys(DATA_STAGES, "ok")
    assert all(record["stages"][s]["cache"] == "forced" for s in DATA_STAGES if s != "notebooks")
    assert sorted(project.ran) == sorted(record["stages"]["notebooks"]["chapters"])
    cold = project.cold[1]["stages"]
    for s in ("ingest", "indicators", "disclosure", "publish", "data"):
        assert record["stages"][s]["key"] == cold[s]["key"], s
    assert {n: c["key"] for n, c in record["stages"]["notebooks"]["chapters"].items()} == \
        {n: c["key"] for n, c in cold["notebooks"]["chapters"].items()}
    _, again = project.build()
    assert all_cached(again)
