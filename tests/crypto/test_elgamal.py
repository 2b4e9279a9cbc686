"""Exponential ElGamal: correctness, homomorphism (plain and weighted), strict decoding."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from civic_votecrypto import elgamal, group
from civic_votecrypto.elgamal import Ciphertext
from civic_votecrypto.errors import EncodingError
from civic_votecrypto.group import N

SECRET = 0x1D2C3B4A5968778695A4B3C2D1E0F00112233445566778899AABBCCDDEEFF001
KEY = group.base_mul(SECRET)

small = st.integers(min_value=0, max_value=40)
nonces = st.integers(min_value=1, max_value=N - 1)


@settings(max_examples=10, deadline=None)
@given(small, nonces)
def test_encrypt_decrypt(m: int, r: int) -> None:
    ct = elgamal.encrypt(KEY, m, r)
    assert ct.alpha == group.mul(group.G, r)
    assert ct.beta == group.mul(KEY, r) + group.mul(group.G, m)
    assert elgamal.decrypt_small(SECRET, ct, 40) == m


@settings(max_examples=8, deadline=None)
@given(
    st.lists(
        st.tuples(small, nonces, st.integers(min_value=0, max_value=9)), min_size=1, max_size=5
    )
)
def test_weighted_homomorphism(entries: list[tuple[int, int, int]]) -> None:
    cts = [elgamal.encrypt(KEY, m, r) for m, r, _ in entries]
    weights = [w for _, _, w in entries]
    plain_sum = elgamal.aggregate(cts)
    total_nonce = sum(r for _, r, _ in entries) % N
    if total_nonce:
        assert plain_sum == elgamal.encrypt(KEY, sum(m for m, _, _ in entries), total_nonce)
    else:  # hypothesis likes nonces 1 and n-1, whose sum is 0
        assert plain_sum.alpha == group.IDENTITY
    weighted = elgamal.aggregate(cts, weights)
    expected_m = sum(m * w for m, _, w in entries)
    assert elgamal.decrypt_to_point(SECRET, weighted) == group.mul(group.G, expected_m)
    manual = elgamal.ZERO
    for ct, w in zip(cts, weights, strict=True):
        manual = manual + ct.scale(w)
    assert manual == weighted


def test_round_trip_and_strict_json() -> None:
    ct = elgamal.encrypt(KEY, 3, 12345)
    assert Ciphertext.decode(ct.encode()) == ct
    assert Ciphertext.from_json(ct.to_json()) == ct
    with pytest.raises(EncodingError):
        Ciphertext.decode(ct.encode()[:-1])
    with pytest.raises(EncodingError):
        Ciphertext.from_json({**ct.to_json(), "extra": "00"})
    with pytest.raises(EncodingError):
        Ciphertext.from_json({"alpha": ct.to_json()["alpha"]})
    with pytest.raises(EncodingError):
        Ciphertext.from_json({"alpha": 1, "beta": ct.to_json()["beta"]})
    with pytest.raises(EncodingError):
        Ciphertext.from_json({"alpha": "02" + "00" * 32, "beta": ct.to_json()["beta"]})


def test_bad_parameters_refused() -> None:
    with pytest.raises(ValueError):
        elgamal.encrypt(KEY, 1, 0)
    with pytest.raises(ValueError):
        elgamal.encrypt(KEY, 1, N)
    with pytest.raises(ValueError):
        elgamal.encrypt(group.IDENTITY, 1, 5)
    with pytest.raises(ValueError):
        elgamal.aggregate([elgamal.encrypt(KEY, 1, 5)], [1, 2])
    with pytest.raises(ValueError):
        elgamal.decrypt_small(SECRET, elgamal.encrypt(KEY, 50, 7), 10)
    with pytest.raises(ValueError):
        elgamal.keypair_from_secret(0)
