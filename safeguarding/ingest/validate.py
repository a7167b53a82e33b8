"""Convert raw source values to canonical types and record every problem with its fix.

Converters work on a column's *unique* values and spread the results back to
the rows, so a million rows with a few thousand distinct dates cost a few
thousand parses. Each problem found becomes one line of the rejected-rows
file; a row with several problems is one rejected row listing them all.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from safeguarding.ingest.dates import UNPARSEABLE, month_first_column, parse_dates
from safeguarding.ingest.mapping import CodeLookup
from safeguarding.ingest.problem import Problem, show_value

#: Reason codes in priority order: a rejected row is counted under its first reason in this order.
REASONS: dict[str, str] = {
    "extra_fields": "more values than headers",
    "blank_identifier": "blank identifier",
    "missing_required": "required value blank",
    "unparseable_date": "unparseable date",
    "impossible_date": "impossible date",
    "date_out_of_range": "date outside the plausible range",
    "unknown_code": "unknown code",
    "invalid_bool": "not a yes/no value",
    "invalid_number": "not a whole number",
    "end_before_start": "end before start",
    "duplicate_row": "duplicate row",
    "duplicate_key": "duplicate identifier",
    "conference_before_enquiry": "conference before enquiry",
    "unknown_plan": "review of an unknown plan",
}
REASON_ORDER = {r: i for i, r in enumerate(REASONS)}

#: Texts read as blank, whatever the column.
NULL_TOKENS = frozenset({"", "null", "none", "n/a", "#n/a", "nan", "nat"})
TRUE_TOKENS = frozenset({"y", "yes", "true", "t", "1", "1.0"})
FALSE_TOKENS = frozenset({"n", "no", "false", "f", "0", "0.0"})
_NULL_ARROW = pa.array(sorted(NULL_TOKENS), type=pa.string())
#: Control and invisible characters in free text (NUL, tabs, line breaks, zero-width spaces, BOMs): read as a space.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200d\u2028\u2029\ufeff]+")
#: None as a 0-d object array: what numpy makes of a bare ``None`` operand, written so numpy's stubs accept it
_NONE = np.array(None, dtype=object)


def is_none(values: np.ndarray) -> NDArray[np.bool_]:
    """Elementwise ``value == None`` over an object array (``np.equal(values, None)``)."""
    return np.asarray(np.equal(values, _NONE), dtype=bool)


def display(value: object) -> str:
    """The text shown for a source value in messages and the rejected-rows file."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value)
    return text if len(text) <= 200 else text[:197] + "..."


def factorize(values: pa.Array | pa.ChunkedArray | pd.Series | np.ndarray) -> tuple[np.ndarray, np.ndarray,
                                                                                    np.ndarray | None]:
    """Return ``(codes, uniques, blank_u)``: codes index the object array of unique values (-1 = missing).

    Text columns read by pyarrow are trimmed and dictionary-encoded in C, and
    ``blank_u`` is computed there too; for other inputs ``blank_u`` is None
    (call :func:`blank_uniques`) and the uniques are not trimmed.
    """
    if isinstance(values, (pa.ChunkedArray, pa.Array)):
        codes, blank, dictionary = factorize_ids(values)
        return codes, np.asarray(dictionary.to_numpy(zero_copy_only=False), dtype=object), blank
    codes, uniques = pd.factorize(values if isinstance(values, pd.Series) else np.asarray(values, dtype=object))
    return np.asarray(codes, dtype=np.int64), np.asarray(uniques, dtype=object), None


def factorize_ids(values: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray, pa.Array]:
    """:func:`factorize` of a text column read by pyarrow, the unique values left a pyarrow array.

    Returns ``(codes, blank_u, dictionary)``: ``dictionary`` holds the
    trimmed unique texts that :func:`factorize` gives as an object array, so
    that identifiers can be pseudonymised from their UTF-8 bytes as read and
    never made Python objects unless something asks for them.
    """
    arr = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    if not pa.types.is_string(arr.type) and not pa.types.is_large_string(arr.type):
        arr = arr.cast(pa.string())
    enc = arr.dictionary_encode()
    dictionary, indices = enc.dictionary, enc.indices
    trimmed = pc.utf8_trim_whitespace(dictionary)  # trim each distinct value once, not every row
    if not trimmed.equals(dictionary):  # values differing only in spaces become one
        again = trimmed.dictionary_encode()
        dictionary, indices = again.dictionary, again.indices.take(indices)
    if indices.null_count:
        indices = indices.fill_null(-1)
    codes = indices.to_numpy(zero_copy_only=False).astype(np.int64)
    blank = pc.is_in(pc.utf8_lower(dictionary), value_set=_NULL_ARROW).to_numpy(zero_copy_only=False)
    return codes, np.asarray(blank, dtype=bool), dictionary


