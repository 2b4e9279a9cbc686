"""Read-mostly admin views of identity records: decisions are made in the officials' pages,
where every one is recorded with its reason, so the admin never edits credentials or lists."""

from __future__ import annotations

from django.contrib import admin

from civic.admin import ReadOnlyAdmin
from identity.models import (
    CitizenDID,
    Decision,
    IssuedCredential,
    ResidencyClaim,
    StatusList,
)


@admin.register(CitizenDID)
class CitizenDIDAdmin(ReadOnlyAdmin):
    list_display = ("did", "user", "bound_at", "replaced_at")
    search_fields = ("did", "user__username")


@admin.register(ResidencyClaim)
class ResidencyClaimAdmin(ReadOnlyAdmin):
    list_display = ("pk", "user", "district", "state", "submitted_at", "decided_by")
    list_filter = ("state", "district")
    search_fields = ("user__username", "legal_name", "subject_did")


@admin.register(IssuedCredential)
class IssuedCredentialAdmin(ReadOnlyAdmin):
    list_display = (
        "credential_id",
        "subject_did",
        "district",
        "issued_at",
        "revoked_at",
        "suspended",
    )
    list_filter = ("district", "suspended")
    search_fields = ("credential_id", "subject_did")


@admin.register(Decision)
class DecisionAdmin(ReadOnlyAdmin):
    list_display = ("action", "claim", "credential", "decided_by", "decided_at")
    list_filter = ("action",)


@admin.register(StatusList)
class StatusListAdmin(ReadOnlyAdmin):
    list_display = ("purpose", "number", "length_bits", "version", "updated_at")
