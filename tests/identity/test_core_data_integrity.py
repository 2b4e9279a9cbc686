"""eddsa-jcs-2022 Data Integrity proofs (w3c/vc-di-eddsa vectors) and VCDM 2.0 helpers."""

from __future__ import annotations

import copy
import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from identity.core import credentials as vc
from identity.core import data_integrity as di
from identity.core import did_key, did_web
from identity.core.jcs import canonicalize
from identity.core.multikey import base58btc_decode, base58btc_encode, decode_ed25519_private_key

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


class Vectors:
    def __init__(self, root: Path) -> None:
        self.root = root / "vc_di_eddsa" / "TestVectors"
        self.jcs = self.root / "eddsa-jcs-2022"

    def json(self, path: Path) -> Any:
        return json.loads(path.read_text())

    def text(self, name: str) -> str:
        return (self.jcs / name).read_text().strip()


@pytest.fixture(scope="module")
def vectors(conformance_dir: Path) -> Vectors:
    return Vectors(conformance_dir)


@pytest.fixture(scope="module")
def vector_key(vectors: Vectors) -> Ed25519PrivateKey:
    pair = vectors.json(vectors.root / "keyPair.json")
    return Ed25519PrivateKey.from_private_bytes(
        decode_ed25519_private_key(pair["privateKeyMultibase"])
    )


@pytest.fixture(scope="module")
def signed(vectors: Vectors) -> dict[str, Any]:
    return vectors.json(vectors.jcs / "signedJCS.json")


RESOLVER = di.static_resolver()


# --- the published vectors ---------------------------------------------------------------


def test_intermediate_values_match_vectors(vectors: Vectors) -> None:
    unsigned = vectors.json(vectors.root / "unsigned.json")
    config = vectors.json(vectors.jcs / "proofConfigJCS.json")
    assert canonicalize(unsigned).decode() == vectors.text("canonDocJCS.txt")
    assert canonicalize(config).decode() == vectors.text("proofCanonJCS.txt")
    assert hashlib.sha256(canonicalize(config)).hexdigest() == vectors.text("proofHashJCS.txt")
    assert hashlib.sha256(canonicalize(unsigned)).hexdigest() == vectors.text("docHashJCS.txt")
    assert di.hash_data(unsigned, config).hex() == vectors.text("combinedHashJCS.txt")


def test_create_proof_reproduces_vector(
    vectors: Vectors, vector_key: Ed25519PrivateKey, signed: dict[str, Any]
) -> None:
    unsigned = vectors.json(vectors.root / "unsigned.json")
    config = vectors.json(vectors.jcs / "proofConfigJCS.json")
    proof = di.create_proof(
        unsigned, vector_key, config["verificationMethod"], created=config["created"]
    )
    assert proof["proofValue"] == vectors.text("sigBTC58JCS.txt")
    assert base58btc_decode(proof["proofValue"]).hex() == vectors.text("sigHexJCS.txt")
    assert proof == signed["proof"]
    assert (
        di.add_proof(unsigned, vector_key, config["verificationMethod"], created=config["created"])
        == signed
    )


def test_signed_vector_verifies(signed: dict[str, Any]) -> None:
    result = di.verify_proof(signed, RESOLVER, now=NOW)
    assert result.verified, result.problems
    assert result.controller == "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"


def _codes(result: di.ProofResult | vc.VerificationResult) -> set[str]:
    return {p.code for p in result.problems}


@pytest.mark.parametrize(
    "tamper",
    [
        lambda d: d["credentialSubject"].__setitem__("alumniOf", "The School of Forgery"),
        lambda d: d.__setitem__("validFrom", "2023-01-01T00:00:01Z"),
        lambda d: d.__setitem__("extra", True),
        lambda d: d["proof"].__setitem__("created", "2023-02-24T23:36:39Z"),
    ],
)
def test_tampered_document_is_rejected(signed: dict[str, Any], tamper: Any) -> None:
    document = copy.deepcopy(signed)
    tamper(document)
    result = di.verify_proof(document, RESOLVER, now=NOW)
    assert not result.verified
    assert di.PROOF_VERIFICATION_ERROR in _codes(result)


