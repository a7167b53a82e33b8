"""The report layer: what the chapter notebooks call to show tables, charts and sentences.

``ReportContext`` and ``sections`` are imported when first used, and each chapter module of
``sections`` on its own, so that a chapter's kernel imports only what the chapter needs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from safeguarding.report import sections
    from safeguarding.report.context import ReportContext

__all__ = ["ReportContext", "sections"]


def __getattr__(name: str) -> Any:
    """``ReportContext`` and ``sections``, imported on first use."""
    if name == "ReportContext":
        return importlib.import_module("safeguarding.report.context").ReportContext
    if name == "sections":
        return importlib.import_module("safeguarding.report.sections")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
