"""The build's ``--kernels N`` is also the number of processes of its disclosure stage."""

from __future__ import annotations

import logging
from pathlib import Path


def test_the_disclosure_stage_gets_the_builds_processes(monkeypatch, tmp_path):
    import safeguarding.published_data as published_data
    from safeguarding.build.stages import _stage_disclosure

    seen = []

    def fake(cfg, audience, stats, *, workers=None):
        seen.append((audience, workers))
        stats["cells"] = 1
        return Path(tmp_path / "table.parquet")

    monkeypatch.setattr(published_data, "disclosure_controlled", fake)
    record: dict = {"warnings": []}
    for jobs in (1, 3, None):
        _stage_disclosure(object(), "public", record, logging.getLogger("test"), inc=None, jobs=jobs)
    assert seen == [("public", 1), ("public", 3), ("public", None)]
    assert record["disclosure"] == {"cells": 1}
