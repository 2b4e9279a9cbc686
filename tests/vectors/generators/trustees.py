"""Deterministic test vectors for the trustee side (docs/protocol-trustees.md § Test vectors).

A 2-of-3 key ceremony with fixed seeds (every random draw is published next to what it
produced), share encryption with its intermediate keys, share verification, complaints and
their verdicts, the joint key, partial decryptions with proofs, Lagrange combination with an
absent trustee, baby-step giant-step values and a trustee secret file with a fixed salt and
nonce. Running the generator twice gives identical bytes; ``tests/crypto/test_trustee_vectors.py``
checks the committed files are reproduced exactly and that every vector verifies. Usage::

    python -m tests.vectors.generators.trustees --out tests/vectors/trustees [--check]
"""

from __future__ import annotations

from typing import Any

import rfc8785

from civic_votecrypto import decryption, dkg, dlog, elgamal, group, hashing, trustee_file
from civic_votecrypto.decryption import EncryptedTally, SelectionKey, encode_per_selection
from civic_votecrypto.dkg import CeremonyParameters, Complaint, Trustee
from civic_votecrypto.group import N, Point, scalar_hex
from civic_votecrypto.hashing import DeterministicScalars
from civic_votecrypto.manifest import Manifest
from civic_votecrypto.proofs import prove_equality
from tests.vectors.generators.core import build_files, flip_scalar_hex, generator_main
from tests.vectors.generators.core import (
    render as render,  # re-exported: the tests render trustee vectors
)

RNG_LABEL = "vectors"
TRUSTEES = 3
THRESHOLD = 2
NAMES = ("Ada (university)", "Bram (newspaper)", "Chloé (NGO)")

MANIFEST: dict[str, Any] = {
    "election_id": "trustee-vectors",
    "title": "Trustee vector election",
    "contests": [
        {"id": "park", "type": "yes_no_abstain", "title": "New park?", "options": [
            {"id": "yes", "title": "Yes"}, {"id": "no", "title": "No"},
            {"id": "abstain", "title": "Abstain"}]},
        {"id": "mayor", "type": "one_of_n", "title": "Mayor", "allow_blank": False, "options": [
            {"id": "c1", "title": "Candidate 1"}, {"id": "c2", "title": "Candidate 2"},
            {"id": "c3", "title": "Candidate 3"}]},
    ],
}  # fmt: skip
TALLY_COUNTS: dict[SelectionKey, int] = {
    ("park", "yes"): 7,
    ("park", "no"): 3,
    ("park", "abstain"): 0,
    ("mayor", "c1"): 4,
    ("mayor", "c2"): 5,
    ("mayor", "c3"): 1,
}
BALLOT_COUNT = 10
ABSENT_TRUSTEE = 2
DLOG_BOUND = dlog.DEFAULT_BOUND
FILE_PASSPHRASE = "correct horse battery staple"  # noqa: S105 - published test vector
FILE_SALT = bytes(range(16))
FILE_NONCE = bytes(range(100, 112))
FILE_LOG2_N = trustee_file.MIN_LOG2_N


class RecordingScalars:
    """A ``DeterministicScalars`` stream that remembers every draw (published in the vectors)."""

    def __init__(self, seed: str) -> None:
        self.seed = seed
        self._stream = DeterministicScalars(seed.encode(), RNG_LABEL)
        self.draws: list[int] = []

    def __call__(self) -> int:
        k = self._stream()
        self.draws.append(k)
        return k

    def rng_json(self) -> dict[str, str]:
        return {"seed_utf8": self.seed, "label": RNG_LABEL}


class CheatingTrustee(Trustee):
    """Sends trustee ``victim`` a share off its committed polynomial by one (complaint vector)."""

    victim: int = 1

    def polynomial(self, x: int) -> int:
        honest = super().polynomial(x)
        return (honest + 1) % N if x == self.victim else honest


def manifest() -> Manifest:
    return Manifest.from_json(MANIFEST)


def ceremony_parameters() -> CeremonyParameters:
    h_p = hashing.parameter_hash()
    h_m = hashing.manifest_hash(h_p, manifest().canonical_bytes())
    return CeremonyParameters(
        TRUSTEES, THRESHOLD, hashing.election_base_hash(h_p, h_m, TRUSTEES, THRESHOLD)
    )


def _hashes_json(params: CeremonyParameters) -> dict[str, str]:
    h_p = hashing.parameter_hash()
    return {
        "parameter_hash": h_p.hex(),
        "manifest_hash": hashing.manifest_hash(h_p, manifest().canonical_bytes()).hex(),
        "base_hash": params.base_hash.hex(),
    }