def test_changed_context_is_rejected(signed: dict[str, Any]) -> None:
    """Appending a context after signing is refused (stricter than the spec's prefix rule)."""
    appended = copy.deepcopy(signed)
    appended["@context"] = [*signed["@context"], "https://example.org/ctx"]
    assert _codes(di.verify_proof(appended, RESOLVER, now=NOW)) == {di.MALFORMED_PROOF_ERROR}
    dropped = copy.deepcopy(signed)
    dropped["@context"] = signed["@context"][:1]
    assert not di.verify_proof(dropped, RESOLVER, now=NOW).verified


def test_flipped_signature_bit_is_rejected(signed: dict[str, Any]) -> None:
    signature = bytearray(base58btc_decode(signed["proof"]["proofValue"]))
    for position in (0, 31, 63):
        flipped = bytearray(signature)
        flipped[position] ^= 0x01
        document = copy.deepcopy(signed)
        document["proof"]["proofValue"] = base58btc_encode(bytes(flipped))
        assert _codes(di.verify_proof(document, RESOLVER, now=NOW)) == {di.PROOF_VERIFICATION_ERROR}


def test_wrong_key_is_rejected(signed: dict[str, Any]) -> None:
    """Same signature, but the proof names another did:key: the signature cannot match it."""
    _, other_did = did_key.generate()
    document = copy.deepcopy(signed)
    document["proof"]["verificationMethod"] = did_key.verification_method_id(other_did)
    assert _codes(di.verify_proof(document, RESOLVER, now=NOW)) == {di.PROOF_VERIFICATION_ERROR}


def test_signature_by_another_key_is_rejected(vectors: Vectors, signed: dict[str, Any]) -> None:
    unsigned = vectors.json(vectors.root / "unsigned.json")
    forged = di.add_proof(
        unsigned, Ed25519PrivateKey.generate(), signed["proof"]["verificationMethod"], created=NOW
    )
    assert _codes(di.verify_proof(forged, RESOLVER, now=NOW)) == {di.PROOF_VERIFICATION_ERROR}


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (lambda p: p.__setitem__("type", "Ed25519Signature2020"), di.MALFORMED_PROOF_ERROR),
        (lambda p: p.__setitem__("cryptosuite", "eddsa-rdfc-2022"), di.MALFORMED_PROOF_ERROR),
        (lambda p: p.__setitem__("proofValue", "u" + "A" * 86), di.MALFORMED_PROOF_ERROR),
        (lambda p: p.__setitem__("proofValue", "z3"), di.MALFORMED_PROOF_ERROR),
        (lambda p: p.pop("proofValue"), di.MALFORMED_PROOF_ERROR),
        (
            lambda p: p.__setitem__("proofPurpose", "authentication"),
            di.MISMATCHED_PROOF_PURPOSE_ERROR,
        ),
        (
            lambda p: p.__setitem__("verificationMethod", "did:key:z6Mk"),
            di.INVALID_VERIFICATION_METHOD,
        ),
        (
            lambda p: p.__setitem__("verificationMethod", "did:example:123#k"),
            di.INVALID_VERIFICATION_METHOD,
        ),
        (lambda p: p.__setitem__("verificationMethod", None), di.INVALID_VERIFICATION_METHOD),
    ],
)
def test_malformed_proof_is_rejected(signed: dict[str, Any], change: Any, code: str) -> None:
    document = copy.deepcopy(signed)
    change(document["proof"])
    result = di.verify_proof(document, RESOLVER, now=NOW)
    assert code in _codes(result)


