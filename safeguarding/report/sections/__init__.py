"""One module per chapter; each function returns a Markdown block for a notebook cell.

The modules are imported when first used (``sections.referrals``), so that a chapter's kernel imports
only what the chapter calls: the appendix and the partnership chapter never import matplotlib or scipy.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from safeguarding.report.sections import (
        allegations,
        appendix,
        child_protection,
        editorial,
        partners,
        private_fostering,
        referrals,
        summary,
        voice,
    )

__all__ = ["allegations", "appendix", "child_protection", "editorial", "partners", "private_fostering", "referrals",
           "summary", "voice"]


def __getattr__(name: str) -> ModuleType:
    """Import the chapter module ``name`` on first use."""
    if name in __all__:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def import_all() -> None:
    """Import every chapter module now (a chapter kernel started ahead of its chapter does this while it
    waits: :class:`safeguarding.build.notebooks.ChapterWorkers`)."""
    for name in __all__:
        importlib.import_module(f"{__name__}.{name}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
