"""Residency claims: the configured districts, the review queue, a citizen's claims, decisions."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from identity.errors import InvalidInput
from identity.models import Decision, ResidencyClaim

MAX_CLAIMS_LISTED = 500


def configured_districts() -> list[str]:
    """CIVIC_DISTRICTS (a list) when the city restricts districts; empty means free text."""
    return list(settings.CIVIC_DISTRICTS)


def pending_claims() -> QuerySet[ResidencyClaim]:
    return ResidencyClaim.objects.filter(state=ResidencyClaim.State.PENDING).select_related("user")


def claims_in_state(state: str) -> QuerySet[ResidencyClaim]:
    """The officials' API queue: claims in one state (a 400 for an unknown state), at most 500."""
    if state not in ResidencyClaim.State.values:
        raise InvalidInput({"state": f"one of {', '.join(ResidencyClaim.State.values)}"})
    return ResidencyClaim.objects.filter(state=state).select_related("user", "decided_by")[
        :MAX_CLAIMS_LISTED
    ]


def claims_of(user: AbstractBaseUser) -> QuerySet[ResidencyClaim]:
    return ResidencyClaim.objects.filter(user=user).order_by("-submitted_at")


def claim(claim_id: int) -> ResidencyClaim | None:
    return ResidencyClaim.objects.filter(pk=claim_id).select_related("user", "decided_by").first()


def decisions_for(claim_: ResidencyClaim) -> QuerySet[Decision]:
    return claim_.decisions.select_related("decided_by")
