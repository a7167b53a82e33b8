"""The stages of a build after the configuration is loaded: ingest, indicators, disclosure, notebooks,
publish, data, replace and site (each from the cache when its inputs are unchanged)."""

from __future__ import annotations

import logging
import shutil
import time
import traceback
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NotRequired, TypedDict

from safeguarding.build.notebooks import ChapterWorkers, _execute_all
from safeguarding.build.outcome import BuildError
from safeguarding.build.project import chapter_notebooks, project_notebooks, project_quarto_yml
from safeguarding.cache import Incremental
from safeguarding.config import Config
from safeguarding.settings import ReportSettings


def _stage_ingest(cfg: Config, allow_missing: bool, record: dict[str, Any], logger: logging.Logger,
                  inc: Incremental | None = None) -> Any:
    from safeguarding.ingest import run_ingest

    result = inc.ingest(run_ingest) if inc is not None else run_ingest(cfg)
    fatal = list(getattr(result, "failed", None) or [])
    summary = getattr(result, "summary", None)
    if callable(summary):
        logger.info("ingest summary:\n%s", summary())
    if fatal:
        names = ", ".join(str(f) for f in fatal)
        if not allow_missing:
            raise BuildError(
                "ingest",
                f"these input tables could not be built: {names}. See {cfg.processed_dir / 'ingest_report.md'}. "
                "Fix the inputs, or rerun with --allow-missing-inputs to publish with those sections "
                "marked 'not available'.",
            )
        record["warnings"].append(f"published without input tables: {names}")
    if "survey" not in cfg.inputs:  # optional: the report leaves its section out, and says so here
        from safeguarding.report.sections.voice import ABSENT_WARNING

        record["warnings"].append(ABSENT_WARNING)
    # rows kept with a value the code lists do not know: say so on screen, with where the mapping goes
    report = getattr(result, "report", None) or {}
    for entry in report.get("inputs") or []:
        said = [w for w in entry.get("warnings") or [] if "kept with a coded value" in w]
        if entry.get("rows_kept_with_unknown") and said:
            record["warnings"].append(f"ingest, {entry.get('table')}: {said[0]}")
    return result


def _stage_indicators(cfg: Config, logger: logging.Logger, inc: Incremental | None = None,
                      on_compute: Callable[[], None] | None = None) -> Any:
    """Compute the indicators (or take them from the cache); ``on_compute`` is called first when they are
    computed (the build then starts its chapter workers: :class:`~safeguarding.build.notebooks.ChapterWorkers`)."""
    from safeguarding.indicators import run_indicators

    def run(config: Config) -> Any:
        if on_compute is not None:
            on_compute()
        return run_indicators(config)

    if inc is not None:
        return inc.indicators(run)
    table = run(cfg)
    logger.info("indicators: %d rows", len(table))
    return table


def _stage_disclosure(cfg: Config, audience: str, record: dict, logger: logging.Logger,
                      inc: Incremental | None = None, jobs: int | None = None,
                      on_compute: Callable[[], None] | None = None) -> Path:
    """Protect the figures (or take the protected table from the cache); ``on_compute`` as for
    :func:`_stage_indicators`."""
    from safeguarding.published_data import disclosure_controlled

    stats: dict = {}

    def run(config: Config, aud: str, into: dict) -> Path:
        if on_compute is not None:
            on_compute()
        # the processes the chapters may use protect the figures first (the same table whatever their number)
        return disclosure_controlled(config, aud, into, workers=jobs)

    if inc is not None:
        path = inc.disclosure(run, stats)
    else:
        path = run(cfg, audience, stats)
    if stats:
        record["disclosure"] = stats
        logger.info("disclosure control: %s", stats)
        if stats.get("unverified_cells"):
            message = (f"disclosure control: {stats['unverified_cells']:,} hidden cells lie in "
                       f"{stats['unverified_groups']} groups of linked cells too large for the full check; "
                       "each relation on its own was checked, combinations of relations were not "
                       "(see the README, Disclosure control)")
            record["warnings"].append(message)
            logger.warning(message)
    return path


