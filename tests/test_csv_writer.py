"""``safeguarding.csv_writer`` writes, byte for byte, what ``DataFrame.to_csv(index=False)`` writes (issue 19)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from safeguarding.csv_writer import csv_bytes, write_csv


def _table() -> pd.DataFrame:
    text = ["plain", 'a "quoted" word', "a, comma", "two\nlines", "", None, "a\rb", " lead", "é ü", "x,\ny"]
    return pd.DataFrame({
        "name": pd.Series(text, dtype="str"),
        "value": [1.0, np.nan, 1e16, 1e-5, -0.0, 0.0, 123456789.125, 0.1 + 0.2, -3.5, np.inf],
        "note": pd.Series(["", "x", None, "y", "z", "", "a,b", '"', "c", "d"], dtype="str"),
    })


def test_the_bytes_are_pandas_to_csv_bytes(tmp_path):
    table = _table()
    assert csv_bytes(table) == table.to_csv(index=False).encode("utf-8")
    assert csv_bytes(table.iloc[:0]) == table.iloc[:0].to_csv(index=False).encode("utf-8")
    write_csv(table, tmp_path / "a.csv")
    table.to_csv(tmp_path / "b.csv", index=False)
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()


def test_other_column_types_are_written_by_pandas(tmp_path):
    table = _table().assign(count=range(10), flag=True)
    assert csv_bytes(table) is None
    write_csv(table, tmp_path / "a.csv")
    assert (tmp_path / "a.csv").read_bytes() == table.to_csv(index=False).encode("utf-8")