def _draws_json(
    trustee: Trustee, rng: RecordingScalars, params: CeremonyParameters
) -> dict[str, Any]:
    """Name every draw, in the order ``dkg.Trustee`` makes them (documented in the protocol)."""
    t = params.threshold
    others = [j for j in params.indices if j != trustee.index]
    draws = list(rng.draws)
    named: dict[str, Any] = {"communication_secret": scalar_hex(draws.pop(0))}
    named["coefficients"] = [scalar_hex(draws.pop(0)) for _ in range(t)]
    named["announcement_proof_nonce"] = scalar_hex(draws.pop(0))
    named["share_ephemerals"] = [
        {"recipient": j, "secret": scalar_hex(draws.pop(0))} for j in others
    ]
    named["coefficient_proof_nonces"] = [scalar_hex(draws.pop(0)) for _ in range(t)]
    named["complaint_proof_nonces"] = [scalar_hex(k) for k in draws]
    return named


def ceremony_vectors() -> dict[str, Any]:
    params = ceremony_parameters()
    rngs = [RecordingScalars(f"trustee-{i}") for i in params.indices]
    trustees = [Trustee(params, i, NAMES[i - 1], rng=rngs[i - 1]) for i in params.indices]
    transcript = dkg.run_rounds(params, trustees)
    assert not transcript.complaints
    transcript.verify()
    qualified = transcript.qualified()
    key_shares = [t.finalize(qualified) for t in trustees]
    anns = transcript.announcements_by_index
    comms = transcript.commitments_by_index
    secrets_by_index = {t.index: t.communication_secret for t in trustees}

    trustee_docs = []
    for trustee, rng, key_share in zip(trustees, rngs, key_shares, strict=True):
        i = trustee.index
        draws = _draws_json(trustee, rng, params)
        trustee_docs.append({
            "index": i,
            "name": trustee.name,
            "rng": rng.rng_json(),
            "draws": draws,
            "polynomial_values": [
                {"x": x, "value": scalar_hex(trustee.polynomial(x))} for x in params.indices
            ],
            "announcement": anns[i].to_json(),
            "commitments_message": comms[i].to_json(),
            "shares_digest": dkg.shares_digest(params.base_hash, i, comms[i].shares).hex(),
            "key_share": key_share.to_secret_json(),
        })  # fmt: skip

    encryptions = []
    verifications = []
    for sender in trustees:
        ephemerals = {
            e["recipient"]: int(e["secret"], 16)
            for e in _draws_json(sender, rngs[sender.index - 1], params)["share_ephemerals"]
        }
        for encrypted in comms[sender.index].shares:
            j = encrypted.recipient
            recipient_key = anns[j].communication_key
            shared = group.mul(encrypted.ephemeral, secrets_by_index[j])
            assert shared == group.mul(recipient_key, ephemerals[j])
            encryption_key = dkg.share_encryption_key(
                params.base_hash, sender.index, j, encrypted.ephemeral, recipient_key, shared
            )
            pad, mac_key = dkg.share_pad_and_mac_key(encryption_key)
            value = dkg.open_share(params.base_hash, encrypted, recipient_key, shared)
            assert value == sender.polynomial(j)
            encryptions.append({
                "sender": sender.index, "recipient": j,
                "recipient_key": recipient_key.hex(), "ephemeral_secret": scalar_hex(ephemerals[j]),
                "ephemeral": encrypted.ephemeral.hex(), "shared_point": shared.hex(),
                "encryption_key": encryption_key.hex(), "pad": pad.hex(), "mac_key": mac_key.hex(),
                "plaintext_share": scalar_hex(value),
                "ciphertext": encrypted.ciphertext.hex(), "mac": encrypted.mac.hex(),
            })  # fmt: skip
            expected = dkg.evaluate_commitments(comms[sender.index].commitments, j)
            assert group.base_mul(value) == expected
            verifications.append({
                "sender": sender.index, "recipient": j, "share": scalar_hex(value),
                "share_times_g": group.base_mul(value).hex(),
                "commitments_evaluated": expected.hex(), "valid": True,
            })  # fmt: skip

    joint = transcript.joint_key()
    election_commitments = [c for i in qualified for c in comms[i].commitments]
    extended = hashing.extended_base_hash(params.base_hash, joint, election_commitments)
    verification_keys = transcript.verification_keys()
    for key_share in key_shares:
        assert key_share.verification_key == verification_keys[key_share.index]
    return {
        "description": "2-of-3 key ceremony with fixed seeds: announcements, commitments with "
        "Schnorr proofs, encrypted shares, share verification, joint key "
        "(docs/protocol-trustees.md §2)",
        "manifest": MANIFEST,
        "hashes": _hashes_json(params),
        "trustees": TRUSTEES,
        "threshold": THRESHOLD,
        "trustee_data": trustee_docs,
        "share_encryption": encryptions,
        "share_verification": verifications,
        "joint": {
            "qualified": qualified,
            "joint_key": joint.hex(),
            "verification_keys": {str(j): y.hex() for j, y in verification_keys.items()},
            "election_commitments": [c.hex() for c in election_commitments],
            "extended_hash": extended.hex(),
        },
    }