def test_missing_or_listed_proof_is_rejected(signed: dict[str, Any]) -> None:
    bare = {k: v for k, v in signed.items() if k != "proof"}
    assert _codes(di.verify_proof(bare, RESOLVER)) == {di.MALFORMED_PROOF_ERROR}
    as_set = {**bare, "proof": [signed["proof"]]}
    assert _codes(di.verify_proof(as_set, RESOLVER)) == {di.MALFORMED_PROOF_ERROR}
    assert _codes(di.verify_proof([], RESOLVER)) == {di.MALFORMED_PROOF_ERROR}  # type: ignore[arg-type]


def test_proof_created_in_future_and_expired(vector_key: Ed25519PrivateKey) -> None:
    did = did_key.did_from_private_key(vector_key)
    vm = did_key.verification_method_id(did)
    document = {"@context": [vc.VC_V2_CONTEXT], "id": "urn:x"}
    future = di.add_proof(document, vector_key, vm, created=NOW + timedelta(hours=1))
    assert _codes(di.verify_proof(future, RESOLVER, now=NOW)) == {di.INVALID_PROOF_DATETIME}
    expiring = di.add_proof(document, vector_key, vm, created=NOW, expires=NOW + timedelta(hours=1))
    assert di.verify_proof(expiring, RESOLVER, now=NOW).verified
    later = NOW + timedelta(hours=2)
    assert _codes(di.verify_proof(expiring, RESOLVER, now=later)) == {di.PROOF_EXPIRED}
    bad_date = copy.deepcopy(expiring)
    bad_date["proof"]["created"] = "2025-06-01 12:00"
    assert di.INVALID_PROOF_DATETIME in _codes(di.verify_proof(bad_date, RESOLVER, now=NOW))


def test_create_proof_rejects_bad_options(vector_key: Ed25519PrivateKey) -> None:
    with pytest.raises(ValueError, match="dateTimeStamp"):
        di.create_proof({"a": 1}, vector_key, "did:key:z#z", created="yesterday")
    with pytest.raises(di.ProofError, match="PROOF_TRANSFORMATION_ERROR"):
        di.create_proof({"a": float("nan")}, vector_key, "did:key:z#z", created=NOW)


# --- resolution against a did:web city document -----------------------------------------

CITY = "did:web:city.example"


@pytest.fixture(scope="module")
def city_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture(scope="module")
def city_resolver(city_key: Ed25519PrivateKey) -> di.Resolver:
    raw = city_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return di.static_resolver({CITY: did_web.city_did_document(CITY, [("key-1", raw)])})


def test_resolution_errors() -> None:
    with pytest.raises(di.ResolutionError) as info:
        di.resolve_did("not-a-did")
    assert info.value.code == "invalidDid"
    with pytest.raises(di.ResolutionError) as info:
        di.resolve_did("did:web:unknown.example")
    assert info.value.code == "notFound"
    with pytest.raises(di.ResolutionError) as info:
        di.resolve_did("did:ion:abc")
    assert info.value.code == "methodNotSupported"
    with pytest.raises(di.ResolutionError) as info:
        di.resolve_did("did:key:zNotAKey")
    assert info.value.code == "invalidDid"


def test_key_not_authorised_for_purpose_is_rejected(city_key: Ed25519PrivateKey) -> None:
    raw = city_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    document = did_web.city_did_document(CITY, [("key-1", raw)])
    document["assertionMethod"] = []
    resolver = di.static_resolver({CITY: document})
    signed = di.add_proof({"id": "urn:x"}, city_key, f"{CITY}#key-1", created=NOW)
    assert _codes(di.verify_proof(signed, resolver, now=NOW)) == {di.MISMATCHED_PROOF_PURPOSE_ERROR}


