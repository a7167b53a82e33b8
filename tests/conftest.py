"""Test fixtures: the project's own copies of public reference files, and small helpers.

Nothing here (or in any test) reads a path outside the repository: the DfE and
ONS statistics are in ``data/reference/``, the interchange formats in
``tests/fixtures/`` (each folder's README gives source, release and licence).
"""

from __future__ import annotations

from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]
FIXTURES = PROJECT / "tests" / "fixtures"
REFERENCE = PROJECT / "data" / "reference"


@pytest.fixture(scope="session")
def fixtures() -> Path:
    """``tests/fixtures``: the CIN census schemas and samples, the Annex A sample, the brief's indicator codes."""
    return FIXTURES


@pytest.fixture(scope="session")
def reference() -> Path:
    """``data/reference``: the DfE and ONS published statistics the demo and the benchmark tests read."""
    return REFERENCE


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
