"""Write use cases of identity: DIDs, claims, credentials, status lists, eligibility tokens.

Every function that changes state runs in one transaction together with its ledger outbox row
(``ledger.services.append``), so a credential and its public commitment exist together or not
at all. Errors are :class:`IdentityError` subclasses carrying the HTTP status and JSON code the
views answer with.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
import uuid
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from identity import keys, selectors
from identity.core import blind_rsa, credentials, did_key, status_list
from identity.core.jcs import canonicalize
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
from ledger import services as ledger
from voting.models import Election

BIND_CONTEXT = "civic-did-binding/v1"
MAX_NAME = 200
MAX_ADDRESS = 300
MAX_DISTRICT = 100
MAX_REASON = 2000
ALLOWED_DOCUMENT_TYPES = {
    "application/pdf": b"%PDF-",
    "image/png": b"\x89PNG\r\n\x1a\n",
    "image/jpeg": b"\xff\xd8\xff",
}


class IdentityError(Exception):
    """A request identity cannot honour; ``code``/``status`` become the JSON error."""

    code = "invalid"
    status = 400

    def __init__(self, detail: Any) -> None:
        super().__init__(str(detail))
        self.detail = detail


class InvalidInput(IdentityError):
    code = "invalid"


class NotFound(IdentityError):
    code, status = "not_found", 404


class Conflict(IdentityError):
    code, status = "conflict", 409


class DIDRequired(IdentityError):
    code, status = "did_required", 409


class TokenAlreadyIssued(IdentityError):
    code, status = "token_already_issued", 409


class ElectionNotOpen(IdentityError):
    code, status = "election_not_open", 409


class NotEligible(IdentityError):
    code, status = "not_eligible", 403


class IneligibleBallot(IdentityError):
    code, status = "ineligible_ballot", 403


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


def b64url_decode(text: Any, what: str) -> bytes:
    """Strict unpadded (or padded) base64url; anything else is a 400."""
    if not isinstance(text, str) or not text or len(text) > 8192:
        raise InvalidInput(f"{what} must be a base64url string")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput(f"{what} is not valid base64url") from exc


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


# -- challenges ----------------------------------------------------------------------------------


def issue_challenge(
    purpose: Challenge.Purpose, *, user: AbstractBaseUser | None = None, scope: str = ""
) -> Challenge:
    """A fresh 256-bit nonce, valid for CIVIC_CHALLENGE_TTL_SECONDS (default 5 minutes)."""
    ttl = int(_setting("CIVIC_CHALLENGE_TTL_SECONDS", 300))
    return Challenge.objects.create(
        nonce=secrets.token_urlsafe(32),
        purpose=purpose,
        user=user,
        scope=scope,
        expires_at=timezone.now() + timedelta(seconds=ttl),
    )


def consume_challenge(
    nonce: str,
    purpose: Challenge.Purpose,
    *,
    user: AbstractBaseUser | None,
    scope: str | None = None,
) -> bool:
    """Mark the nonce used; False when unknown, expired, someone else's or already used (replay)."""
    rows = selectors.live_challenges(nonce, purpose, user=user, scope=scope)
    return rows.update(used_at=timezone.now()) == 1


def purge_expired_challenges() -> int:
    """Delete challenges that expired more than a day ago (a periodic task calls it)."""
    deleted, _ = Challenge.objects.filter(
        expires_at__lt=timezone.now() - timedelta(days=1)
    ).delete()
    return deleted


# -- DIDs ----------------------------------------------------------------------------------------


def binding_message(did: str, nonce: str, domain: str) -> bytes:
    """What the browser signs to prove it holds the DID's key: context, domain, DID, nonce."""
    return "\n".join([BIND_CONTEXT, domain, did, nonce]).encode("utf-8")


@transaction.atomic
def bind_did(user: AbstractBaseUser, did: Any, nonce: Any, signature_b64: Any) -> CitizenDID:
    """Bind ``did`` to the account after checking its Ed25519 signature over a fresh challenge.

    A citizen who already has a DID rotates: the old one is kept, marked replaced.
    """
    if not isinstance(did, str) or not isinstance(nonce, str):
        raise InvalidInput("did and challenge must be strings")
    try:
        public_key = did_key.public_key_from_did(did)
    except did_key.DIDKeyError as exc:
        raise InvalidInput(f"not an Ed25519 did:key: {exc}") from exc
    signature = b64url_decode(signature_b64, "signature")
    if len(signature) != 64:
        raise InvalidInput("signature must be a 64-byte Ed25519 signature")
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(
            signature, binding_message(did, nonce, keys.verifier_domain())
        )
    except InvalidSignature as exc:
        raise InvalidInput("the signature does not verify with the DID's key") from exc
    if not consume_challenge(nonce, Challenge.Purpose.BIND_DID, user=user):
        raise InvalidInput("the challenge is unknown, expired or already used")
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


