"""Key ceremony: 3-of-5 DKG, public keys from commitments, complaints that name the cheater."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Mapping

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from civic_votecrypto import dkg, group
from civic_votecrypto.group import N
from civic_votecrypto.hashing import DeterministicScalars
from civic_votecrypto.trustee_file import decrypt_trustee_secret, encrypt_trustee_secret

from .election_factory import CheatingTrustee

BASE_HASH = bytes(range(32))
PARAMS = dkg.CeremonyParameters(trustees=5, threshold=3, base_hash=BASE_HASH)


def interpolate_at_zero(points: Mapping[int, int]) -> int:
    """Test-only: reconstruct the secret from shares (nobody does this in production)."""
    present = sorted(points)
    return sum(points[j] * _lagrange(j, present) for j in present) % N


def _lagrange(j: int, present: list[int]) -> int:
    num = den = 1
    for k in present:
        if k != j:
            num, den = num * k % N, den * (k - j) % N
    return num * pow(den, -1, N) % N


@pytest.fixture(scope="module")
def ceremony() -> tuple[dkg.CeremonyTranscript, list[dkg.TrusteeKeyShare]]:
    return dkg.run_ceremony(PARAMS, rng=DeterministicScalars(b"dkg-test", "honest"))


def test_three_of_five_ceremony_gives_consistent_keys(ceremony) -> None:
    transcript, shares = ceremony
    transcript.verify()
    assert transcript.complaints == () and transcript.qualified() == [1, 2, 3, 4, 5]
    joint = transcript.joint_key()
    assert joint == group.sum_points([c.commitments[0] for c in transcript.commitments])
    keys = transcript.verification_keys()
    for share in shares:
        assert keys[share.index] == group.base_mul(share.share)
    # every 3-subset reconstructs the same secret, whose public key is K; 2 shares do not
    secrets_seen = {
        interpolate_at_zero({s.index: s.share for s in subset})
        for subset in itertools.combinations(shares, 3)
    }
    assert len(secrets_seen) == 1
    assert group.base_mul(secrets_seen.pop()) == joint
    two = interpolate_at_zero({s.index: s.share for s in shares[:2]})
    assert group.base_mul(two) != joint


def test_transcript_round_trips_through_json(ceremony) -> None:
    transcript, _ = ceremony
    anns = [dkg.TrusteeAnnouncement.from_json(a.to_json()) for a in transcript.announcements]
    comms = [dkg.TrusteeCommitments.from_json(c.to_json()) for c in transcript.commitments]
    assert anns == list(transcript.announcements) and comms == list(transcript.commitments)


def test_bad_coefficient_proof_names_the_trustee(ceremony) -> None:
    transcript, _ = ceremony
    msg = transcript.commitments[1]
    proof = msg.proofs[2]
    bad = dataclasses.replace(proof, response=(proof.response + 1) % N)
    tampered = dataclasses.replace(msg, proofs=(*msg.proofs[:2], bad))
    with pytest.raises(
        dkg.CeremonyError, match="trustee 2: proof of knowledge of coefficient 2"
    ) as err:
        dkg.verify_commitments(PARAMS, tampered)
    assert err.value.trustee == 2


def test_relay_cannot_swap_an_encrypted_share(ceremony) -> None:
    """The coefficient proofs bind the shares digest: a substituted ciphertext is detected."""
    transcript, _ = ceremony
    msg = transcript.commitments[0]
    forged = dkg.encrypt_share(
        BASE_HASH, 1, 2, transcript.announcements[1].communication_key, 12345
    )
    tampered = dataclasses.replace(msg, shares=(forged, *msg.shares[1:]))
    with pytest.raises(dkg.CeremonyError, match="trustee 1"):
        dkg.verify_commitments(PARAMS, tampered)


def test_announcement_proof_is_checked(ceremony) -> None:
    transcript, _ = ceremony
    ann = transcript.announcements[3]
    with pytest.raises(dkg.CeremonyError, match="trustee 4: communication key proof"):
        dkg.verify_announcement(PARAMS, dataclasses.replace(ann, name="someone else"))


def _run_with(trustees: list[dkg.Trustee]):
    anns = {t.index: t.announce() for t in trustees}
    comms = {t.index: t.commit(anns) for t in trustees}
    complaints = {t.index: t.receive(anns, comms) for t in trustees}
    return anns, comms, complaints


def test_bad_share_complaint_names_the_cheater() -> None:
    rng = DeterministicScalars(b"dkg-test", "cheater")
    trustees = [
        (CheatingTrustee if i == 2 else dkg.Trustee)(PARAMS, i, f"t{i}", rng=rng)
        for i in PARAMS.indices
    ]
    anns, comms, complaints = _run_with(trustees)
    assert {i: [c.accused for c in cs] for i, cs in complaints.items()} == {
        1: [],
        2: [],
        3: [],
        4: [2],
        5: [],
    }
    complaint = dkg.Complaint.from_json(complaints[4][0].to_json())  # as published
    # judged by an outsider from public messages only
    verdict = dkg.judge_complaint(PARAMS, anns, comms, complaint)
    assert verdict.upheld and verdict.guilty == 2
    assert "does not match the sender's commitments" in verdict.reason
    transcript = dkg.CeremonyTranscript(
        PARAMS, tuple(anns.values()), tuple(comms.values()), tuple(complaints[4])
    )
    transcript.verify()
    assert transcript.qualified() == [1, 3, 4, 5]
    shares = [t.finalize(transcript.qualified()) for t in trustees if t.index != 2]
    joint = transcript.joint_key()
    secret = interpolate_at_zero({s.index: s.share for s in shares[1:]})
    assert group.base_mul(secret) == joint
    assert transcript.verification_keys()[4] == shares[2].verification_key


def test_unreadable_share_is_the_senders_fault() -> None:
    rng = DeterministicScalars(b"dkg-test", "garbage")
    trustees = [dkg.Trustee(PARAMS, i, f"t{i}", rng=rng) for i in PARAMS.indices]
    anns = {t.index: t.announce() for t in trustees}
    comms = {t.index: t.commit(anns) for t in trustees}
    # trustee 5 publishes (and signs, via its proofs) a share to 1 whose MAC is garbage
    cheater = trustees[4]
    original = comms[5]
    bad_share = dataclasses.replace(original.shares[0], mac=bytes(32))
    shares = (bad_share, *original.shares[1:])
    digest = dkg.shares_digest(BASE_HASH, 5, shares)
    proofs = tuple(
        dkg.prove_schnorr(BASE_HASH, a, label=dkg._coefficient_label(5, k, digest), rng=rng)
        for k, a in enumerate(cheater._coefficients)
    )
    comms[5] = dataclasses.replace(original, shares=shares, proofs=proofs)
    dkg.verify_commitments(PARAMS, comms[5])  # publicly well-formed...
    complaints = trustees[0].receive(anns, comms)
    assert [c.accused for c in complaints] == [5]
    verdict = dkg.judge_complaint(PARAMS, anns, comms, complaints[0])
    assert verdict.guilty == 5 and "MAC" in verdict.reason  # ...but provably unreadable


def test_false_or_forged_complaints_turn_against_the_accuser(ceremony) -> None:
    rng = DeterministicScalars(b"dkg-test", "false")
    trustees = [dkg.Trustee(PARAMS, i, f"t{i}", rng=rng) for i in PARAMS.indices]
    anns, comms, complaints = _run_with(trustees)
    assert all(not cs for cs in complaints.values())
    accuser = trustees[2]
    encrypted = comms[1].share_for(3)
    shared = group.mul(encrypted.ephemeral, accuser._communication_secret)
    false_claim = accuser._complain(1, encrypted.ephemeral, shared)
    verdict = dkg.judge_complaint(PARAMS, anns, comms, false_claim)
    assert verdict.guilty == 3 and not verdict.upheld and "false accusation" in verdict.reason
    forged = dataclasses.replace(false_claim, shared_point=shared + group.G)
    verdict = dkg.judge_complaint(PARAMS, anns, comms, forged)
    assert verdict.guilty == 3 and "does not prove" in verdict.reason
    transcript = dkg.CeremonyTranscript(
        PARAMS, tuple(anns.values()), tuple(comms.values()), (false_claim,)
    )
    assert transcript.qualified() == [1, 2, 3, 4, 5]  # a false accusation disqualifies nobody


def test_key_share_survives_the_trustee_file(ceremony) -> None:
    _, shares = ceremony
    share = shares[2]
    document = encrypt_trustee_secret(
        share.to_secret_json(), "pass phrase", election_id="e", trustee_index=3, log2_n=14
    )
    restored = dkg.TrusteeKeyShare.from_secret_json(decrypt_trustee_secret(document, "pass phrase"))
    assert restored == share


def test_parameters_are_validated() -> None:
    with pytest.raises(ValueError, match="t <= n"):
        dkg.CeremonyParameters(trustees=3, threshold=4, base_hash=BASE_HASH)
    with pytest.raises(ValueError):
        dkg.CeremonyParameters(trustees=3, threshold=0, base_hash=BASE_HASH)
    with pytest.raises(dkg.CeremonyError, match="not in 1..5"):
        PARAMS.check_index(6)


@settings(max_examples=30, deadline=None)
@given(
    threshold=st.integers(1, 6),
    extra=st.integers(0, 4),
    coefficients=st.lists(st.integers(1, N - 1), min_size=6, max_size=6),
    data=st.data(),
)
def test_any_t_shares_interpolate_the_constant_term(threshold, extra, coefficients, data) -> None:
    """Shamir over Z_n: any t of n evaluations recover a_0, via the module's Lagrange weights."""
    from civic_votecrypto.decryption import lagrange_coefficient

    n = threshold + extra
    coeffs = coefficients[:threshold]
    values = {x: sum(a * pow(x, k, N) for k, a in enumerate(coeffs)) % N for x in range(1, n + 1)}
    subset = data.draw(st.lists(st.sampled_from(range(1, n + 1)), min_size=threshold, unique=True))
    recovered = sum(values[j] * lagrange_coefficient(j, subset) for j in subset) % N
    assert recovered == coeffs[0]


