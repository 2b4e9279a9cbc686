"""Residency claims: a citizen submits one (for the current DID), an official rejects or approves.

Approval issues a credential, so it lives in :mod:`identity.services.credentials`; the helpers
both share (a pending claim under lock, a clean reason) live here.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from identity.errors import Conflict, DIDRequired, InvalidInput, NotFound
from identity.models import Decision, ResidencyClaim
from identity.selectors import claims as claim_selectors
from identity.selectors import dids as did_selectors

MAX_NAME = 200
MAX_ADDRESS = 300
MAX_DISTRICT = 100
MAX_REASON = 2000
ALLOWED_DOCUMENT_TYPES = {
    "application/pdf": b"%PDF-",
    "image/png": b"\x89PNG\r\n\x1a\n",
    "image/jpeg": b"\xff\xd8\xff",
}


def _clean_text(value: Any, what: str, limit: int) -> str:
    if not isinstance(value, str):
        raise InvalidInput({what: "must be a string"})
    cleaned = " ".join(value.split())
    if not cleaned:
        raise InvalidInput({what: "is required"})
    if len(cleaned) > limit:
        raise InvalidInput({what: f"at most {limit} characters"})
    return cleaned


def clean_reason(reason: Any, *, required: bool) -> str:
    """An official's reason, stripped and bounded; required when rejecting or changing status."""
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


def check_document(document: UploadedFile) -> str:
    """The document's content type, checked by its first bytes (not the browser's word) and size."""
    limit = settings.CIVIC_CLAIM_DOCUMENT_MAX_BYTES
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
    districts = claim_selectors.configured_districts()
    if districts and fields["district"] not in districts:
        raise InvalidInput({"district": "unknown district"})
    current = did_selectors.current_did(user)
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


def pending_claim_for_update(claim_id: int) -> ResidencyClaim:
    """The claim, locked, if it still waits for a decision (404 / 409 otherwise)."""
    claim = ResidencyClaim.objects.select_for_update().filter(pk=claim_id).first()
    if claim is None:
        raise NotFound("no such claim")
    if claim.state != ResidencyClaim.State.PENDING:
        raise Conflict(f"this claim was already {claim.state}")
    return claim


@transaction.atomic
def reject_claim(claim_id: int, official: AbstractBaseUser, reason: Any) -> ResidencyClaim:
    """Reject a pending claim with the reason the citizen will read; the decision is recorded."""
    reason_text = clean_reason(reason, required=True)
    claim = pending_claim_for_update(claim_id)
    claim.state = ResidencyClaim.State.REJECTED
    claim.decided_at = timezone.now()
    claim.decided_by = official
    claim.decision_reason = reason_text
    claim.save(update_fields=["state", "decided_at", "decided_by", "decision_reason"])
    Decision.objects.create(
        action=Decision.Action.REJECT, claim=claim, reason=reason_text, decided_by=official
    )
    return claim