def complaint_vectors() -> dict[str, Any]:
    """Trustee 2 sends trustee 1 a bad share; an upheld, a false and a forged complaint."""
    params = ceremony_parameters()
    rngs = [RecordingScalars(f"cheat-trustee-{i}") for i in params.indices]
    trustees = [
        (CheatingTrustee if i == 2 else Trustee)(params, i, NAMES[i - 1], rng=rngs[i - 1])
        for i in params.indices
    ]
    honest_transcript = dkg.run_rounds(params, trustees)
    complaints = honest_transcript.complaints
    assert [(c.accuser, c.accused) for c in complaints] == [(1, 2)]
    upheld = complaints[0]
    anns = honest_transcript.announcements_by_index
    comms = honest_transcript.commitments_by_index

    # Trustee 3 falsely accuses trustee 1 (whose share to 3 is valid): 3 is found at fault.
    accuser = trustees[2]
    encrypted = comms[1].share_for(3)
    shared = group.mul(encrypted.ephemeral, accuser.communication_secret)
    false_rng = RecordingScalars("false-accusation")
    false_complaint = Complaint(
        3,
        1,
        shared,
        prove_equality(
            params.base_hash,
            accuser.communication_secret,
            encrypted.ephemeral,
            label=dkg.complaint_label(3, 1),
            rng=false_rng,
        ),
    )
    forged = upheld.to_json()
    forged["proof"]["response"] = flip_scalar_hex(forged["proof"]["response"])
    forged_complaint = Complaint.from_json(forged)

    cases = []
    for name, complaint in (
        ("bad_share_upheld", upheld),
        ("false_accusation", false_complaint),
        ("forged_complaint_proof", forged_complaint),
    ):
        verdict = dkg.judge_complaint(params, anns, comms, complaint)
        cases.append({
            "name": name, "complaint": complaint.to_json(), "guilty": verdict.guilty,
            "upheld": verdict.upheld, "reason": verdict.reason,
        })  # fmt: skip
    transcript = dkg.CeremonyTranscript(
        params,
        honest_transcript.announcements,
        honest_transcript.commitments,
        (upheld, false_complaint),
    )
    qualified = transcript.qualified()
    assert qualified == [1, 3]
    shares = [t.finalize(qualified) for t in trustees if t.index in qualified]
    joint = transcript.joint_key()
    assert joint == group.sum_points([comms[1].commitments[0], comms[3].commitments[0]])
    return {
        "description": "complaints: trustee 2 sends trustee 1 a share off its commitments; "
        "verdicts for an upheld, a false and a forged complaint (docs/protocol-trustees.md §2)",
        "manifest": MANIFEST,
        "hashes": _hashes_json(params),
        "trustees": TRUSTEES,
        "threshold": THRESHOLD,
        "rngs": [r.rng_json() for r in rngs],
        "complaint_proof_nonces": {
            "1": _draws_json(trustees[0], rngs[0], params)["complaint_proof_nonces"],
            "false_accusation": [scalar_hex(k) for k in false_rng.draws],
        },  # fmt: skip
        "announcements": [a.to_json() for a in transcript.announcements],
        "commitments": [c.to_json() for c in transcript.commitments],
        "cases": cases,
        "published_complaints": [c.to_json() for c in transcript.complaints],
        "qualified": qualified,
        "joint_key": joint.hex(),
        "verification_keys": {str(j): y.hex() for j, y in transcript.verification_keys().items()},
        "key_shares": [s.to_secret_json() for s in shares],
    }


