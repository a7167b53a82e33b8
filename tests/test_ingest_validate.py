"""Validation helpers: spreading per-unique results to rows, typed columns, the problems table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from safeguarding.ingest.validate import Problems, convert, expand


def test_expand_with_and_without_missing_codes():
    per_unique = np.array(["a", "b", "c"], dtype=object)
    assert expand(per_unique, np.array([2, 0, 0, 1]), "-").tolist() == ["c", "a", "a", "b"]
    assert expand(per_unique, np.array([2, -1, 0]), "-").tolist() == ["c", "-", "a"]
    assert expand(np.array([True, False]), np.array([], dtype=np.int64), True).dtype == bool
    days = np.array(["2024-01-02"], dtype="datetime64[D]")
    assert np.isnat(expand(days, np.array([0, -1]), np.datetime64("NaT", "D"))[1])


def test_yes_no_and_whole_numbers_become_nullable_columns_like_pandas_would_make_them():
    raw_bool = pa.chunked_array([["Yes", "no", "", "maybe", "Y", "yes "]])
    raw_int = np.array(["3", None, "x", "0", 2.0, "3"], dtype=object)
    rows = np.array([0, 1, 2, 4, 5])
    for kind, raw, dtype in (("bool", raw_bool, "boolean"), ("int", raw_int, "Int64")):
        c = convert(kind, raw)
        got = c.masked_array(rows)
        want = pd.array(c.values()[rows], dtype=dtype)
        assert str(got.dtype) == dtype
        pd.testing.assert_extension_array_equal(got, want)
    assert convert("bool", raw_bool).masked_array(rows).tolist() == [True, False, pd.NA, True, True]


def test_value_ids_of_some_rows_match_those_of_all_rows():
    c = convert("str", pa.chunked_array([["a", "b", "a", "", "c"]]))
    rows = np.array([4, 0, 2])
    assert c.value_ids(rows).tolist() == c.value_ids()[rows].tolist()
    assert c.value_ids().tolist()[3] == -1


def test_problems_frame_is_rebuilt_after_each_add_and_never_shared():
    p = Problems()
    assert p.frame().empty
    p.add(np.array([3, 1]), "unknown_code", "Source", np.array(["x", "y"], dtype=object), "msg", "fix")
    first = p.frame()
    assert first["row"].tolist() == [1, 3]
    first.loc[0, "reason"] = "changed by the caller"
    assert p.frame()["reason"].tolist() == ["unknown_code", "unknown_code"]
    p.add(np.array([1]), "blank_identifier", "Child ID", "", "blank", "fill it in")
    again = p.frame()
    assert again["row"].tolist() == [1, 1, 3]
    assert again["reason"].tolist()[:2] == ["blank_identifier", "unknown_code"]   # priority order within a row


def test_factorize_trims_like_trimming_every_row_first():
    import pyarrow.compute as pc

    from safeguarding.ingest.validate import factorize

    rows = [" b", "a", "b ", " ", "", "a ", "N/A", "c", " b", "a", None, "\tc\t"]
    for values in (pa.chunked_array([rows]), pa.chunked_array([rows[:5], rows[5:]]), pa.array(["x", "y", "x"])):
        codes, uniques, blank = factorize(values)
        arr = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
        want = pc.utf8_trim_whitespace(arr).dictionary_encode()   # trim every row, then encode
        assert codes.tolist() == want.indices.fill_null(-1).to_pylist()
        assert uniques.tolist() == want.dictionary.to_pylist()
        assert blank.tolist() == [u.lower() in ("", "n/a") for u in uniques.tolist()]
    assert factorize(pa.chunked_array([rows]))[1].tolist() == ["b", "a", "", "N/A", "c"]