def blank_uniques(uniques: np.ndarray) -> np.ndarray:
    """Boolean mask of unique values that count as blank."""
    out = np.zeros(len(uniques), dtype=bool)
    for i, v in enumerate(uniques):
        if v is None:
            out[i] = True
        elif isinstance(v, str):
            out[i] = v.strip().lower() in NULL_TOKENS
        elif isinstance(v, float):
            out[i] = math.isnan(v)
    return out


def expand(per_unique: np.ndarray, codes: np.ndarray, fill: object) -> np.ndarray:
    """Spread per-unique results to rows; rows with code -1 get ``fill``."""
    if not codes.size or codes.min() >= 0:  # no missing values (text read by pyarrow never has any)
        return per_unique[codes]
    ext = np.empty(len(per_unique) + 1, dtype=per_unique.dtype)
    ext[:-1] = per_unique
    ext[-1] = fill
    return ext[np.where(codes < 0, len(per_unique), codes)]


@dataclass
class Problems:
    """Every problem found in one table: parallel lists, one entry per (row, column, reason).

    Kept column by column (a million rows may each have one); :meth:`records`
    gives them as :class:`~safeguarding.ingest.problem.Problem` records.
    """

    rows: list[np.ndarray] = field(default_factory=list)
    reasons: list[np.ndarray] = field(default_factory=list)
    columns: list[np.ndarray] = field(default_factory=list)
    values: list[np.ndarray] = field(default_factory=list)
    messages: list[np.ndarray] = field(default_factory=list)
    fixes: list[np.ndarray] = field(default_factory=list)
    _frame: pd.DataFrame | None = field(default=None, repr=False, compare=False)

    def add(self, rows: np.ndarray, reason: str | np.ndarray, column: str, values: str | np.ndarray,
            messages: str | np.ndarray, fix: str | np.ndarray) -> None:
        """Record problems for ``rows`` (indices into the table's data rows): each field one text or one per row."""
        n = len(rows)
        if n == 0:
            return

        def arr(x: str | np.ndarray) -> np.ndarray:
            if isinstance(x, np.ndarray) and x.shape == (n,):
                return x.astype(object)
            out = np.empty(n, dtype=object)
            out[:] = [x] * n if not isinstance(x, (list, np.ndarray)) else list(x)
            return out

        self._frame = None
        self.rows.append(np.asarray(rows, dtype=np.int64))
        self.reasons.append(arr(reason))
        self.columns.append(arr(column))
        self.values.append(arr(values))
        self.messages.append(arr(messages))
        self.fixes.append(arr(fix))

    def frame(self) -> pd.DataFrame:
        """All problems as a DataFrame sorted by row then reason priority (a copy; built once until the next add)."""
        if self._frame is None:
            self._frame = self._build_frame()
        return self._frame.copy()

    def _build_frame(self) -> pd.DataFrame:
        if not self.rows:
            return pd.DataFrame({"row": np.array([], dtype=np.int64), "reason": [], "column": [], "value": [],
                                 "message": [], "fix": []})
        df = pd.DataFrame({
            "row": np.concatenate(self.rows),
            "reason": np.concatenate(self.reasons),
            "column": np.concatenate(self.columns),
            "value": np.concatenate(self.values),
            "message": np.concatenate(self.messages),
            "fix": np.concatenate(self.fixes),
        })
        df["_order"] = df["reason"].map(REASON_ORDER).fillna(len(REASON_ORDER)).astype(int)
        df = df.sort_values(["row", "_order"], kind="stable").drop(columns="_order").reset_index(drop=True)
        return df

    def records(self, *, row_numbers: np.ndarray, file: str | None = None,
                table: str | None = None) -> list[Problem]:
        """Every problem as a :class:`~safeguarding.ingest.problem.Problem`, in :meth:`frame` order.

        ``row_numbers`` maps data-row indices to the row numbers the source
        shows. Each is an error; the first problem of a row (by reason
        priority) has ``dropped`` 1 and the row's others 0, so that rows read
        = rows accepted + the sum of ``dropped``, as for partners' returns.
        """
        f = self.frame()
        first = ~f["row"].duplicated().to_numpy()
        return [Problem(str(message), str(fix), file=file, row=int(row_numbers[row]),
                        column=None if column is None else str(column), value=show_value(value), reason=str(reason),
                        dropped=int(drop), table=table)
                for row, reason, column, value, message, fix, drop in zip(
                    f["row"], f["reason"], f["column"], f["value"], f["message"], f["fix"], first, strict=True)]

    def bad_rows(self, n: int) -> np.ndarray:
        """Boolean mask over ``n`` data rows: True where any problem was recorded."""
        mask = np.zeros(n, dtype=bool)
        for r in self.rows:
            mask[r] = True
        return mask


