"""JSON shapes of identity records for the API (output only; input is checked in services)."""

from __future__ import annotations

from typing import Any

from identity.models import CitizenDID, IssuedCredential, ResidencyClaim


def did_dict(row: CitizenDID) -> dict[str, Any]:
    return {
        "did": row.did,
        "bound_at": row.bound_at.isoformat(),
        "replaced_at": row.replaced_at.isoformat() if row.replaced_at else None,
    }


def claim_dict(claim: ResidencyClaim, *, for_official: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": claim.pk,
        "state": claim.state,
        "subject_did": claim.subject_did,
        "district": claim.district,
        "submitted_at": claim.submitted_at.isoformat(),
        "decided_at": claim.decided_at.isoformat() if claim.decided_at else None,
        "decision_reason": claim.decision_reason,
    }
    if for_official:
        body.update(
            legal_name=claim.legal_name,
            address=claim.address,
            has_document=bool(claim.document),
            username=claim.user.get_username(),
            decided_by=claim.decided_by.get_username() if claim.decided_by else None,
        )
    return body


def credential_summary(issued: IssuedCredential) -> dict[str, Any]:
    return {
        "id": issued.pk,
        "credential_id": issued.credential_id,
        "subject_did": issued.subject_did,
        "district": issued.district,
        "status": issued.status,
        "issued_at": issued.issued_at.isoformat(),
        "valid_until": issued.valid_until.isoformat(),
    }
