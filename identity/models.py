"""Identity state: bound DIDs, challenges, residency claims, credentials, status lists.

Rows only store state; every rule lives in ``identity.services`` / ``identity.selectors``.
Identity knows nothing of elections: eligibility keys and grants belong to ``voting``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Challenge(models.Model):
    """A single-use random nonce: DID binding, residency presentations (for a caller's opaque
    ``scope``), VC-API presentations.

    ``used_at`` is set by one conditional UPDATE, so two requests racing with the same nonce
    cannot both succeed (replay refused).
    """

    class Purpose(models.TextChoices):
        BIND_DID = "bind_did", _("Bind a DID")
        ELIGIBILITY = "eligibility", _("Eligibility token")
        PRESENTATION = "presentation", _("Presentation")

    nonce = models.CharField(max_length=64, unique=True)
    purpose = models.CharField(max_length=16, choices=Purpose.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    scope = models.CharField(max_length=100, blank=True, help_text=_("what the caller binds the challenge to (opaque to identity)"))
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["expires_at"], name="identity_challenge_expiry")]


class CitizenDID(models.Model):
    """A did:key an account proved it controls. One current DID per account; old ones replaced."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="dids"
    )
    did = models.CharField(max_length=128, unique=True)
    bound_at = models.DateTimeField(auto_now_add=True)
    replaced_at = models.DateTimeField(null=True, blank=True)
    replaced_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-bound_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(replaced_at__isnull=True),
                name="identity_one_current_did",
            )
        ]

    def __str__(self) -> str:
        return self.did


class ResidencyClaim(models.Model):
    """What a citizen asks the city to certify. Name and address stay here, never in a credential."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pending review")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="residency_claims"
    )
    subject_did = models.CharField(max_length=128)
    legal_name = models.CharField(max_length=200)
    address = models.CharField(max_length=300)
    district = models.CharField(max_length=100)
    document = models.FileField(upload_to="identity/claims/%Y/%m/", blank=True)
    document_content_type = models.CharField(max_length=64, blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    submitted_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decision_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["submitted_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=Q(state="pending"), name="identity_one_pending_claim"
            )
        ]


class StatusList(models.Model):
    """One Bitstring Status List (one purpose) and its current signed list credential."""

    class Purpose(models.TextChoices):
        REVOCATION = "revocation", _("Revocation")
        SUSPENSION = "suspension", _("Suspension")

    purpose = models.CharField(max_length=16, choices=Purpose.choices)
    number = models.PositiveIntegerField()
    length_bits = models.PositiveIntegerField()
    version = models.PositiveIntegerField(default=0)
    credential = models.JSONField(
        help_text=_("The signed BitstringStatusListCredential as served.")
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["purpose", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["purpose", "number"], name="identity_status_list_number"
            )
        ]

    def __str__(self) -> str:
        return f"{self.purpose}/{self.number}"


class IssuedCredential(models.Model):
    """A residency credential the city signed, and where its status bits live."""

    claim = models.OneToOneField(
        ResidencyClaim, on_delete=models.PROTECT, related_name="credential"
    )
    credential_id = models.CharField(max_length=100, unique=True)
    subject_did = models.CharField(max_length=128, db_index=True)
    district = models.CharField(max_length=100)
    document = models.JSONField(help_text=_("The signed credential exactly as issued."))
    issued_at = models.DateTimeField()
    valid_until = models.DateTimeField()
    revocation_list = models.ForeignKey(StatusList, on_delete=models.PROTECT, related_name="+")
    revocation_index = models.PositiveIntegerField()
    suspension_list = models.ForeignKey(StatusList, on_delete=models.PROTECT, related_name="+")
    suspension_index = models.PositiveIntegerField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    suspended = models.BooleanField(default=False)
    commitment = models.CharField(
        max_length=64, help_text=_("SHA-256(salt || JCS(credential)), on the ledger.")
    )
    commitment_salt = models.CharField(max_length=64)

    class Meta:
        ordering = ["-issued_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["revocation_list", "revocation_index"],
                name="identity_unique_revocation_index",
            ),
            models.UniqueConstraint(
                fields=["suspension_list", "suspension_index"],
                name="identity_unique_suspension_index",
            ),
        ]

    @property
    def status(self) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.suspended:
            return "suspended"
        return "active"


class Decision(models.Model):
    """Every official decision on a claim or credential, with who made it and why (append-only)."""

    class Action(models.TextChoices):
        APPROVE = "approve", _("Approved")
        REJECT = "reject", _("Rejected")
        REVOKE = "revoke", _("Revoked")
        SUSPEND = "suspend", _("Suspended")
        REINSTATE = "reinstate", _("Reinstated")

    action = models.CharField(max_length=16, choices=Action.choices)
    claim = models.ForeignKey(ResidencyClaim, on_delete=models.PROTECT, related_name="decisions")
    credential = models.ForeignKey(
        IssuedCredential, null=True, blank=True, on_delete=models.PROTECT, related_name="decisions"
    )
    reason = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-decided_at", "-id"]