def test_relative_method_ids_resolve(city_key: Ed25519PrivateKey) -> None:
    """DID documents may name methods relatively ("#key-1"); both forms must resolve."""
    raw = city_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    document = did_web.city_did_document(CITY, [("key-1", raw)])
    document["verificationMethod"][0]["id"] = "#key-1"
    document["assertionMethod"] = ["#key-1"]
    signed = di.add_proof({"id": "urn:x"}, city_key, f"{CITY}#key-1", created=NOW)
    assert di.verify_proof(signed, di.static_resolver({CITY: document}), now=NOW).verified
    broken = di.static_resolver({CITY: ["not", "a", "document"]})  # type: ignore[dict-item]
    assert _codes(di.verify_proof(signed, broken, now=NOW)) == {di.INVALID_VERIFICATION_METHOD}


def test_unknown_fragment_is_rejected(
    city_key: Ed25519PrivateKey, city_resolver: di.Resolver
) -> None:
    signed = di.add_proof({"id": "urn:x"}, city_key, f"{CITY}#key-9", created=NOW)
    assert _codes(di.verify_proof(signed, city_resolver, now=NOW)) == {
        di.INVALID_VERIFICATION_METHOD
    }


# --- VCDM 2.0: residency credential ------------------------------------------------------


def _residency(subject: str, **overrides: Any) -> dict[str, Any]:
    options: dict[str, Any] = {
        "issuer": CITY,
        "subject_did": subject,
        "district": "district-7",
        "credential_id": "urn:uuid:00000000-0000-4000-8000-000000000001",
        "valid_from": NOW - timedelta(days=1),
        "valid_until": NOW + timedelta(days=365),
    }
    options.update(overrides)
    return vc.residency_credential(**options)


@pytest.fixture(scope="module")
def citizen() -> tuple[Ed25519PrivateKey, str]:
    return did_key.generate()


@pytest.fixture(scope="module")
def issued(city_key: Ed25519PrivateKey, citizen: tuple[Ed25519PrivateKey, str]) -> dict[str, Any]:
    return vc.issue(
        _residency(citizen[1]), city_key, f"{CITY}#key-1", created=NOW - timedelta(days=1)
    )


def test_residency_credential_shape(citizen: tuple[Ed25519PrivateKey, str]) -> None:
    credential = _residency(citizen[1])
    assert credential["@context"] == [vc.VC_V2_CONTEXT]
    assert credential["type"] == ["VerifiableCredential", "ResidencyCredential"]
    assert credential["credentialSubject"] == {"id": citizen[1], "district": "district-7"}
    assert credential["validFrom"] == "2025-05-31T12:00:00Z"
    assert credential["validUntil"] == "2026-06-01T12:00:00Z"
    with pytest.raises(ValueError, match="validUntil"):
        _residency(citizen[1], valid_until=NOW - timedelta(days=2))


def test_issued_credential_verifies(issued: dict[str, Any], city_resolver: di.Resolver) -> None:
    result = vc.verify_credential(issued, city_resolver, now=NOW, trusted_issuers={CITY})
    assert result.verified, result.problems
    assert result.checks == ["structure", "proof", "issuer", "validity"]
    assert result.as_dict() == {
        "verified": True,
        "checks": ["structure", "proof", "issuer", "validity"],
        "errors": [],
        "warnings": [],
    }


def test_tampered_credential_claim_is_rejected(
    issued: dict[str, Any], city_resolver: di.Resolver
) -> None:
    forged = copy.deepcopy(issued)
    forged["credentialSubject"]["district"] = "district-8"
    result = vc.verify_credential(forged, city_resolver, now=NOW)
    assert _codes(result) == {di.PROOF_VERIFICATION_ERROR}
    assert result.as_dict()["verified"] is False


def test_credential_signed_by_non_issuer_is_rejected(
    issued: dict[str, Any], city_resolver: di.Resolver, citizen: tuple[Ed25519PrivateKey, str]
) -> None:
    """A citizen signing a credential that claims the city as issuer: proof valid, issuer wrong."""
    key, did = citizen
    forged = vc.issue(_residency(did), key, did_key.verification_method_id(did), created=NOW)
    assert _codes(vc.verify_credential(forged, city_resolver, now=NOW)) == {vc.ISSUER_MISMATCH}


