"""Eligibility reads: an election's blind-signature keys (one per district for a city-wide
election of a city with configured districts), who already holds a token, tokens issued per
district, and the ballot box's check that a ballot key carries a valid token (which never looks at
a DID)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count

from identity.core import base64url, blind_rsa
from voting.models import Election, EligibilityGrant, EligibilityKey
from voting.selectors.elections import open_elections

TOKEN_CONTEXT = b"civic/eligibility-token/v1"
MAX_TOKEN_FIELD_CHARS = 2048


def key_districts(election: Election) -> list[str]:
    """The districts an election gets a key each for, when its keys are first made: every
    configured district (CIVIC_DISTRICTS) for a city-wide election, else one blank-district key
    (a district's own election, or a city whose districts are free text)."""
    if election.district or not settings.CIVIC_DISTRICTS:
        return [""]
    return list(dict.fromkeys(str(d) for d in settings.CIVIC_DISTRICTS))


def election_keys(election: Election) -> list[EligibilityKey]:
    """The election's keys, by district (a one-key election: one row, district blank)."""
    return list(EligibilityKey.objects.filter(election=election).order_by("district"))


def election_key(election: Election, key_id: Any = None) -> EligibilityKey | None:
    """The key ``key_id`` names among the election's keys; without ``key_id``, its only key (None
    when it has several: the caller must say which)."""
    rows = EligibilityKey.objects.filter(election=election)
    if key_id is not None:
        return rows.filter(key_id=key_id).first() if isinstance(key_id, str) else None
    found = list(rows[:2])
    return found[0] if len(found) == 1 else None


def key_for_district(keys: list[EligibilityKey], district: str) -> EligibilityKey | None:
    """The key that signs for a resident of ``district``: the one blank key of a one-key
    election, else the district's own key (None: the election has no key for it)."""
    if len(keys) == 1 and keys[0].district == "":
        return keys[0]
    return next((row for row in keys if row.district == district), None)


def tokens_issued(election: Election) -> dict[str, int]:
    """Tokens issued per key district (``""``: a one-key election's); what results later compare
    with the ballots that count per district."""
    rows = EligibilityGrant.objects.filter(election=election).values("district").annotate(n=Count("pk"))
    return {row["district"]: row["n"] for row in rows.order_by("district")}


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
    """True when ``token`` is a finalized RFC 9474 signature by one of THIS election's keys over the
    ballot key's token message. Looks at nothing that could link the ballot to a DID.

    ``token`` = ``{"key_id": hex, "prefix": base64url(32 bytes), "signature": base64url}``.
    The key is the one the token's ``key_id`` names among the election's keys; ``key_row`` saves
    the lookup for a caller that found that key already (the box, from its cache).
    """
    if not isinstance(ballot_public_key, bytes | bytearray) or not 16 <= len(ballot_public_key) <= 1024:
        return False
    if not isinstance(token, Mapping):
        return False
    key_id = token.get("key_id")
    if not isinstance(key_id, str) or len(key_id) > MAX_TOKEN_FIELD_CHARS:
        return False
    key_row = key_row if key_row is not None else election_key(election, key_id)
    if key_row is None or key_row.election_id != election.pk or token.get("key_id") != key_row.key_id:
        return False
    prefix = _token_field(token.get("prefix"))
    signature = _token_field(token.get("signature"))
    if prefix is None or signature is None or len(prefix) != blind_rsa.PREFIX_LENGTH:
        return False
    public_key: rsa.RSAPublicKey = blind_rsa.public_key_from_pem(key_row.public_key_pem)
    message = prefix + token_message(election.slug, bytes(ballot_public_key))
    return blind_rsa.verify(public_key, message, signature, blind_rsa.VARIANTS[key_row.variant])
