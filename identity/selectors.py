"""Read use cases of identity: DID resolution, verification, queues, status lists, ballot checks."""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from identity import keys, web_resolver
from identity.core import blind_rsa, credentials, did_key, did_web, status_list
from identity.core.data_integrity import Problem, ResolutionError, resolve_did, static_resolver
from identity.models import (
    Challenge,
    CitizenDID,
    Decision,
    ElectionSigningKey,
    EligibilityGrant,
    IssuedCredential,
    ResidencyClaim,
    StatusList,
)
from voting.models import Election

TOKEN_CONTEXT = b"civic/eligibility-token/v1"
REPLAYED_CHALLENGE = "INVALID_CHALLENGE_ERROR"
RESOLUTION_CONTEXT = "https://w3id.org/did-resolution/v1"


# -- DIDs ----------------------------------------------------------------------------------------


def current_did(user: AbstractBaseUser) -> CitizenDID | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return CitizenDID.objects.filter(user=user, replaced_at__isnull=True).first()


def did_history(user: AbstractBaseUser) -> QuerySet[CitizenDID]:
    return CitizenDID.objects.filter(user=user)


def known_documents() -> dict[str, Mapping[str, Any]]:
    """DID documents this server can vouch for without a network call: the city's own did:web."""
    keys_ = keys.load_city_keys()
    return {keys_.did: keys.city_did_document()}


def resolver() -> Any:
    return static_resolver(known_documents())


def normalise_did_path(raw: str) -> str:
    """The DID from a resolution URL path.

    Web servers decode ``%3A`` before Django sees the path, which turns the city's
    ``did:web:host%3A8000`` into ``did:web:host:8000`` (a different DID). When the decoded forms
    match the city's DID, the city's DID is meant.
    """
    city = keys.city_did()
    if raw != city and unquote(raw) == unquote(city):
        return city
    return raw


PUBLIC_KEY_FORMATS = ("Multikey", "Ed25519VerificationKey2018", "JsonWebKey2020")