@settings(max_examples=25, deadline=None)
@given(value=st.integers(0, N - 1), bit=st.integers(0, 64 * 8 - 1), data=st.data())
def test_share_encryption_round_trips_and_any_flipped_bit_is_caught(value, bit, data) -> None:
    recipient_secret = data.draw(st.integers(1, N - 1))
    recipient_key = group.base_mul(recipient_secret)
    encrypted = dkg.encrypt_share(BASE_HASH, 1, 2, recipient_key, value)
    shared = group.mul(encrypted.ephemeral, recipient_secret)
    assert dkg.open_share(BASE_HASH, encrypted, recipient_key, shared) == value
    raw = bytearray(encrypted.ciphertext + encrypted.mac)
    raw[bit // 8] ^= 1 << (bit % 8)
    flipped = dataclasses.replace(encrypted, ciphertext=bytes(raw[:32]), mac=bytes(raw[32:]))
    with pytest.raises(dkg.ShareDecryptionError, match="MAC"):
        dkg.open_share(BASE_HASH, flipped, recipient_key, shared)
    # the share is bound to its sender and recipient indices too
    with pytest.raises(dkg.ShareDecryptionError):
        dkg.open_share(BASE_HASH, dataclasses.replace(encrypted, sender=3), recipient_key, shared)
