"""Baby-step giant-step: exact at the edges, at random points, and at 10,000,000."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from py_ecc.secp256k1 import secp256k1 as reference

from civic_votecrypto import dlog


def _point(m: int) -> dlog.Affine:
    """m·G computed by py-ecc (an independent implementation) as affine integers."""
    return None if m == 0 else reference.multiply(reference.G, m)


@pytest.fixture(scope="module")
def table() -> dlog.BabyStepTable:
    return dlog.table_for(dlog.DEFAULT_BOUND)


@pytest.mark.parametrize("m", [0, 1, 2, 3, 1023, 1024, 1025, 12_648, 12_649, 9_999_999, 10_000_000])
def test_exact_at_edges_and_ten_million(table: dlog.BabyStepTable, m: int) -> None:
    assert table.bound >= 10_000_000
    assert table.log(_point(m)) == m


def test_random_values(table: dlog.BabyStepTable) -> None:
    rng = random.Random(4)
    for m in (rng.randrange(10_000_001) for _ in range(8)):
        assert dlog.discrete_log_affine(_point(m)) == m


@settings(max_examples=40, deadline=None)
@given(m=st.integers(0, 5000), baby=st.integers(1, 70))
def test_small_tables_cover_every_value(m: int, baby: int) -> None:
    """Any table size works: giant-step boundaries and both signs of j are hit."""
    small = dlog.build_table(5000, baby_steps=baby)
    assert small.log(_point(m)) == m


def test_out_of_range_and_foreign_points_are_refused(table: dlog.BabyStepTable) -> None:
    with pytest.raises(dlog.DlogNotFoundError):
        table.log(_point(10_000_001))
    with pytest.raises(dlog.DlogNotFoundError):
        dlog.build_table(100, baby_steps=8).log(_point(101))
    with pytest.raises(dlog.DlogNotFoundError):
        table.log(_point(2**200 + 12345))


@pytest.fixture
def empty_table_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """A private, empty cache: what other tests cached (say a small bound first) cannot change
    which table is found; the shared cache is put back afterwards."""
    monkeypatch.setattr(dlog, "_cache", {})


@pytest.mark.usefixtures("empty_table_cache")
def test_tables_are_cached_and_reused_for_smaller_bounds() -> None:
    assert dlog._cache == {}
    big = dlog.table_for(dlog.DEFAULT_BOUND)
    assert dlog.table_for(dlog.DEFAULT_BOUND) is big
    smaller = dlog.table_for(1000)
    assert smaller.entries is big.entries and smaller.bound == 1000
    with pytest.raises(dlog.DlogNotFoundError):
        smaller.log(_point(1001))
    assert list(dlog._cache) == [dlog.DEFAULT_BOUND]  # the smaller bound built no table of its own


@pytest.mark.usefixtures("empty_table_cache")
def test_table_cache_test_holds_after_a_small_bound_was_used_first() -> None:
    """The order that used to break the test above: a small bound cached first."""
    small = dlog.table_for(1000)
    assert dlog.table_for(1000) is small and small.bound == 1000
    big = dlog.table_for(dlog.DEFAULT_BOUND)
    assert big.bound == dlog.DEFAULT_BOUND and big.entries is not small.entries
    assert big.log(_point(10_000_000)) == 10_000_000


def test_baby_steps_match_the_reference_curve() -> None:
    """The batched table arithmetic agrees with py-ecc point by point."""
    points = dlog._baby_steps(2100, block=1024)
    for j in (1, 2, 1023, 1024, 1025, 2048, 2049, 2100):
        assert points[j - 1] == reference.multiply(reference.G, j)


def test_group_points_and_the_native_backend_agree() -> None:
    """The public entry point takes group.Point (identity included) on either backend."""
    from civic_votecrypto import group

    for m in (0, 1, 77_777, 10_000_000):
        point = group.base_mul(m) if m else group.IDENTITY
        assert dlog.discrete_log(point) == m
        with group.use_backend("native"):
            native_point = group.base_mul(m) if m else group.IDENTITY
        assert native_point == point and dlog.discrete_log(native_point) == m
