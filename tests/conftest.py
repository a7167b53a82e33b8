"""Shared test fixtures: where ../shared is, and small helpers."""

from __future__ import annotations

from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]
SHARED = PROJECT.parent / "shared"


@pytest.fixture(scope="session")
def shared() -> Path:
    """The read-only ../shared folder (benchmarks and formats)."""
    if not SHARED.exists():
        pytest.fail(f"../shared not found at {SHARED}: tests read real DfE files from there")
    return SHARED


@pytest.fixture(scope="session")
def project() -> Path:
    """The project root."""
    return PROJECT
