"""The native (libsecp256k1) backend gives bit-identical results to the py-ecc reference."""

from __future__ import annotations

import gc
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from civic_votecrypto import group
from civic_votecrypto.errors import EncodingError
from civic_votecrypto.group import IDENTITY, G, N, P, Point

nonzero = st.integers(min_value=1, max_value=N - 1)


def both(fn):  # type: ignore[no-untyped-def]
    with group.use_backend("py-ecc"):
        reference = fn()
    with group.use_backend("native"):
        native = fn()
    return reference, native


@settings(max_examples=15, deadline=None)
@given(nonzero, nonzero)
def test_mul_add_base_match(a: int, b: int) -> None:
    base = group.base_mul(a)
    ref, nat = both(lambda: (group.base_mul(a), group.mul(base, b), base + G, base - base, -base))
    assert ref == nat


@settings(max_examples=10, deadline=None)
@given(
    st.lists(st.tuples(st.integers(min_value=0, max_value=N - 1), nonzero), min_size=1, max_size=12)
)
def test_msm_matches(pairs: list[tuple[int, int]]) -> None:
    points = [group.base_mul(p) for _, p in pairs]
    scalars = [k for k, _ in pairs]
    ref, nat = both(lambda: group.msm(scalars, points))
    assert ref == nat


def test_msm_with_generator_and_cancellation() -> None:
    base = group.base_mul(99)
    ref, nat = both(lambda: (group.msm([5, N - 5], [G, G]), group.msm([3, 4, 0], [G, base, base])))
    assert ref == nat
    assert nat[0] == IDENTITY


def test_fixed_base_and_identity_cases() -> None:
    rng = random.Random(3)
    key = group.base_mul(rng.randrange(1, N))
    ks = [0, 1, N - 1, rng.randrange(N)]
    ref, nat = both(
        lambda: (
            [group.fixed_base(key).mul(k) for k in ks] + [group.mul(IDENTITY, 3), group.mul(key, 0)]
        )
    )
    assert ref == nat


def test_decoding_identical_on_both_backends() -> None:
    rng = random.Random(4)
    for _ in range(40):
        x = rng.randrange(P)
        for parity in (0, 1):
            data = bytes((2 + parity,)) + x.to_bytes(32, "big")

            def decode(data: bytes = data) -> Point | str:
                try:
                    return Point.decode(data)
                except EncodingError:
                    return "rejected"

            ref, nat = both(decode)
            assert ref == nat
    with group.use_backend("native"), pytest.raises(EncodingError):
        Point.decode(b"\x02" + (P + 1).to_bytes(32, "big"))


def test_use_backend_restores_previous() -> None:
    before = group.get_backend().name
    with group.use_backend("native") as backend:
        assert backend.name == "native" and group.get_backend().name == "native"
    assert group.get_backend().name == before


def test_cached_native_handles_stay_valid() -> None:

    base = group.base_mul(1234)
    with group.use_backend("native"):
        single = group.msm([7], [base])
        several = group.msm([7, 9], [base, G])
        gc.collect()
        later = (group.mul(single, 3), single + several)
    with group.use_backend("py-ecc"):
        assert later == (group.mul(base, 21), group.mul(base, 14) + group.mul(G, 9))


def test_backend_chosen_by_environment() -> None:

    code = "from civic_votecrypto import group; print(group.get_backend().name)"
    root = Path(__file__).resolve().parents[2]
    for value, expected in (("native", "native"), ("py-ecc", "py-ecc")):
        env = {**os.environ, group.BACKEND_ENV: value}
        out = subprocess.run(
            [sys.executable, "-c", code],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        assert out.stdout.strip() == expected
    env = {**os.environ, group.BACKEND_ENV: "bogus"}
    bad = subprocess.run(
        [sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True, check=False
    )
    assert bad.returncode != 0 and "unknown backend" in bad.stderr


scalar_kinds = st.one_of(
    st.integers(min_value=0, max_value=2**128 - 1),  # batch weights
    st.integers(min_value=0, max_value=N - 1),  # merged coefficients
    st.sampled_from([0, 1, 255, 256, 2**128 - 1, 2**128, N - 1]),
)


@settings(max_examples=12, deadline=None)
@given(st.lists(st.tuples(scalar_kinds, st.integers(0, 40)), min_size=1, max_size=40))
def test_bucket_msm_matches_py_ecc(pairs) -> None:  # type: ignore[no-untyped-def]
    """The bucket method on every size (threshold lowered), against the py-ecc reference:
    G among the points, the identity, zero and byte-boundary scalars, repeated points."""
    from civic_votecrypto import native

    pool = [G, IDENTITY, *(group.base_mul(7 + 3 * i) for i in range(39))]
    scalars = [k for k, _ in pairs]
    points = [pool[i] for _, i in pairs]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(native, "BUCKET_MSM_MIN_POINTS", 1)
        ref, nat = both(lambda: group.msm(scalars, points))
    assert ref == nat


def test_bucket_msm_on_a_batch_sized_input() -> None:
    """Above the threshold (the path batch verification takes), against per-point products,
    including a sum that cancels to the identity."""
    from civic_votecrypto import native

    rng = random.Random(11)
    with group.use_backend("native") as backend:
        count = native.BUCKET_MSM_MIN_POINTS + 37
        points = [group.base_mul(rng.randrange(1, N)) for _ in range(count)]
        points[5], points[9] = G, IDENTITY
        scalars = [rng.choice([rng.getrandbits(128), rng.randrange(N), 0]) for _ in range(count)]
        expected = IDENTITY
        for start in range(0, count, 500):  # below the threshold: tweak_mul per point
            expected = expected + backend.msm(
                scalars[start : start + 500], points[start : start + 500]
            )
        assert backend.msm(scalars, points) == expected
        half = points[: count // 2]
        weights = [rng.getrandbits(128) for _ in half]
        cancelling = backend.msm(weights + [N - w for w in weights], half + half)
        assert cancelling == IDENTITY
        assert backend.msm([*weights, 1], [*half, G]) == backend.msm(weights, half) + G


def test_point_from_hex_fast_path_refuses_every_non_canonical_text() -> None:
    """The native one-step parse (``NativeBackend.parse_hex``) accepts exactly what the
    checked path accepts, and each refusal falls back to that path's exact error."""
    good = group.base_mul(12345).hex()
    with group.use_backend("native") as backend:
        assert backend.parse_hex(good) == group.base_mul(12345)
        assert Point.from_hex(good).hex() == good
        not_on_curve = "02" + "00" * 31 + "05"  # x = 5: x^3 + 7 = 132 is not a square mod p
        bad = {
            good.upper(): "lowercase",
            good[:2] + " " + good[3:]: "lowercase",
            "04" + good[2:]: "prefix",
            "02" + "ff" * 32: "not reduced",
            not_on_curve: "not on secp256k1",
            good[:-2]: "66 characters",
            good + "00": "66 characters",
        }
        for text, reason in bad.items():
            if len(text) == 66:
                assert backend.parse_hex(text) is None, text
            with pytest.raises(EncodingError, match=reason):
                Point.from_hex(text)
        with pytest.raises(EncodingError):
            Point.from_hex(12345)  # type: ignore[arg-type]
    with group.use_backend("py-ecc"), pytest.raises(EncodingError, match="not on secp256k1"):
        Point.from_hex(not_on_curve)
