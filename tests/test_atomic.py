"""Every write is atomic: a full disk names the file and the free space and leaves the previous file intact.

Before, a full disk during ingest gave a traceback and left truncated and empty
Parquet files that the next stage would read.
"""

from __future__ import annotations

import errno
import hashlib

import pandas as pd
import pytest
from e2e import demo_config_copy

from safeguarding.atomic import WriteError, atomic_path, write_text_atomic
from safeguarding.config import load_config


def test_a_failed_write_leaves_the_previous_file_and_no_temporary_file(tmp_path):
    target = tmp_path / "report.json"
    write_text_atomic(target, "previous")
    with pytest.raises(WriteError, match=r"cannot write .*report\.json: the disk is full \(.* free\)"):
        with atomic_path(target) as tmp:
            tmp.write_text("half a new fi", encoding="utf-8")
            raise OSError(errno.ENOSPC, "No space left on device")
    assert target.read_text(encoding="utf-8") == "previous"
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


def test_disk_full_during_ingest_leaves_the_previous_tables_readable(tmp_path, monkeypatch):
    from safeguarding.ingest import run_ingest

    cfg = load_config(demo_config_copy(tmp_path))
    run_ingest(cfg)
    processed = tmp_path / "processed"
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in processed.glob("*.parquet")}
    assert "referrals.parquet" in before

    real = pd.DataFrame.to_parquet

    def full_disk(self, path, *args, **kwargs):
        with open(path, "wb") as f:  # a disk that fills up part-way through the file
            f.write(b"PAR1 truncated")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", full_disk)
    with pytest.raises(WriteError, match=r"\.parquet: the disk is full"):
        run_ingest(cfg)
    monkeypatch.setattr(pd.DataFrame, "to_parquet", real)
    after = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in processed.glob("*.parquet")}
    assert after == before, "a Parquet table was truncated or replaced by a failed write"
    assert not [p for p in processed.iterdir() if ".tmp-" in p.name], "temporary files were left behind"
    for name in before:
        pd.read_parquet(processed / name)  # every table still reads