@dataclass
class Converted:
    """One canonical column converted: per-unique results and the row codes to spread them.

    ``distinct`` is True when different uniques always give different outputs
    (trimmed text identifiers), so the codes themselves identify values.

    Pseudonyms are kept as a pyarrow string array (``arrow_u``) and become
    Python ``str`` objects (:attr:`out_u`) only when asked for: the Parquet
    table is written from the pyarrow array, and most identifier columns are
    never needed as objects.
    """

    kind: str
    codes: np.ndarray
    #: the unique source values (an object array); None while only ``text_u`` is made
    _uniques: np.ndarray | None
    blank_u: np.ndarray
    #: the converted value per unique (None / NaT where blank or bad); None while only ``arrow_u`` is made
    _out_u: np.ndarray | None
    reason_u: np.ndarray
    message_u: np.ndarray
    distinct: bool = False
    #: column-level findings (a month-first date column, spellings read as one value)
    warnings: list[str] = field(default_factory=list)
    #: per unique value of an optional coded column, the source texts not in the code list (a tuple), else None;
    #: None for other columns. Such values are read as unknown (the row is kept), not as problems.
    unmapped_u: np.ndarray | None = None
    #: text values per unique as a pyarrow string array (null where blank or bad), plus one null at the end
    #: (for rows with code -1); set for pseudonymised identifiers
    arrow_u: pa.Array | None = None
    #: the unique source values as the pyarrow string array they were read as (identifiers read by pyarrow)
    text_u: pa.Array | None = None

    @property
    def uniques(self) -> np.ndarray:
        """The unique source values, an object array (``codes`` index it)."""
        if self._uniques is None:
            assert self.text_u is not None, "a converted column holds its uniques as objects or in text_u"
            self._uniques = np.asarray(self.text_u.to_numpy(zero_copy_only=False), dtype=object)
        return self._uniques

    @property
    def out_u(self) -> np.ndarray:
        """The converted value per unique value (None / NaT where blank or bad)."""
        if self._out_u is None:
            assert self.arrow_u is not None, "a converted column holds its values in out_u or arrow_u"
            made = self.arrow_u.slice(0, len(self.blank_u)).to_numpy(zero_copy_only=False)
            self._out_u = np.asarray(made, dtype=object)
        return self._out_u

    @property
    def blank(self) -> np.ndarray:
        """Rows whose value is blank."""
        return expand(self.blank_u, self.codes, True)

    def unmapped_rows(self) -> np.ndarray:
        """Boolean mask over rows: True where an optional coded value was not in the code list (read as unknown)."""
        if self.unmapped_u is None:
            return np.zeros(len(self.codes), dtype=bool)
        return expand(self.unmapped_u_mask(), self.codes, False)

    def unmapped_u_mask(self) -> np.ndarray:
        """Boolean mask over unique values: True where the value was read as unknown (see ``unmapped_u``)."""
        if self.unmapped_u is None:
            return np.zeros(len(self.blank_u), dtype=bool)
        return np.fromiter((u is not None for u in self.unmapped_u), dtype=bool, count=len(self.unmapped_u))

    def bad_rows(self) -> np.ndarray:
        """Indices of rows whose (non-blank) value could not be converted."""
        bad_u = ~is_none(self.reason_u)
        if not bad_u.any():
            return np.array([], dtype=np.int64)
        return np.nonzero(expand(bad_u, self.codes, False))[0]

    def values(self, rows: np.ndarray | None = None) -> np.ndarray:
        """Converted values per row, or per row of ``rows`` (NaT / None where blank or bad)."""
        codes = self.codes if rows is None else self.codes[rows]
        if rows is not None and self._out_u is None and self.arrow_u is not None:  # only these rows' pseudonyms
            picked = self.arrow_u.take(pa.array(np.where(codes < 0, len(self.blank_u), codes)))
            return np.asarray(picked.to_numpy(zero_copy_only=False), dtype=object)
        fill = np.datetime64("NaT", "D") if self.out_u.dtype.kind == "M" else None
        return expand(self.out_u, codes, fill)

    def value_ids(self, rows: np.ndarray | None = None) -> np.ndarray:
        """Per row (or per row of ``rows``), an integer standing for the converted value (-1 where blank or bad).

        Equal ids, equal values.
        """
        ok_u = ~self.blank_u & is_none(self.reason_u)
        if self.distinct:
            ids_u = np.where(ok_u, np.arange(len(self.blank_u)), -1)
        else:
            keys = self.out_u if self.out_u.dtype.kind != "M" else self.out_u.astype("int64")
            if self.unmapped_u is not None and self.unmapped_u_mask().any():
                # a value read as unknown is still not the same value as a blank or another unknown one
                keys = np.array([k if u is None else "\x00".join((str(k), *u))
                                 for k, u in zip(keys, self.unmapped_u, strict=True)], dtype=object)
            f, _ = pd.factorize(keys)
            ids_u = np.where(ok_u, f, -1)
        return expand(ids_u.astype(np.int64), self.codes if rows is None else self.codes[rows], -1)

    def masked_array(self, rows: np.ndarray) -> pd.api.extensions.ExtensionArray:
        """The yes/no or whole-number values of ``rows`` as a pandas ``boolean`` / ``Int64`` array (NA where blank)."""
        missing_u = is_none(self.out_u)
        dtype = np.bool_ if self.kind == "bool" else np.int64
        values_u: np.ndarray = np.zeros(len(self.out_u), dtype=dtype)
        values_u[~missing_u] = self.out_u[~missing_u].astype(dtype)
        idx = self.codes[rows]
        values, mask = expand(values_u, idx, 0), expand(missing_u, idx, True)
        return pd.arrays.BooleanArray(values, mask) if self.kind == "bool" else pd.arrays.IntegerArray(values, mask)

    def arrow_strings(self, rows: np.ndarray) -> pa.Array:
        """The converted text values of ``rows`` as a pyarrow string array (nulls where blank)."""
        out = self.arrow_u
        if out is None:
            out = pa.array(np.append(self.out_u, _NONE), type=pa.string(), from_pandas=True)
        idx = self.codes[rows]
        return out.take(pa.array(np.where(idx < 0, len(self.blank_u), idx)))


