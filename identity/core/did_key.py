"""did:key for Ed25519 (w3c-ccg did-method-key): DID <-> public key, and the DID document.

A did:key *is* its public key (``did:key:z6Mk...`` = Multikey of the Ed25519 key), so resolution
is pure computation: no network, no registry, nothing a server can forge. Parsing is strict:
wrong method, wrong codec, wrong length or a non-curve point is a :class:`DIDKeyError`.
"""

from __future__ import annotations

import base64
from typing import Any, Literal

import base58
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from identity.core.multikey import (
    MultikeyError,
    decode_ed25519_public_key,
    ed25519_to_x25519_public_key,
    encode_ed25519_public_key,
    encode_x25519_public_key,
)

PREFIX = "did:key:"
DID_CONTEXT = "https://www.w3.org/ns/did/v1"
MULTIKEY_CONTEXT = "https://w3id.org/security/multikey/v1"
ED25519_2018_CONTEXT = "https://w3id.org/security/suites/ed25519-2018/v1"
X25519_2019_CONTEXT = "https://w3id.org/security/suites/x25519-2019/v1"
JWS_2020_CONTEXT = "https://w3id.org/security/suites/jws-2020/v1"

Representation = Literal["Multikey", "Ed25519VerificationKey2018", "JsonWebKey2020"]
VERIFICATION_RELATIONSHIPS = (
    "assertionMethod",
    "authentication",
    "capabilityInvocation",
    "capabilityDelegation",
)


class DIDKeyError(ValueError):
    """Not a valid Ed25519 did:key (or did:key DID URL)."""


def did_from_public_key(public_key: bytes) -> str:
    """32-byte Ed25519 public key -> ``did:key:z6Mk...``."""
    try:
        return PREFIX + encode_ed25519_public_key(public_key)
    except MultikeyError as exc:
        raise DIDKeyError(str(exc)) from exc


def did_from_private_key(private_key: Ed25519PrivateKey) -> str:
    """The did:key of a ``cryptography`` Ed25519 private key."""
    raw = private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return did_from_public_key(raw)


def public_key_from_did(did: str) -> bytes:
    """``did:key:z6Mk...`` -> 32-byte Ed25519 public key; any other form raises DIDKeyError."""
    if not isinstance(did, str):
        raise DIDKeyError("DID must be a string")
    if not did.startswith(PREFIX):
        raise DIDKeyError("not a did:key DID (expected prefix 'did:key:')")
    method_specific_id = did[len(PREFIX) :]
    if any(ch in method_specific_id for ch in "#?/;:"):
        raise DIDKeyError("did:key must be a bare DID (no path, query, fragment or version)")
    try:
        return decode_ed25519_public_key(method_specific_id)
    except MultikeyError as exc:
        raise DIDKeyError(f"invalid did:key: {exc}") from exc


def split_did_url(did_url: str) -> tuple[str, str | None]:
    """``did:key:z..#frag`` -> (DID, fragment or None), checking the DID part."""
    did, sep, fragment = did_url.partition("#")
    public_key_from_did(did)
    if sep and not fragment:
        raise DIDKeyError("empty fragment in DID URL")
    return did, fragment if sep else None


def verification_method_id(did: str) -> str:
    """The id of the single signing key: ``<did>#<multibase>``, as the did:key spec defines."""
    public_key_from_did(did)
    return f"{did}#{did[len(PREFIX) :]}"


def public_key_for_verification_method(vm_id: str) -> bytes:
    """Ed25519 key named by a did:key verification-method id; the fragment must be the key itself."""
    did, fragment = split_did_url(vm_id)
    if fragment is not None and fragment != did[len(PREFIX) :]:
        raise DIDKeyError(f"unknown verification method fragment #{fragment} for {did}")
    return public_key_from_did(did)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _method(
    vm_id: str, did: str, raw: bytes, multibase: str, curve: str, representation: Representation
) -> dict[str, Any]:
    method: dict[str, Any] = {"id": vm_id, "controller": did}
    if representation == "Multikey":
        method["type"] = "Multikey"
        method["publicKeyMultibase"] = multibase
    elif representation == "JsonWebKey2020":
        method["type"] = "JsonWebKey2020"
        method["publicKeyJwk"] = {"kty": "OKP", "crv": curve, "x": _b64url(raw)}
    else:
        method["type"] = (
            "Ed25519VerificationKey2018" if curve == "Ed25519" else "X25519KeyAgreementKey2019"
        )

        method["publicKeyBase58"] = base58.b58encode(raw).decode("ascii")
    return method


def did_document(
    did: str,
    *,
    representation: Representation = "Multikey",
    key_agreement: bool = False,
) -> dict[str, Any]:
    """The DID document of an Ed25519 did:key.

    Multikey is the current form; the two older representations exist because the published
    did:key test vectors use them. ``key_agreement`` adds the derived X25519 key
    (the spec's ``enableEncryptionKeyDerivation``).
    """
    public_key = public_key_from_did(did)
    signing_multibase = did[len(PREFIX) :]
    signing_id = f"{did}#{signing_multibase}"
    methods = [_method(signing_id, did, public_key, signing_multibase, "Ed25519", representation)]
    contexts = [DID_CONTEXT]
    if representation == "Multikey":
        contexts.append(MULTIKEY_CONTEXT)
    elif representation == "JsonWebKey2020":
        contexts.append(JWS_2020_CONTEXT)
    else:
        contexts.append(ED25519_2018_CONTEXT)
        if key_agreement:
            contexts.append(X25519_2019_CONTEXT)

    document: dict[str, Any] = {"@context": contexts, "id": did, "verificationMethod": methods}
    for relationship in VERIFICATION_RELATIONSHIPS:
        document[relationship] = [signing_id]
    if key_agreement:
        x_key = ed25519_to_x25519_public_key(public_key)
        x_multibase = encode_x25519_public_key(x_key)
        x_id = f"{did}#{x_multibase}"
        methods.append(_method(x_id, did, x_key, x_multibase, "X25519", representation))
        document["keyAgreement"] = [x_id]
    return document


def generate() -> tuple[Ed25519PrivateKey, str]:
    """A fresh Ed25519 key and its did:key (tests and server-side tools; citizens do this in JS)."""
    private_key = Ed25519PrivateKey.generate()
    return private_key, did_from_private_key(private_key)