# -- residency claims ----------------------------------------------------------------------------


def _clean_text(value: Any, what: str, limit: int) -> str:
    if not isinstance(value, str):
        raise InvalidInput({what: "must be a string"})
    cleaned = " ".join(value.split())
    if not cleaned:
        raise InvalidInput({what: "is required"})
    if len(cleaned) > limit:
        raise InvalidInput({what: f"at most {limit} characters"})
    return cleaned


def check_document(document: UploadedFile) -> str:
    """The document's content type, checked by its first bytes (not the browser's word) and size."""
    limit = int(_setting("CIVIC_CLAIM_DOCUMENT_MAX_BYTES", 2 * 1024 * 1024))
    if document.size is None or document.size > limit:
        raise InvalidInput({"document": f"the file must be at most {limit // 1024} KiB"})
    head = document.read(16)
    document.seek(0)
    for content_type, magic in ALLOWED_DOCUMENT_TYPES.items():
        if head.startswith(magic):
            return content_type
    raise InvalidInput({"document": "only PDF, PNG or JPEG files are accepted"})


@transaction.atomic
def submit_claim(
    user: AbstractBaseUser,
    *,
    legal_name: Any,
    address: Any,
    district: Any,
    document: UploadedFile | None = None,
) -> ResidencyClaim:
    """A pending claim for the account's current DID; one pending claim at a time."""
    fields = {
        "legal_name": _clean_text(legal_name, "legal_name", MAX_NAME),
        "address": _clean_text(address, "address", MAX_ADDRESS),
        "district": _clean_text(district, "district", MAX_DISTRICT),
    }
    districts = selectors.configured_districts()
    if districts and fields["district"] not in districts:
        raise InvalidInput({"district": "unknown district"})
    current = selectors.current_did(user)
    if current is None:
        raise DIDRequired("create and bind a DID in your wallet before claiming residency")
    content_type = check_document(document) if document is not None else ""
    if ResidencyClaim.objects.filter(user=user, state=ResidencyClaim.State.PENDING).exists():
        raise Conflict("you already have a claim waiting for review")
    claim = ResidencyClaim(
        user=user, subject_did=current.did, document_content_type=content_type, **fields
    )
    if document is not None:
        claim.document.save(f"{uuid.uuid4().hex}", document, save=False)
    try:
        with transaction.atomic():
            claim.save()
    except IntegrityError as exc:
        raise Conflict("you already have a claim waiting for review") from exc
    return claim


def _pending_claim_for_update(claim_id: int) -> ResidencyClaim:
    claim = ResidencyClaim.objects.select_for_update().filter(pk=claim_id).first()
    if claim is None:
        raise NotFound("no such claim")
    if claim.state != ResidencyClaim.State.PENDING:
        raise Conflict(f"this claim was already {claim.state}")
    return claim


@transaction.atomic
def reject_claim(claim_id: int, official: AbstractBaseUser, reason: Any) -> ResidencyClaim:
    reason_text = _clean_reason(reason, required=True)
    claim = _pending_claim_for_update(claim_id)
    claim.state = ResidencyClaim.State.REJECTED
    claim.decided_at = timezone.now()
    claim.decided_by = official
    claim.decision_reason = reason_text
    claim.save(update_fields=["state", "decided_at", "decided_by", "decision_reason"])
    Decision.objects.create(
        action=Decision.Action.REJECT, claim=claim, reason=reason_text, decided_by=official
    )
    return claim


def _clean_reason(reason: Any, *, required: bool) -> str:
    if reason is None:
        reason = ""
    if not isinstance(reason, str):
        raise InvalidInput({"reason": "must be a string"})
    reason = reason.strip()
    if required and not reason:
        raise InvalidInput({"reason": "a reason is required"})
    if len(reason) > MAX_REASON:
        raise InvalidInput({"reason": f"at most {MAX_REASON} characters"})
    return reason


