"""Eligibility: each election's RFC 9474 blind-signature key (sealed at rest), the challenge and
the one token per citizen, and the ballot box's authorization check.

Voting asks identity one thing only: does this presentation prove a valid residency credential,
and for which district (``identity.services.presentations``)? Everything about elections stays
here, so the dependency runs one way, voting -> identity.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from civic.errors import InvalidInput, NotFound
from identity import keys
from identity.core import base64url, blind_rsa
from identity.core.jcs import canonicalize
from identity.errors import PresentationRefused
from identity.services import presentations
from identity.services.encoding import b64url_decode
from ledger import services as ledger
from voting.errors import (
    ElectionNotOpen,
    IneligibleBallot,
    TokenAlreadyIssued,
    TokenRequestRefused,
    WrongDistrictKey,
)
from voting.models import Election, EligibilityGrant, EligibilityKey
from voting.selectors.elections import election_by_slug, election_is_open
from voting.selectors.eligibility import (
    ballot_authorization_is_valid,
    election_keys,
    key_districts,
    key_for_district,
)

KEY_WRAP_INFO = b"civic/election-key-wrap/v1"
KEY_AAD_CONTEXT = b"civic/election-key/v1"
# Unsealed private keys kept per process (see election_private_key): a few elections' keys at once.
UNSEALED_KEYS_MAX = 32


def _election(slug: str) -> Election:
    election = election_by_slug(slug)
    if election is None:
        raise NotFound("no such election")
    return election


def _new_key(election: Election, district: str) -> EligibilityKey:
    private_key = blind_rsa.generate_key(settings.CIVIC_BLIND_RSA_BITS)
    public_key = private_key.public_key()
    row = EligibilityKey(
        election=election,
        district=district,
        variant=blind_rsa.DEFAULT_VARIANT.name,
        key_id=blind_rsa.key_id(public_key),
        public_key_pem=blind_rsa.public_key_pem(public_key),
        private_key_sealed="",
    )
    row.private_key_sealed = seal_private_key(row, private_key)
    return row


def ensure_election_keys(election: Election) -> list[EligibilityKey]:
    """The election's blind-signature keys, all made together on first need (CIVIC_BLIND_RSA_BITS):
    one per configured district for a city-wide election, else one. Once made the set is fixed
    (tokens exist under it), even if CIVIC_DISTRICTS changes later."""
    existing = election_keys(election)
    if existing:
        return existing
    rows = [_new_key(election, district) for district in key_districts(election)]
    try:
        with transaction.atomic():
            EligibilityKey.objects.bulk_create(rows)
    except IntegrityError:  # generated concurrently: use the winner's keys
        return election_keys(election)
    return election_keys(election)


def election_keys_by_slug(slug: str) -> tuple[Election, list[EligibilityKey]]:
    """The public halves a wallet blinds against (the keys are made on first request)."""
    election = _election(slug)
    return election, ensure_election_keys(election)


def _key_aad(row: EligibilityKey) -> bytes:
    return KEY_AAD_CONTEXT + b"\x00" + row.election.slug.encode() + b"\x00" + row.key_id.encode()


def _wrap_secret() -> bytes:
    """Derived from the city key file, so a database dump alone cannot mint tokens."""
    return keys.derived_secret(KEY_WRAP_INFO)


def seal_private_key(row: EligibilityKey, private_key: rsa.RSAPrivateKey) -> str:
    """The key's PKCS#8 DER under AES-256-GCM, bound to its election and key id."""
    der = private_key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    nonce = secrets.token_bytes(12)
    sealed = AESGCM(_wrap_secret()).encrypt(nonce, der, _key_aad(row))
    return base64.b64encode(nonce + sealed).decode("ascii")


def unseal_private_key(row: EligibilityKey) -> rsa.RSAPrivateKey:
    """The election's private key; InvalidTag under any other city key file."""
    raw = base64.b64decode(row.private_key_sealed)
    der = AESGCM(_wrap_secret()).decrypt(raw[:12], raw[12:], _key_aad(row))
    # The key was generated (and so checked) here and sealed under an authenticated cipher
    # bound to its election: the tag proves these are the bytes sealed, so OpenSSL's RSA key
    # check (about 0.1 s for 3,072 bits, measured under load: most of a token's cost) is skipped.
    key = serialization.load_der_private_key(der, password=None, unsafe_skip_rsa_key_validation=True)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise TypeError("election key is not an RSA key")
    return key


