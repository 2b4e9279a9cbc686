"""Elections, and their eligibility: the blind-signature key and the one grant per citizen."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Election(models.Model):
    """A ballot opened by the city for the residents of one district (or the whole city)."""

    class State(models.TextChoices):
        DRAFT = "draft", "Draft"
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"
        TALLIED = "tallied", "Tallied"

    slug = models.SlugField(max_length=64, unique=True)
    title = models.CharField(max_length=200)
    district = models.CharField(
        max_length=100, blank=True, help_text="Residents of this district may vote; blank means the whole city."
    )
    state = models.CharField(max_length=16, choices=State.choices, default=State.DRAFT)
    opens_at = models.DateTimeField(null=True, blank=True)
    closes_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    # The public cryptographic context the booth encrypts under (docs/protocol.md):
    # {manifest, joint_key, trustees, threshold, trustee_commitments, extended_hash}. Set once,
    # from a verified key ceremony, before the election opens.
    context = models.JSONField(null=True, blank=True)
    ceremony_transcript = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title


class EligibilityKey(models.Model):
    """An election's RSA blind-signature key (RFC 9474, RSABSSA-SHA384-PSS-Randomized)."""

    election = models.OneToOneField(Election, on_delete=models.CASCADE, related_name="eligibility_key")
    variant = models.CharField(max_length=64)
    key_id = models.CharField(max_length=64, unique=True)
    public_key_pem = models.TextField()
    private_key_sealed = models.TextField(
        help_text="PKCS#8 DER sealed with AES-256-GCM under a key from the city key file (base64)."
    )
    created_at = models.DateTimeField(auto_now_add=True)


class EligibilityGrant(models.Model):
    """Only the fact that this citizen (DID) received a token for this election: nothing about it."""

    election = models.ForeignKey(Election, on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    did = models.CharField(max_length=128)
    issued_at = models.DateTimeField(auto_now_add=True)
    commitment = models.CharField(max_length=64)
    commitment_salt = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["election", "user"], name="voting_one_token_per_citizen"),
            models.UniqueConstraint(fields=["election", "did"], name="voting_one_token_per_did"),
        ]
