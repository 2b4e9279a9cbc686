"""The trustee vectors in tests/vectors/trustees are reproduced exactly and verify from JSON alone.

Every check recomputes values from the published inputs (seeds, secrets, nonces) with the
library's primitives, so an independent implementation can follow the same steps; every proof,
share and file in the vectors is also shown to be rejected after a one-bit change.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import rfc8785

from civic_votecrypto import decryption, dkg, dlog, group, hashing, trustee_file
from civic_votecrypto.decryption import EncryptedTally, TallyShare
from civic_votecrypto.dkg import (
    CeremonyError,
    CeremonyParameters,
    Complaint,
    EncryptedShare,
    TrusteeAnnouncement,
    TrusteeCommitments,
    TrusteeKeyShare,
)
from civic_votecrypto.errors import CryptoError
from civic_votecrypto.group import Point, scalar_from_hex, scalar_hex
from civic_votecrypto.hashing import DeterministicScalars
from civic_votecrypto.manifest import Manifest
from civic_votecrypto.proofs import prove_equality, prove_schnorr
from tests.vectors.generators import trustees as vectors_trustees

VECTOR_DIR = Path(__file__).resolve().parents[1] / "vectors" / "trustees"
BACKENDS = ["py-ecc", "native"]


def load(name: str) -> dict[str, Any]:
    return json.loads((VECTOR_DIR / name).read_text(encoding="utf-8"))


def fixed(*values: str) -> Any:
    """An rng that returns the published draws in order (and fails loudly if asked for more)."""
    stream: Iterator[str] = iter(values)
    return lambda: scalar_from_hex(next(stream))


def flip_hex(text: str) -> str:
    """Flip the lowest bit of the last byte of a hex string."""
    return text[:-2] + format(int(text[-2:], 16) ^ 1, "02x")


def params_of(doc: dict[str, Any]) -> CeremonyParameters:
    h_p = hashing.parameter_hash()
    h_m = hashing.manifest_hash(h_p, Manifest.from_json(doc["manifest"]).canonical_bytes())
    h_b = hashing.election_base_hash(h_p, h_m, doc["trustees"], doc["threshold"])
    assert doc["hashes"]["parameter_hash"] == h_p.hex()
    assert doc["hashes"]["manifest_hash"] == h_m.hex()
    assert doc["hashes"]["base_hash"] == h_b.hex()
    return CeremonyParameters(doc["trustees"], doc["threshold"], h_b)


@pytest.fixture(scope="module")
def built() -> dict[str, dict[str, Any]]:
    return vectors_trustees.build_vectors()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> Iterator[str]:
    with group.use_backend(request.param):
        yield request.param


def test_generator_reproduces_committed_files_exactly(built: dict[str, dict[str, Any]]) -> None:
    assert sorted(built) == sorted(p.name for p in VECTOR_DIR.glob("*.json"))
    for name, doc in built.items():
        text = (VECTOR_DIR / name).read_text(encoding="utf-8")
        assert text == vectors_trustees.render(doc), name


def test_generator_cli_check_mode(
    tmp_path: Path, built: dict[str, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(vectors_trustees, "build_vectors", lambda: built)
    assert vectors_trustees.main(["--out", str(VECTOR_DIR), "--check"]) == 0
    assert vectors_trustees.main(["--out", str(tmp_path)]) == 0
    assert vectors_trustees.main(["--out", str(tmp_path), "--check"]) == 0
    (tmp_path / "dlog.json").write_text("{}")
    assert vectors_trustees.main(["--out", str(tmp_path), "--check"]) == 1


# -- ceremony -------------------------------------------------------------------------------
def test_ceremony_vectors_recompute_from_published_draws(backend: str) -> None:
    doc = load("ceremony.json")
    params = params_of(doc)
    anns = {
        t["index"]: TrusteeAnnouncement.from_json(t["announcement"]) for t in doc["trustee_data"]
    }
    comms = {
        t["index"]: TrusteeCommitments.from_json(t["commitments_message"])
        for t in doc["trustee_data"]
    }
    secrets = {
        t["index"]: scalar_from_hex(t["draws"]["communication_secret"]) for t in doc["trustee_data"]
    }
    polynomial_values: dict[tuple[int, int], int] = {}
    for t in doc["trustee_data"]:
        i, draws = t["index"], t["draws"]
        # round 1: D_i and its proof, from d_i and the proof nonce
        assert anns[i].communication_key == group.base_mul(secrets[i])
        label = bytes((0x45,)) + hashing.enc_u32(i) + hashing.enc_str(t["name"])
        proof = prove_schnorr(
            params.base_hash, secrets[i], label=label, rng=fixed(draws["announcement_proof_nonce"])
        )
        assert proof.to_json() == t["announcement"]["proof"]
        dkg.verify_announcement(params, anns[i])
        # round 2: polynomial, shares encrypted with the published ephemerals, digest, proofs
        coefficients = [scalar_from_hex(a) for a in draws["coefficients"]]
        assert [c.hex() for c in comms[i].commitments] == [
            group.base_mul(a).hex() for a in coefficients
        ]
        for point in t["polynomial_values"]:
            x = point["x"]
            value = sum(a * pow(x, k, group.N) for k, a in enumerate(coefficients)) % group.N
            assert point["value"] == scalar_hex(value)
            polynomial_values[(i, x)] = value
        for eph, share in zip(draws["share_ephemerals"], comms[i].shares, strict=True):
            j = eph["recipient"]
            again = dkg.encrypt_share(
                params.base_hash,
                i,
                j,
                anns[j].communication_key,
                polynomial_values[(i, j)],
                rng=fixed(eph["secret"]),
            )
            assert again == share
        digest = dkg.shares_digest(params.base_hash, i, comms[i].shares)
        assert digest.hex() == t["shares_digest"]
        for k, (a, nonce) in enumerate(
            zip(coefficients, draws["coefficient_proof_nonces"], strict=True)
        ):
            label = bytes((0x46,)) + hashing.enc_u32(i) + hashing.enc_u32(k) + digest
            again_proof = prove_schnorr(params.base_hash, a, label=label, rng=fixed(nonce))
            assert again_proof == comms[i].proofs[k]
        dkg.verify_commitments(params, comms[i])

    for enc in doc["share_encryption"]:
        i, j = enc["sender"], enc["recipient"]
        ephemeral = Point.from_hex(enc["ephemeral"])
        shared = group.mul(ephemeral, secrets[j])
        assert shared.hex() == enc["shared_point"]
        assert ephemeral == group.base_mul(scalar_from_hex(enc["ephemeral_secret"]))
        key = dkg.share_encryption_key(
            params.base_hash, i, j, ephemeral, anns[j].communication_key, shared
        )
        pad, mac_key = dkg.share_pad_and_mac_key(key)
        assert (key.hex(), pad.hex(), mac_key.hex()) == (
            enc["encryption_key"],
            enc["pad"],
            enc["mac_key"],
        )
        plaintext = bytes(a ^ b for a, b in zip(bytes.fromhex(enc["ciphertext"]), pad, strict=True))
        assert plaintext.hex() == enc["plaintext_share"] == scalar_hex(polynomial_values[(i, j)])
        opened = dkg.open_share(
            params.base_hash, comms[i].share_for(j), anns[j].communication_key, shared
        )
        assert scalar_hex(opened) == enc["plaintext_share"]

    for check in doc["share_verification"]:
        i, j = check["sender"], check["recipient"]
        evaluated = dkg.evaluate_commitments(comms[i].commitments, j)
        assert evaluated.hex() == check["commitments_evaluated"] == check["share_times_g"]
        assert group.base_mul(scalar_from_hex(check["share"])) == evaluated

    transcript = dkg.CeremonyTranscript(
        params, tuple(anns[i] for i in params.indices), tuple(comms[i] for i in params.indices)
    )
    transcript.verify()
    joint = doc["joint"]
    assert transcript.qualified() == joint["qualified"]
    assert transcript.joint_key().hex() == joint["joint_key"]
    keys = transcript.verification_keys()
    assert {str(j): y.hex() for j, y in keys.items()} == joint["verification_keys"]
    commitments = [c for i in joint["qualified"] for c in comms[i].commitments]
    assert [c.hex() for c in commitments] == joint["election_commitments"]
    extended = hashing.extended_base_hash(params.base_hash, transcript.joint_key(), commitments)
    assert extended.hex() == joint["extended_hash"]
    for t in doc["trustee_data"]:
        share = TrusteeKeyShare.from_secret_json(t["key_share"])
        expected = sum(polynomial_values[(i, share.index)] for i in joint["qualified"]) % group.N
        assert share.share == expected
        assert share.verification_key == keys[share.index]


def test_ceremony_vectors_reject_every_flipped_bit() -> None:
    doc = load("ceremony.json")
    params = params_of(doc)
    anns = {
        t["index"]: TrusteeAnnouncement.from_json(t["announcement"]) for t in doc["trustee_data"]
    }
    for t in doc["trustee_data"]:
        for field in ("commitment", "response"):
            bad = copy.deepcopy(t["announcement"])
            bad["proof"][field] = flip_hex(bad["proof"][field])
            with pytest.raises(CryptoError):
                dkg.verify_announcement(params, TrusteeAnnouncement.from_json(bad))
        bad_key = copy.deepcopy(t["announcement"])
        bad_key["communication_key"] = flip_hex(bad_key["communication_key"])
        with pytest.raises(CryptoError):
            dkg.verify_announcement(params, TrusteeAnnouncement.from_json(bad_key))
        message = t["commitments_message"]
        mutations: list[tuple[str, int, str]] = []
        for k in range(len(message["proofs"])):
            mutations += [("proofs", k, "commitment"), ("proofs", k, "response")]
            mutations.append(("commitments", k, ""))
        for s in range(len(message["shares"])):
            mutations += [("shares", s, f) for f in ("ephemeral", "ciphertext", "mac")]
        for where, k, field in mutations:
            bad = copy.deepcopy(message)
            if field:
                bad[where][k][field] = flip_hex(bad[where][k][field])
            else:
                bad[where][k] = flip_hex(bad[where][k])
            with pytest.raises(CryptoError):  # bad encoding, or the proofs bind every byte
                dkg.verify_commitments(params, TrusteeCommitments.from_json(bad))
    # Recipient side: a flipped ciphertext or MAC never opens, even with the right key.
    secrets = {
        t["index"]: scalar_from_hex(t["draws"]["communication_secret"]) for t in doc["trustee_data"]
    }
    for enc in doc["share_encryption"]:
        j = enc["recipient"]
        share_json = {k: enc[k] for k in ("sender", "recipient", "ephemeral", "ciphertext", "mac")}
        good = EncryptedShare.from_json(share_json)
        shared = group.mul(good.ephemeral, secrets[j])
        for field in ("ciphertext", "mac"):
            bad = EncryptedShare.from_json({**share_json, field: flip_hex(share_json[field])})
            with pytest.raises(dkg.ShareDecryptionError):
                dkg.open_share(params.base_hash, bad, anns[j].communication_key, shared)


def test_complaint_vectors_verdicts(backend: str) -> None:
    doc = load("complaints.json")
    params = params_of(doc)
    anns = {a["index"]: TrusteeAnnouncement.from_json(a) for a in doc["announcements"]}
    comms = {c["index"]: TrusteeCommitments.from_json(c) for c in doc["commitments"]}
    for case in doc["cases"]:
        verdict = dkg.judge_complaint(params, anns, comms, Complaint.from_json(case["complaint"]))
        assert (verdict.guilty, verdict.upheld, verdict.reason) == (
            case["guilty"],
            case["upheld"],
            case["reason"],
        ), case["name"]
    published = tuple(Complaint.from_json(c) for c in doc["published_complaints"])
    transcript = dkg.CeremonyTranscript(
        params, tuple(anns.values()), tuple(comms.values()), published
    )
    assert transcript.qualified() == doc["qualified"]
    assert transcript.joint_key().hex() == doc["joint_key"]
    keys = transcript.verification_keys()
    assert {str(j): y.hex() for j, y in keys.items()} == doc["verification_keys"]
    for secret in doc["key_shares"]:
        share = TrusteeKeyShare.from_secret_json(secret)
        assert share.verification_key == keys[share.index]


def test_complaint_vectors_reproduce_proofs_and_reject_flipped_bits() -> None:
    doc = load("complaints.json")
    params = params_of(doc)
    anns = {a["index"]: TrusteeAnnouncement.from_json(a) for a in doc["announcements"]}
    comms = {c["index"]: TrusteeCommitments.from_json(c) for c in doc["commitments"]}
    upheld = next(c for c in doc["cases"] if c["name"] == "bad_share_upheld")["complaint"]
    accuser_secret = DeterministicScalars(doc["rngs"][0]["seed_utf8"].encode(), "vectors")()
    ephemeral = comms[upheld["accused"]].share_for(upheld["accuser"]).ephemeral
    assert group.mul(ephemeral, accuser_secret).hex() == upheld["shared_point"]
    proof = prove_equality(
        params.base_hash,
        accuser_secret,
        ephemeral,
        label=dkg.complaint_label(upheld["accuser"], upheld["accused"]),
        rng=fixed(*doc["complaint_proof_nonces"]["1"]),
    )
    assert proof.to_json() == upheld["proof"]
    # Any flipped bit in the complaint: it no longer convicts the accused.
    for field in ("shared_point", "proof.a", "proof.b", "proof.response"):
        bad = copy.deepcopy(upheld)
        if field.startswith("proof."):
            bad["proof"][field[6:]] = flip_hex(bad["proof"][field[6:]])
        else:
            bad[field] = flip_hex(bad[field])
        try:
            verdict = dkg.judge_complaint(params, anns, comms, Complaint.from_json(bad))
        except CryptoError:
            continue  # not even a valid encoding
        assert verdict.guilty == upheld["accuser"] and not verdict.upheld, field
    with pytest.raises(CeremonyError):
        dkg.judge_complaint(
            params, anns, comms, Complaint.from_json({**upheld, "accused": upheld["accuser"]})
        )


# -- decryption -----------------------------------------------------------------------------
def _decryption_inputs() -> tuple[dict[str, Any], bytes, EncryptedTally, dict[int, Point]]:
    doc = load("decryption.json")
    manifest = Manifest.from_json(doc["manifest"])
    tally = EncryptedTally.from_json(doc["tally"]["encrypted"], manifest)
    keys = {int(j): Point.from_hex(y) for j, y in doc["verification_keys"].items()}
    return doc, bytes.fromhex(doc["hashes"]["extended_hash"]), tally, keys


def test_decryption_vectors(backend: str) -> None:
    doc, context, tally, keys = _decryption_inputs()
    manifest = Manifest.from_json(doc["manifest"])
    joint = Point.from_hex(doc["joint_key"])
    # the tally encrypts the published plaintexts with the published nonces
    nonces = iter(doc["tally"]["nonces"])
    for (contest_id, option_id), ct in tally.ciphertexts.items():
        count = doc["tally"]["plaintexts"][contest_id][option_id]
        r = scalar_from_hex(next(nonces))
        assert ct.alpha == group.base_mul(r)
        assert ct.beta == group.mul(joint, r) + (group.base_mul(count) if count else group.IDENTITY)
    shares: dict[int, TallyShare] = {}
    for entry in doc["partial_decryptions"]:
        share = TallyShare.from_json(entry["tally_share"], manifest)
        decryption.verify_tally_share(context, keys[share.trustee], tally, share)
        key_share = TrusteeKeyShare.from_secret_json(doc["key_shares"][share.trustee - 1])
        again = decryption.decrypt_share(
            context, key_share, tally, rng=fixed(*entry["proof_nonces"])
        )
        assert again.to_json() == entry["tally_share"]
        shares[share.trustee] = share
    for combo in doc["combinations"]:
        present = combo["trustees"]
        for j in present:
            assert (
                scalar_hex(decryption.lagrange_coefficient(j, present)) == combo["lagrange"][str(j)]
            )
        for (contest_id, option_id), ct in tally.ciphertexts.items():
            point = decryption.combine(
                ct, {j: shares[j].partials[(contest_id, option_id)].share for j in present}
            )
            published = combo["plaintext_points"][contest_id][option_id]
            assert (None if point.infinity else point.hex()) == published
            assert (
                dlog.discrete_log(point, 100) == doc["tally"]["plaintexts"][contest_id][option_id]
            )
    present = [j for j in sorted(shares) if j != doc["absent_trustee"]]
    result = decryption.decrypt_tally(
        context, tally, [shares[j] for j in present], keys, doc["threshold"]
    )
    assert result.to_json() == doc["result"]["counts"] == doc["tally"]["plaintexts"]
    assert list(result.trustees_used) == doc["result"]["trustees"]


def test_decryption_vectors_reject_bad_shares() -> None:
    doc, context, tally, keys = _decryption_inputs()
    manifest = Manifest.from_json(doc["manifest"])
    good = {
        e["tally_share"]["trustee"]: TallyShare.from_json(e["tally_share"], manifest)
        for e in doc["partial_decryptions"]
    }
    for name, case in doc["invalid_tally_shares"].items():
        bad = TallyShare.from_json(case["tally_share"], manifest)
        contest_id, option_id = case["bad_selection"]
        with pytest.raises(decryption.PartialDecryptionError) as err:
            decryption.verify_tally_share(context, keys[bad.trustee], tally, bad)
        assert err.value.trustee == bad.trustee and f"{contest_id}/{option_id}" in str(err.value)
        result = decryption.decrypt_tally(context, tally, [good[1], bad, good[3]], keys, 2)
        assert set(result.rejected) == {bad.trustee} and result.trustees_used == (1, 3), name
        with pytest.raises(decryption.DecryptionError, match="only 1 valid"):
            decryption.decrypt_tally(context, tally, [good[1], bad], keys, 2)
    # every field of every partial decryption: one flipped bit is caught
    entry = doc["partial_decryptions"][0]["tally_share"]
    for contest_id, options in entry["contests"].items():
        for option_id, partial in options.items():
            for field in ("share", "a", "b", "response"):
                bad_json = copy.deepcopy(entry)
                target = bad_json["contests"][contest_id][option_id]
                holder = target if field == "share" else target["proof"]
                holder[field] = flip_hex(holder[field])
                try:
                    bad = TallyShare.from_json(bad_json, manifest)
                except CryptoError:
                    continue
                with pytest.raises(decryption.PartialDecryptionError):
                    decryption.verify_tally_share(context, keys[bad.trustee], tally, bad)
            assert partial  # the unmodified partial is the verified one above


# -- baby-step giant-step -------------------------------------------------------------------
def test_dlog_vectors() -> None:
    doc = load("dlog.json")
    table = dlog.table_for(doc["bound"])
    assert (table.baby_steps, table.stride) == (doc["baby_steps"], doc["stride"])
    for entry in doc["table_sample"]:
        assert table.entries[int(entry["x"], 16)] == entry["entry"]
        p = group.base_mul(entry["j"])
        assert format(p.x, "064x") == entry["x"]
    for case in doc["found"]:
        point = group.IDENTITY if case["point"] is None else Point.from_hex(case["point"])
        assert dlog.discrete_log(point, doc["bound"]) == case["value"]
        assert point == (group.base_mul(case["value"]) if case["value"] else group.IDENTITY)
    for case in doc["rejected_above_bound"]:
        assert Point.from_hex(case["point"]) == group.base_mul(int(case["value"]))
        with pytest.raises(dlog.DlogNotFoundError):
            dlog.discrete_log(Point.from_hex(case["point"]), doc["bound"])
    small = doc["small_bound"]
    assert dlog.build_table(small["bound"]).baby_steps == small["baby_steps"]
    for case in small["found"]:
        assert dlog.discrete_log(Point.from_hex(case["point"]), small["bound"]) == case["value"]
    for case in small["rejected"]:
        with pytest.raises(dlog.DlogNotFoundError):
            dlog.discrete_log(Point.from_hex(case["point"]), small["bound"])


# -- trustee secret file --------------------------------------------------------------------
def test_trustee_file_vector() -> None:
    doc = load("trustee-file.json")
    document, passphrase = doc["document"], doc["passphrase_utf8"]
    kdf, cipher = document["kdf"], document["cipher"]
    assert trustee_file.decrypt_trustee_secret(document, passphrase) == doc["plaintext_secret"]
    assert rfc8785.dumps(doc["plaintext_secret"]).decode() == doc["plaintext_jcs_utf8"]
    header = {k: document[k] for k in ("format", "election_id", "trustee_index", "kdf", "cipher")}
    assert trustee_file.header_aad(header).decode() == doc["aad_utf8"]
    aes_key, check_key = trustee_file.derive_keys(
        passphrase, bytes.fromhex(kdf["salt"]), kdf["log2_n"], kdf["r"], kdf["p"]
    )
    assert (aes_key.hex(), check_key.hex()) == (
        doc["scrypt_output"]["aes_key"],
        doc["scrypt_output"]["check_key"],
    )
    again = trustee_file.encrypt_trustee_secret(
        doc["plaintext_secret"],
        passphrase,
        election_id=document["election_id"],
        trustee_index=document["trustee_index"],
        log2_n=kdf["log2_n"],
        salt=bytes.fromhex(kdf["salt"]),
        nonce=bytes.fromhex(cipher["nonce"]),
    )
    assert again == document
    TrusteeKeyShare.from_secret_json(doc["plaintext_secret"])


def test_trustee_file_vector_rejections() -> None:
    doc = load("trustee-file.json")
    errors = {
        "corrupt": trustee_file.CorruptTrusteeFileError,
        "wrong_passphrase": trustee_file.WrongPassphraseError,
    }
    for name, case in doc["invalid_documents"].items():
        document = case.get("document", doc["document"])
        passphrase = case.get("passphrase_utf8", doc["passphrase_utf8"])
        with pytest.raises(errors[case["error"]]):
            trustee_file.decrypt_trustee_secret(document, passphrase)
        assert name