def publication_lines(summary: dict | None) -> list[str]:
    """The disclosure summary as the build prints it: cells published and withheld by level, and withheld headlines."""
    if not summary:
        return []
    lines = ["      published / withheld (c) / not published (x), by level:"]
    for row in summary.get("by_level", []):
        lines.append(f"        {row['period_type']:<10} {row['level']:<9} {row['published']:>7,} / "
                     f"{row['withheld']:>6,} / {row['not_published']:>7,}")
    withheld = summary.get("headline_withheld", [])
    lines.append(f"      annual headline figures withheld (reporting year and the year before): {len(withheld)}")
    lines += [f"        - {w['indicator_id']} ({w['year_end']}): {w['reason']}" for w in withheld]
    detail = summary.get("detail_withheld", [])
    if detail:
        lines.append(f"      detail withheld (x) so that the annual headline figures can be published: {len(detail)} "
                     "series")
        by_level: dict[str, list[str]] = {}
        for d in detail:
            name = d["indicator_id"] + ("" if d["breakdown"] == "all" else f" by {d['breakdown']}")
            by_level.setdefault(d["level"], []).append(name)
        lines += [f"        - {level}: {', '.join(names)}" for level, names in by_level.items()]
    return lines


def _stage_notebooks(cfg: Config, audience: str, work: Path, logger: logging.Logger,
                     log_dir: Path | None = None, leave_out: list[str] | tuple[str, ...] = (),
                     inc: Incremental | None = None, jobs: int | None = None,
                     workers: ChapterWorkers | None = None) -> Path:
    """Execute the chapter notebooks into ``work/chapters`` (each chapter's figures in its ``figures/``).

    With ``inc``, a chapter whose inputs are unchanged is copied from the cache instead; each chapter
    runs in its own folder (``work/runs/<chapter>``) so that its notebook and figures are cached together.
    ``workers``: the build's chapter workers, started ahead with their kernels (the caller closes them).
    """

    folder = project_notebooks(cfg)
    notebooks = chapter_notebooks(folder)
    if not notebooks:
        raise BuildError("notebooks", f"no chapter notebooks (NN-name.ipynb) found in {folder}")
    logger.info("chapters from %s", folder)
    if leave_out:
        logger.info("chapters left out (nothing to publish): %s", ", ".join(leave_out))
        notebooks = [nb for nb in notebooks if nb.name not in leave_out]
    out_dir = work / "chapters"
    out_dir.mkdir(parents=True, exist_ok=True)
    params = {
        "config_path": str(cfg.path.resolve()),
        "year": cfg.year,
        "audience": audience,
        "build_dir": str(out_dir),
        "saved_context": str(context_folder(work, audience)),
    }
    kernel_log = (log_dir or work) / "kernels.log"

    def execute(nbs: list[Path], dirs: Path | list[Path], ps: dict[str, Any] | list[dict[str, Any]]) -> None:
        if nbs:  # the report context, worked out once for every chapter (not at all when none runs)
            _save_context(cfg, audience, work, inc, logger)
        # the kernels import the installed package (pip install -e .), wherever the project folder is
        _execute_all(nbs, dirs, ps, logger, kernel_log, jobs=jobs, workers=workers)

    if inc is not None:
        inc.notebooks(notebooks, out_dir, work / "runs", params, execute)
        return out_dir
    execute(notebooks, out_dir, params)
    return out_dir


def context_folder(work: Path, audience: str) -> Path:
    """Where a build saves the audience's report context (:mod:`safeguarding.report.prepared`): its
    working folder, never the published report."""
    return work / "context" / audience


def _save_context(cfg: Config, audience: str, work: Path, inc: Incremental | None,
                  logger: logging.Logger | None = None) -> Path:
    """Save the report context for the chapters and the data files, once per build (from the cache when
    its inputs are unchanged); return its folder."""
    from safeguarding.report.prepared import META, save_context

    folder = context_folder(work, audience)
    if (folder / META).is_file():
        return folder
    if cfg.audience != audience:
        raise ValueError(f"the report context for {audience!r} asked of a {cfg.audience!r} configuration")
    t0 = time.perf_counter()
    if inc is not None:
        inc.context(lambda: save_context(cfg, folder), folder)
    else:
        save_context(cfg, folder)
    if logger is not None:
        logger.info("report context (%s) saved in %s in %.2f s", audience, folder, time.perf_counter() - t0)
    return folder