def _honest_ceremony() -> tuple[dkg.CeremonyTranscript, list[dkg.TrusteeKeyShare]]:
    params = ceremony_parameters()
    trustees = [
        Trustee(params, i, NAMES[i - 1], rng=RecordingScalars(f"trustee-{i}"))
        for i in params.indices
    ]
    transcript = dkg.run_rounds(params, trustees)
    return transcript, [t.finalize(transcript.qualified()) for t in trustees]


def decryption_vectors() -> dict[str, Any]:
    transcript, key_shares = _honest_ceremony()
    comms = transcript.commitments_by_index
    qualified = transcript.qualified()
    joint = transcript.joint_key()
    extended = hashing.extended_base_hash(
        transcript.params.base_hash, joint, [c for i in qualified for c in comms[i].commitments]
    )
    tally_rng = RecordingScalars("tally")
    tally = EncryptedTally(
        {k: elgamal.encrypt(joint, m, tally_rng()) for k, m in TALLY_COUNTS.items()}, BALLOT_COUNT
    )
    verification_keys = transcript.verification_keys()
    partial_rngs = {s.index: RecordingScalars(f"partial-{s.index}") for s in key_shares}
    tally_shares = {
        s.index: decryption.decrypt_share(extended, s, tally, rng=partial_rngs[s.index])
        for s in key_shares
    }
    for j, share in tally_shares.items():
        decryption.verify_tally_share(extended, verification_keys[j], tally, share)

    combinations = []
    for present in ([1, 3], [1, 2], [2, 3], [1, 2, 3]):
        points = {}
        for k, ct in tally.ciphertexts.items():
            point = decryption.combine(ct, {j: tally_shares[j].partials[k].share for j in present})
            points[k] = point
            assert decryption.check_result(ct, {j: tally_shares[j].partials[k].share for j in present}, TALLY_COUNTS[k])  # fmt: skip
        combinations.append({
            "trustees": present,
            "lagrange": {str(j): scalar_hex(decryption.lagrange_coefficient(j, present))
                         for j in present},
            "plaintext_points": encode_per_selection({k: None if p.infinity else p.hex()
                                                for k, p in points.items()}),
        })  # fmt: skip
    present = [j for j in qualified if j != ABSENT_TRUSTEE]
    result = decryption.decrypt_tally(
        extended,
        tally,
        [tally_shares[j] for j in present],
        verification_keys,
        THRESHOLD,
    )
    assert result.counts == TALLY_COUNTS

    bad = tally_shares[ABSENT_TRUSTEE].to_json()
    proof = bad["contests"]["mayor"]["c2"]["proof"]
    proof["response"] = flip_scalar_hex(proof["response"])
    wrong_share = tally_shares[ABSENT_TRUSTEE].to_json()
    wrong_share["contests"]["park"]["yes"]["share"] = (
        Point.from_hex(wrong_share["contests"]["park"]["yes"]["share"]) + group.G
    ).hex()
    return {
        "description": "partial decryption with Chaum-Pedersen proofs and Lagrange combination; "
        "trustee 2 absent (docs/protocol-trustees.md §4)",
        "manifest": MANIFEST,
        "hashes": {**_hashes_json(transcript.params), "extended_hash": extended.hex()},
        "trustees": TRUSTEES,
        "threshold": THRESHOLD,
        "joint_key": joint.hex(),
        "verification_keys": {str(j): y.hex() for j, y in verification_keys.items()},
        "key_shares": [s.to_secret_json() for s in key_shares],
        "tally": {
            "plaintexts": encode_per_selection(TALLY_COUNTS),
            "nonces": [scalar_hex(k) for k in tally_rng.draws],
            "encrypted": tally.to_json(),
        },
        "partial_decryptions": [
            {
                "rng": partial_rngs[j].rng_json(),
                "proof_nonces": [scalar_hex(k) for k in partial_rngs[j].draws],
                "tally_share": tally_shares[j].to_json(),
            }
            for j in sorted(tally_shares)
        ],  # fmt: skip
        "combinations": combinations,
        "absent_trustee": ABSENT_TRUSTEE,
        "result": {"trustees": list(result.trustees_used), "counts": result.to_json()},
        "invalid_tally_shares": {
            "proof_response_bit_flip": {"tally_share": bad, "bad_selection": ["mayor", "c2"]},
            "share_off_by_g": {"tally_share": wrong_share, "bad_selection": ["park", "yes"]},
        },
    }


