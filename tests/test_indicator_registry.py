"""The register of indicator methods: every catalogue method is registered, every registered method is used,
and the decorator refuses a duplicate or an unknown name with a clear message."""

from __future__ import annotations

import pytest

from safeguarding.indicators.catalogue import BREAKDOWNS, CatalogueError, load_catalogue, method_breakdowns
from safeguarding.indicators.registry import AGGREGATE, MethodError, get_method, method, registered, unregister

CAT = load_catalogue()


def test_every_catalogue_method_is_registered():
    methods = registered()
    missing = sorted({i.method for i in CAT.values()} - set(methods) - {AGGREGATE})
    assert not missing, f"catalogue methods with no registered function: {missing}"


def test_every_registered_method_is_used():
    used = {i.method for i in CAT.values()}
    methods = registered()
    local = {n for n, m in methods.items() if m.local}
    assert local == {"count", "ratio"}            # report.yml's own indicators use these
    unused = sorted(set(methods) - used - local)
    assert not unused, f"registered methods no catalogue entry uses: {unused}"


def test_each_method_counts_a_table_its_entries_read():
    for ind in CAT.values():
        if ind.method == AGGREGATE:
            continue
        m = get_method(ind.method)
        table = m.table or ind.table
        assert table in ind.source, (ind.code, table, ind.source)
        assert m.module.startswith("safeguarding.indicators.methods."), m.module


def test_declared_breakdowns_are_known_and_own():
    own = method_breakdowns()
    assert own == {"referral_children": ("referrals_in_period",), "lado_actions": ("action",)}
    assert all(b in BREAKDOWNS for bs in own.values() for b in bs)


def test_duplicate_name_is_refused():
    def other(ctx, ind):  # pragma: no cover - never called
        raise AssertionError

    with pytest.raises(MethodError, match=r"'cpp_open' is registered twice: by "
                                          r"safeguarding\.indicators\.methods\.cp_plans\.cpp_open and by "):
        method("cpp_open", table="cp_plans")(other)
    assert registered()["cpp_open"].module == "safeguarding.indicators.methods.cp_plans"


def test_registering_the_same_function_again_is_harmless():
    m = get_method("pf_new")
    method("pf_new", table="private_fostering")(m.function)
    assert get_method("pf_new").function is m.function


def test_a_new_method_registers_and_an_unknown_one_is_named():
    def test_only_method(ctx, ind):  # pragma: no cover - never called
        raise AssertionError

    try:
        method("test_only_method", table="referrals")(test_only_method)
        assert get_method("test_only_method").table == "referrals"
    finally:
        unregister("test_only_method")
    with pytest.raises(MethodError, match=r"unknown method 'test_only_method'.*valid: count, cpp_ended"):
        get_method("test_only_method")
    with pytest.raises(MethodError, match="at least one method name"):
        method(table="referrals")


def test_catalogue_refuses_an_unregistered_method(tmp_path):
    from safeguarding.indicators.catalogue import _entry

    with pytest.raises(CatalogueError, match=r"unknown method 'no_such'; valid: .*referrals.*aggregate"):
        _entry({"code": "X", "name": "x", "definition": "x", "unit": "count", "method": "no_such"}, {}, "test")