class _UnsealedKeys:
    """The process's unsealed eligibility keys, keyed by the key's id and a SHA-256 of everything
    unsealing reads: the sealed bytes, their AAD (election and key id) and the wrapping secret.
    So a re-sealed or replaced key, or another city key file, is unsealed afresh, never served
    stale; an entry of the same key id with other bytes is dropped. At most UNSEALED_KEYS_MAX
    entries, least recently used out first. One lock: threads (gunicorn --threads) share it,
    and a key is unsealed once even when many tokens ask for it at the same moment."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._keys: OrderedDict[tuple[str, bytes], rsa.RSAPrivateKey] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, row: EligibilityKey) -> rsa.RSAPrivateKey:
        fingerprint = hashlib.sha256(
            b"\x00".join((_wrap_secret(), _key_aad(row), row.private_key_sealed.encode("ascii")))
        ).digest()
        entry = (row.key_id, fingerprint)
        with self._lock:
            key = self._keys.get(entry)
            if key is not None:
                self._keys.move_to_end(entry)
                return key
            key = unseal_private_key(row)
            for stale in [e for e in self._keys if e[0] == row.key_id]:
                del self._keys[stale]
            self._keys[entry] = key
            while len(self._keys) > self.limit:
                self._keys.popitem(last=False)
            return key

    def clear(self) -> None:
        with self._lock:
            self._keys.clear()


_unsealed = _UnsealedKeys(UNSEALED_KEYS_MAX)


def election_private_key(row: EligibilityKey) -> rsa.RSAPrivateKey:
    """The key's private half, unsealed once per process: unsealing costs more than the
    signature (loading the PKCS#8 key checks the RSA key, ~0.1 s for 3072 bits)."""
    return _unsealed.get(row)


def issue_eligibility_challenge(
    user: AbstractBaseUser, election_slug: str
) -> presentations.ResidencyChallenge:
    """The challenge the citizen's residency presentation for this election must answer."""
    election = _election(election_slug)
    return presentations.issue_residency_challenge(user, scope=election.slug)


def _blinded_under(keys: list[EligibilityKey], key_id: Any) -> EligibilityKey:
    """The key the wallet says it blinded under (``key_id``); optional for a one-key election."""
    if key_id is None:
        if len(keys) == 1:
            return keys[0]
        raise TokenRequestRefused({"key_id": _("required: this election has one key per district; blind under yours")})
    found = next((row for row in keys if isinstance(key_id, str) and row.key_id == key_id), None)
    if found is None:
        raise TokenRequestRefused({"key_id": _("is not one of this election's eligibility keys")})
    return found


def issue_eligibility_token(
    user: AbstractBaseUser,
    election_slug: str,
    blinded_message_b64: Any,
    presentation: Any,
    key_id: Any = None,
) -> dict[str, str]:
    """Check the citizen's presentation and sign the blinded ballot-key message once, with the
    key of the district the presentation proves.

    Order of checks: the election exists (404), the fields are well-formed and ``key_id`` names
    one of its keys (required when it has several) (422), the election is open (409), no token
    yet (409), the blinded message fits the key (422); then, in one transaction, identity redeems
    the presentation for this election (a current DID, 409; a fresh challenge of this citizen for
    this election, a verifying presentation of the city's valid, unrevoked, unsuspended residency
    credential held by that DID, 403), its district covers the election's and has a key (403),
    the wallet blinded under that district's key (409: else the signature would be under a key the
    wallet cannot unblind), the grant is recorded with the key's district, the message signed,
    the commitment logged. Any refusal rolls the whole step back, the challenge included, so the
    citizen can ask again with the right key.
    """
    election = _election(election_slug)
    blinded = b64url_decode(blinded_message_b64, "blinded_message")
    if not isinstance(presentation, Mapping):
        raise InvalidInput({"presentation": "must be a Verifiable Presentation object"})
    keys = ensure_election_keys(election)
    claimed = _blinded_under(keys, key_id)
    if not election_is_open(election):
        raise ElectionNotOpen("this election is not open")
    if EligibilityGrant.objects.filter(election=election, user=user).exists():
        raise TokenAlreadyIssued("you already received a token for this election")
    private_key = election_private_key(claimed)
    modulus_bytes = (private_key.key_size + 7) // 8
    if len(blinded) != modulus_bytes:
        raise TokenRequestRefused({"blinded_message": f"must be {modulus_bytes} bytes"})

    with transaction.atomic():
        proof = presentations.redeem_residency_presentation(user, presentation, scope=election.slug)
        if election.district and proof.district != election.district:
            raise PresentationRefused({"presentation": f"this election is for residents of {election.district}"})
        key_row = key_for_district(keys, proof.district)
        if key_row is None:
            raise PresentationRefused(
                {"presentation": _("this election has no eligibility key for the district %(d)s") % {"d": proof.district}}
            )
        if key_row.key_id != claimed.key_id:
            raise WrongDistrictKey(
                {
                    "key_id": _(
                        "you blinded under the key of another district; your credential is for "
                        "%(district)s: blind under key %(key_id)s"
                    )
                    % {"district": proof.district, "key_id": key_row.key_id},
                    "expected_key_id": key_row.key_id,
                }
            )
        salt = secrets.token_bytes(32)
        commitment = hashlib.sha256(
            salt + canonicalize({"did": proof.holder_did, "election": election.slug})
        ).hexdigest()
        try:
            with transaction.atomic():
                EligibilityGrant.objects.create(
                    election=election,
                    user=user,
                    did=proof.holder_did,
                    commitment=commitment,
                    commitment_salt=salt.hex(),
                    district=key_row.district,
                )
        except IntegrityError as exc:
            raise TokenAlreadyIssued("you already received a token for this election") from exc
        try:
            blind_signature = blind_rsa.blind_sign(private_key, blinded)
        except blind_rsa.BlindRSAError as exc:
            raise InvalidInput({"blinded_message": str(exc)}) from exc
        ledger.append(
            ledger.CREDENTIALS_LOG,
            "eligibility.token_issued",
            {"commitment": commitment, "election": election.slug},
        )
    return {
        "blind_signature": base64url.encode(blind_signature),
        "key_id": key_row.key_id,
        "variant": key_row.variant,
        "district": key_row.district or None,
    }


def authorize_ballot(election: Election, ballot_public_key: bytes, token: Any) -> None:
    """What the ballot box calls: accept a ballot key only with a valid token for THIS election.

    Nothing here touches a DID or a grant: the check is the RSA-PSS signature alone.
    """
    if not ballot_authorization_is_valid(election, ballot_public_key, token):
        raise IneligibleBallot("the eligibility token is not valid for this ballot key and election")
