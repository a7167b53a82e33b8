"""Write a table of strings and floats as CSV, byte for byte what ``DataFrame.to_csv(path, index=False)`` writes.

pandas' writer formats each cell and hands every row to the ``csv`` module: for an area's indicator table (some
35,000 rows, most of its strings repeated) that was about a fifth of ``pipeline.py indicators --areas``. Here
each column's distinct values are formatted once, exactly as pandas formats them (a float as numpy's ``str``,
missing as the empty string; a string as the ``csv`` module quotes it with pandas' dialect: minimal quoting,
doubled quote characters, ``os.linesep`` ending the row), and the rows are joined by Arrow. A table with any
other column type (integers, booleans, dates, objects) or fewer than two columns is written by ``to_csv``.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import numpy as np
import pandas as pd


def _fields(values: list[str]) -> list[str]:
    """Each string as a CSV field of a row of several, written by the ``csv`` module with pandas' dialect."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator=os.linesep)
    fields = []
    for v in values:  # each row is the field, a comma, an empty field and the line end
        buf.seek(0)
        buf.truncate()
        writer.writerow([v, ""])
        fields.append(buf.getvalue()[:-1 - len(os.linesep)])
    return fields


def _column(values: pd.Series) -> object | None:
    """One column as an Arrow array of its CSV fields; None when pandas' writer must write the table."""
    import pyarrow as pa

    dtype = values.dtype
    if dtype == np.float64:
        v = np.ascontiguousarray(values.to_numpy())
        bits, inverse = np.unique(v.view(np.int64), return_inverse=True)  # -0.0 and 0.0 apart
        distinct = bits.view(np.float64)
        text = distinct.astype(str).astype(object)
        text[np.isnan(distinct)] = ""
        return pa.array(text, type=pa.large_string()).take(pa.array(inverse.reshape(-1)))
    if isinstance(dtype, pd.StringDtype):
        codes, distinct = pd.factorize(values, use_na_sentinel=True)
        fields = [*_fields([str(u) for u in distinct]), ""]
        return pa.array(fields, type=pa.large_string()).take(pa.array(np.where(codes < 0, len(fields) - 1, codes)))
    return None


def csv_bytes(frame: pd.DataFrame) -> bytes | None:
    """``frame.to_csv(index=False)``'s bytes (UTF-8), or None for a table this module does not write."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if frame.shape[1] < 2 or not all(isinstance(c, str) for c in frame.columns):
        return None
    columns = [_column(frame[c]) for c in frame.columns]
    if any(c is None for c in columns):
        return None
    end = os.linesep
    header = (",".join(_fields(list(frame.columns))) + end).encode("utf-8")
    if not len(frame):
        return header
    text = pa.large_string()
    columns[-1] = pc.binary_join_element_wise(columns[-1], pa.scalar(end, text), pa.scalar("", text))
    rows = pc.binary_join_element_wise(*columns, pa.scalar(",", text))
    offsets = np.frombuffer(rows.buffers()[1], dtype=np.int64)[rows.offset:rows.offset + len(rows) + 1]
    return header + rows.buffers()[2].to_pybytes()[offsets[0]:offsets[-1]]


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` to ``path`` as ``frame.to_csv(path, index=False)`` does (module docstring)."""
    data = csv_bytes(frame)
    if data is None:
        frame.to_csv(path, index=False)
    else:
        Path(path).write_bytes(data)