@transaction.atomic
def approve_claim(claim_id: int, official: AbstractBaseUser, reason: Any = "") -> IssuedCredential:
    """Approve and issue: a VC 2.0 residency credential signed by the city's did:web key.

    The credential carries only the DID and the district; its status entries point at random,
    unique indexes of the current revocation and suspension lists. The ledger gets a salted
    commitment to the credential, never its content.
    """
    reason_text = _clean_reason(reason, required=False)
    claim = _pending_claim_for_update(claim_id)
    city = keys.load_city_keys()
    now = timezone.now()
    valid_until = now + timedelta(days=int(_setting("CIVIC_CREDENTIAL_VALIDITY_DAYS", 365)))
    revocation_list, revocation_index = _allocate_index(StatusList.Purpose.REVOCATION)
    suspension_list, suspension_index = _allocate_index(StatusList.Purpose.SUSPENSION)
    unsigned = credentials.residency_credential(
        issuer=city.did,
        subject_did=claim.subject_did,
        district=claim.district,
        credential_id=f"urn:uuid:{uuid.uuid4()}",
        valid_from=now,
        valid_until=valid_until,
        credential_status=[
            status_list.status_entry(
                list_credential_url=selectors.status_list_url(revocation_list),
                index=revocation_index,
                purpose="revocation",
            ),
            status_list.status_entry(
                list_credential_url=selectors.status_list_url(suspension_list),
                index=suspension_index,
                purpose="suspension",
            ),
        ],
    )
    signed = credentials.issue(unsigned, city.signing_key, city.verification_method, created=now)
    salt = secrets.token_bytes(32)
    commitment = hashlib.sha256(salt + canonicalize(signed)).hexdigest()
    issued = IssuedCredential.objects.create(
        claim=claim,
        credential_id=signed["id"],
        subject_did=claim.subject_did,
        district=claim.district,
        document=signed,
        issued_at=now,
        valid_until=valid_until,
        revocation_list=revocation_list,
        revocation_index=revocation_index,
        suspension_list=suspension_list,
        suspension_index=suspension_index,
        commitment=commitment,
        commitment_salt=salt.hex(),
    )
    claim.state = ResidencyClaim.State.APPROVED
    claim.decided_at = now
    claim.decided_by = official
    claim.decision_reason = reason_text
    claim.save(update_fields=["state", "decided_at", "decided_by", "decision_reason"])
    Decision.objects.create(
        action=Decision.Action.APPROVE,
        claim=claim,
        credential=issued,
        reason=reason_text,
        decided_by=official,
    )
    ledger.append(ledger.CREDENTIALS_LOG, "credential.issued", {"commitment": commitment})
    return issued


# -- status lists --------------------------------------------------------------------------------


def _list_length() -> int:
    return max(
        int(_setting("CIVIC_STATUS_LIST_LENGTH", status_list.MIN_LENGTH_BITS)),
        status_list.MIN_LENGTH_BITS,
    )


def _sign_list(row: StatusList, bits: status_list.StatusList) -> None:
    """Re-sign the list credential for the row's new version and log its hash on the ledger."""
    city = keys.load_city_keys()
    now = timezone.now()
    unsigned = status_list.status_list_credential(
        credential_id=selectors.status_list_url(row),
        issuer=city.did,
        purpose=row.purpose,  # type: ignore[arg-type]
        status_list=bits,
        valid_from=now,
        ttl_ms=int(_setting("CIVIC_STATUS_LIST_TTL_MS", 5000)),
    )
    row.version += 1
    row.credential = credentials.issue(
        unsigned, city.signing_key, city.verification_method, created=now
    )
    row.save(update_fields=["version", "credential", "updated_at"])
    ledger.append(
        ledger.CREDENTIALS_LOG,
        "status_list.version",
        {
            "list": row.credential["id"],
            "purpose": row.purpose,
            "version": row.version,
            "sha256": hashlib.sha256(canonicalize(row.credential)).hexdigest(),
        },
    )


def _create_list(purpose: str, number: int) -> StatusList:
    length = _list_length()
    row = StatusList(purpose=purpose, number=number, length_bits=length, credential={})
    try:
        with transaction.atomic():
            row.save()
            _sign_list(row, status_list.StatusList(length))
    except IntegrityError:
        row = StatusList.objects.get(purpose=purpose, number=number)
    return row


