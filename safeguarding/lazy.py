"""Names of a package imported from their modules on first use (PEP 562), for the package ``__init__`` files.

A chapter kernel that needs one small module of a package (the disclosure
policy, the catalogue) should not pay for the package's heavy parts (the
suppression machinery, the indicator engine, the ingest). Each such
``__init__`` lists where its names live and takes its ``__getattr__`` and
``__dir__`` from :func:`lazy_names`; the type checker sees the names through
imports under ``TYPE_CHECKING``.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable, Mapping


def lazy_names(package: str, homes: Mapping[str, str],
               names: Iterable[str]) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package``: each name of ``homes`` imported from ``package.<home>`` once.

    A name is looked up in its module the first time it is asked for, then
    kept in the package, so the next look-up is an ordinary attribute.
    ``names`` (the package's ``__all__``) are listed by ``dir()`` before
    they are imported.
    """
    listed = tuple(names)

    def getattr_(name: str) -> object:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{home}"), name)
        setattr(sys.modules[package], name, value)
        return value

    def dir_() -> list[str]:
        return sorted({*vars(sys.modules[package]), *listed})

    return getattr_, dir_
