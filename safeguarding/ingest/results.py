"""What the ingest produces: each input's result (:class:`TableResult`), the run's (:class:`IngestResult`).

:class:`TableResult` holds one input after reading and checking, and answers what the report needs of
it (rows accepted, optional coded values not in the code list, with suggestions);
:func:`safeguarding.ingest.core.run_ingest` fills them in.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict

import numpy as np

from safeguarding.ingest.errors import IngestError
from safeguarding.ingest.mapping import ColumnMap, Suggestion, suggest_code
from safeguarding.ingest.problem import Problem
from safeguarding.ingest.readers import RawTable
from safeguarding.ingest.validate import Converted, Problems, is_none
from safeguarding.schema import Entity, normalise_code_text
from safeguarding.settings_inputs import InputSpec

if TYPE_CHECKING:  # pragma: no cover
    from safeguarding.ingest.report import IngestReport


#: Values listed per column in the ingest report (the rest are counted, not listed).
UNMAPPED_LIMIT = 200


@dataclass(frozen=True)
class Unmapped:
    """An optional coded value not in the code list: the rows holding it were kept, the field read as unknown.

    ``value`` is None for the line that counts the values beyond the listing
    limit (``more`` of them).
    """

    column: str
    source_column: str
    code_list: str
    value: str | None
    rows: int
    rows_kept: int
    suggestion: Suggestion | None
    spellings: tuple[str, ...] = ()
    more: int = 0


class _Tally(TypedDict):
    """One unmapped value's spellings (with their rows), rows and rows kept (see :meth:`TableResult.unmapped`)."""

    spellings: dict[str, int]
    rows: int
    kept: int


class RowValues(Mapping[str, np.ndarray]):
    """Each converted column's values per row (:meth:`Converted.values`), made when first looked up.

    Pseudonymised identifier columns stay in pyarrow (see :class:`Converted`)
    unless a check between tables reads them.
    """

    def __init__(self, conv: Mapping[str, Converted]) -> None:
        self._conv = conv
        self._made: dict[str, np.ndarray] = {}

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self._made:
            self._made[name] = self._conv[name].values()
        return self._made[name]

    def __contains__(self, name: object) -> bool:
        return name in self._conv

    def __iter__(self) -> Iterator[str]:
        return iter(self._conv)

    def __len__(self) -> int:
        return len(self._conv)


@dataclass
class TableResult:
    """One input after reading and checking; ``fatal`` is set when it could not be used at all."""

    name: str
    entity: Entity
    source_file: str
    spec: InputSpec
    raw: RawTable | None = None
    cmap: ColumnMap | None = None
    n_read: int = 0
    blank_rows: int = 0
    row_numbers: np.ndarray = field(default_factory=lambda: np.array([], dtype=np.int64))
    conv: dict[str, Converted] = field(default_factory=dict)
    data: Mapping[str, np.ndarray] = field(default_factory=dict)
    problems: Problems = field(default_factory=Problems)
    warnings: list[str] = field(default_factory=list)
    fatal: IngestError | None = None
    seconds: float = 0.0

    @property
    def key(self) -> str:
        """The configuration key of this input."""
        return f"inputs.{self.name}"

    def header(self, canon: str) -> str:
        """The source header for a canonical column (the canonical name if unmapped)."""
        if self.cmap and canon in self.cmap.positions:
            return self.cmap.source_header(canon)
        return canon

    def problem_records(self) -> list[Problem]:
        """The rows' problems as :class:`Problem` records (the lines of ``ingest_rejected.csv``)."""
        return self.problems.records(row_numbers=self.row_numbers, file=self.source_file, table=self.name)

    def accepted(self) -> np.ndarray:
        """Mask over rows read: True for rows with no problem."""
        return ~self.problems.bad_rows(self.n_read)

    def kept_with_unknown(self) -> int:
        """Accepted rows holding at least one optional coded value not in the code list (read as unknown)."""
        if not self.n_read:
            return 0
        mask = np.zeros(self.n_read, dtype=bool)
        for c in self.conv.values():
            if c.unmapped_u is not None:
                mask |= c.unmapped_rows()
        return int((mask & self.accepted()).sum())

    def wholly_unmapped(self) -> list[str]:
        """Canonical coded columns none of whose non-blank values is in the code list (likely the wrong column)."""
        out = []
        for name, c in self.conv.items():
            mask = c.unmapped_u_mask()
            if c.unmapped_u is None or not mask.any():
                continue
            usable = ~c.blank_u & is_none(c.reason_u) & ~mask
            if not usable.any():
                out.append(name)
        return out

    def unmapped(self, limit: int = UNMAPPED_LIMIT) -> list[Unmapped]:
        """Every optional coded value not in the code list, per column, commonest first (``limit`` per column).

        Spellings that the code lookup treats alike (``Health services``,
        ``HEALTH SERVICES``) are one entry, shown in their commonest spelling
        (the first met on a tie).
        Rows count every row read holding the value; ``rows_kept`` those accepted.
        """
        out: list[Unmapped] = []
        if not self.n_read:
            return out
        acc = self.accepted()
        for col in self.entity.columns:
            c = self.conv.get(col.name)
            if c is None or c.unmapped_u is None or col.codes is None:
                continue
            present = c.codes >= 0
            n = len(c.uniques)
            rows_u = np.bincount(c.codes[present], minlength=n)
            kept_u = np.bincount(c.codes[present & acc], minlength=n)
            found: dict[str, _Tally] = {}
            for i in np.nonzero(c.unmapped_u_mask())[0]:
                for text in c.unmapped_u[i]:
                    entry = found.setdefault(normalise_code_text(text) or text, {"spellings": {}, "rows": 0, "kept": 0})
                    entry["spellings"][text] = entry["spellings"].get(text, 0) + int(rows_u[i])
                    entry["rows"] += int(rows_u[i])
                    entry["kept"] += int(kept_u[i])
            # commonest first; on a tie, in the order first met in the file (stable sort)
            ranked = sorted(found.values(), key=lambda e: -e["rows"])
            for entry in ranked[:limit]:
                spellings = sorted(entry["spellings"], key=lambda s: -entry["spellings"][s])
                value = spellings[0]
                out.append(Unmapped(col.name, self.header(col.name), col.codes, value, entry["rows"], entry["kept"],
                                    suggest_code(col.codes, value), tuple(spellings)))
            if len(ranked) > limit:
                rest = ranked[limit:]
                out.append(Unmapped(col.name, self.header(col.name), col.codes, None, sum(e["rows"] for e in rest),
                                    sum(e["kept"] for e in rest), None, (), more=len(rest)))
        return out


@dataclass
class IngestResult:
    """What a run of the ingest produced."""

    tables: dict[str, TableResult]
    report: IngestReport
    processed_dir: Path
    outputs: list[Path]

    @property
    def built(self) -> list[str]:
        """Tables written to Parquet."""
        return [n for n, t in self.tables.items() if t.fatal is None]

    @property
    def failed(self) -> dict[str, str]:
        """Tables (and ``aggregates``) that could not be built, with the message."""
        out = {n: str(t.fatal) for n, t in self.tables.items() if t.fatal is not None}
        agg = self.report.get("aggregates") or {}
        if agg.get("status") == "failed":
            out["aggregates"] = agg.get("error", "failed")
        return out

    @property
    def ok(self) -> bool:
        """True when every configured table was built."""
        return not self.failed

    def summary(self) -> str:
        """The plain-text per-table summary the ingest command prints (the build writes it to its log)."""
        from safeguarding.ingest.cli import summary

        return summary(self)