def _allocate_index(purpose: str) -> tuple[StatusList, int]:
    """A random, unused index in the newest list of ``purpose`` (a new list once half full)."""
    row = StatusList.objects.select_for_update().filter(purpose=purpose).order_by("-number").first()
    if row is None:
        row = _create_list(purpose, 1)
        row = StatusList.objects.select_for_update().get(pk=row.pk)
    field = "revocation" if purpose == StatusList.Purpose.REVOCATION else "suspension"
    taken = set(
        IssuedCredential.objects.filter(**{f"{field}_list": row}).values_list(
            f"{field}_index", flat=True
        )
    )
    if len(taken) * 2 >= row.length_bits:
        row = _create_list(purpose, row.number + 1)
        row = StatusList.objects.select_for_update().get(pk=row.pk)
        taken = set()
    return row, status_list.random_free_index(row.length_bits, taken)


def _set_bit(row_id: int, index: int, value: bool) -> StatusList:
    row = StatusList.objects.select_for_update().get(pk=row_id)
    bits = status_list.StatusList.decode(row.credential["credentialSubject"]["encodedList"])
    bits.set(index, value)
    _sign_list(row, bits)
    return row


@transaction.atomic
def change_credential_status(
    credential_pk: int, official: AbstractBaseUser, action: Any, reason: Any
) -> IssuedCredential:
    """Revoke (final), suspend or reinstate a credential; the signed list is re-published at once."""
    if action not in (Decision.Action.REVOKE, Decision.Action.SUSPEND, Decision.Action.REINSTATE):
        raise InvalidInput({"action": "must be revoke, suspend or reinstate"})
    reason_text = _clean_reason(reason, required=True)
    issued = IssuedCredential.objects.select_for_update().filter(pk=credential_pk).first()
    if issued is None:
        raise NotFound("no such credential")
    if issued.revoked_at is not None:
        raise Conflict("this credential is revoked; revocation is final")
    if action == Decision.Action.REVOKE:
        _set_bit(issued.revocation_list_id, issued.revocation_index, True)
        issued.revoked_at = timezone.now()
        issued.save(update_fields=["revoked_at"])
    elif action == Decision.Action.SUSPEND:
        if issued.suspended:
            raise Conflict("this credential is already suspended")
        _set_bit(issued.suspension_list_id, issued.suspension_index, True)
        issued.suspended = True
        issued.save(update_fields=["suspended"])
    else:
        if not issued.suspended:
            raise Conflict("this credential is not suspended")
        _set_bit(issued.suspension_list_id, issued.suspension_index, False)
        issued.suspended = False
        issued.save(update_fields=["suspended"])
    Decision.objects.create(
        action=action,
        claim_id=issued.claim_id,
        credential=issued,
        reason=reason_text,
        decided_by=official,
    )
    return issued


# -- eligibility tokens (RFC 9474) ---------------------------------------------------------------


def ensure_election_key(election: Election) -> ElectionSigningKey:
    """The election's blind-signature key, generated on first need (3072-bit RSA by default)."""
    existing = ElectionSigningKey.objects.filter(election=election).first()
    if existing is not None:
        return existing
    bits = int(_setting("CIVIC_BLIND_RSA_BITS", blind_rsa.DEFAULT_MODULUS_BITS))
    private_key = blind_rsa.generate_key(bits)
    public_key = private_key.public_key()
    row = ElectionSigningKey(
        election=election,
        variant=blind_rsa.DEFAULT_VARIANT.name,
        key_id=blind_rsa.key_id(public_key),
        public_key_pem=blind_rsa.public_key_pem(public_key),
        private_key_sealed="",
    )
    row.private_key_sealed = _seal_private_key(row, private_key)
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:  # generated concurrently: use the winner's key
        return ElectionSigningKey.objects.get(election=election)
    return row


def _key_aad(row: ElectionSigningKey) -> bytes:
    return b"civic/election-key/v1\x00" + row.election.slug.encode() + b"\x00" + row.key_id.encode()


