"""The stages of ``pipeline.py build`` through the cache (:class:`Incremental`): each stage's key, the
lookup, the outputs restored or the stage run and stored."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import shutil
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from safeguarding.cache.keys import (
    code_version,
    config_files,
    config_subset,
    content_digest,
    notebook_code_digest,
    stage_key,
)
from safeguarding.cache.store import Entry, EntryMeta, Lookup, StageCache, restore
from safeguarding.hashing import file_sha256, sha256_bytes

if TYPE_CHECKING:
    import pandas as pd

    from safeguarding.config import Config
    from safeguarding.ingest.report import IngestReport
    from safeguarding.ingest.results import IngestResult


@dataclasses.dataclass(frozen=True)
class CachedIngest:
    """What :meth:`Incremental.ingest` gives when the tables come from the cache (as an ingest result does)."""

    failed: dict[str, str]
    report: IngestReport
    outputs: list[Path]


def _cells(nb: Mapping[str, object]) -> list[dict[str, object]]:
    """A notebook's cells (JSON objects)."""
    cells = nb.get("cells") or []
    return [c for c in cells if isinstance(c, dict)] if isinstance(cells, list) else []


def _tags(cell: Mapping[str, object]) -> list[object]:
    metadata = cell.get("metadata") or {}
    tags = metadata.get("tags", []) if isinstance(metadata, dict) else []
    return tags if isinstance(tags, list) else []


def splice_markdown(executed: dict[str, object], source: Mapping[str, object]) -> dict[str, object] | None:
    """The ``executed`` notebook with the Markdown cells' text (and attachments) of ``source``.

    The cells are matched in order, leaving out the cell papermill adds (tagged ``injected-parameters``);
    returns None when they do not match one for one with the same types (then the chapter is executed).
    """
    ran = [c for c in _cells(executed) if "injected-parameters" not in _tags(c)]
    cells = _cells(source)
    if len(ran) != len(cells) or any(a.get("cell_type") != b.get("cell_type") for a, b in zip(ran, cells,
                                                                                                 strict=True)):
        return None
    for done, src in zip(ran, cells, strict=True):
        if src.get("cell_type") == "markdown":
            done["source"] = src.get("source", "")
            if src.get("attachments"):
                done["attachments"] = src["attachments"]
            else:
                done.pop("attachments", None)
    return executed


def _dated_today(meta: Mapping[str, object], quarto_yml: Path) -> bool:
    """True when the cover's date is the build date (``today``, ``now`` or ``last-modified``)."""
    import re

    words = ("today", "now", "last-modified")
    if "date" in meta:  # report.yml's date, or the cover's "Published ..." (or none)
        date = meta["date"]
        return isinstance(date, str) and date.strip().lower() in words
    try:
        text = quarto_yml.read_text(encoding="utf-8")
    except OSError:
        return False
    return re.search(r"^\s*date:\s*[\"']?(today|now|last-modified)\b", text, re.IGNORECASE | re.MULTILINE) is not None


def _warnings(record: Mapping[str, object]) -> list[object]:
    """The run record's ``warnings`` (a list of text, added to as the build goes)."""
    warnings = record["warnings"]
    if not isinstance(warnings, list):
        raise TypeError(f"the run record's warnings are not a list: {type(warnings).__name__}")
    return warnings


def _ran_cleanly(executed: Path) -> bool:
    """True when papermill finished the executed notebook without an exception."""
    try:
        meta = json.loads(executed.read_text(encoding="utf-8"))["metadata"]["papermill"]
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return meta.get("exception") is None and bool(meta.get("end_time"))


def _quarto_version() -> str:
    """``quarto --version`` and where it is (the Quarto renderer's output depends on its version)."""
    import subprocess

    exe = shutil.which("quarto") or "quarto"
    try:
        out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=60, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        out = "unknown"
    return f"{exe} {out.strip()}"


def _ingest_tables() -> list[str]:
    """The stems of the tables ingest may write (each configured input, allegation actions, aggregates)."""
    from safeguarding.schema import ENTITIES

    return [*ENTITIES, "allegation_actions", "aggregates"]


