"""Proofs: completeness, and rejection of every forgery (flipped bits, swapped commitments,
wrong statement, wrong context, wrong label, wrong range), on both the alone and equation paths."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from civic_votecrypto import elgamal, group, proofs
from civic_votecrypto.errors import EncodingError, ProofError
from civic_votecrypto.group import G, N
from civic_votecrypto.hashing import DeterministicScalars, Tag

RNG = DeterministicScalars(b"test-proofs")
SECRET = RNG()
KEY = group.base_mul(SECRET)
CTX = bytes(range(32))
OTHER_CTX = bytes(range(1, 33))


def both_paths_reject(verify, equations, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
    """One statement, refused both alone (``verify_*``) and as equations (``*_equations``):
    each pair of functions takes the same arguments."""
    with pytest.raises(ProofError):
        verify(*args, **kwargs)
    with pytest.raises(ProofError):
        proofs.check_equations(equations(*args, **kwargs))


def make_range(value: int, lo: int = 0, hi: int = 1, label: bytes = b"L"):  # type: ignore[no-untyped-def]
    r = RNG()
    ct = elgamal.encrypt(KEY, value, r)
    return ct, proofs.prove_range(CTX, KEY, ct, value, r, lo, hi, label=label, rng=RNG)


@settings(max_examples=6, deadline=None)
@given(st.integers(min_value=0, max_value=3))
def test_range_proof_completeness(value: int) -> None:
    ct, proof = make_range(value, 0, 3)
    proofs.verify_range(CTX, KEY, ct, proof, 0, 3, label=b"L")
    proofs.check_equations(proofs.range_equations(CTX, KEY, ct, proof, 0, 3, label=b"L"))
    assert proofs.RangeProof.from_json(proof.to_json()) == proof


def test_range_proof_with_offset_range() -> None:
    ct, proof = make_range(5, 3, 6)
    proofs.verify_range(CTX, KEY, ct, proof, 3, 6, label=b"L")
    with pytest.raises(ProofError):
        proofs.prove_range(CTX, KEY, ct, 7, 1, 3, 6)


def test_out_of_range_value_cannot_be_proved_by_lying() -> None:
    # Encrypt 2 but build a proof claiming the 0..1 statement with the "value 1" branch real.
    r = RNG()
    ct = elgamal.encrypt(KEY, 2, r)
    forged = proofs.prove_range(CTX, KEY, ct, 1, r, 0, 1, rng=RNG)
    both_paths_reject(proofs.verify_range, proofs.range_equations, CTX, KEY, ct, forged, 0, 1)


def _statement_variants(ct, proof):  # type: ignore[no-untyped-def]
    other_ct = elgamal.encrypt(KEY, 1, RNG())
    return {
        "context": dict(context=OTHER_CTX),
        "key": dict(key=group.base_mul(SECRET + 1)),
        "ciphertext": dict(ciphertext=other_ct),
        "swapped alpha beta": dict(ciphertext=elgamal.Ciphertext(ct.beta, ct.alpha)),
        "label": dict(label=b"M"),
        "tag": dict(tag=Tag.LIMIT_CHALLENGE),
        "range": dict(hi=2),
    }


def test_range_proof_rejects_every_changed_statement() -> None:
    ct, proof = make_range(1)
    base = dict(
        context=CTX,
        key=KEY,
        ciphertext=ct,
        proof=proof,
        lo=0,
        hi=1,
        label=b"L",
        tag=Tag.RANGE_CHALLENGE,
    )
    for name, change in _statement_variants(ct, proof).items():
        try:
            both_paths_reject(proofs.verify_range, proofs.range_equations, **{**base, **change})
        except pytest.fail.Exception:  # pragma: no cover - names the failing variant
            raise AssertionError(f"variant {name} was accepted") from None


def _mutations(proof: proofs.RangeProof):  # type: ignore[no-untyped-def]
    b0, b1 = proof.branches
    yield (
        "swapped commitments a",
        (dataclasses.replace(b0, a=b1.a), dataclasses.replace(b1, a=b0.a)),
    )
    yield "swapped a/b", (dataclasses.replace(b0, a=b0.b, b=b0.a), b1)
    yield "swapped branches", (b1, b0)
    yield "response +1", (dataclasses.replace(b0, v=(b0.v + 1) % N), b1)
    yield (
        "challenge moved",
        (dataclasses.replace(b0, c=(b0.c + 1) % N), dataclasses.replace(b1, c=(b1.c - 1) % N)),
    )
    yield "negated commitment", (dataclasses.replace(b0, b=-b0.b), b1)
    yield "dropped branch", (b0,)


def test_range_proof_rejects_tampered_proofs() -> None:
    ct, proof = make_range(0)
    for name, branches in _mutations(proof):
        bad = proofs.RangeProof(tuple(branches))
        both_paths_reject(
            proofs.verify_range, proofs.range_equations, CTX, KEY, ct, bad, 0, 1, label=b"L"
        )
        assert name


def test_every_bit_flip_in_encoded_proof_is_rejected() -> None:
    ct, proof = make_range(1)
    doc = proof.to_json()
    branch = doc["branches"][1]
    checked = 0
    for field in ("a", "b", "c", "v"):
        raw = bytearray(bytes.fromhex(branch[field]))
        for bit in (0, 7, 100, len(raw) * 8 - 1):
            flipped = bytearray(raw)
            flipped[bit // 8] ^= 1 << (bit % 8)
            mutated = {"branches": [doc["branches"][0], {**branch, field: flipped.hex()}]}
            try:
                bad = proofs.RangeProof.from_json(mutated)
            except EncodingError:
                checked += 1
                continue
            with pytest.raises(ProofError):
                proofs.verify_range(CTX, KEY, ct, bad, 0, 1, label=b"L")
            checked += 1
    assert checked == 16


def test_range_proof_json_is_strict() -> None:
    _, proof = make_range(0)
    doc = proof.to_json()
    for bad in (
        {},
        {"branches": []},
        {"branches": doc["branches"], "x": 1},
        {"branches": [{**doc["branches"][0], "extra": "00"}]},
        {"branches": [{**doc["branches"][0], "c": "ff" * 32}]},
        {"branches": [{**doc["branches"][0], "a": 5}]},
        "not an object",
    ):
        with pytest.raises(EncodingError):
            proofs.RangeProof.from_json(bad)


def test_schnorr_proof() -> None:
    secret = RNG()
    public = group.base_mul(secret)
    proof = proofs.prove_schnorr(CTX, secret, label=b"trustee-1/0", rng=RNG)
    proofs.verify_schnorr(CTX, public, proof, label=b"trustee-1/0")
    proofs.check_equations(proofs.schnorr_equations(CTX, public, proof, label=b"trustee-1/0"))
    assert proofs.SchnorrProof.from_json(proof.to_json()) == proof
    bad_cases = [
        (OTHER_CTX, public, proof, b"trustee-1/0"),
        (CTX, public + G, proof, b"trustee-1/0"),
        (CTX, public, proof, b"trustee-2/0"),
        (
            CTX,
            public,
            dataclasses.replace(proof, response=(proof.response + 1) % N),
            b"trustee-1/0",
        ),
        (CTX, public, dataclasses.replace(proof, commitment=-proof.commitment), b"trustee-1/0"),
    ]
    for ctx, pub, pr, label in bad_cases:
        both_paths_reject(
            proofs.verify_schnorr, proofs.schnorr_equations, ctx, pub, pr, label=label
        )
    with pytest.raises(ProofError):
        proofs.prove_schnorr(CTX, 0)


def test_equality_proof_for_partial_decryption() -> None:
    share = RNG()
    share_key = group.base_mul(share)
    ct = elgamal.encrypt(KEY, 1, RNG())
    partial = group.mul(ct.alpha, share)
    proof = proofs.prove_equality(CTX, share, ct.alpha, label=b"t1", rng=RNG)
    proofs.verify_equality(CTX, share_key, ct.alpha, partial, proof, label=b"t1")
    proofs.check_equations(
        proofs.equality_equations(CTX, share_key, ct.alpha, partial, proof, label=b"t1")
    )
    assert proofs.EqualityProof.from_json(proof.to_json()) == proof
    wrong_partial = partial + G  # a cheating trustee's share
    bad_cases = [
        (CTX, share_key, ct.alpha, wrong_partial, proof),
        (OTHER_CTX, share_key, ct.alpha, partial, proof),
        (CTX, share_key, ct.beta, partial, proof),
        (CTX, share_key, ct.alpha, partial, dataclasses.replace(proof, a=proof.b, b=proof.a)),
        (
            CTX,
            share_key,
            ct.alpha,
            partial,
            dataclasses.replace(proof, response=(proof.response + 1) % N),
        ),
    ]
    for ctx, pub, base2, pub2, pr in bad_cases:
        both_paths_reject(
            proofs.verify_equality,
            proofs.equality_equations,
            ctx,
            pub,
            base2,
            pub2,
            pr,
            label=b"t1",
        )
    # another first base works too
    h = group.base_mul(RNG())
    proof2 = proofs.prove_equality(CTX, share, ct.alpha, base1=h, rng=RNG)
    proofs.verify_equality(CTX, group.mul(h, share), ct.alpha, partial, proof2, base1=h)
    with pytest.raises(ProofError):
        proofs.verify_equality(CTX, group.mul(h, share), ct.alpha, partial, proof2)


def test_unsupported_ranges_refused() -> None:
    ct, proof = make_range(0)
    with pytest.raises(ValueError):
        proofs.verify_range(CTX, KEY, ct, proof, 2, 1)
    with pytest.raises(ValueError):
        proofs.prove_range(CTX, KEY, ct, 0, 1, 0, proofs.MAX_RANGE_BRANCHES)
