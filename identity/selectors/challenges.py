"""Challenges: which nonces are still live (checking and consuming agree on it through here)."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet
from django.utils import timezone

from identity.models import Challenge


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
    """Whether the nonce could still be redeemed; only ``services.challenges.consume_challenge`` uses it up."""
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