def test_untrusted_issuer(issued: dict[str, Any], city_resolver: di.Resolver) -> None:
    result = vc.verify_credential(
        issued, city_resolver, now=NOW, trusted_issuers={"did:web:other.example"}
    )
    assert _codes(result) == {vc.UNTRUSTED_ISSUER}


def test_validity_window(issued: dict[str, Any], city_resolver: di.Resolver) -> None:
    too_early = vc.verify_credential(issued, city_resolver, now=NOW - timedelta(days=2))
    assert vc.NOT_YET_VALID in _codes(too_early)
    expired = vc.verify_credential(issued, city_resolver, now=NOW + timedelta(days=400))
    assert _codes(expired) == {vc.EXPIRED}
    assert (
        vc.check_validity_period({"validFrom": "not a date"}, NOW)[0].code
        == vc.MALFORMED_CREDENTIAL
    )
    assert vc.check_validity_period({}, NOW) == []


def test_structure_problems(issued: dict[str, Any], city_resolver: di.Resolver) -> None:
    assert _codes(vc.verify_credential("nope", city_resolver)) == {vc.MALFORMED_CREDENTIAL}
    for field, value in [
        ("@context", ["https://www.w3.org/2018/credentials/v1"]),
        ("type", ["X"]),
        ("issuer", 5),
    ]:
        changed = {**issued, field: value}
        assert vc.MALFORMED_CREDENTIAL in _codes(
            vc.verify_credential(changed, city_resolver, now=NOW)
        )


def test_status_is_checked_through_the_checker(
    city_key: Ed25519PrivateKey, city_resolver: di.Resolver, citizen: tuple[Ed25519PrivateKey, str]
) -> None:
    entry = {
        "id": "https://city.example/status/1#5",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "5",
        "statusListCredential": "https://city.example/status/1",
    }
    credential = vc.issue(
        _residency(citizen[1], credential_status=entry), city_key, f"{CITY}#key-1", created=NOW
    )
    seen: list[Any] = []

    def revoked(e: Any) -> list[di.Problem]:
        seen.append(e)
        return [di.Problem("REVOKED", "credential is revoked")]

    result = vc.verify_credential(credential, city_resolver, now=NOW, status_checker=revoked)
    assert seen == [entry]
    assert "status" in result.checks
    assert _codes(result) == {"REVOKED"}
    unchecked = vc.verify_credential(credential, city_resolver, now=NOW)
    assert unchecked.verified
    assert [w.code for w in unchecked.warnings] == ["STATUS_NOT_CHECKED"]


# --- VCDM 2.0: presentations -------------------------------------------------------------

CHALLENGE = "c-4f1b0a"
DOMAIN = "https://city.example"


def _signed_vp(
    citizen: tuple[Ed25519PrivateKey, str], issued: dict[str, Any], **options: Any
) -> dict[str, Any]:
    key, did = citizen
    arguments: dict[str, Any] = {"challenge": CHALLENGE, "domain": DOMAIN, "created": NOW}
    arguments.update(options)
    return vc.sign_presentation(
        vc.presentation(did, [issued]), key, did_key.verification_method_id(did), **arguments
    )


def test_presentation_verifies(
    issued: dict[str, Any], city_resolver: di.Resolver, citizen: tuple[Ed25519PrivateKey, str]
) -> None:
    vp = _signed_vp(citizen, issued)
    assert vp["proof"]["proofPurpose"] == "authentication"
    assert vp["proof"]["challenge"] == CHALLENGE
    assert vp["proof"]["domain"] == DOMAIN
    result = vc.verify_presentation(vp, city_resolver, challenge=CHALLENGE, domain=DOMAIN, now=NOW)
    assert result.verified, (result.problems, [c.problems for c in result.credentials])
    assert result.as_dict()["credentialResults"][0]["verified"] is True