def resolve(did: str, options: Mapping[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    """(HTTP status, W3C DID resolution result) for did:key and the city's did:web.

    did:key honours the method's resolution options ``publicKeyFormat`` and
    ``enableEncryptionKeyDerivation``.
    """
    options = options or {}
    try:
        key_format = options.get("publicKeyFormat", "Multikey")
        if key_format not in PUBLIC_KEY_FORMATS:
            raise ResolutionError(
                "unsupportedPublicKeyType", f"publicKeyFormat {key_format!r} is not supported"
            )
        if not did.startswith("did:") or len(did) > 512:
            raise ResolutionError("invalidDid", "not a DID")
        method = did.split(":", 2)[1]
        if method not in ("key", "web"):
            raise ResolutionError(
                "methodNotSupported", f"the DID method {method!r} is not supported here"
            )
        if method == "web":
            try:
                did_web.did_to_url(did)
            except did_web.DIDWebError as exc:
                raise ResolutionError("invalidDid", str(exc)) from exc
        known = known_documents()
        if method == "web" and did not in known and web_resolver.remote_resolution_enabled():
            known[did] = web_resolver.fetch_document(did)
        document = resolve_did(did, known)
        if did.startswith(did_key.PREFIX):
            document = did_key.did_document(
                did,
                representation=key_format,  # type: ignore[arg-type]
                key_agreement=options.get("enableEncryptionKeyDerivation") == "true",
            )
    except ResolutionError as exc:
        status = {
            "invalidDid": 400,
            "notFound": 404,
            "methodNotSupported": 501,
            "invalidDidDocument": 502,  # the other host served something that is not its document
        }.get(exc.code, 400)
        return status, {
            "@context": RESOLUTION_CONTEXT,
            "didDocument": None,
            "didResolutionMetadata": {"error": exc.code, "errorMessage": str(exc)},
            "didDocumentMetadata": {},
            "error": exc.code,
            "detail": str(exc),
            "status": status,
        }
    metadata: dict[str, Any] = {}
    if did.startswith(did_key.PREFIX):
        bound = CitizenDID.objects.filter(did=did).select_related("replaced_by").first()
        if bound is not None and bound.replaced_by is not None:
            # did:key cannot be deactivated, but the city can say this binding was superseded.
            metadata["nextVersionId"] = bound.replaced_by.did
    return 200, {
        "@context": RESOLUTION_CONTEXT,
        "didDocument": document,
        "didResolutionMetadata": {
            "contentType": "application/did+json",
            "did": {"method": did.split(":")[1]},
        },
        "didDocumentMetadata": metadata,
    }


# -- challenges ----------------------------------------------------------------------------------


def live_challenges(
    nonce: str,
    purpose: Challenge.Purpose,
    *,
    user: AbstractBaseUser | None,
    scope: str | None = None,
) -> QuerySet[Challenge]:
    """The unused, unexpired challenge rows this nonce may redeem for this user (and scope).

    Checking and consuming a challenge must agree on what "live" means, so both start here.
    A malformed nonce matches nothing.
    """
    if not isinstance(nonce, str) or not nonce or len(nonce) > 64:
        return Challenge.objects.none()
    rows = Challenge.objects.filter(
        nonce=nonce, purpose=purpose, used_at__isnull=True, expires_at__gt=timezone.now()
    )
    rows = rows.filter(user=user) if user is not None else rows.filter(user__isnull=True)
    if scope is not None:
        rows = rows.filter(scope=scope)
    return rows


def challenge_is_live(
    nonce: str,
    purpose: Challenge.Purpose,
    *,
    user: AbstractBaseUser | None,
    scope: str | None = None,
) -> bool:
    """Whether the nonce could still be redeemed; only ``services.consume_challenge`` uses it up."""
    return live_challenges(nonce, purpose, user=user, scope=scope).exists()


def presentation_challenge(nonce: str) -> Challenge | None:
    """An unused, unexpired VC-API presentation challenge."""
    if not isinstance(nonce, str) or not nonce or len(nonce) > 64:
        return None
    return Challenge.objects.filter(
        nonce=nonce,
        purpose=Challenge.Purpose.PRESENTATION,
        used_at__isnull=True,
        expires_at__gt=timezone.now(),
    ).first()


# -- status lists and verification ---------------------------------------------------------------


def status_list_url(row: StatusList) -> str:
    path = reverse("identity:status-list", kwargs={"purpose": row.purpose, "number": row.number})
    return keys.public_base_url() + path


def status_list_by_url(url: str) -> Mapping[str, Any] | None:
    """The signed list credential for one of this city's status list URLs (no network call)."""
    prefix = keys.public_base_url()
    if not isinstance(url, str) or not url.startswith(prefix):
        return None
    parts = url[len(prefix) :].strip("/").split("/")
    if len(parts) != 4 or parts[:2] != ["identity", "status"] or not parts[3].isdigit():
        return None
    row = StatusList.objects.filter(purpose=parts[2], number=int(parts[3])).first()
    return row.credential if row is not None and row.credential else None


def status_list_row(purpose: str, number: int) -> StatusList | None:
    return StatusList.objects.filter(purpose=purpose, number=number).first()


def status_lists() -> QuerySet[StatusList]:
    return StatusList.objects.all()


def verify_credential(document: Any) -> credentials.VerificationResult:
    """Proof, issuer (the city), validity window and live status, all from this server's state."""
    resolve_ = resolver()
    trusted = {keys.city_did()}
    checker = status_list.make_status_checker(status_list_by_url, resolve_, trusted_issuers=trusted)
    return credentials.verify_credential(
        document, resolve_, trusted_issuers=trusted, status_checker=checker
    )


def verify_presentation(vp: Any, *, challenge: str, domain: str) -> credentials.VerificationResult:
    resolve_ = resolver()
    trusted = {keys.city_did()}
    checker = status_list.make_status_checker(status_list_by_url, resolve_, trusted_issuers=trusted)
    return credentials.verify_presentation(
        vp,
        resolve_,
        challenge=challenge,
        domain=domain,
        trusted_issuers=trusted,
        status_checker=checker,
    )


def all_problems(result: credentials.VerificationResult) -> list[Problem]:
    """The presentation's problems followed by those of each embedded credential."""
    problems = list(result.problems)
    for position, inner in enumerate(result.credentials):
        problems += [
            Problem(p.code, f"verifiableCredential[{position}]: {p.message}")
            for p in inner.problems
        ]
    return problems


def verification_body(result: credentials.VerificationResult) -> dict[str, Any]:
    """VC-API style answer: verified, the checks made, every problem, warnings."""
    body: dict[str, Any] = {
        "verified": result.verified,
        "checks": list(result.checks),
        "problems": [p.as_dict() for p in all_problems(result)],
        "warnings": [w.as_dict() for w in result.warnings],
    }
    if result.credentials:
        body["credentialResults"] = [
            {
                "verified": inner.verified,
                "checks": list(inner.checks),
                "problems": [p.as_dict() for p in inner.problems],
            }
            for inner in result.credentials
        ]
    return body


def residency_district(vp: Mapping[str, Any]) -> str | None:
    """The district of the first city residency credential in an (already verified) presentation."""
    embedded = vp.get("verifiableCredential")
    for credential in embedded if isinstance(embedded, list) else [embedded]:
        if not isinstance(credential, Mapping):
            continue
        types = credential.get("type")
        if credentials.RESIDENCY_CREDENTIAL_TYPE not in (
            types if isinstance(types, list) else [types]
        ):
            continue
        if credentials.entity_id(credential.get("issuer")) != keys.city_did():
            continue
        subject = credential.get("credentialSubject")
        if isinstance(subject, Mapping) and isinstance(subject.get("district"), str):
            return subject["district"]
    return None


# -- claims and credentials ----------------------------------------------------------------------


def configured_districts() -> list[str]:
    """CIVIC_DISTRICTS (a list) when the city restricts districts; empty means free text."""
    return list(getattr(settings, "CIVIC_DISTRICTS", []) or [])


def pending_claims() -> QuerySet[ResidencyClaim]:
    return ResidencyClaim.objects.filter(state=ResidencyClaim.State.PENDING).select_related("user")


def claims_of(user: AbstractBaseUser) -> QuerySet[ResidencyClaim]:
    return ResidencyClaim.objects.filter(user=user).order_by("-submitted_at")


def claim(claim_id: int) -> ResidencyClaim | None:
    return ResidencyClaim.objects.filter(pk=claim_id).select_related("user", "decided_by").first()


def credentials_of(user: AbstractBaseUser) -> QuerySet[IssuedCredential]:
    return IssuedCredential.objects.filter(claim__user=user)


def credential_of(user: AbstractBaseUser, credential_pk: int) -> IssuedCredential | None:
    return credentials_of(user).filter(pk=credential_pk).first()


def all_credentials() -> QuerySet[IssuedCredential]:
    return IssuedCredential.objects.select_related("claim", "claim__user")


def credential(credential_pk: int) -> IssuedCredential | None:
    return all_credentials().filter(pk=credential_pk).first()


def decisions_for(claim_: ResidencyClaim) -> QuerySet[Decision]:
    return claim_.decisions.select_related("decided_by")


# -- elections and eligibility -------------------------------------------------------------------


def election_is_open(election: Election) -> bool:
    now = timezone.now()
    return (
        election.state == Election.State.OPEN
        and (election.opens_at is None or election.opens_at <= now)
        and (election.closes_at is None or now < election.closes_at)
    )


def election_key(election: Election) -> ElectionSigningKey | None:
    return ElectionSigningKey.objects.filter(election=election).first()


def has_token(user: AbstractBaseUser, election: Election) -> bool:
    return EligibilityGrant.objects.filter(user=user, election=election).exists()


def token_message(election_slug: str, ballot_public_key: bytes) -> bytes:
    """The 32 bytes the voter gets blindly signed: binds the token to one election and one key."""
    return hashlib.sha256(
        TOKEN_CONTEXT + b"\x00" + election_slug.encode("utf-8") + b"\x00" + bytes(ballot_public_key)
    ).digest()


def _b64url(text: Any) -> bytes | None:
    if not isinstance(text, str) or not text or len(text) > 2048:
        return None
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None


def ballot_authorization_is_valid(election: Election, ballot_public_key: bytes, token: Any) -> bool:
    """True when ``token`` is a finalized RFC 9474 signature by THIS election's key over the
    ballot key's token message. Looks at nothing that could link the ballot to a DID.

    ``token`` = ``{"key_id": hex, "prefix": base64url(32 bytes), "signature": base64url}``.
    """
    if (
        not isinstance(ballot_public_key, bytes | bytearray)
        or not 16 <= len(ballot_public_key) <= 1024
    ):
        return False
    if not isinstance(token, Mapping):
        return False
    key_row = election_key(election)
    if key_row is None or token.get("key_id") != key_row.key_id:
        return False
    prefix = _b64url(token.get("prefix"))
    signature = _b64url(token.get("signature"))
    if prefix is None or signature is None or len(prefix) != blind_rsa.PREFIX_LENGTH:
        return False
    public_key: rsa.RSAPublicKey = blind_rsa.public_key_from_pem(key_row.public_key_pem)
    message = prefix + token_message(election.slug, bytes(ballot_public_key))
    return blind_rsa.verify(public_key, message, signature, blind_rsa.VARIANTS[key_row.variant])