def _seal_private_key(row: ElectionSigningKey, private_key: rsa.RSAPrivateKey) -> str:
    """The key's PKCS#8 DER under AES-256-GCM: the database alone cannot mint tokens."""
    der = private_key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    nonce = secrets.token_bytes(12)
    sealed = AESGCM(keys.election_key_wrap_secret()).encrypt(nonce, der, _key_aad(row))
    return base64.b64encode(nonce + sealed).decode("ascii")


def _unseal_private_key(row: ElectionSigningKey) -> rsa.RSAPrivateKey:
    raw = base64.b64decode(row.private_key_sealed)
    der = AESGCM(keys.election_key_wrap_secret()).decrypt(raw[:12], raw[12:], _key_aad(row))
    key = serialization.load_der_private_key(der, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise TypeError("election key is not an RSA key")
    return key


def issue_eligibility_token(
    user: AbstractBaseUser, election_slug: str, blinded_message_b64: Any, presentation: Any
) -> dict[str, str]:
    """Check the citizen's presentation and sign the blinded ballot-key message once.

    Order of checks: election exists and is open, no token yet (409), the presentation verifies
    against a fresh challenge of this citizen for this election, its holder is the citizen's
    current DID, its residency credential is the city's, valid, not revoked or suspended, and
    covers the election's district. Only then is the blinded message signed.
    """
    election = Election.objects.filter(slug=election_slug).first()
    if election is None:
        raise NotFound("no such election")
    blinded = b64url_decode(blinded_message_b64, "blinded_message")
    if not isinstance(presentation, Mapping):
        raise InvalidInput({"presentation": "must be a Verifiable Presentation object"})
    if not selectors.election_is_open(election):
        raise ElectionNotOpen("this election is not open")
    if EligibilityGrant.objects.filter(election=election, user=user).exists():
        raise TokenAlreadyIssued("you already received a token for this election")
    current = selectors.current_did(user)
    if current is None:
        raise DIDRequired("bind a DID in your wallet first")
    key_row = ensure_election_key(election)
    private_key = _unseal_private_key(key_row)
    modulus_bytes = (private_key.key_size + 7) // 8
    if len(blinded) != modulus_bytes:
        raise InvalidInput({"blinded_message": f"must be {modulus_bytes} bytes"})

    proof = presentation.get("proof")
    nonce = proof.get("challenge") if isinstance(proof, Mapping) else None
    if not isinstance(nonce, str) or not selectors.challenge_is_live(
        nonce, Challenge.Purpose.ELIGIBILITY, user=user, scope=election.slug
    ):
        raise NotEligible({"presentation": "the challenge is unknown, expired or already used"})
    result = selectors.verify_presentation(
        presentation, challenge=nonce, domain=keys.verifier_domain()
    )
    if not result.verified:
        raise NotEligible({"presentation": [p.as_dict() for p in selectors.all_problems(result)]})
    holder = credentials.entity_id(presentation.get("holder"))
    if holder != current.did:
        raise NotEligible({"presentation": "the holder is not your current DID"})
    residency = selectors.residency_district(presentation)
    if residency is None:
        raise NotEligible(
            {"presentation": "the presentation holds no residency credential of this city"}
        )
    if election.district and residency != election.district:
        raise NotEligible(
            {"presentation": f"this election is for residents of {election.district}"}
        )

    with transaction.atomic():
        if not consume_challenge(
            nonce, Challenge.Purpose.ELIGIBILITY, user=user, scope=election.slug
        ):
            raise NotEligible({"presentation": "the challenge was already used"})
        salt = secrets.token_bytes(32)
        commitment = hashlib.sha256(
            salt + canonicalize({"did": current.did, "election": election.slug})
        ).hexdigest()
        try:
            with transaction.atomic():
                EligibilityGrant.objects.create(
                    election=election,
                    user=user,
                    did=current.did,
                    commitment=commitment,
                    commitment_salt=salt.hex(),
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
        "blind_signature": b64url(blind_signature),
        "key_id": key_row.key_id,
        "variant": key_row.variant,
    }


def authorize_ballot(election: Election, ballot_public_key: bytes, token: Any) -> None:
    """What the ballot box calls: accept a ballot key only with a valid token for THIS election.

    Nothing here touches a DID or a grant: the check is the RSA-PSS signature alone.
    """
    if not selectors.ballot_authorization_is_valid(election, ballot_public_key, token):
        raise IneligibleBallot(
            "the eligibility token is not valid for this ballot key and election"
        )
