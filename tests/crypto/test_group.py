"""Group layer: strict encodings, arithmetic against py_ecc and public vectors, MSM, tables."""

from __future__ import annotations

import csv
import pickle
import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from py_ecc.secp256k1 import secp256k1 as ref

from civic_votecrypto import group
from civic_votecrypto.errors import EncodingError
from civic_votecrypto.group import IDENTITY, G, N, P, Point

scalars = st.integers(min_value=0, max_value=N - 1)
nonzero_scalars = st.integers(min_value=1, max_value=N - 1)


def bip340_rows(conformance_dir: Path) -> list[dict[str, str]]:
    with (conformance_dir / "secp256k1" / "bip340" / "test-vectors.csv").open() as fh:
        return list(csv.DictReader(fh))


def test_generator_and_order_are_secp256k1() -> None:
    assert G.hex() == "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
    assert group.mul(G, N) == IDENTITY
    assert group.mul(G, N - 1) == -G
    assert P == 2**256 - 2**32 - 977


def test_bip340_secret_keys_give_their_public_x(conformance_dir: Path) -> None:
    rows = [r for r in bip340_rows(conformance_dir) if r["secret key"]]
    assert len(rows) >= 4
    for row in rows:
        sk = int(row["secret key"], 16)
        point = group.base_mul(sk)
        assert point.x == int(row["public key"], 16)
        assert group.mul(G, sk) == point


def test_bip340_public_keys_decode_or_are_rejected(conformance_dir: Path) -> None:
    rows = bip340_rows(conformance_dir)
    bad = {
        "public key not on the curve",
        "public key is not a valid X coordinate because it exceeds the field size",
    }
    seen_bad = 0
    for row in rows:
        encoded = bytes.fromhex("02" + row["public key"].lower())
        if row["comment"] in bad:
            seen_bad += 1
            with pytest.raises(EncodingError):
                Point.decode(encoded)
        else:
            point = Point.decode(encoded)
            assert point.y % 2 == 0 and point.encode() == encoded
    assert seen_bad == 2


@settings(max_examples=25, deadline=None)
@given(nonzero_scalars)
def test_point_round_trip(k: int) -> None:
    point = group.base_mul(k)
    assert Point.decode(point.encode()) == point
    assert Point.from_hex(point.hex()) == point
    assert len(point.encode()) == 33
    assert (point.x, point.y) == ref.multiply(ref.G, k)


@settings(max_examples=50, deadline=None)
@given(scalars)
def test_scalar_round_trip(k: int) -> None:
    data = group.encode_scalar(k)
    assert len(data) == 32
    assert group.decode_scalar(data) == k
    assert group.scalar_from_hex(group.scalar_hex(k)) == k


@settings(max_examples=10, deadline=None)
@given(nonzero_scalars, nonzero_scalars)
def test_homomorphism_of_multiplication(a: int, b: int) -> None:
    assert group.base_mul(a) + group.base_mul(b) == group.base_mul((a + b) % N)
    assert group.mul(group.base_mul(a), b) == group.base_mul(a * b % N)


def test_scalar_decoding_rejections() -> None:
    with pytest.raises(EncodingError):
        group.decode_scalar(N.to_bytes(32, "big"))
    with pytest.raises(EncodingError):
        group.decode_scalar((2**256 - 1).to_bytes(32, "big"))
    with pytest.raises(EncodingError):
        group.decode_scalar(b"\x01" * 31)
    with pytest.raises(EncodingError):
        group.decode_scalar(b"\x00" + b"\x01" * 32)
    with pytest.raises(EncodingError):
        group.decode_scalar(bytes(32), nonzero=True)
    assert group.decode_scalar(bytes(32)) == 0
    assert group.decode_scalar((N - 1).to_bytes(32, "big")) == N - 1
    with pytest.raises(EncodingError):
        group.encode_scalar(N)
    with pytest.raises(EncodingError):
        group.encode_scalar(-1)
    with pytest.raises(EncodingError):
        group.scalar_from_hex("AB" * 32)  # uppercase is a second textual form
    with pytest.raises(EncodingError):
        group.scalar_from_hex("zz" * 32)
    with pytest.raises(EncodingError):
        group.scalar_from_hex("00" * 31)