def test_replayed_presentation_is_rejected(
    issued: dict[str, Any], city_resolver: di.Resolver, citizen: tuple[Ed25519PrivateKey, str]
) -> None:
    vp = _signed_vp(citizen, issued)
    other_challenge = vc.verify_presentation(
        vp, city_resolver, challenge="c-new", domain=DOMAIN, now=NOW
    )
    assert _codes(other_challenge) == {di.INVALID_CHALLENGE_ERROR}
    other_domain = vc.verify_presentation(
        vp, city_resolver, challenge=CHALLENGE, domain="https://evil.example", now=NOW
    )
    assert _codes(other_domain) == {di.INVALID_DOMAIN_ERROR}
    changed = copy.deepcopy(vp)
    changed["proof"]["challenge"] = "c-new"
    result = vc.verify_presentation(
        changed, city_resolver, challenge="c-new", domain=DOMAIN, now=NOW
    )
    assert _codes(result) == {di.PROOF_VERIFICATION_ERROR}


def test_presentation_of_someone_elses_credential_is_rejected(
    issued: dict[str, Any], city_resolver: di.Resolver
) -> None:
    thief = did_key.generate()
    vp = _signed_vp(thief, issued)
    result = vc.verify_presentation(vp, city_resolver, challenge=CHALLENGE, domain=DOMAIN, now=NOW)
    assert _codes(result) == {vc.HOLDER_MISMATCH}


def test_presentation_signed_by_other_key_than_holder(
    issued: dict[str, Any], city_resolver: di.Resolver, citizen: tuple[Ed25519PrivateKey, str]
) -> None:
    other_key, other_did = did_key.generate()
    vp = vc.sign_presentation(
        vc.presentation(citizen[1], [issued]),
        other_key,
        did_key.verification_method_id(other_did),
        challenge=CHALLENGE,
        domain=DOMAIN,
        created=NOW,
    )
    result = vc.verify_presentation(vp, city_resolver, challenge=CHALLENGE, domain=DOMAIN, now=NOW)
    assert _codes(result) == {vc.HOLDER_MISMATCH}


def test_presentation_with_tampered_credential_is_rejected(
    issued: dict[str, Any], city_resolver: di.Resolver, citizen: tuple[Ed25519PrivateKey, str]
) -> None:
    forged = copy.deepcopy(issued)
    forged["credentialSubject"]["district"] = "district-8"
    vp = _signed_vp(citizen, forged)
    result = vc.verify_presentation(vp, city_resolver, challenge=CHALLENGE, domain=DOMAIN, now=NOW)
    assert not result.problems
    assert not result.verified
    assert _codes(result.credentials[0]) == {di.PROOF_VERIFICATION_ERROR}


def test_presentation_with_assertion_purpose_is_rejected(
    issued: dict[str, Any], city_resolver: di.Resolver, citizen: tuple[Ed25519PrivateKey, str]
) -> None:
    key, did = citizen
    vp = di.add_proof(
        vc.presentation(did, [issued]),
        key,
        did_key.verification_method_id(did),
        challenge=CHALLENGE,
        domain=DOMAIN,
        created=NOW,
    )
    result = vc.verify_presentation(vp, city_resolver, challenge=CHALLENGE, domain=DOMAIN, now=NOW)
    assert _codes(result) == {di.MISMATCHED_PROOF_PURPOSE_ERROR}


def test_presentation_requires_challenge_and_domain(
    issued: dict[str, Any], city_resolver: di.Resolver, citizen: tuple[Ed25519PrivateKey, str]
) -> None:
    with pytest.raises(ValueError, match="challenge and a domain"):
        _signed_vp(citizen, issued, challenge="")
    with pytest.raises(ValueError, match="challenge and domain"):
        vc.verify_presentation({}, city_resolver, challenge="", domain=DOMAIN)
    assert _codes(vc.verify_presentation(7, city_resolver, challenge="c", domain="d")) == {
        vc.MALFORMED_PRESENTATION
    }
