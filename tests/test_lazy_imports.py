"""A chapter kernel imports only what it needs (issue 19): the package ``__init__``s import their names on first use.

``safeguarding.indicators`` and ``safeguarding.disclosure`` name their public functions in ``__all__`` and import
each from its module when it is first asked for (PEP 562), so that a kernel that needs only the catalogue or the
disclosure policy does not import the engine, the ingest or the suppression machinery.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]

#: modules a chapter's first import must not pull in (the engine and ingest, the suppression solver, the
#: statistics and chart libraries)
NOT_AT_FIRST_CELL = ("safeguarding.ingest", "safeguarding.indicators.engine", "safeguarding.disclosure.tables",
                     "safeguarding.disclosure.secondary", "statsmodels", "scipy", "matplotlib")


def test_a_chapters_first_import_does_not_import_the_engine_ingest_or_statistics():
    code = ("import json, sys\nfrom safeguarding.report import ReportContext, sections\n"
            "print(json.dumps(sorted(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=PROJECT)
    loaded = set(json.loads(out.stdout.strip().splitlines()[-1]))
    assert "safeguarding.report.context" in loaded
    assert not [m for m in NOT_AT_FIRST_CELL if m in loaded]


@pytest.mark.parametrize("package", ["safeguarding.indicators", "safeguarding.disclosure", "safeguarding.ingest",
                                     "safeguarding.stats"])
def test_every_name_of_a_lazy_package_is_importable_from_it(package):
    module = importlib.import_module(package)
    for name in module.__all__:
        value = getattr(module, name)
        home = getattr(value, "__module__", None)
        if home is not None and home.startswith(package):
            assert getattr(importlib.import_module(home), name) is value
        assert name in dir(module)
    with pytest.raises(AttributeError, match="no attribute"):
        module.no_such_name  # noqa: B018
