"""did:key (against the w3c-ccg vectors), Multikey encodings and the did:web URL mapping."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import base58
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from identity.core import did_key, did_web, multikey


@pytest.fixture(scope="module")
def ed25519_vectors(conformance_dir: Path) -> dict[str, Any]:
    path = conformance_dir / "did_key" / "test-vectors" / "ed25519-x25519.json"
    vectors = json.loads(path.read_text())
    assert len(vectors) == 5
    return vectors


def _raw_public(private_key: Ed25519PrivateKey) -> bytes:
    return private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def _vector_public_key(entry: dict[str, Any]) -> bytes:
    pair = entry["verificationKeyPair"]
    if "publicKeyBase58" in pair:
        return base58.b58decode(pair["publicKeyBase58"])
    x = pair["publicKeyJwk"]["x"]
    return base64.urlsafe_b64decode(x + "=" * (-len(x) % 4))


def test_seed_to_key_to_did(ed25519_vectors: dict[str, Any]) -> None:
    for did, entry in ed25519_vectors.items():
        private_key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(entry["seed"]))
        public_key = _raw_public(private_key)
        assert public_key == _vector_public_key(entry)
        assert did_key.did_from_public_key(public_key) == did
        assert did_key.did_from_private_key(private_key) == did
        assert did_key.public_key_from_did(did) == public_key


def test_did_document_matches_vectors_in_their_representation(
    ed25519_vectors: dict[str, Any],
) -> None:
    for did, entry in ed25519_vectors.items():
        expected = entry["didDocument"]
        representation = expected["verificationMethod"][0]["type"]
        document = did_key.did_document(did, representation=representation, key_agreement=True)
        assert document == expected


def test_derived_x25519_key_matches_the_seeds_x25519_key(ed25519_vectors: dict[str, Any]) -> None:
    """The Edwards->Montgomery map agrees with X25519 keys derived from the same seed."""
    for entry in ed25519_vectors.values():
        ed_public = _vector_public_key(entry)
        agreement = entry["keyAgreementKeyPair"]
        if "privateKeyBase58" in agreement:
            x_private = base58.b58decode(agreement["privateKeyBase58"])
        else:
            d = agreement["privateKeyJwk"]["d"]
            x_private = base64.urlsafe_b64decode(d + "=" * (-len(d) % 4))
        x_public = X25519PrivateKey.from_private_bytes(x_private).public_key()
        expected = x_public.public_bytes(Encoding.Raw, PublicFormat.Raw)
        assert multikey.ed25519_to_x25519_public_key(ed_public) == expected


def test_multikey_did_document_shape() -> None:
    _, did = did_key.generate()
    document = did_key.did_document(did)
    vm_id = did_key.verification_method_id(did)
    assert document["@context"] == [did_key.DID_CONTEXT, did_key.MULTIKEY_CONTEXT]
    assert document["verificationMethod"] == [
        {
            "id": vm_id,
            "controller": did,
            "type": "Multikey",
            "publicKeyMultibase": did.removeprefix("did:key:"),
        }
    ]
    for relationship in did_key.VERIFICATION_RELATIONSHIPS:
        assert document[relationship] == [vm_id]
    assert "keyAgreement" not in document


def test_vc_di_eddsa_keypair_multikey_round_trip(conformance_dir: Path) -> None:
    pair = json.loads(
        (conformance_dir / "vc_di_eddsa" / "TestVectors" / "keyPair.json").read_text()
    )
    seed = multikey.decode_ed25519_private_key(pair["privateKeyMultibase"])
    public = _raw_public(Ed25519PrivateKey.from_private_bytes(seed))
    assert multikey.encode_ed25519_public_key(public) == pair["publicKeyMultibase"]
    assert multikey.encode_ed25519_private_key(seed) == pair["privateKeyMultibase"]
    assert multikey.decode_ed25519_public_key(pair["publicKeyMultibase"]) == public


VALID = "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"


def _with_payload(payload: bytes) -> str:
    return "did:key:z" + base58.b58encode(payload).decode()


@pytest.mark.parametrize(
    ("did", "message"),
    [
        ("did:web:example.com", "expected prefix 'did:key:'"),
        ("did:key:", "start with 'z'"),
        ("did:key:" + VALID[9:], "start with 'z'"),  # base58 without the multibase 'z'
        ("did:key:m" + VALID[9:], "start with 'z'"),  # other multibase code
        ("did:key:z0OIl", "invalid base58btc"),
        (_with_payload(b"\xec\x01" + bytes(32)), "not an Ed25519 key"),  # X25519 codec
        (_with_payload(b"\xe7\x01" + bytes(33)), "not an Ed25519 key"),  # secp256k1 codec
        (_with_payload(b"\xed\x01" + bytes(31)), "must be 32 bytes"),
        (_with_payload(b"\xed\x01" + bytes(33)), "must be 32 bytes"),
        (_with_payload(b"\xed\x01" + b"\xff" * 32), "not canonically encoded"),
        (VALID + "#frag", "bare DID"),
        ("did:key:1.0:" + VALID[8:], "bare DID"),
    ],
)
def test_malformed_did_key_is_rejected(did: str, message: str) -> None:
    with pytest.raises(did_key.DIDKeyError, match=message):
        did_key.public_key_from_did(did)


def test_non_curve_point_is_rejected() -> None:
    # y = 2 has no x on edwards25519 (x^2 is not a square), a classic invalid encoding.
    not_on_curve = (2).to_bytes(32, "little")
    with pytest.raises(did_key.DIDKeyError, match="not a valid curve point"):
        did_key.did_from_public_key(not_on_curve)
    with pytest.raises(did_key.DIDKeyError, match="not a valid curve point"):
        did_key.public_key_from_did(_with_payload(b"\xed\x01" + not_on_curve))


def test_verification_method_fragment_must_be_the_key() -> None:
    key = did_key.public_key_from_did(VALID)
    assert did_key.public_key_for_verification_method(did_key.verification_method_id(VALID)) == key
    with pytest.raises(did_key.DIDKeyError, match="unknown verification method"):
        did_key.public_key_for_verification_method(VALID + "#key-1")
    with pytest.raises(did_key.DIDKeyError, match="empty fragment"):
        did_key.split_did_url(VALID + "#")


@pytest.mark.parametrize(
    ("did", "url"),
    [
        ("did:web:w3c-ccg.github.io", "https://w3c-ccg.github.io/.well-known/did.json"),
        ("did:web:w3c-ccg.github.io:user:alice", "https://w3c-ccg.github.io/user/alice/did.json"),
        ("did:web:example.com%3A3000", "https://example.com:3000/.well-known/did.json"),
        ("did:web:example.com%3A3000:user:alice", "https://example.com:3000/user/alice/did.json"),
        ("did:web:localhost%3a8000", "https://localhost:8000/.well-known/did.json"),
    ],
)
def test_did_web_to_url_and_back(did: str, url: str) -> None:
    assert did_web.did_to_url(did) == url
    assert did_web.url_to_did(url) == did.replace("%3a", "%3A")


def test_did_web_origin_and_http_for_development() -> None:
    assert did_web.url_to_did("https://city.example") == "did:web:city.example"
    assert did_web.url_to_did("https://City.Example/") == "did:web:city.example"
    assert (
        did_web.did_to_url("did:web:localhost%3A8000", scheme="http")
        == "http://localhost:8000/.well-known/did.json"
    )


@pytest.mark.parametrize(
    "did",
    [
        "did:key:z6Mk",
        "did:web:",
        "did:web:example.com#key-1",
        "did:web:example.com/path",
        "did:web:exa_mple.com",
        "did:web:example.com%3A",
        "did:web:example.com%3A99999",
        "did:web:example.com%3Aabc",
        "did:web:example%2Ecom",
        "did:web:example.com::alice",
        "did:web:-bad.example",
    ],
)
def test_malformed_did_web_is_rejected(did: str) -> None:
    with pytest.raises(did_web.DIDWebError):
        did_web.did_to_url(did)


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/did.json",
        "https://example.com/did.json?x=1",
        "https://example.com/#frag",
        "https://user:pw@example.com/",
        "https://example.com:99999/",
        "https:///did.json",
    ],
)
def test_url_without_did_web_form_is_rejected(url: str) -> None:
    with pytest.raises(did_web.DIDWebError):
        did_web.url_to_did(url)


def test_city_did_document() -> None:
    did = "did:web:city.example"
    current, retired = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    document = did_web.city_did_document(
        did, [("key-2", _raw_public(current)), ("key-1", _raw_public(retired))]
    )
    assert document["id"] == did
    assert document["@context"] == [did_web.DID_CONTEXT, did_web.MULTIKEY_CONTEXT]
    ids = [f"{did}#key-2", f"{did}#key-1"]
    assert [m["id"] for m in document["verificationMethod"]] == ids
    assert document["assertionMethod"] == ids
    assert document["authentication"] == ids
    first = document["verificationMethod"][0]
    assert first["type"] == "Multikey"
    assert first["controller"] == did
    assert multikey.decode_ed25519_public_key(first["publicKeyMultibase"]) == _raw_public(current)


def test_city_did_document_rejects_bad_input() -> None:
    key = _raw_public(Ed25519PrivateKey.generate())
    with pytest.raises(did_web.DIDWebError, match="at least one"):
        did_web.city_did_document("did:web:city.example", [])
    with pytest.raises(did_web.DIDWebError, match="duplicate"):
        did_web.city_did_document("did:web:city.example", [("k", key), ("k", key)])
    with pytest.raises(did_web.DIDWebError, match="invalid key id"):
        did_web.city_did_document("did:web:city.example", [("a#b", key)])
    with pytest.raises(did_web.DIDWebError, match="32 bytes"):
        did_web.city_did_document("did:web:city.example", [("k", key[:31])])
    with pytest.raises(did_web.DIDWebError):
        did_web.city_did_document("did:key:" + "z6Mk", [("k", key)])