def test_point_decoding_rejections() -> None:
    good = group.base_mul(12345).encode()
    with pytest.raises(EncodingError):
        Point.decode(good[:-1])  # short
    with pytest.raises(EncodingError):
        Point.decode(good + b"\x00")  # long
    for prefix in (0x00, 0x01, 0x04, 0x05, 0x06, 0x07, 0xFF):
        with pytest.raises(EncodingError):
            Point.decode(bytes((prefix,)) + good[1:])
    with pytest.raises(EncodingError):
        Point.decode(bytes(33))  # the usual "infinity" encodings
    with pytest.raises(EncodingError):
        Point.decode(b"\x00")
    uncompressed = b"\x04" + G.x.to_bytes(32, "big") + G.y.to_bytes(32, "big")
    with pytest.raises(EncodingError):
        Point.decode(uncompressed)
    # x >= p, including x = p + small where x mod p would be on the curve
    small_valid_x = next(x for x in range(1, 100) if group.get_backend().lift_x(x, 0) is not None)
    with pytest.raises(EncodingError):
        Point.decode(b"\x02" + (P + small_valid_x).to_bytes(32, "big"))
    with pytest.raises(EncodingError):
        Point.decode(b"\x02" + (2**256 - 1).to_bytes(32, "big"))
    # off-curve x (no square root)
    off_x = next(x for x in range(1, 100) if group.get_backend().lift_x(x, 0) is None)
    with pytest.raises(EncodingError):
        Point.decode(b"\x03" + off_x.to_bytes(32, "big"))
    with pytest.raises(EncodingError):
        IDENTITY.encode()
    with pytest.raises(EncodingError):
        Point.from_affine(G.x, G.y + 1)
    with pytest.raises(EncodingError):
        Point.from_hex(good.hex().upper())


def test_parity_bit_selects_y() -> None:
    point = group.base_mul(7)
    flipped = bytes((point.encode()[0] ^ 1,)) + point.encode()[1:]
    assert Point.decode(flipped) == -point


def test_identity_arithmetic() -> None:
    assert G + IDENTITY == G
    assert IDENTITY + G == G
    assert G - G == IDENTITY
    assert group.mul(G, 0) == IDENTITY
    assert group.mul(IDENTITY, 5) == IDENTITY
    assert group.msm([], []) == IDENTITY
    assert group.msm([3, N - 3], [G, G]) == IDENTITY
    assert group.mul(G, 2) == G + G


@pytest.mark.parametrize("count", [1, 2, 5, 40, 200])
def test_msm_matches_sum_of_products(count: int) -> None:
    rng = random.Random(count)
    points = [group.base_mul(rng.randrange(1, N)) for _ in range(count)]
    scalars_ = [rng.randrange(N) for _ in range(count)]
    if count > 2:
        scalars_[1] = 0
        scalars_[2] = rng.randrange(1, 2**128)  # short scalars mix with full ones
    expected = IDENTITY
    for k, point in zip(scalars_, points, strict=True):
        expected = expected + group.mul(point, k)
    assert group.msm(scalars_, points) == expected


def test_fixed_base_table_for_another_point() -> None:
    rng = random.Random(9)
    base = group.base_mul(rng.randrange(1, N))
    table = group.fixed_base(base)
    for k in (1, 2, 127, 128, 129, 255, 256, N - 1, rng.randrange(N), 2**255 + 12345):
        assert table.mul(k) == group.mul(base, k)
    assert table.mul(0) == IDENTITY


def test_unknown_backend_is_refused() -> None:
    with pytest.raises(ValueError):
        group.set_backend("openssl")



def test_points_pickle_for_process_pools() -> None:

    point = group.base_mul(5)
    point.encode()  # fill the caches
    with group.use_backend("native"):
        cached = group.mul(point, 3)
    for value in (point, cached, IDENTITY):
        assert pickle.loads(pickle.dumps(value)) == value  # noqa: S301 - our own bytes


@pytest.mark.parametrize(
    "text",
    [
        "00 " + "11" * 30 + " ",  # 64 characters, but bytes.fromhex reads 31 bytes
        " " + "ab" * 31 + " ",
        "ab" * 31 + "a\n",
        "\t" + "ab" * 31 + "a",
        "ab" * 15 + "  " + "ab" * 16,
        "0x" + "ab" * 31,
        "٠" * 64,  # Arabic-Indic digits are Unicode decimals, not hex
        "AB" * 32,
        "ab" * 31 + "g0",
    ],
)
def test_hex_with_anything_but_lowercase_hex_digits_is_rejected(text: str) -> None:
    assert len(text) == 64
    with pytest.raises(EncodingError):
        group.hex_to_bytes(text, 32, "hash")
    with pytest.raises(EncodingError):
        group.scalar_from_hex(text)


def test_hex_of_the_exact_length_decodes() -> None:
    assert group.hex_to_bytes("00" + "11" * 31, 32, "hash") == b"\x00" + b"\x11" * 31
    for bad in ("11" * 31, "11" * 33, None, b"11" * 32):
        with pytest.raises(EncodingError):
            group.hex_to_bytes(bad, 32, "hash")  # type: ignore[arg-type]
