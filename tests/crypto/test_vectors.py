"""The committed vectors in tests/vectors are reproduced exactly and verify from JSON alone."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from civic_votecrypto import ballot as B
from civic_votecrypto import elgamal, group, hashing, proofs
from civic_votecrypto.errors import BallotError, CryptoError, EncodingError, ProofError
from civic_votecrypto.group import Point, scalar_from_hex
from civic_votecrypto.hashing import DeterministicScalars
from civic_votecrypto.manifest import Manifest
from tests.vectors.generators import core as vectors

VECTOR_DIR = Path(__file__).resolve().parents[1] / "vectors"


def load(name: str) -> dict[str, Any]:
    return json.loads((VECTOR_DIR / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def built() -> dict[str, dict[str, Any]]:
    return vectors.build_vectors()


def test_generator_reproduces_committed_files_exactly(built: dict[str, dict[str, Any]]) -> None:
    assert sorted(built) == sorted(p.name for p in VECTOR_DIR.glob("*.json"))
    for name, doc in built.items():
        assert (VECTOR_DIR / name).read_text(encoding="utf-8") == vectors.render(doc), name


def test_generator_cli_check_mode(
    tmp_path: Path, built: dict[str, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(vectors, "build_vectors", lambda: built)
    assert vectors.main(["--out", str(VECTOR_DIR), "--check"]) == 0
    (tmp_path / "group.json").write_text("{}")
    assert vectors.main(["--out", str(tmp_path), "--check"]) == 1


@pytest.mark.parametrize("backend", ["py-ecc", "native"])
def test_group_vectors(backend: str) -> None:
    doc = load("group.json")
    with group.use_backend(backend):
        for case in doc["base_mul"]:
            assert group.base_mul(scalar_from_hex(case["k"])).hex() == case["kG"]
        for case in doc["add"]:
            a, b = Point.from_hex(case["a"]), Point.from_hex(case["b"])
            assert (a + b).hex() == case["sum"] and (a - b).hex() == case["difference"]
        for case in doc["mul"]:
            assert (
                group.mul(Point.from_hex(case["point"]), scalar_from_hex(case["k"])).hex()
                == case["product"]
            )
        msm = doc["msm"]
        result = group.msm(
            [scalar_from_hex(k) for k in msm["scalars"]], [Point.from_hex(p) for p in msm["points"]]
        )
        assert result.hex() == msm["result"]
        for text in doc["invalid_points"].values():
            with pytest.raises(EncodingError):
                Point.from_hex(text)
    for text in doc["invalid_scalars"].values():
        with pytest.raises(EncodingError):
            scalar_from_hex(text)
    assert scalar_from_hex(doc["valid_zero_scalar"]) == 0


def test_hashing_vectors() -> None:
    doc = load("hashing.json")
    manifest = Manifest.from_json(json.loads(doc["manifest_canonical_utf8"]))
    assert manifest.canonical_bytes().decode() == doc["manifest_canonical_utf8"]
    h_p = hashing.parameter_hash()
    assert h_p.hex() == doc["parameter_hash"]
    h_m = hashing.manifest_hash(h_p, manifest.canonical_bytes())
    assert h_m.hex() == doc["manifest_hash"]
    eb = doc["election_base"]
    h_b = hashing.election_base_hash(h_p, h_m, eb["trustees"], eb["threshold"])
    assert h_b.hex() == eb["hash"]
    ex = doc["extended_base"]
    h_e = hashing.extended_base_hash(
        h_b, Point.from_hex(ex["joint_key"]), [Point.from_hex(c) for c in ex["trustee_commitments"]]
    )
    assert h_e.hex() == ex["hash"]
    for case in doc["H"]:
        assert (
            hashing.H(bytes.fromhex(case["key"]), case["tag"], bytes.fromhex(case["data"])).hex()
            == case["hash"]
        )
    for case in doc["challenge"]:
        c = hashing.challenge(
            bytes.fromhex(case["context"]), case["tag"], bytes.fromhex(case["fields"])
        )
        assert c == scalar_from_hex(case["scalar"])
    ds = doc["deterministic_scalars"]
    stream = DeterministicScalars(ds["seed_utf8"].encode(), ds["label"])
    assert [stream() for _ in ds["first"]] == [scalar_from_hex(s) for s in ds["first"]]


def test_elgamal_vectors() -> None:
    doc = load("elgamal.json")
    secret = scalar_from_hex(doc["secret_key"])
    key = Point.from_hex(doc["public_key"])
    assert group.base_mul(secret) == key
    cts = []
    for case in doc["encryptions"]:
        ct = elgamal.Ciphertext.from_json(case["ciphertext"])
        assert elgamal.encrypt(key, case["message"], scalar_from_hex(case["nonce"])) == ct
        assert elgamal.decrypt_to_point(secret, ct) == group.base_mul(case["message"])
        cts.append(ct)
    assert elgamal.aggregate(cts).to_json() == doc["aggregate_sum"]
    weighted = doc["aggregate_weighted"]
    agg = elgamal.Ciphertext.from_json(weighted["result"])
    assert elgamal.aggregate(cts, weighted["weights"]) == agg
    assert elgamal.decrypt_to_point(secret, agg) == group.base_mul(weighted["plaintext"])


def test_proof_vectors_verify_and_tampered_ones_fail() -> None:
    doc = load("proofs.json")
    for case in doc["range"]:
        args = (
            bytes.fromhex(case["context"]),
            Point.from_hex(case["public_key"]),
            elgamal.Ciphertext.from_json(case["ciphertext"]),
        )
        kw = {"tag": case["tag"], "label": bytes.fromhex(case["label_hex"])}
        proof = proofs.RangeProof.from_json(case["proof"])
        proofs.verify_range(*args, proof, case["lo"], case["hi"], **kw)
        for bad in case["invalid_proofs"].values():
            with pytest.raises(ProofError):
                proofs.verify_range(
                    *args, proofs.RangeProof.from_json(bad), case["lo"], case["hi"], **kw
                )
    s = doc["schnorr"]
    proofs.verify_schnorr(
        bytes.fromhex(s["context"]),
        Point.from_hex(s["public"]),
        proofs.SchnorrProof.from_json(s["proof"]),
        label=bytes.fromhex(s["label_hex"]),
    )
    e = doc["equality"]
    proofs.verify_equality(
        bytes.fromhex(e["context"]),
        Point.from_hex(e["public1"]),
        Point.from_hex(e["base2"]),
        Point.from_hex(e["public2"]),
        proofs.EqualityProof.from_json(e["proof"]),
        base1=Point.from_hex(e["base1"]),
        label=bytes.fromhex(e["label_hex"]),
    )


def test_ballot_vectors_verify() -> None:
    doc = load("ballots.json")
    ctx = B.ElectionContext.build(
        Manifest.from_json(doc["manifest"]),
        Point.from_hex(doc["joint_key"]),
        doc["trustees"],
        doc["threshold"],
    )
    assert ctx.extended_hash.hex() == doc["extended_hash"]
    ballots = [B.decode_ballot(case["ballot"]) for case in doc["ballots"]]
    for ballot, case in zip(ballots, doc["ballots"], strict=True):
        B.verify_ballot(ctx, ballot)
        assert ballot.tracking_code == case["tracking_code"]
        assert [B.contest_hash(ctx.extended_hash, c).hex() for c in ballot.contests] == case[
            "contest_hashes"
        ]
    with group.use_backend("native"):  # same answers; only faster (cross-checked elsewhere)
        assert B.verify_ballots(ctx, ballots) == []
        B.verify_challenged_ballot(ctx, B.ChallengedBallot.from_json(doc["challenged_valid"]))
        with pytest.raises(BallotError):
            B.verify_challenged_ballot(
                ctx, B.ChallengedBallot.from_json(doc["challenged_lying_device"])
            )
        for bad in doc["invalid_ballots"].values():
            with pytest.raises(CryptoError):
                B.verify_ballot(ctx, B.decode_ballot(bad))


SCHEMA_DIR = Path(__file__).resolve().parents[2] / "docs" / "schemas"


def schema_validator(name: str):  # type: ignore[no-untyped-def]

    resources = []
    for path in [*SCHEMA_DIR.glob("ballot*.json"), SCHEMA_DIR / "election-context.json"]:
        doc = json.loads(path.read_text(encoding="utf-8"))
        resources.append((doc["$id"], Resource.from_contents(doc)))
    registry = Registry().with_resources(resources)
    schema = json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, registry=registry)


def test_vectors_match_the_published_json_schemas() -> None:
    doc = load("ballots.json")
    ballot_schema = schema_validator("ballot.json")
    for case in doc["ballots"]:
        ballot_schema.validate(case["ballot"])
    schema_validator("ballot-challenged.json").validate(doc["challenged_valid"])
    manifest_schema = schema_validator("ballot-manifest.json")
    manifest_schema.validate(doc["manifest"])
    proofs_doc = load("proofs.json")
    primitives = schema_validator("ballot-primitives.json")
    for case in proofs_doc["range"]:
        primitives.evolve(schema={"$ref": "#/$defs/range_proof", **primitives.schema}).validate(
            case["proof"]
        )
    bad = json.loads(json.dumps(doc["ballots"][0]["ballot"]))
    bad["contests"][0]["selections"][0]["ciphertext"]["alpha"] = "04" + "00" * 32
    assert not ballot_schema.is_valid(bad)
    bad_manifest = json.loads(json.dumps(doc["manifest"]))
    bad_manifest["contests"][4]["options"][0].pop("cost")
    assert not manifest_schema.is_valid(bad_manifest)


def test_context_messages_and_receipts_match_their_schemas() -> None:
    """§7.6/§7.7: what Python writes validates; ids, titles and keys that break §6.1 do not."""
    from jsonschema import ValidationError  # noqa: PLC0415

    from civic_votecrypto.ballot import ElectionContext, verify_receipt  # noqa: PLC0415

    doc = load("ballots.json")
    context = {k: doc[k] for k in ("manifest", "joint_key", "trustees", "threshold", "trustee_commitments", "extended_hash")}  # fmt: skip
    assert ElectionContext.from_json(context).to_json() == context
    case = doc["ballots"][0]
    receipt = {"context": context, "ballot": case["ballot"], "tracking_code": case["tracking_code"]}
    assert all(ok for _, ok, _ in verify_receipt(receipt))
    context_schema = schema_validator("election-context.json")
    receipt_schema = schema_validator("ballot-receipt.json")
    context_schema.validate(context)
    receipt_schema.validate(receipt)
    receipt_schema.validate({k: v for k, v in receipt.items() if k != "tracking_code"})
    manifest = doc["manifest"]
    bad_contexts = [
        {**context, "extra": 1},
        {k: v for k, v in context.items() if k != "trustee_commitments"},
        {**context, "trustees": 0},
        {**context, "manifest": {**manifest, "election_id": "with space"}},
        {**context, "manifest": {**manifest, "title": "bell\u0007"}},
        {**context, "manifest": {**manifest, "title": "x" * 1025}},
    ]
    for bad in bad_contexts:
        with pytest.raises(ValidationError):
            context_schema.validate(bad)
    for bad in (
        {**receipt, "manifest": manifest},
        {**receipt, "tracking_code": "abcd"},
        {"context": context},
        {**receipt, "ballot": {**case["ballot"], "ballot_id": "caf\u00e9"}},
    ):
        with pytest.raises(ValidationError):
            receipt_schema.validate(bad)
