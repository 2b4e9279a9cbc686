"""RFC 9474 RSA blind signatures against the RFC's Appendix A vectors, plus negatives."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from identity.core import blind_rsa as br


@dataclass(frozen=True)
class Vector:
    raw: dict[str, Any]
    private_key: rsa.RSAPrivateKey
    variant: br.Variant

    @property
    def public_key(self) -> rsa.RSAPublicKey:
        return self.private_key.public_key()

    def hex(self, name: str) -> bytes:
        return bytes.fromhex(self.raw[name])

    def int(self, name: str) -> int:
        return int(self.raw[name], 16)


def _private_key(v: dict[str, Any]) -> rsa.RSAPrivateKey:
    p, q, d = (int(v[k], 16) for k in ("p", "q", "d"))
    public = rsa.RSAPublicNumbers(int(v["e"], 16), int(v["n"], 16))
    numbers = rsa.RSAPrivateNumbers(
        p, q, d, rsa.rsa_crt_dmp1(d, p), rsa.rsa_crt_dmq1(d, q), rsa.rsa_crt_iqmp(p, q), public
    )
    # The vectors are checked by reproducing every value below; skip the slow key self-check.
    return numbers.private_key(unsafe_skip_rsa_key_validation=True)


@pytest.fixture(scope="module")
def vectors(conformance_dir: Path) -> list[Vector]:
    path = conformance_dir / "rfc9474_rsa_blind_signatures" / "test_vectors_rfc9474.json"
    raw = json.loads(path.read_text())
    loaded = [Vector(v, _private_key(v), br.VARIANTS[v["name"]]) for v in raw]
    assert sorted(v.variant.name for v in loaded) == sorted(br.VARIANTS)
    return loaded


@pytest.fixture(scope="module")
def other_key() -> rsa.RSAPrivateKey:
    return br.generate_key(2048)


def test_variant_parameters_match_vectors(vectors: list[Vector]) -> None:
    for v in vectors:
        assert v.variant.salt_length == v.int("sLen")
        assert v.variant.randomized == bool(v.int("is_randomized"))
        assert len(v.hex("salt")) == v.variant.salt_length


def test_prepare(vectors: list[Vector]) -> None:
    for v in vectors:
        prefix = v.hex("msg_prefix") or None
        assert br.prepare(v.hex("msg"), v.variant, prefix=prefix) == v.hex("input_msg")
    randomized = br.prepare(b"ballot key", br.PSS_RANDOMIZED)
    assert len(randomized) == 32 + len(b"ballot key") and randomized.endswith(b"ballot key")
    assert br.prepare(b"ballot key", br.PSS_RANDOMIZED) != randomized
    assert br.prepare(b"ballot key", br.PSS_DETERMINISTIC) == b"ballot key"


def test_emsa_pss_encoding(vectors: list[Vector]) -> None:
    for v in vectors:
        if "encoded_msg" not in v.raw:
            continue  # the PSS-Randomized entry publishes no encoded_msg
        em_bits = v.int("n").bit_length() - 1
        assert br.emsa_pss_encode(v.hex("input_msg"), em_bits, v.hex("salt")) == v.hex(
            "encoded_msg"
        )


def test_full_protocol_reproduces_every_vector(vectors: list[Vector]) -> None:
    for v in vectors:
        n = v.int("n")
        r = pow(v.int("inv"), -1, n)
        blinding = br.blind(v.public_key, v.hex("input_msg"), v.variant, salt=v.hex("salt"), r=r)
        assert blinding.blinded_msg == v.hex("blinded_msg"), v.variant.name
        assert blinding.inv == v.int("inv")
        blind_sig = br.blind_sign(v.private_key, blinding.blinded_msg)
        assert blind_sig == v.hex("blind_sig"), v.variant.name
        sig = br.finalize(v.public_key, v.hex("input_msg"), blind_sig, blinding.inv, v.variant)
        assert sig == v.hex("sig"), v.variant.name
        assert br.verify(v.public_key, v.hex("input_msg"), sig, v.variant)


def test_vector_signatures_are_plain_rsassa_pss(vectors: list[Vector]) -> None:
    """An independent RSA-PSS verifier (OpenSSL via cryptography) accepts the final signature."""
    for v in vectors:
        pss = padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=v.variant.salt_length)
        v.public_key.verify(v.hex("sig"), v.hex("input_msg"), pss, hashes.SHA384())


def test_random_round_trip_every_variant(vectors: list[Vector]) -> None:
    key = vectors[0].private_key
    for variant in br.VARIANTS.values():
        input_msg = br.prepare(b"ballot public key bytes", variant)
        blinding = br.blind(key.public_key(), input_msg, variant)
        sig = br.finalize(
            key.public_key(),
            input_msg,
            br.blind_sign(key, blinding.blinded_msg),
            blinding.inv,
            variant,
        )
        assert br.verify(key.public_key(), input_msg, sig, variant)


def test_blinding_hides_the_message(vectors: list[Vector]) -> None:
    """Two blindings of the same message look unrelated; finalized signatures still verify."""
    v = vectors[2]  # deterministic PSS: the signature of a message is not unique (random salt)
    first = br.blind(v.public_key, v.hex("input_msg"), v.variant)
    second = br.blind(v.public_key, v.hex("input_msg"), v.variant)
    assert first.blinded_msg != second.blinded_msg


def _flip(data: bytes, index: int) -> bytes:
    flipped = bytearray(data)
    flipped[index] ^= 0x01
    return bytes(flipped)


def test_flipped_bit_in_signature_is_rejected(vectors: list[Vector]) -> None:
    for v in vectors:
        for index in (0, len(v.hex("sig")) // 2, -1):
            assert not br.verify(
                v.public_key, v.hex("input_msg"), _flip(v.hex("sig"), index), v.variant
            )


def test_flipped_bit_in_message_is_rejected(vectors: list[Vector]) -> None:
    for v in vectors:
        assert not br.verify(v.public_key, _flip(v.hex("input_msg"), -1), v.hex("sig"), v.variant)


def test_wrong_prefix_is_rejected(vectors: list[Vector]) -> None:
    for v in vectors:
        if not v.variant.randomized:
            continue
        wrong = bytes(32) + v.hex("msg")
        assert not br.verify(v.public_key, wrong, v.hex("sig"), v.variant)
        assert not br.verify(v.public_key, v.hex("msg"), v.hex("sig"), v.variant)


def test_wrong_variant_is_rejected(vectors: list[Vector]) -> None:
    for v in vectors:
        other = next(x for x in br.VARIANTS.values() if x.salt_length != v.variant.salt_length)
        assert not br.verify(v.public_key, v.hex("input_msg"), v.hex("sig"), other)


def test_wrong_key_is_rejected(vectors: list[Vector], other_key: rsa.RSAPrivateKey) -> None:
    v = vectors[0]
    assert not br.verify(other_key.public_key(), v.hex("input_msg"), v.hex("sig"), v.variant)


def test_finalize_refuses_a_bad_blind_signature(
    vectors: list[Vector], other_key: rsa.RSAPrivateKey
) -> None:
    """Finalize checks the unblinded signature: a corrupted, mis-unblinded or foreign one fails."""
    v = vectors[0]
    blind_sig = v.hex("blind_sig")
    with pytest.raises(br.BlindRSAError, match="invalid signature"):
        br.finalize(v.public_key, v.hex("input_msg"), _flip(blind_sig, -1), v.int("inv"), v.variant)
    wrong_inv = pow(v.int("inv") + 1, 1, v.int("n"))
    with pytest.raises(br.BlindRSAError, match="invalid signature"):
        br.finalize(v.public_key, v.hex("input_msg"), blind_sig, wrong_inv, v.variant)
    foreign_input = br.prepare(b"m", br.PSS_RANDOMIZED)
    blinding = br.blind(other_key.public_key(), foreign_input)
    foreign_sig = br.blind_sign(other_key, blinding.blinded_msg)
    with pytest.raises(br.BlindRSAError, match="blind signature must be"):
        br.finalize(v.public_key, foreign_input, foreign_sig, blinding.inv)


def test_size_and_range_checks(vectors: list[Vector]) -> None:
    v = vectors[0]
    with pytest.raises(br.BlindRSAError, match="blinded message must be"):
        br.blind_sign(v.private_key, v.hex("blinded_msg")[1:])
    with pytest.raises(br.BlindRSAError, match="out of range"):
        br.blind_sign(v.private_key, b"\xff" * len(v.hex("blinded_msg")))
    with pytest.raises(br.BlindRSAError, match="salt must be"):
        br.blind(v.public_key, b"x", br.PSS_RANDOMIZED, salt=b"short")
    with pytest.raises(br.BlindRSAError, match="not invertible"):
        br.blind(v.public_key, b"x", br.PSS_RANDOMIZED, r=v.int("p"))
    with pytest.raises(br.BlindRSAError, match="message prefix"):
        br.prepare(b"x", br.PSS_RANDOMIZED, prefix=b"short")
    with pytest.raises(br.BlindRSAError, match="no message prefix"):
        br.prepare(b"x", br.PSS_DETERMINISTIC, prefix=bytes(32))
    assert not br.verify(v.public_key, v.hex("input_msg"), v.hex("sig")[1:], v.variant)
    with pytest.raises(br.BlindRSAError, match="at least 2048"):
        br.generate_key(1024)


def test_public_key_serialization(vectors: list[Vector], other_key: rsa.RSAPrivateKey) -> None:
    v = vectors[0]
    pem = br.public_key_pem(v.public_key)
    assert pem.startswith("-----BEGIN PUBLIC KEY-----")
    assert br.public_key_from_pem(pem).public_numbers() == v.public_key.public_numbers()
    jwk = br.public_key_jwk(v.public_key)
    assert jwk["kty"] == "RSA" and jwk["e"] == "AQAB" and jwk["alg"] == "PS384"
    assert jwk["blindSignatureVariant"] == "RSABSSA-SHA384-PSS-Randomized"
    assert br.public_key_from_jwk(jwk).public_numbers() == v.public_key.public_numbers()
    assert br.verify(br.public_key_from_jwk(jwk), v.hex("input_msg"), v.hex("sig"), v.variant)
    assert br.key_id(v.public_key) == br.key_id(br.public_key_from_pem(pem))
    assert br.key_id(v.public_key) != br.key_id(other_key.public_key())


def test_public_key_loading_rejects_bad_input() -> None:
    with pytest.raises(br.BlindRSAError, match="not a PEM"):
        br.public_key_from_pem("garbage")
    with pytest.raises(br.BlindRSAError, match="kty RSA"):
        br.public_key_from_jwk({"kty": "EC"})
    with pytest.raises(br.BlindRSAError, match="invalid RSA JWK"):
        br.public_key_from_jwk({"kty": "RSA", "n": "AQAB"})
    small = rsa.RSAPublicNumbers(65537, (1 << 1023) + 1).public_key()
    with pytest.raises(br.BlindRSAError, match="at least 2048"):
        br.public_key_from_jwk(br.public_key_jwk(small))
