"""Batch verification: accepts good batches, rejects a batch with one bad proof and names it."""

from __future__ import annotations

import dataclasses
import random

import pytest

from civic_votecrypto import elgamal, group, proofs
from civic_votecrypto.batch import GLV_LAMBDA, BatchVerifier, WeightStream
from civic_votecrypto.errors import ProofError
from civic_votecrypto.group import G, N, Point
from civic_votecrypto.hashing import DeterministicScalars

RNG = DeterministicScalars(b"test-batch")
KEY = group.base_mul(RNG())
CTX = bytes(32)


def range_items(count: int) -> list[tuple[elgamal.Ciphertext, proofs.RangeProof]]:
    items = []
    for i in range(count):
        r = RNG()
        ct = elgamal.encrypt(KEY, i % 2, r)
        items.append((ct, proofs.prove_range(CTX, KEY, ct, i % 2, r, 0, 1, rng=RNG)))
    return items


ITEMS = range_items(9)


def fill(verifier: BatchVerifier, items) -> None:  # type: ignore[no-untyped-def]
    for i, (ct, pr) in enumerate(items):
        verifier.add(
            ("range", i), lambda ct=ct, pr=pr: proofs.range_equations(CTX, KEY, ct, pr, 0, 1)
        )


def test_good_batch_accepted_with_mixed_proof_kinds() -> None:
    verifier = BatchVerifier(fixed_bases=[KEY])
    fill(verifier, ITEMS)
    secret = RNG()
    schnorr = proofs.prove_schnorr(CTX, secret, rng=RNG)
    verifier.add("schnorr", lambda: proofs.schnorr_equations(CTX, group.base_mul(secret), schnorr))
    alpha = ITEMS[0][0].alpha
    eq = proofs.prove_equality(CTX, secret, alpha, rng=RNG)
    verifier.add(
        "cp",
        lambda: proofs.equality_equations(
            CTX, group.base_mul(secret), alpha, group.mul(alpha, secret), eq
        ),
    )
    assert len(verifier) == 11
    assert verifier.verify()
    assert verifier.bad_items() == []
    verifier.raise_if_bad()


@pytest.mark.parametrize("bad_index", [0, 4, 8])
def test_one_bad_response_is_rejected_and_found(bad_index: int) -> None:
    items = list(ITEMS)
    ct, pr = items[bad_index]
    b0 = pr.branches[0]
    items[bad_index] = (
        ct,
        proofs.RangeProof((dataclasses.replace(b0, v=(b0.v + 1) % N), pr.branches[1])),
    )
    verifier = BatchVerifier(fixed_bases=[KEY])
    fill(verifier, items)
    assert not verifier.verify()
    assert [ref for ref, _ in verifier.bad_items()] == [("range", bad_index)]
    with pytest.raises(ProofError, match="1 proof"):
        verifier.raise_if_bad()


def test_hash_level_rejection_needs_no_group_work() -> None:
    items = list(ITEMS)
    ct, pr = items[3]
    items[3] = (elgamal.encrypt(KEY, 1, RNG()), pr)  # proof for another ciphertext
    ct2, pr2 = items[5]
    b1 = pr2.branches[1]
    items[5] = (ct2, proofs.RangeProof((pr2.branches[0], dataclasses.replace(b1, b=-b1.b))))
    verifier = BatchVerifier(fixed_bases=[KEY])
    fill(verifier, items)
    assert not verifier.verify()
    assert sorted(ref for ref, _ in verifier.bad_items()) == [("range", 3), ("range", 5)]


def test_errors_that_cancel_in_an_unweighted_sum_are_still_caught() -> None:
    # Two proofs with opposite errors in the response: a plain sum of equations would pass.
    items = list(ITEMS)
    (ct1, p1), (ct2, p2) = items[1], items[3]
    # both encrypt 1, so branch 0 is simulated in each; shift v on branch 1 (alpha eq uses G)
    d = 12345
    items[1] = (
        ct1,
        proofs.RangeProof(
            (p1.branches[0], dataclasses.replace(p1.branches[1], v=(p1.branches[1].v + d) % N))
        ),
    )
    items[3] = (
        ct2,
        proofs.RangeProof(
            (p2.branches[0], dataclasses.replace(p2.branches[1], v=(p2.branches[1].v - d) % N))
        ),
    )
    plain = BatchVerifier(fixed_bases=[KEY], weight=lambda: 1)
    fill(plain, items)
    weighted = BatchVerifier(fixed_bases=[KEY])
    fill(weighted, items)
    assert not weighted.verify()
    assert sorted(ref for ref, _ in weighted.bad_items()) == [("range", 1), ("range", 3)]
    # the alpha errors cancel in an unweighted sum, the beta ones too (K terms): that is why weights exist
    assert plain.verify()