def _per_unique(labels: pa.Array, ok: np.ndarray) -> pa.Array:
    """``labels`` (one per True of ``ok``) laid out per unique value: null where not ``ok``, and one null at the end."""
    at = np.full(len(ok) + 1, -1, dtype=np.int64)
    at[np.nonzero(ok)[0]] = np.arange(len(labels))
    return labels.take(pa.array(at, mask=at < 0))


def convert_ids(codes: np.ndarray, blank_u: np.ndarray, text_u: pa.Array,
                pseudonymise: Callable[[pa.Array], pa.Array]) -> Converted:
    """``convert("id", ...)`` of an identifier column read by pyarrow, given :func:`factorize_ids` of it.

    The pseudonyms are hashed from the identifiers' UTF-8 bytes as read and
    kept in pyarrow; neither the identifiers nor their pseudonyms are made
    Python objects unless something asks for them (:class:`Converted`).
    """
    n = len(blank_u)
    arrow_u = _per_unique(pseudonymise(text_u.filter(pa.array(~blank_u))), ~blank_u)
    return Converted("id", codes, None, blank_u, None, np.full(n, None, dtype=object), np.full(n, None, dtype=object),
                     distinct=True, arrow_u=arrow_u, text_u=text_u)


def _id_text(v: object) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, (dt.datetime, dt.date)):
        return v.isoformat()
    return str(v).strip()


def normalise_text(text: str) -> str:
    """Free text as one clean value: control characters read as spaces, runs of whitespace as one space."""
    return " ".join(_CONTROL.sub(" ", text).split())


