"""Ingest: read the partnership's child-level extracts, validate, pseudonymise and account for every row.

``run_ingest(config)`` is the entry point; ``python pipeline.py ingest`` calls it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from safeguarding.ingest.core import IngestResult, run_ingest
    from safeguarding.ingest.errors import IngestError

__all__ = ["IngestError", "IngestResult", "run_ingest"]

#: where each name of ``__all__`` is defined: imported on first use (PEP 562), so that importing one submodule
#: (the settings check's ``safeguarding.ingest.dates``) does not import the whole ingest
_HOMES = {"IngestError": "errors", "IngestResult": "core", "run_ingest": "core"}


def __getattr__(name: str) -> Any:
    """The names of ``__all__``, imported from their module on first use."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
