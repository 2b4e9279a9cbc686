"""Hashing: RFC 9380 expand_message_xmd / hash_to_field vectors, the chain, tag separation."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import pytest

from civic_votecrypto import hash_to_curve, hashing
from civic_votecrypto.group import G, N
from civic_votecrypto.hashing import Tag

H2C = "hash_to_curve_rfc9380"


@pytest.mark.parametrize(
    "name", ["expand_message_xmd_SHA256_38.json", "expand_message_xmd_SHA256_256.json"]
)
def test_expand_message_xmd_vectors(conformance_dir: Path, name: str) -> None:
    suite = json.loads((conformance_dir / H2C / name).read_text())
    dst = suite["DST"].encode()
    assert len(suite["tests"]) >= 10
    for case in suite["tests"]:
        out = hashing.expand_message_xmd(case["msg"].encode(), dst, int(case["len_in_bytes"], 16))
        assert out.hex() == case["uniform_bytes"]


def test_hash_to_field_matches_secp256k1_ro_u_values(conformance_dir: Path) -> None:
    suite = json.loads((conformance_dir / H2C / "secp256k1_XMD:SHA-256_SSWU_RO_.json").read_text())
    p = int(suite["field"]["p"], 16)
    for case in suite["vectors"]:
        u = hashing.hash_to_field(case["msg"].encode(), 2, suite["dst"].encode(), p)
        assert u == [int(x, 16) for x in case["u"]]


def test_expand_rejects_bad_lengths() -> None:
    with pytest.raises(ValueError):
        hashing.expand_message_xmd(b"", b"dst", 256 * 32)
    with pytest.raises(ValueError):
        hashing.expand_message_xmd(b"", b"dst", 0)


def test_h_is_hmac_with_tag_byte() -> None:
    key = bytes(range(32))
    expected = hmac.new(key, b"\x07abc", hashlib.sha256).digest()
    assert hashing.H(key, 7, b"a", b"bc") == expected
    assert hashing.H(key, 7, b"abc") != hashing.H(key, 8, b"abc")
    with pytest.raises(ValueError):
        hashing.H(b"short", 1)


def test_tags_are_distinct_bytes() -> None:
    values = [t.value for t in Tag]
    assert len(values) == len(set(values))
    assert all(0 <= v <= 0xFF for v in values)


def test_encodings_are_fixed_length() -> None:
    assert hashing.enc_u32(1) == b"\x00\x00\x00\x01"
    assert hashing.enc_u64(1) == b"\x00" * 7 + b"\x01"
    assert hashing.enc_bytes(b"ab") == b"\x00\x00\x00\x02ab"
    assert hashing.enc_str("é") == b"\x00\x00\x00\x02\xc3\xa9"
    assert len(hashing.enc_scalar(N - 1)) == 32
    assert hashing.enc_points([G, G]) == b"\x00\x00\x00\x02" + G.encode() * 2
    for bad in (-1, 2**32):
        with pytest.raises(ValueError):
            hashing.enc_u32(bad)
    with pytest.raises(ValueError):
        hashing.enc_hash(b"\x00" * 31)


def test_hash_chain_binds_every_link() -> None:
    h_p = hashing.parameter_hash()
    assert h_p == hashing.parameter_hash() and len(h_p) == 32
    h_m = hashing.manifest_hash(h_p, b'{"a":1}')
    assert h_m != hashing.manifest_hash(h_p, b'{"a":2}')
    h_b = hashing.election_base_hash(h_p, h_m, 3, 2)
    assert h_b != hashing.election_base_hash(h_p, h_m, 3, 3)
    assert h_b != hashing.election_base_hash(h_p, h_m, 4, 2)
    h_e = hashing.extended_base_hash(h_b, G)
    assert h_e != hashing.extended_base_hash(h_b, -G)
    assert h_e != hashing.extended_base_hash(h_b, G, [G])


def test_challenge_binds_context_tag_and_fields() -> None:
    ctx = bytes(32)
    c = hashing.challenge(ctx, Tag.RANGE_CHALLENGE, b"x")
    assert 0 <= c < N
    assert c != hashing.challenge(b"\x01" + bytes(31), Tag.RANGE_CHALLENGE, b"x")
    assert c != hashing.challenge(ctx, Tag.LIMIT_CHALLENGE, b"x")
    assert c != hashing.challenge(ctx, Tag.RANGE_CHALLENGE, b"y")
    uniform = hashing.expand_message_xmd(
        bytes((Tag.RANGE_CHALLENGE,)) + ctx + b"x", hashing.CHALLENGE_DST, 48
    )
    assert c == int.from_bytes(uniform, "big") % N


def test_deterministic_scalars_are_reproducible_and_labelled() -> None:
    a = hashing.DeterministicScalars(b"seed", "x")
    b = hashing.DeterministicScalars(b"seed", "x")
    c = hashing.DeterministicScalars(b"seed", "y")
    first = [a() for _ in range(3)]
    assert first == [b() for _ in range(3)]
    assert len(set(first)) == 3
    assert c() != first[0]


@pytest.mark.parametrize(
    "suite_name", ["secp256k1_XMD:SHA-256_SSWU_RO_.json", "secp256k1_XMD:SHA-256_SSWU_NU_.json"]
)
def test_hash_to_curve_vectors(conformance_dir: Path, suite_name: str) -> None:

    suite = json.loads((conformance_dir / H2C / suite_name).read_text())
    dst = suite["dst"].encode()
    assert len(suite["vectors"]) >= 5
    for case in suite["vectors"]:
        msg = case["msg"].encode()
        if suite["randomOracle"]:
            point = hash_to_curve.hash_to_curve(msg, dst)
            q0 = hash_to_curve.iso_map(*hash_to_curve.map_to_curve_sswu(int(case["u"][0], 16)))
            assert (q0.x, q0.y) == (int(case["Q0"]["x"], 16), int(case["Q0"]["y"], 16))
        else:
            point = hash_to_curve.encode_to_curve(msg, dst)
        assert (point.x, point.y) == (int(case["P"]["x"], 16), int(case["P"]["y"], 16))


def test_nums_generator_is_deterministic_and_not_g() -> None:

    h = hash_to_curve.nums_generator("pedersen")
    assert h == hash_to_curve.nums_generator("pedersen")
    assert h not in (G, hash_to_curve.nums_generator("other"))