def _merge_spellings(texts: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, list[tuple[list[str], str]]]:
    """Normalise free-text values and merge those differing only in case; each group takes its commonest spelling.

    ``counts`` is the number of rows holding each value. Returns the values
    and, for every group of more than one source spelling, (spellings, value).
    """
    clean = [normalise_text(t) for t in texts]
    groups: dict[str, list[int]] = {}
    for i, t in enumerate(clean):
        groups.setdefault(t.casefold(), []).append(i)
    out = np.array(clean, dtype=object)
    merged: list[tuple[list[str], str]] = []
    for members in groups.values():
        rows: dict[str, int] = {}
        for i in members:
            rows[clean[i]] = rows.get(clean[i], 0) + int(counts[i])
        best = max(rows, key=lambda t: rows[t])   # the commonest spelling; the first seen on a tie
        out[members] = best
        if len(members) > 1:
            merged.append(([str(texts[i]) for i in members], best))
    return out, merged


def convert(kind: str, raw: pa.Array | pa.ChunkedArray | pd.Series | np.ndarray, *,  # noqa: C901
            date_mode: str = "auto", lookup: CodeLookup | None = None,
            pseudonymise: Callable[[np.ndarray], np.ndarray | pa.Array] | None = None,
            factorized: tuple[np.ndarray, np.ndarray, np.ndarray | None] | None = None,
            column: str | None = None, key: str | None = None, keep_unknown: bool = False) -> Converted:
    """Convert one raw column of the given schema ``kind`` (see :class:`safeguarding.schema.Column`).

    ``factorized`` is :func:`factorize` of ``raw`` when already computed.
    ``pseudonymise`` turns an identifier column's texts into pseudonyms, given
    as an object array or as a pyarrow string array (then kept as such: see
    :class:`Converted`; :func:`convert_ids` does the same for identifiers
    read by pyarrow without making them Python objects).
    ``keep_unknown`` (for optional coded columns) reads a value not in the code
    list as unknown and records it in ``Converted.unmapped_u`` instead of
    making it an ``unknown_code`` problem, so the row is kept; in a ``codes``
    column the known codes of a value are kept and only the unknown ones listed.
    ``column`` (the source header) and ``key`` (``inputs.<table>``) name the
    column and the setting in the column-level warnings (``Converted.warnings``).
    """
    name = f"'{column}'" if column else "the column"
    setting = f"{key or 'inputs.<table>'}.date_format"
    warnings: list[str] = []
    distinct = False
    unmapped_u: np.ndarray | None = None
    arrow_u: pa.Array | None = None
    out_u: np.ndarray | None
    codes, uniques, blank_u = factorized if factorized is not None else factorize(raw)
    trimmed = blank_u is not None
    if blank_u is None:
        blank_u = blank_uniques(uniques)
    n = len(uniques)
    reason_u = np.full(n, None, dtype=object)
    message_u = np.full(n, None, dtype=object)
    ok = ~blank_u
    if kind == "date":
        out_u = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
        if ok.any():
            d, r, m = parse_dates(uniques[ok], date_mode)
            out_u[ok], reason_u[ok], message_u[ok] = d, r, m
            # a month-first-only value (03/15/2024) never reads day first, so a column that parsed cleanly
            # cannot be month first: look only when some value failed
            failed = any(v is not None for v in r)
            month_first = month_first_column(uniques[ok]) if date_mode == "auto" and failed else None
            if month_first is not None:  # never read such a column day-first, not even in part
                bad = np.nonzero(ok)[0][month_first.reject]
                out_u[bad] = np.datetime64("NaT")
                reason_u[bad] = UNPARSEABLE
                message_u[bad] = [month_first.message(str(uniques[i]).strip()) for i in bad]
                rows = int(np.isin(codes, bad).sum())
                warnings.append(
                    f"{name} is written month/day/year (e.g. '{month_first.example}'): {rows} row(s) whose date "
                    "could be read either way, or only month first, were rejected rather than read with day and "
                    f'month swapped. Fix: if the whole column is month first, set {setting}: "{month_first.layout}"; '
                    "otherwise correct the month-first dates in the source")
    elif kind == "id":
        texts = uniques[ok] if trimmed else np.array([_id_text(v) for v in uniques[ok]], dtype=object)
        labels = pseudonymise(texts) if pseudonymise is not None else texts
        if isinstance(labels, pa.Array):
            arrow_u = _per_unique(labels, ok)
            out_u = None
        else:
            out_u = np.full(n, None, dtype=object)
            out_u[ok] = labels
        distinct = trimmed
    elif kind in ("str",):
        out_u = np.full(n, None, dtype=object)
        texts = uniques[ok] if trimmed else np.array([display(v).strip() for v in uniques[ok]], dtype=object)
        counts = np.bincount(codes[codes >= 0], minlength=n)[ok]
        values, merged = _merge_spellings(texts, counts)
        out_u[ok] = values
        emptied = np.nonzero(ok)[0][[v.lower() in NULL_TOKENS for v in values]]
        blank_u[emptied] = True   # nothing left but control characters or spaces
        out_u[emptied] = None
        distinct = trimmed and not merged and not emptied.size
        if merged:
            shown = "; ".join(f"{', '.join(map(repr, spellings[:4]))}{' ...' if len(spellings) > 4 else ''} "
                              f"-> {value!r}" for spellings, value in merged[:5])
            warnings.append(f"{name}: values differing only in case, spacing or control characters were read as "
                            f"one ({shown}{'; ...' if len(merged) > 5 else ''})")
    elif kind == "bool":
        out_u = np.full(n, None, dtype=object)
        for i in np.nonzero(ok)[0]:
            v = uniques[i]
            t = str(v).strip().lower()
            if isinstance(v, (bool, np.bool_)):
                out_u[i] = bool(v)
            elif t in TRUE_TOKENS:
                out_u[i] = True
            elif t in FALSE_TOKENS:
                out_u[i] = False
            else:
                reason_u[i] = "invalid_bool"
                message_u[i] = f"'{display(v)}' is not a yes/no value"
    elif kind == "int":
        out_u = np.full(n, None, dtype=object)
        for i in np.nonzero(ok)[0]:
            v = uniques[i]
            try:
                f = float(str(v).strip()) if not isinstance(v, (bool, np.bool_)) else math.nan
            except (ValueError, OverflowError):
                f = math.nan
            if math.isfinite(f) and f.is_integer() and 0 <= f < 2**31:
                out_u[i] = int(f)
            else:
                reason_u[i] = "invalid_number"
                message_u[i] = f"'{display(v)}' is not a whole number of 0 or more"
    elif kind in ("code", "codes"):
        assert lookup is not None
        out_u = np.full(n, None, dtype=object)
        unmapped_u = np.full(n, None, dtype=object) if keep_unknown else None
        for i in np.nonzero(ok)[0]:
            v = uniques[i]
            text = _id_text(v) if not isinstance(v, (bool, np.bool_)) else str(v).lower()
            if kind == "code":
                hit = lookup.lookup(text)
                if hit is None and unmapped_u is not None:
                    unmapped_u[i] = (text,)
                elif hit is None:
                    reason_u[i] = "unknown_code"
                    message_u[i] = f"'{display(v)}' is not a known {lookup.code_list} code"
                else:
                    out_u[i] = hit
            else:
                parts = [p.strip() for p in text.replace("|", ";").replace(",", ";").split(";")]
                parts = [p for p in parts if p.lower() not in NULL_TOKENS]
                found = [lookup.lookup(p) for p in parts]
                unknown = [p for p, f in zip(parts, found, strict=True) if f is None]
                if unknown and unmapped_u is not None:
                    unmapped_u[i] = tuple(dict.fromkeys(unknown))
                    known = [f for f in found if f]
                    out_u[i] = ";".join(dict.fromkeys(known)) if known else None
                elif unknown:
                    reason_u[i] = "unknown_code"
                    message_u[i] = (f"{', '.join(repr(u) for u in unknown)} in '{display(v)}' "
                                    f"{'is not a known' if len(unknown) == 1 else 'are not known'} "
                                    f"{lookup.code_list} code{'s' if len(unknown) > 1 else ''}")
                elif found:
                    out_u[i] = ";".join(dict.fromkeys(f for f in found if f))
                else:
                    blank_u[i] = True
    else:  # pragma: no cover - schema kinds are fixed
        raise ValueError(f"unknown column kind {kind!r}")
    return Converted(kind, codes, uniques, blank_u, out_u, reason_u, message_u, distinct=distinct,
                     warnings=warnings, unmapped_u=unmapped_u, arrow_u=arrow_u)
