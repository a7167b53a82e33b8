"""The run's log (``logs/<run id>/build.log``) and record (``run.json``)."""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path
from typing import Any


def _run_logger(run_id: str, path: Path) -> logging.Logger:
    logger = logging.getLogger(f"safeguarding.build.{run_id}")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger.addHandler(handler)
    return logger


def _fail(record: dict[str, Any], stage: str, message: str, log_dir: Path, logger: logging.Logger) -> None:
    record["stages"][stage] = {"status": "failed", "error": message}
    record["outcome"] = f"failed at {stage}"
    record["finished"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    logger.error("build failed at %s: %s", stage, message)
    _write_record(record, log_dir)


def _write_record(record: dict[str, Any], log_dir: Path) -> None:
    (log_dir / "run.json").write_text(json.dumps(record, indent=2, default=str), encoding="utf-8")