def _stage_publish(cfg: Config, audience: str, renderer: str, chapters: Path, staging: Path,
                   record: dict[str, Any], inc: Incremental | None = None) -> dict[str, str]:
    meta = publish_metadata(cfg, record)
    if inc is not None:
        return inc.publish(lambda: _publish_now(cfg, audience, renderer, chapters, staging, record, meta),
                           renderer, meta, project_quarto_yml(cfg), staging, record)
    return _publish_now(cfg, audience, renderer, chapters, staging, record, meta)


def publish_metadata(cfg: Config, record: Mapping[str, object]) -> dict[str, object]:
    """The title, cover and chapter list the report is published with (``report.yml``, ``_quarto.yml``).

    ``record`` is the run's record (``run.json``): its ``chapters_left_out`` (a list of notebook names).
    """
    meta: dict[str, object] = {
        "title": f"{cfg.area_name}: safeguarding children partnership annual review",
        "subtitle": f"Data report {cfg.year_label}",
    }
    meta.update(cfg.report.document_metadata())
    meta.update(cover_status(cfg.report))
    left_out = record.get("chapters_left_out")
    # a chapter with nothing to publish is not executed, so it leaves the book's list too
    if isinstance(left_out, list) and left_out:
        from safeguarding.publish.quarto_config import load_quarto_config

        listed = load_quarto_config(project_quarto_yml(cfg)).chapters
        meta["chapters"] = [name for name in listed if name not in left_out]
    return meta


def write_front_matter(cfg: Config, chapters: Path) -> Path | None:
    """Write "About this review" (``index.qmd``) into ``chapters`` with the disclosure policy's threshold, unless
    the project has its own beside ``_quarto.yml`` (then that one is published, as written)."""
    from safeguarding.publish.builtin import front_matter

    if (project_quarto_yml(cfg).parent / "index.qmd").is_file():
        return None
    policy = cfg.disclosure
    target = chapters / "index.qmd"
    target.write_text(front_matter(policy.threshold_text if policy.threshold is not None else None),
                      encoding="utf-8")
    return target


def _publish_now(cfg: Config, audience: str, renderer: str, chapters: Path, staging: Path, record: dict[str, Any],
                 meta: dict[str, Any]) -> dict[str, str]:
    from safeguarding.publish import publish

    write_front_matter(cfg, chapters)
    result = publish(chapters, staging, quarto_yml=project_quarto_yml(cfg), renderer=renderer, audience=audience,
                     metadata_overrides=meta)
    record["warnings"].extend(getattr(result, "warnings", []) or [])
    record["renderer_used"] = getattr(result, "renderer", renderer)
    return {"html": str(result.html), "pdf": str(result.pdf)}


class CoverStatus(TypedDict):
    """What the cover says about the report's standing (:func:`cover_status`)."""

    status: str
    draft: bool
    date: NotRequired[str]


def cover_status(report: ReportSettings) -> CoverStatus:
    """What the cover says about the report's standing, from ``report.yml``'s ``report`` section.

    ``status``: "Draft" or "Approved by the board on 12 June 2025", with "version 1.0" when set;
    ``date``: "Published 30 June 2025" from ``published_on`` (never the build date: without
    ``published_on`` and ``date``, the cover gives no date); ``draft``: watermark every page.
    """
    from safeguarding.publish.quarto_config import format_date_en_gb

    status = report.status
    parts = []
    if status == "draft":
        parts.append("Draft")
    elif status == "approved":
        parts.append(f"Approved by the board on {format_date_en_gb(report.approved_on)}")
    if report.version is not None:
        parts.append(f"version {report.version}")
    out: CoverStatus = {"status": ", ".join(parts), "draft": status == "draft"}
    if report.published_on is not None:
        out["date"] = f"Published {format_date_en_gb(report.published_on)}"
    elif report.date is None:
        out["date"] = ""
    return out


