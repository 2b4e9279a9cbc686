"""Binding a browser-made did:key to an account, and rotating to a new one."""

from __future__ import annotations

import re
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from identity import keys
from identity.core import did_key
from identity.errors import BindingRefused, Conflict, InvalidInput
from identity.models import Challenge, CitizenDID
from identity.services.challenges import consume_challenge
from identity.services.encoding import b64url_decode

BIND_CONTEXT = "civic-did-binding/v1"


def binding_message(did: str, nonce: str, domain: str) -> bytes:
    """What the browser signs to prove it holds the DID's key: context, domain, DID, nonce."""
    return "\n".join([BIND_CONTEXT, domain, did, nonce]).encode("utf-8")


# The forms of the binding request's fields (documented in the OpenAPI schema): a request in
# these forms is judged (422 when the key or the challenge refuses it), others are malformed (400).
DID_KEY_PATTERN = r"^did:key:z6Mk[1-9A-HJ-NP-Za-km-z]{44}$"
SIGNATURE_PATTERN = r"^[A-Za-z0-9_-]{85}[AQgw]$"  # canonical base64url of 64 bytes


@transaction.atomic

def bind_did(user: AbstractBaseUser, did: Any, nonce: Any, signature_b64: Any) -> CitizenDID:
    """Bind ``did`` to the account after checking its Ed25519 signature over a fresh challenge.

    A citizen who already has a DID rotates: the old one is kept, marked replaced.
    """
    if not isinstance(did, str) or not isinstance(nonce, str):
        raise InvalidInput("did and challenge must be strings")
    if not re.fullmatch(DID_KEY_PATTERN, did) or not isinstance(signature_b64, str) or not re.fullmatch(SIGNATURE_PATTERN, signature_b64):
        raise InvalidInput("did must be an Ed25519 did:key and signature base64url of 64 bytes")
    try:
        public_key = did_key.public_key_from_did(did)
    except did_key.DIDKeyError as exc:
        raise BindingRefused(f"not an Ed25519 did:key: {exc}") from exc
    signature = b64url_decode(signature_b64, "signature")
    if len(signature) != 64:
        raise InvalidInput("signature must be a 64-byte Ed25519 signature")
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(
            signature, binding_message(did, nonce, keys.verifier_domain())
        )
    except (InvalidSignature, ValueError) as exc:
        raise BindingRefused("the signature does not verify with the DID's key") from exc
    if not consume_challenge(nonce, Challenge.Purpose.BIND_DID, user=user):
        raise BindingRefused("the challenge is unknown, expired or already used")
    existing = CitizenDID.objects.select_for_update().filter(did=did).first()
    if existing is not None:
        raise Conflict("this DID is already bound (DIDs are never re-used)")
    current = (
        CitizenDID.objects.select_for_update().filter(user=user, replaced_at__isnull=True).first()
    )
    now = timezone.now()
    if current is not None:
        current.replaced_at = now
        current.save(update_fields=["replaced_at"])
    try:
        with transaction.atomic():
            new = CitizenDID.objects.create(user=user, did=did)
    except IntegrityError as exc:
        raise Conflict("this DID is already bound") from exc
    if current is not None:
        current.replaced_by = new
        current.save(update_fields=["replaced_by"])
    return new