#: top-level sections of report.yml a stage never reads (left out of its key; everything else is in it)
NOT_READ: dict[str, tuple[str, ...]] = {
    "ingest": ("report", "site", "disclosure", "editorial", "audience", "targets", "population", "benchmarks"),
    "indicators": ("report", "site", "disclosure", "editorial", "audience"),
    "disclosure": ("report", "site", "editorial", "audience"),
    "report": ("site", "audience"),  # the chapters and the data files (the audience is a parameter)
}

#: sections whose paths are not the stage's input files (they read the processed tables instead)
RAW_SECTIONS = ("inputs", "aggregates", "paths")


class Incremental:
    """The cache as ``pipeline.py build`` uses it: each stage's key, lookup, store and restore.

    Each method runs one stage (the function given) or restores its outputs
    from a checked entry, and records in :attr:`outcome` what happened:
    ``{"status": "cached", "key": ...}`` for a stage taken from the cache, or
    ``{"key": ..., "cache": why it ran}`` (``no entry``, ``inputs changed``,
    ``forced``, ``corrupt: ...``). :attr:`keys` holds every key computed.
    """

    def __init__(self, cfg: Config, audience: str, versions: Mapping[str, str], *, force: bool = False,
                 logger: logging.Logger | None = None, echo: Callable[[str], None] = print) -> None:
        self.cfg = cfg
        self.audience = audience
        self.logger = logger or logging.getLogger(__name__)
        self.echo = echo
        self.code = code_version(versions)
        self.cache = StageCache(Path(cfg.root) / "build" / "cache" / f"{cfg.area_slug}-{cfg.year}", force=force,
                                logger=self.logger)
        self.outcome: dict[str, dict[str, Any]] = {}
        self.keys: dict[str, str] = {}
        self.chapter_keys: dict[str, str] = {}
        self._ingest_outputs: list[str] | None = None
        self._report_inputs: dict[str, object] | None = None
        self._hashes: dict[Path, str] = {}  # files named by report.yml, hashed once per build
        #: the saved report context's cache outcome, when a stage needed it (:meth:`context`)
        self.context_outcome: dict[str, Any] | None = None

    # ------------------------------------------------------------ helpers
    @property
    def processed(self) -> Path:
        """The processed folder (``paths.processed``)."""
        return Path(self.cfg.processed_dir)

    def _skipped_folders(self) -> list[Path]:
        root = Path(self.cfg.root).resolve()
        return [Path(self.cfg.processed_dir).resolve(), Path(self.cfg.reports_dir).resolve(), root / "build",
                root / "logs"]

    def _components(self, section: str, skip: Iterable[str]) -> dict[str, object]:
        subset = config_subset(self.cfg.raw, NOT_READ[section])
        files = config_files(self.cfg, subset, skip=skip, memo=self._hashes)
        outside = self._skipped_folders()
        files = {p: h for p, h in files.items() if not any(Path(p).is_relative_to(f) for f in outside)}
        return {"code": self.code, "config": subset, "config_folder": str(Path(self.cfg.root).resolve()),
                "year": self.cfg.year, "files": files}

    def _lookup(self, stage_id: str, key: str) -> Lookup:
        found = self.cache.lookup(stage_id, key)
        self.keys[stage_id] = key
        if found.corrupt:
            message = f"cache entry {stage_id} is corrupt ({found.reason.removeprefix('corrupt: ')}): rebuilding it"
            self.logger.warning(message)
            self.echo(f"      {message}")
        else:
            self.logger.info("cache %s: %s (key %s)", stage_id, found.reason, key[:16])
        return found

    def _store(self, stage_id: str, key: str, files: Mapping[str, Path], meta: EntryMeta | None = None,
               components: Mapping[str, object] | None = None) -> Entry | None:
        """Store an entry; a cache that cannot be written never fails the build (it is logged)."""
        try:
            return self.cache.store(stage_id, key, files, meta=meta, components=components)
        except OSError as exc:
            self.logger.warning("cache entry %s not saved: %s", stage_id, exc)
            return None

    def _note(self, stage: str, key: str, found: Lookup) -> None:
        if found.entry is not None:
            self.outcome[stage] = {"status": "cached", "key": key}
        else:
            self.outcome[stage] = {"key": key, "cache": found.reason}

    # ------------------------------------------------------------ stages
    def ingest(self, run: Callable[[Config], IngestResult]) -> IngestResult | CachedIngest:
        """Ingest every input (one entry: the inputs are checked against each other), or restore the tables."""
        comps = self.ingest_components()
        key = stage_key("ingest", comps)
        found = self._lookup("ingest", key)
        self._note("ingest", key, found)
        if found.entry is not None:
            names = list(found.entry.meta["outputs"])
            restore(found.entry, {n: self.processed / n for n in names})
            self._remove_stale_tables(names)
            self._ingest_outputs = names
            report = json.loads((self.processed / "ingest_report.json").read_text(encoding="utf-8"))
            return CachedIngest(failed=dict(found.entry.meta.get("failed") or {}), report=report,
                                outputs=[self.processed / n for n in names])
        result = run(self.cfg)
        outputs = [Path(p) for p in result.outputs if Path(p).is_file()]
        names = [p.name for p in outputs]
        self._ingest_outputs = names
        if comps["pseudonym_key"] is None:  # the run created the key: store under the key the next build computes
            comps = self.ingest_components()
            key = stage_key("ingest", comps)
            self.outcome["ingest"]["key"] = key
        self._store("ingest", key, {p.name: p for p in outputs},
                    meta={"outputs": names, "failed": dict(result.failed)}, components=comps)
        return result

    def ingest_components(self) -> dict[str, object]:
        """What ingest reads: the configuration (but the report's words, the site, the disclosure rules,
        the editorial files, targets, population and benchmarks), the files it names (the raw inputs),
        the pseudonymisation key's hash, and today's date."""
        from safeguarding.ingest.pseudonym import key_file_path

        comps = self._components("ingest", skip=())
        key_file = key_file_path(self.cfg)
        # the pseudonyms depend on the secret key: its hash (never the key) is in the key
        comps["pseudonym_key"] = file_sha256(key_file) if key_file.is_file() else None
        # dates after today are rejected, unless ingest.max_date is set
        comps["today"] = None if self.cfg.ingest.max_date else dt.date.today().isoformat()
        return comps

    def indicators_components(self) -> dict[str, object]:
        """What the indicators read: the configuration and the processed tables (by content)."""
        if self._ingest_outputs is not None:
            tables = [n for n in self._ingest_outputs if n.endswith(".parquet")]
        else:
            tables = [p.name for p in self.processed.glob("*.parquet") if p.stem in _ingest_tables()]
        return {**self._components("indicators", skip=RAW_SECTIONS), "tables": self._upstream(tables)}

    def disclosure_components(self) -> dict[str, object]:
        """What disclosure control reads: the configuration, the audience and ``indicators.parquet``."""
        return {**self._components("disclosure", skip=RAW_SECTIONS), "audience": self.audience,
                "indicators": self._upstream(["indicators.parquet"])}

    def chapter_components(self, nb: Path) -> dict[str, object]:
        """What a chapter reads (:meth:`report_inputs`) and its notebook but the Markdown's text."""
        return {**self.report_inputs(), "chapter": nb.name, "notebook_code": notebook_code_digest(nb.read_bytes())}

    def plan(self, notebooks: Iterable[Path] = ()) -> dict[str, str]:
        """The keys of ingest, indicators, disclosure, ``notebooks``' chapters and the data files for the
        files as they are now, without running or storing anything (what a build would look up)."""
        keys = {"ingest": stage_key("ingest", self.ingest_components()),
                "indicators": stage_key("indicators", self.indicators_components()),
                "disclosure": stage_key("disclosure", self.disclosure_components())}
        keys.update({f"chapters/{nb.stem}": stage_key("chapter", self.chapter_components(nb)) for nb in notebooks})
        keys["data"] = stage_key("data", dict(self.report_inputs()))
        return keys

    def _remove_stale_tables(self, names: list[str]) -> None:
        """As ingest does: a table this run does not produce is never left looking current."""
        for target in (f"{n}.parquet" for n in _ingest_tables()):
            if target not in names:
                (self.processed / target).unlink(missing_ok=True)

    def _upstream(self, names: Iterable[str]) -> dict[str, str | None]:
        return {n: content_digest(self.processed / n) if (self.processed / n).is_file() else None
                for n in sorted(names)}

    def indicators(self, run: Callable[[Config], pd.DataFrame]) -> pd.DataFrame | Path:
        """Compute the indicators from the processed tables, or restore ``indicators.parquet`` and ``.csv``."""
        comps = self.indicators_components()
        key = stage_key("indicators", comps)
        found = self._lookup("indicators", key)
        self._note("indicators", key, found)
        names = ["indicators.parquet", "indicators.csv"]
        if found.entry is not None:
            restore(found.entry, {n: self.processed / n for n in names})
            return self.processed / "indicators.parquet"
        table = run(self.cfg)
        self.logger.info("indicators: %d rows", len(table))
        self._store("indicators", key, {n: self.processed / n for n in names}, components=comps)
        return table

    def disclosure(self, run: Callable[[Config, str, dict[str, object]], Path], stats: dict[str, object]) -> Path:
        """Apply disclosure control for the audience, or restore its table (and the public summary)."""
        from safeguarding.published_data import publication_path, suppressed_path

        comps = self.disclosure_components()
        key = stage_key("disclosure", comps)
        stage_id = f"{self.audience}/disclosure"
        found = self._lookup(stage_id, key)
        self._note("disclosure", key, found)
        table = suppressed_path(self.cfg, self.audience)
        if found.entry is not None:
            restore(found.entry, {n: self.processed / n for n in found.entry.files})
            stats.update(found.entry.meta.get("stats") or {})
            return table
        path = run(self.cfg, self.audience, stats)
        files = {table.name: table}
        summary = publication_path(self.cfg)
        if self.audience == "public" and summary.is_file():
            files[summary.name] = summary
        self._store(stage_id, key, files, meta={"stats": stats}, components=comps)
        return path

    def context_components(self) -> dict[str, object]:
        """What the saved report context is made of (:mod:`safeguarding.report.prepared`): the code, the
        configuration file, year and audience, ``indicators.parquet`` and, for the public audience only,
        its disclosure-controlled table (a board context reads no disclosure-controlled table)."""
        from safeguarding.report.prepared import source_files

        files = source_files(self.cfg, self.audience)
        return {"code": self.code, "config_file": str(Path(self.cfg.path).resolve()), "year": self.cfg.year,
                "audience": self.audience, "processed": self._upstream(p.name for p in files.values())}

    def context(self, save: Callable[[], Path], folder: Path) -> Path:
        """Save the audience's report context in ``folder`` (``save``), or restore it from the cache."""
        comps = self.context_components()
        key = stage_key("context", comps)
        stage_id = f"{self.audience}/context"
        found = self._lookup(stage_id, key)
        self.context_outcome = {"status": "cached", "key": key} if found.entry is not None else {
            "key": key, "cache": found.reason}
        if found.entry is not None:
            restore(found.entry, {n: folder / n for n in found.entry.files})
            return folder
        save()
        self._store(stage_id, key, {p.name: p for p in sorted(folder.iterdir()) if p.is_file()}, components=comps)
        return folder

    def report_inputs(self) -> dict[str, object]:
        """What every chapter and the data files read: the configuration, the files it names (editorial,
        reference data; not the raw inputs, read through ingest), ``ground_truth.json`` beside an input,
        and the processed folder's files (not the other audience's table, nor the Markdown reports
        written for people)."""
        if self._report_inputs is None:
            other = "board" if self.audience == "public" else "public"
            names = [p.name for p in sorted(self.processed.iterdir()) if p.is_file() and not p.name.startswith(".")
                     and p.suffix != ".md" and p.name != f"indicators_{other}.parquet"]
            # the one raw-side file the chapters read: ground_truth.json beside an input says it is synthetic
            # (safeguarding/report/sections/voice.py); the raw tables themselves are read through ingest
            beside = {str(p): file_sha256(p) for p in sorted({
                self.cfg.resolve(spec.file).parent / "ground_truth.json"
                for spec in self.cfg.inputs.values()}) if p.is_file()}
            self._report_inputs = {**self._components("report", skip=RAW_SECTIONS), "audience": self.audience,
                                   "beside_inputs": beside, "processed": self._upstream(names)}
        return self._report_inputs

    def notebooks(self, notebooks: list[Path], out_dir: Path, runs: Path, params: Mapping[str, object],
                  execute: Callable[[list[Path], list[Path], list[dict[str, object]]], None]) -> None:
        """Execute the chapters whose inputs changed (each in ``runs/<chapter>``), restore the others, and
        gather every chapter's notebook and figures in ``out_dir``."""
        todo: list[tuple[Path, str, str, dict[str, object], Lookup]] = []
        hits: dict[str, Entry] = {}
        chapters: dict[str, Any] = {}
        out_dir.mkdir(parents=True, exist_ok=True)
        for nb in notebooks:
            text = nb.read_bytes()
            comps = self.chapter_components(nb)
            key = stage_key("chapter", comps)
            stage_id = f"{self.audience}/chapters/{nb.stem}"
            self.chapter_keys[nb.name] = f"{key}:{sha256_bytes(text)}"  # the publish key covers the Markdown too
            found = self._lookup(stage_id, key)
            if found.entry is not None and found.entry.meta.get("source_sha256") == sha256_bytes(text):
                hits[nb.name] = found.entry
            elif found.entry is not None and self._new_commentary(nb, text, found.entry, out_dir, stage_id, comps):
                chapters[nb.name] = {"status": "commentary", "key": key}
            else:
                todo.append((nb, stage_id, key, comps, found))
        dirs = [runs / nb.stem for nb, *_ in todo]
        for d in dirs:
            shutil.rmtree(d, ignore_errors=True)
            d.mkdir(parents=True)
        sources = {nb.name: sha256_bytes(nb.read_bytes()) for nb, *_ in todo}  # before a kernel could change it
        try:
            execute([t[0] for t in todo], dirs, [{**params, "build_dir": str(d)} for d in dirs])
        except Exception:  # a chapter failed: the others that ran to the end are kept for the next build
            for (nb, stage_id, key, comps, _), d in zip(todo, dirs, strict=True):
                if _ran_cleanly(d / nb.name):
                    files = {p.relative_to(d).as_posix(): p for p in sorted(d.rglob("*")) if p.is_file()}
                    self._store(stage_id, key, files, meta={"source_sha256": sources[nb.name]}, components=comps)
            raise
        for (nb, stage_id, key, comps, found), d in zip(todo, dirs, strict=True):
            files = {p.relative_to(d).as_posix(): p for p in sorted(d.rglob("*")) if p.is_file()}
            self._store(stage_id, key, files, meta={"source_sha256": sources[nb.name]}, components=comps)
            shutil.copytree(d, out_dir, dirs_exist_ok=True)
            chapters[nb.name] = {"status": "ok", "key": key, "cache": found.reason}
        for nb in notebooks:
            if nb.name in hits:
                entry = hits[nb.name]
                restore(entry, {n: out_dir / n for n in entry.files})
                chapters[nb.name] = {"status": "cached", "key": entry.key}
        ordered = {nb.name: chapters[nb.name] for nb in notebooks}
        n_cached = len(hits)
        refreshed = sum(1 for c in ordered.values() if c["status"] == "commentary")
        status = "cached" if notebooks and n_cached == len(notebooks) else "ok"
        self.outcome["notebooks"] = {"status": status, "chapters": ordered}
        if self.context_outcome is not None:
            self.outcome["notebooks"]["context"] = self.context_outcome
        if status != "cached":
            note = f"{n_cached} of {len(notebooks)} chapters from cache"
            if refreshed:
                note += f", {refreshed} with new commentary (Markdown only: not executed)"
            self.outcome["notebooks"]["note"] = note

    def _new_commentary(self, nb: Path, text: bytes, entry: Entry, out_dir: Path, stage_id: str,
                        comps: Mapping[str, object]) -> bool:
        """Only the chapter's Markdown changed: restore its executed notebook and figures with the new text.

        The code cells and everything they read are unchanged (the key), so their outputs are too; the
        Markdown cells are never executed. The refreshed notebook replaces the entry. False when the
        cells do not match (the chapter is then executed).
        """
        executed_name = nb.name
        if executed_name not in entry.files:
            return False
        try:
            executed = json.loads(entry.files[executed_name].read_text(encoding="utf-8"))
            spliced = splice_markdown(executed, json.loads(text))
        except (OSError, ValueError):
            return False
        if spliced is None:
            return False
        restore(entry, {n: out_dir / n for n in entry.files if n != executed_name})
        target = out_dir / executed_name
        target.write_text(json.dumps(spliced, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        self.logger.info("chapter %s: only its Markdown changed; not executed", nb.name)
        self._store(stage_id, entry.key, {n: out_dir / n for n in entry.files},
                    meta={**entry.meta, "source_sha256": sha256_bytes(text)}, components=comps)
        return True

    def publish(self, run: Callable[[], dict[str, str]], renderer: str, meta: Mapping[str, object],
                quarto_yml: Path, staging: Path, record: dict[str, object]) -> dict[str, str]:
        """Publish the HTML and PDF, or restore them: keyed by the chapters' keys (what the executed
        notebooks were made from), the cover and chapter list, ``_quarto.yml`` and the renderer.

        ``record`` is the run's record (``run.json``): the renderer's warnings are added to its ``warnings``
        (a list) and the renderer used is set.
        """
        from safeguarding.publish import choose_renderer

        chosen = choose_renderer(renderer)
        comps = {"code": self.code, "audience": self.audience, "renderer": chosen,
                 "quarto": _quarto_version() if chosen == "quarto" else None,
                 "metadata": dict(meta), "quarto_yml": file_sha256(quarto_yml),
                 "today": dt.date.today().isoformat() if _dated_today(meta, quarto_yml) else None,
                 "chapters": dict(self.chapter_keys)}
        key = stage_key("publish", comps)
        stage_id = f"{self.audience}/publish"
        found = self._lookup(stage_id, key)
        self._note("publish", key, found)
        if found.entry is not None:
            m = found.entry.meta
            restore(found.entry, {n: staging / n for n in found.entry.files})
            _warnings(record).extend(m.get("warnings") or [])
            record["renderer_used"] = m.get("renderer")
            return {"html": str(staging / m["html"]), "pdf": str(staging / m["pdf"])}
        before = len(_warnings(record))
        out = run()
        html, pdf = Path(out["html"]), Path(out["pdf"])
        used = record.get("renderer_used")  # the renderer's name (set by run), None if it did not say
        self._store(stage_id, key, {html.name: html, pdf.name: pdf},
                    meta={"html": html.name, "pdf": pdf.name, "warnings": [str(w) for w in _warnings(record)[before:]],
                          "renderer": used if isinstance(used, str) else None}, components=comps)
        return out

    def data(self, run: Callable[[], list[Path]], data_dir: Path) -> list[Path]:
        """Write the published data files, or restore them (keyed as the chapters are, without a notebook)."""
        comps = dict(self.report_inputs())
        key = stage_key("data", comps)
        stage_id = f"{self.audience}/data"
        found = self._lookup(stage_id, key)
        self._note("data", key, found)
        if found.entry is not None:
            order = list(found.entry.meta["order"])
            return restore(found.entry, {n: data_dir / n for n in order})
        files = [Path(p) for p in run()]
        self._store(stage_id, key, {p.relative_to(data_dir).as_posix(): p for p in files},
                    meta={"order": [p.relative_to(data_dir).as_posix() for p in files]}, components=comps)
        return files
