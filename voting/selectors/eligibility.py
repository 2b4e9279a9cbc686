"""Eligibility reads: an election's blind-signature key, who already holds a token, and the
ballot box's check that a ballot key carries a valid token (which never looks at a DID)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa
from django.contrib.auth.models import AbstractBaseUser

from identity.core import base64url, blind_rsa
from voting.models import Election, EligibilityGrant, EligibilityKey
from voting.selectors.elections import open_elections

TOKEN_CONTEXT = b"civic/eligibility-token/v1"
MAX_TOKEN_FIELD_CHARS = 2048


def election_key(election: Election) -> EligibilityKey | None:
    return EligibilityKey.objects.filter(election=election).first()


def has_token(user: AbstractBaseUser, election: Election) -> bool:
    return EligibilityGrant.objects.filter(user=user, election=election).exists()


def open_elections_with_token_state(user: AbstractBaseUser) -> list[tuple[Election, bool]]:
    """The wallet's list: every open election, and whether this citizen already got its token."""
    return [(election, has_token(user, election)) for election in open_elections()]


def token_message(election_slug: str, ballot_public_key: bytes) -> bytes:
    """The 32 bytes the voter gets blindly signed: binds the token to one election and one key."""
    return hashlib.sha256(
        TOKEN_CONTEXT + b"\x00" + election_slug.encode("utf-8") + b"\x00" + bytes(ballot_public_key)
    ).digest()


def _token_field(text: Any) -> bytes | None:
    try:
        return base64url.decode(text, max_length=MAX_TOKEN_FIELD_CHARS)
    except ValueError:
        return None


def ballot_authorization_is_valid(
    election: Election, ballot_public_key: bytes, token: Any, key_row: EligibilityKey | None = None
) -> bool:
    """True when ``token`` is a finalized RFC 9474 signature by THIS election's key over the
    ballot key's token message. Looks at nothing that could link the ballot to a DID.

    ``token`` = ``{"key_id": hex, "prefix": base64url(32 bytes), "signature": base64url}``.
    ``key_row`` saves the lookup for a caller that holds the election's key already (the box).
    """
    if not isinstance(ballot_public_key, bytes | bytearray) or not 16 <= len(ballot_public_key) <= 1024:
        return False
    if not isinstance(token, Mapping):
        return False
    key_row = key_row if key_row is not None else election_key(election)
    if key_row is None or token.get("key_id") != key_row.key_id:
        return False
    prefix = _token_field(token.get("prefix"))
    signature = _token_field(token.get("signature"))
    if prefix is None or signature is None or len(prefix) != blind_rsa.PREFIX_LENGTH:
        return False
    public_key: rsa.RSAPublicKey = blind_rsa.public_key_from_pem(key_row.public_key_pem)
    message = prefix + token_message(election.slug, bytes(ballot_public_key))
    return blind_rsa.verify(public_key, message, signature, blind_rsa.VARIANTS[key_row.variant])
