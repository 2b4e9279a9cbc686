"""Elections: the one record every voting and eligibility feature hangs off."""

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
