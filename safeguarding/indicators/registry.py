"""The register of indicator methods: each method is declared by the decorator next to its definition.

A method turns the processed tables into :class:`~safeguarding.indicators.context.Events` for one catalogue
entry (``method:`` in ``catalogue.yml``)::

    @method("cpp_started", table="cp_plans")
    def cpp_started(ctx: Context, ind: Indicator) -> Events:
        ...

``table`` is the table whose rows the method counts (it decides the chapter and the valid breakdowns);
``breakdowns`` lists the breakdowns only this method computes (it counts something other than the table's
rows); ``frequencies`` restricts the periods it can be summed over. A local method (``local=True``: the
``count`` and ``ratio`` of report.yml's own indicators) takes its table from the entry.

The methods live in ``safeguarding/indicators/methods/``, one module per source table; importing that package
registers them all (:func:`registered` does so).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from safeguarding.indicators.catalogue import Indicator
    from safeguarding.indicators.context import Context, Events

MethodFunction = Callable[["Context", "Indicator"], "Events"]

#: the method of partners' aggregate returns: not computed from a table, so never registered here
AGGREGATE = "aggregate"


class MethodError(LookupError):
    """A method name is registered twice, or is not registered at all."""


@dataclass(frozen=True)
class Method:
    """One registered method: its name, function and declarations (see the module docstring)."""

    name: str
    function: MethodFunction
    table: str | None  # None for a local method: the entry names its table
    breakdowns: tuple[str, ...] | None = None
    frequencies: tuple[str, ...] | None = None
    module: str = ""

    @property
    def local(self) -> bool:
        """True for a method of report.yml's local indicators (``count``, ``ratio``)."""
        return self.table is None


_REGISTRY: dict[str, Method] = {}


def method(*names: str, table: str | None, breakdowns: tuple[str, ...] | None = None,
           frequencies: tuple[str, ...] | None = None) -> Callable[[MethodFunction], MethodFunction]:
    """Register the decorated function as the method(s) ``names`` (one function may serve several names).

    ``table=None`` declares a local method. Raises :class:`MethodError` when a name is already registered
    (by another function: importing the same module twice is harmless) or when no name is given.
    """
    if not names:
        raise MethodError("@method needs at least one method name")

    def register(fn: MethodFunction) -> MethodFunction:
        where = f"{fn.__module__}.{fn.__qualname__}"
        for name in names:
            old = _REGISTRY.get(name)
            if old is not None and f"{old.module}.{old.function.__qualname__}" != where:
                raise MethodError(f"method {name!r} is registered twice: by {old.module}."
                                  f"{old.function.__qualname__} and by {where}; give the new one another name")
            _REGISTRY[name] = Method(name, fn, table, breakdowns, frequencies, fn.__module__)
        return fn

    return register


def registered() -> dict[str, Method]:
    """Every registered method by name (imports ``safeguarding.indicators.methods``, which registers them)."""
    import safeguarding.indicators.methods  # noqa: F401  (registers every method)

    return dict(_REGISTRY)


def get_method(name: str) -> Method:
    """The method registered as ``name``; :class:`MethodError` listing the valid names when there is none."""
    methods = registered()
    if name not in methods:
        raise MethodError(f"unknown method {name!r}: no function is registered under that name; valid: "
                          f"{', '.join(sorted(methods))} (declare a new one with @method in "
                          f"safeguarding/indicators/methods/)")
    return methods[name]


def unregister(name: str) -> None:
    """Remove a method (for tests that register a throwaway one)."""
    _REGISTRY.pop(name, None)
