"""Residency credentials: issuing one on approval, and revoking, suspending or reinstating it."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from identity import keys
from identity.core import credentials, status_list
from identity.core.jcs import canonicalize
from identity.errors import Conflict, InvalidInput, NotFound
from identity.models import Decision, IssuedCredential, ResidencyClaim, StatusList
from identity.selectors.status_lists import status_list_url
from identity.services.claims import clean_reason, pending_claim_for_update
from identity.services.status_lists import allocate_index, set_bit
from ledger import services as ledger


@transaction.atomic
def approve_claim(claim_id: int, official: AbstractBaseUser, reason: Any = "") -> IssuedCredential:
    """Approve and issue: a VC 2.0 residency credential signed by the city's did:web key.

    The credential carries only the DID and the district; its status entries point at random,
    unique indexes of the current revocation and suspension lists. The ledger gets a salted
    commitment to the credential, never its content.
    """
    reason_text = clean_reason(reason, required=False)
    claim = pending_claim_for_update(claim_id)
    city = keys.load_city_keys()
    now = timezone.now()
    valid_until = now + timedelta(days=settings.CIVIC_CREDENTIAL_VALIDITY_DAYS)
    revocation_list, revocation_index = allocate_index(StatusList.Purpose.REVOCATION)
    suspension_list, suspension_index = allocate_index(StatusList.Purpose.SUSPENSION)
    unsigned = credentials.residency_credential(
        issuer=city.did,
        subject_did=claim.subject_did,
        district=claim.district,
        credential_id=f"urn:uuid:{uuid.uuid4()}",
        valid_from=now,
        valid_until=valid_until,
        credential_status=[
            status_list.status_entry(
                list_credential_url=status_list_url(revocation_list),
                index=revocation_index,
                purpose="revocation",
            ),
            status_list.status_entry(
                list_credential_url=status_list_url(suspension_list),
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


@transaction.atomic
def change_credential_status(
    credential_pk: int, official: AbstractBaseUser, action: Any, reason: Any
) -> IssuedCredential:
    """Revoke (final), suspend or reinstate a credential; the signed list is re-published at once."""
    if action not in (Decision.Action.REVOKE, Decision.Action.SUSPEND, Decision.Action.REINSTATE):
        raise InvalidInput({"action": "must be revoke, suspend or reinstate"})
    reason_text = clean_reason(reason, required=True)
    issued = IssuedCredential.objects.select_for_update().filter(pk=credential_pk).first()
    if issued is None:
        raise NotFound("no such credential")
    if issued.revoked_at is not None:
        raise Conflict("this credential is revoked; revocation is final")
    if action == Decision.Action.REVOKE:
        set_bit(issued.revocation_list_id, issued.revocation_index, True)
        issued.revoked_at = timezone.now()
        issued.save(update_fields=["revoked_at"])
    elif action == Decision.Action.SUSPEND:
        if issued.suspended:
            raise Conflict("this credential is already suspended")
        set_bit(issued.suspension_list_id, issued.suspension_index, True)
        issued.suspended = True
        issued.save(update_fields=["suspended"])
    else:
        if not issued.suspended:
            raise Conflict("this credential is not suspended")
        set_bit(issued.suspension_list_id, issued.suspension_index, False)
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
