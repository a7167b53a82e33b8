"""The relation model declared in the catalogue: the relations a reader can use that the data cannot show alone.

The disclosure control finds most relations between published figures in
the data itself (:mod:`.relations`: breakdowns adding up to the headline,
months to quarters and years, the same count twice). Some it cannot find by
looking, because they join figures of different indicators, breakdowns or
kinds: stock-flow balances, a count that is the sum of other indicators'
counts, two band systems over the same lengths, nested thresholds (within 1
month <= within 3 months), a numerator never above its denominator, and
counts never published that are the difference of published ones (ICPCs
held less those timed: the ICPCs with no section 47 enquiry, which a note
mentions). Those are declared once, in the ``relations:`` section of the indicator
catalogue (``safeguarding/indicators/catalogue.yml``), and read here into a
:class:`RelationModel`, which the suppression and the tests use.

Every declared relation is still checked in the data, row by row, before it
is used: a declaration is a list of candidates, never an assumption.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

import yaml

from safeguarding.disclosure.primary import FIGURES


@dataclass(frozen=True)
class BandEquality:
    """Two band systems of one quantity: each pair of unions of bands is equal (same indicator, measure, period)."""

    breakdowns: tuple[str, str]
    equal: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]


@dataclass(frozen=True)
class RelationModel:
    """The declared relations (see the module docstring); every field may be empty.

    Attributes:
        balances: ``(stock, inflow, outflow)`` figures: stock at end = stock at
            previous end + inflow - outflow.
        sums: ``(total, parts)``: total = sum of parts, period by period and breakdown value by value.
        bands: band systems of one quantity (:class:`BandEquality`).
        orders: lists of figures that can only grow along the list.
        numerator_at_most_denominator: every percentage's numerator is at most its denominator.
        unpublished: ``(name, total, parts)``: a count never published that is
            total - sum of parts (ICPCs held less those timed), protected like a
            published count when it is small.
    """

    balances: tuple[tuple[str, str, str], ...] = ()
    sums: tuple[tuple[str, tuple[str, ...]], ...] = ()
    bands: tuple[BandEquality, ...] = ()
    orders: tuple[tuple[str, ...], ...] = ()
    numerator_at_most_denominator: bool = False
    unpublished: tuple[tuple[str, str, tuple[str, ...]], ...] = ()
    #: where it was read from (for messages)
    source: str = field(default="", compare=False)

    @classmethod
    def from_mapping(cls, doc: Mapping[str, object] | None, source: str = "relations") -> RelationModel:
        """Read the ``relations:`` section; a malformed entry raises ``ValueError`` naming it."""
        doc = dict(doc or {})
        unknown = set(doc) - {"balances", "sums", "bands", "orders", "numerator_at_most_denominator", "unpublished"}
        if unknown:
            raise ValueError(f"{source}: unknown key(s) {', '.join(sorted(unknown))}; valid: balances, sums, "
                             "bands, orders, numerator_at_most_denominator, unpublished")
        balances: list[tuple[str, str, str]] = []
        for i, b in enumerate(_entries(doc.get("balances"))):
            if not isinstance(b, list) or len(b) != 3:
                raise ValueError(f"{source}.balances[{i}]: must be [STOCK:measure, INFLOW:measure, "
                                 f"OUTFLOW:measure], not {b!r}")
            stock, inflow, outflow = (_figure(f, f"{source}.balances[{i}]") for f in b)
            balances.append((stock, inflow, outflow))
        sums = []
        for i, s in enumerate(_entries(doc.get("sums"))):
            where = f"{source}.sums[{i}]"
            if not isinstance(s, Mapping) or set(s) != {"total", "parts"} or not isinstance(s["parts"], list):
                raise ValueError(f"{where}: must be {{total: CODE:measure, parts: [CODE:measure, ...]}}, not {s!r}")
            sums.append((_figure(s["total"], where), tuple(_figure(p, where) for p in s["parts"])))
        bands = []
        for i, b in enumerate(_entries(doc.get("bands"))):
            where = f"{source}.bands[{i}]"
            ok = (isinstance(b, Mapping) and set(b) == {"breakdowns", "equal"} and isinstance(b["breakdowns"], list)
                  and len(b["breakdowns"]) == 2 and isinstance(b["equal"], list)
                  and all(isinstance(e, list) and len(e) == 2 and all(isinstance(u, list) and u for u in e)
                          for e in b["equal"]))
            if not ok or not isinstance(b, Mapping):  # (ok says it is a mapping)
                raise ValueError(f"{where}: must be {{breakdowns: [A, B], equal: [[[bands of A], [bands of B]], "
                                 f"...]}}, not {b!r}")
            bands.append(BandEquality((str(b["breakdowns"][0]), str(b["breakdowns"][1])),
                                      tuple((tuple(map(str, a)), tuple(map(str, c))) for a, c in b["equal"])))
        orders = []
        for i, o in enumerate(_entries(doc.get("orders"))):
            if not isinstance(o, list) or len(o) < 2:
                raise ValueError(f"{source}.orders[{i}]: must list at least two figures, not {o!r}")
            orders.append(tuple(_figure(f, f"{source}.orders[{i}]") for f in o))
        flag = doc.get("numerator_at_most_denominator", False)
        if not isinstance(flag, bool):
            raise ValueError(f"{source}.numerator_at_most_denominator: must be true or false, not {flag!r}")
        unpublished = []
        for i, u in enumerate(_entries(doc.get("unpublished"))):
            where = f"{source}.unpublished[{i}]"
            if (not isinstance(u, Mapping) or set(u) != {"name", "total", "parts"} or not isinstance(u["parts"], list)
                    or not u["parts"] or not isinstance(u["name"], str) or not u["name"].strip()):
                raise ValueError(f"{where}: must be {{name: what the count is, total: CODE:measure, "
                                 f"parts: [CODE:measure, ...]}}, not {u!r}")
            unpublished.append((u["name"].strip(), _figure(u["total"], where),
                                tuple(_figure(p, where) for p in u["parts"])))
        return cls(tuple(balances), tuple(sums), tuple(bands), tuple(orders), flag,
                   tuple(unpublished), source)


def _entries(value: object) -> Iterable[object]:
    """The entries of a list of ``relations:`` (missing or empty: none); iterating a non-list fails as before."""
    if not value:
        return []
    if not isinstance(value, Iterable):
        raise TypeError(f"'{type(value).__name__}' object is not iterable")
    return value


def _figure(text: object, where: str) -> str:
    """A ``CODE:measure`` figure, checked (a bare ``CODE`` means its value); see :func:`parse_figure`."""
    if not isinstance(text, str) or not text:
        raise ValueError(f"{where}: a figure must be written CODE:measure, not {text!r}")
    code, measure, selector = parse_figure(text, where)
    return f"{code}:{measure}" + (f"[{selector[0]}={selector[1]}]" if selector else "")


def parse_figure(text: str, where: str = "relations") -> tuple[str, str, tuple[str, str] | None]:
    """``CODE:measure`` or ``CODE:measure[breakdown=value]`` as ``(code, measure, (breakdown, value) or None)``."""
    head, bracket, rest = text.partition("[")
    selector = None
    if bracket:
        if not rest.endswith("]") or "=" not in rest:
            raise ValueError(f"{where}: {text!r}: a breakdown value is written CODE:measure[breakdown=value]")
        bd, _, bv = rest[:-1].partition("=")
        selector = (bd.strip(), bv.strip())
    code, _, measure = head.partition(":")
    measure = measure or "value"
    if measure not in FIGURES:
        raise ValueError(f"{where}: {text!r}: the measure must be one of {', '.join(FIGURES)}")
    return code.strip(), measure, selector


@lru_cache(maxsize=1)
def default_model() -> RelationModel:
    """The relation model of the built-in catalogue (read once)."""
    from safeguarding.indicators.catalogue import CATALOGUE_PATH
    from safeguarding.yamlload import SAFE_LOADER

    doc = yaml.load(CATALOGUE_PATH.read_text(encoding="utf-8"), Loader=SAFE_LOADER) or {}  # (safe: yamlload)
    return RelationModel.from_mapping(doc.get("relations"), f"{CATALOGUE_PATH.name} relations")