def test_batch_same_result_on_native_backend() -> None:
    items = list(ITEMS)
    ct, pr = items[2]
    b1 = pr.branches[1]
    items[2] = (ct, proofs.RangeProof((pr.branches[0], dataclasses.replace(b1, v=(b1.v + 1) % N))))
    with group.use_backend("native"):
        good = BatchVerifier(fixed_bases=[KEY])
        fill(good, ITEMS)
        assert good.verify()
        bad = BatchVerifier(fixed_bases=[KEY])
        fill(bad, items)
        assert [ref for ref, _ in bad.bad_items()] == [("range", 2)]


def test_glv_weights_are_distinct_and_work_on_both_backends() -> None:

    assert GLV_LAMBDA**3 % N == 1  # λ is a cube root of unity mod n
    stream = WeightStream(glv=True, block=64)
    weights = [stream() for _ in range(200)]
    assert len(set(weights)) == 200 and all(0 < w < N for w in weights)
    plain = WeightStream(glv=False, block=8)
    assert all(0 < plain() < 2**128 for _ in range(20))
    with pytest.raises(ValueError):
        WeightStream(bits=64)
    items = list(ITEMS[:4])
    ct, pr = items[1]
    b0 = pr.branches[0]
    items[1] = (ct, proofs.RangeProof((dataclasses.replace(b0, v=(b0.v + 1) % N), pr.branches[1])))
    for backend in ("py-ecc", "native"):
        with group.use_backend(backend):
            good = BatchVerifier(fixed_bases=[KEY], weight=WeightStream(glv=True))
            fill(good, ITEMS[:4])
            assert good.verify()
            bad = BatchVerifier(fixed_bases=[KEY], weight=WeightStream(glv=True))
            fill(bad, items)
            assert [ref for ref, _ in bad.bad_items()] == [("range", 1)]


def test_weighted_range_combination_equals_the_weighted_equations() -> None:
    """range_weighted is Σ (−z_e)·(equation e) of range_equations, coefficient by coefficient."""
    ctx_hash = bytes(32)
    for value, lo, hi in ((0, 0, 1), (2, 0, 3), (5, 3, 7)):
        r = 1234567 + value
        ct = elgamal.encrypt(KEY, value, r)
        proof = proofs.prove_range(ctx_hash, KEY, ct, value, r, lo, hi, label=b"w")
        equations = proofs.range_equations(ctx_hash, KEY, ct, proof, lo, hi, label=b"w")
        rng = random.Random(value)
        draws = [rng.getrandbits(128) for _ in range(len(equations))]
        expected: dict[Point, int] = {}
        for z, eq in zip(draws, equations, strict=True):
            for k, point in eq:
                expected[point] = (expected.get(point, 0) - z * k) % N
        g, k_key, c_alpha, c_beta, terms = proofs.range_weighted(proof, lo, iter(draws).__next__)
        got: dict[Point, int] = {G: g, KEY: k_key, ct.alpha: c_alpha, ct.beta: c_beta}
        for k, point in terms:
            got[point] = (got.get(point, 0) + k) % N
        assert got == expected
        assert all(k < 2**128 for k, _ in terms)  # commitments get the plain weights


def test_weight_stream_auto_mode_follows_the_batch_size() -> None:
    stream = WeightStream(block=16)
    assert all(stream() < 2**128 for _ in range(20))  # plain by default
    stream.prefer_glv(True)
    assert sum(stream() >= 2**128 for _ in range(20)) >= 15  # z1 + λ·z2 mod n is full size
    stream.prefer_glv(False)
    assert all(stream() < 2**128 for _ in range(20))
    fixed = WeightStream(glv=True, block=16)
    fixed.prefer_glv(False)  # an explicit choice is kept
    assert sum(fixed() >= 2**128 for _ in range(20)) >= 15
