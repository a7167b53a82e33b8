"""Ingest: read the partnership's child-level extracts, validate, pseudonymise and account for every row.

``run_ingest(config)`` is the entry point; ``python pipeline.py ingest`` calls it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from safeguarding.lazy import lazy_names

if TYPE_CHECKING:  # pragma: no cover
    from safeguarding.ingest.core import IngestResult, run_ingest
    from safeguarding.ingest.errors import IngestError

__all__ = ["IngestError", "IngestResult", "run_ingest"]

#: where each name of ``__all__`` is defined: imported on first use (PEP 562), so that importing one submodule
#: (the settings check's ``safeguarding.ingest.dates``) does not import the whole ingest
_HOMES = {"IngestError": "errors", "IngestResult": "core", "run_ingest": "core"}


__getattr__, __dir__ = lazy_names(__name__, _HOMES, __all__)
