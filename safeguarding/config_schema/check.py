"""The walk over a parsed ``report.yml``: each section to its rules (:data:`_SECTIONS`), every problem returned
together (:func:`check_config`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from safeguarding.config_schema.checker import Problem, _Checker
from safeguarding.config_schema.disclosure import _disclosure, _public_keeps_secondary
from safeguarding.config_schema.inputs import _aggregates, _inputs
from safeguarding.config_schema.keys import AUDIENCES, TOP_LEVEL_KEYS
from safeguarding.config_schema.sections import (
    _age_bands,
    _area,
    _audience,
    _based_on,
    _benchmarks,
    _editorial,
    _indicators,
    _ingest,
    _paths,
    _population,
    _pseudonymisation,
    _publish,
    _report,
    _site,
    _targets,
    _year,
)

_SECTIONS: dict[str, Callable[[_Checker, Any], None]] = {
    "area": _area, "year": _year, "audience": _audience, "paths": _paths, "population": _population,
    "benchmarks": _benchmarks, "targets": _targets, "indicators": _indicators, "age_bands": _age_bands,
    "inputs": _inputs, "aggregates": _aggregates, "pseudonymisation": _pseudonymisation, "ingest": _ingest,
    "report": _report, "disclosure": _disclosure, "editorial": _editorial, "site": _site,
    "publish": _publish, "based_on": _based_on,
}


def check_config(raw: Mapping[object, object], root: Path, *, year: object = None, audience: object = None,
                 ) -> list[Problem]:
    """Every problem with a parsed ``report.yml``, in the order of the file (empty when it is fine).

    ``root`` is the (resolved) folder holding the file: output folders must be
    inside it. ``year`` and ``audience`` are the command-line overrides, checked
    too (``--year``, ``--audience``); a year is required from one or the other.
    """
    c = _Checker(Path(root))
    c.known_keys(raw, "", TOP_LEVEL_KEYS)
    for name, value in raw.items():
        if isinstance(name, str) and name in _SECTIONS:
            _SECTIONS[name](c, value)
    if year is not None:
        c.year(year, "--year")
    elif raw.get("year") is None:
        c.add("year", "is not set: give the year ending 31 March as a whole number, e.g. 2025 for 2024-25 "
                      "(or pass --year)")
    if audience is not None:
        c.choice(audience, "--audience", AUDIENCES)
    _public_keeps_secondary(c, raw, audience)
    return c.problems