def dlog_vectors() -> dict[str, Any]:
    table = dlog.table_for(DLOG_BOUND)
    m = table.baby_steps
    stride = table.stride
    values = [0, 1, 2, m - 1, m, m + 1, 2 * m, 2 * m + 1, 3 * m + 1, stride + m + 7,
              1_234_567, DLOG_BOUND - 1, DLOG_BOUND]  # fmt: skip
    cases = []
    for value in values:
        point = group.base_mul(value) if value else group.IDENTITY
        found = dlog.discrete_log(point, DLOG_BOUND)
        assert found == value
        cases.append({"value": value, "point": None if value == 0 else point.hex()})
    rejected = []
    for value in (DLOG_BOUND + 1, DLOG_BOUND + 2 * stride, N - 1):
        point = group.base_mul(value)
        try:
            dlog.discrete_log(point, DLOG_BOUND)
        except dlog.DlogNotFoundError:
            rejected.append({"value": str(value), "point": point.hex()})
        else:
            raise AssertionError(f"{value} above the bound was accepted")
    small = dlog.build_table(1000)
    small_cases = [{"value": v, "point": group.base_mul(v).hex()} for v in (1, 999, 1000)]
    for case in small_cases:
        assert dlog.discrete_log(group.base_mul(case["value"]), 1000) == case["value"]
    sample_entries = []
    for j in (1, 2, 3, m):
        p = group.base_mul(j)
        assert table.entries[p.x] == (j if p.y & 1 else -j)
        sample_entries.append({"j": j, "x": format(p.x, "064x"), "entry": table.entries[p.x]})
    return {
        "description": "baby-step giant-step recovery of tallies (docs/protocol-trustees.md §4)",
        "bound": DLOG_BOUND,
        "baby_steps": m,
        "stride": stride,
        "table_sample": sample_entries,
        "found": cases,
        "rejected_above_bound": rejected,
        "small_bound": {
            "bound": 1000,
            "baby_steps": small.baby_steps,
            "found": small_cases,
            "rejected": [{"value": 1001, "point": group.base_mul(1001).hex()}],
        },
    }


def trustee_file_vectors() -> dict[str, Any]:
    _, key_shares = _honest_ceremony()
    secret = key_shares[0].to_secret_json()
    document = trustee_file.encrypt_trustee_secret(
        secret,
        FILE_PASSPHRASE,
        election_id=MANIFEST["election_id"],
        trustee_index=1,
        log2_n=FILE_LOG2_N,
        salt=FILE_SALT,
        nonce=FILE_NONCE,
    )
    header = {k: document[k] for k in ("format", "election_id", "trustee_index", "kdf", "cipher")}
    aad = trustee_file.header_aad(header)
    aes_key, check_key = trustee_file.derive_keys(FILE_PASSPHRASE, FILE_SALT, FILE_LOG2_N, 8, 1)
    assert trustee_file.decrypt_trustee_secret(document, FILE_PASSPHRASE) == secret
    flipped_ciphertext = dict(document)
    last = int(document["ciphertext"][-2:], 16) ^ 1
    flipped_ciphertext["ciphertext"] = document["ciphertext"][:-2] + format(last, "02x")
    flipped_check = dict(document)
    flipped_check["check"] = format(int(document["check"], 16) ^ 1, "064x")
    return {
        "description": "a trustee secret file with a fixed salt and nonce "
        "(docs/protocol-trustees.md §3; never fix them in real files)",
        "passphrase_utf8": FILE_PASSPHRASE,
        "plaintext_secret": secret,
        "plaintext_jcs_utf8": rfc8785.dumps(secret).decode(),
        "aad_utf8": aad.decode(),
        "scrypt_output": {"aes_key": aes_key.hex(), "check_key": check_key.hex()},
        "document": document,
        "invalid_documents": {
            "ciphertext_bit_flip": {"document": flipped_ciphertext, "error": "corrupt"},
            "check_bit_flip": {"document": flipped_check, "error": "wrong_passphrase"},
            "wrong_passphrase": {
                "passphrase_utf8": FILE_PASSPHRASE + "!",
                "error": "wrong_passphrase",
            },
        },
    }


def build_vectors() -> dict[str, dict[str, Any]]:
    """All trustee vector files by name, computed with the py-ecc reference backend."""
    return build_files({
        "ceremony.json": ceremony_vectors,
        "complaints.json": complaint_vectors,
        "decryption.json": decryption_vectors,
        "dlog.json": dlog_vectors,
        "trustee-file.json": trustee_file_vectors,
    })  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    return generator_main(
        argv,
        build_vectors,
        prog="python -m tests.vectors.generators.trustees",
        description=__doc__.splitlines()[0],
        what="trustee vectors",
    )


if __name__ == "__main__":
    raise SystemExit(main())