def _stage_data(cfg: Config, audience: str, staging: Path, inc: Incremental | None = None,
                work: Path | None = None) -> list[Path]:
    if inc is not None:
        return inc.data(lambda: _write_data(cfg, audience, staging, inc=inc, work=work), staging / "data")
    return _write_data(cfg, audience, staging, work=work)


def _write_data(cfg: Config, audience: str, staging: Path, *, inc: Incremental | None = None,
                work: Path | None = None) -> list[Path]:
    from safeguarding.disclosure.policy import Policy
    from safeguarding.published_data import write_published_data
    from safeguarding.survey import survey_readme, write_published_survey

    files = write_published_data(cfg, audience, staging / "data")
    saved = _save_context(cfg, audience, work, inc) if work is not None else None
    findings = write_findings(cfg, audience, staging / "data", saved=saved)
    survey = write_published_survey(cfg, audience, staging / "data")  # None without a survey input
    extra = [findings]
    if survey is not None:
        extra.append(survey)
        for readme in (p for p in files if p.suffix == ".txt"):
            with readme.open("a", encoding="utf-8") as fh:
                fh.write("\n" + survey_readme(cfg.disclosure if audience == "public" else Policy.unsuppressed()))
    # the README last, after the files it explains
    return [*(p for p in files if p.suffix != ".txt"), *extra, *(p for p in files if p.suffix == ".txt")]


def write_findings(cfg: Config, audience: str, out_dir: Path, *, saved: Path | None = None) -> Path:
    """Write ``findings.csv``: one row per sentence of the report that states a change, a signal, a seasonal
    pattern or a comparison, with the numbers behind it (:func:`safeguarding.report.text.findings_table`).

    The findings are worked out from the audience's disclosure-controlled table, as the chapters do;
    ``saved``: the build's saved report context for the audience (:func:`context_folder`), if any.
    """
    import tempfile

    from safeguarding.publish.writers import write_csv
    from safeguarding.report.context import ReportContext
    from safeguarding.report.text import findings_table

    with tempfile.TemporaryDirectory() as tmp:
        ctx = ReportContext.load(cfg.path, year=cfg.year, audience=audience, build_dir=tmp, saved=saved)
        table = findings_table(ctx)
    return write_csv(table, out_dir / "findings.csv")


def _stage_replace(cfg: Config, staging: Path, final_dir: Path) -> None:
    """Record the build beside its outputs (``review.json``, :func:`safeguarding.site.write_review_record`); swap."""
    from safeguarding.site import write_review_record

    write_review_record(cfg, staging)
    _replace(staging, final_dir)


def _stage_site(cfg: Config, audience: str, record: dict[str, Any], logger: logging.Logger,
                echo: Callable[[str], None]) -> None:
    """After a public year is published, rewrite the area's index, accessibility statement and sitemap.

    Never for a board build (its folder is never listed). The year is already published, so a
    failure here is a warning naming the command that rewrites the site, not a failed build.
    """
    if audience != "public":
        logger.info("site: not rewritten for a %s build", audience)
        echo(f"      the area's index is not rewritten by a {audience} build (its folder is never listed)")
        return
    from safeguarding.site import write_site

    try:
        result = write_site(cfg)
    except Exception as exc:  # the year is published either way
        logger.error("site failed:\n%s", traceback.format_exc())
        warnings = [f"the area's index was not rewritten ({type(exc).__name__}: {exc}); "
                    f"run python pipeline.py site --config {cfg.path}"]
    else:
        record["site"] = {"written": [str(p) for p in result.written], "years": [e.year for e in result.years]}
        warnings = result.warnings
    for w in warnings:
        record["warnings"].append(w)
        logger.warning(w)
        echo(f"warning: {w}")


def _replace(staging: Path, final_dir: Path) -> None:
    """Swap the staged report into place; the old one is removed only after the swap."""
    final_dir.parent.mkdir(parents=True, exist_ok=True)
    old = final_dir.parent / f".{final_dir.name}.old-{uuid.uuid4().hex[:6]}"
    if final_dir.exists():
        final_dir.rename(old)
    try:
        staging.rename(final_dir)
    except OSError:
        if old.exists():
            old.rename(final_dir)
        raise
    shutil.rmtree(old, ignore_errors=True)
