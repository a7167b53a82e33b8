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


@pytest.fixture(autouse=True, scope="session")
def _pseudonym_key(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Tests never touch the developer's real pseudonymisation key."""
    import os

    key = tmp_path_factory.mktemp("key") / "pseudonym.key"
    old = os.environ.get("SAFEGUARDING_KEY_FILE")
    os.environ["SAFEGUARDING_KEY_FILE"] = str(key)
    yield
    if old is None:
        os.environ.pop("SAFEGUARDING_KEY_FILE", None)
    else:
        os.environ["SAFEGUARDING_KEY_FILE"] = old


def require_tools() -> bool:
    """True in CI (``.ci/run`` sets SAFEGUARDING_REQUIRE_TOOLS=1): missing tools fail instead of skipping."""
    import os

    return os.environ.get("SAFEGUARDING_REQUIRE_TOOLS") == "1"


def skip_or_fail(reason: str) -> None:
    """Skip locally, fail in CI."""
    if require_tools():
        pytest.fail(reason + " (required in CI: .ci/run installs it)")
    pytest.skip(reason)
