"""``pipeline.py build``: ingest, indicators, notebooks and publishing in one run.

The build reads like the method: load the configuration, ingest the raw files,
compute the indicators, execute the chapter notebooks with papermill, publish
the HTML and PDF, write the published (suppressed) data, and only then replace
the previously published report. Every run gets a run id and a log
(``logs/<run id>/``) recording the configuration, package versions, input file
hashes, stage timings and the outcome. If any stage fails the exit status is
non-zero, the message says which stage and why, and the last published report
is left exactly as it was.

The package, one job a module: :mod:`~safeguarding.build.cli` (the command's options and exit status),
:mod:`~safeguarding.build.driver` (the lock, the run and the stages in order), :mod:`~safeguarding.build.stages`
(each stage), :mod:`~safeguarding.build.notebooks` (papermill, in worker processes),
:mod:`~safeguarding.build.processes` (stopping what a build started), :mod:`~safeguarding.build.record`
(``build.log`` and ``run.json``), :mod:`~safeguarding.build.project` (what the build reads from the project
folder) and :mod:`~safeguarding.build.outcome` (the result and the errors).
"""

from __future__ import annotations

from safeguarding.build.cli import add_arguments, run
from safeguarding.build.driver import STAGES, build
from safeguarding.build.notebooks import DEFAULT_JOBS, KERNEL_START_ATTEMPTS, _execute_all, _execute_one
from safeguarding.build.outcome import BuildError, BuildInterrupted, BuildResult
from safeguarding.build.processes import descendants, stop_descendants
from safeguarding.build.project import (
    NOTEBOOK_DIR,
    OPTIONAL_CHAPTERS,
    QUARTO_YML,
    RECORDED_PACKAGES,
    SKELETON,
    chapter_notebooks,
    chapters_left_out,
    check_editorial,
    input_files,
    output_dir_for,
    package_versions,
    project_notebooks,
    project_quarto_yml,
)
from safeguarding.build.stages import (
    _stage_disclosure,
    _stage_indicators,
    _stage_ingest,
    _stage_notebooks,
    _stage_publish,
    _stage_replace,
    _stage_site,
    context_folder,
    cover_status,
    publication_lines,
    publish_metadata,
    write_findings,
    write_front_matter,
)

__all__ = [
    "DEFAULT_JOBS",
    "KERNEL_START_ATTEMPTS",
    "NOTEBOOK_DIR",
    "OPTIONAL_CHAPTERS",
    "QUARTO_YML",
    "RECORDED_PACKAGES",
    "SKELETON",
    "STAGES",
    "BuildError",
    "BuildInterrupted",
    "BuildResult",
    "_execute_all",
    "_execute_one",
    "_stage_disclosure",
    "_stage_indicators",
    "_stage_ingest",
    "_stage_notebooks",
    "_stage_publish",
    "_stage_replace",
    "_stage_site",
    "add_arguments",
    "build",
    "chapter_notebooks",
    "chapters_left_out",
    "check_editorial",
    "context_folder",
    "cover_status",
    "descendants",
    "input_files",
    "output_dir_for",
    "package_versions",
    "project_notebooks",
    "project_quarto_yml",
    "publication_lines",
    "publish_metadata",
    "run",
    "stop_descendants",
    "write_findings",
    "write_front_matter",
]
