"""Single-use challenges: issuing, consuming (replay refused by one conditional UPDATE), purging."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from identity.models import Challenge
from identity.selectors import challenges as challenge_selectors


def issue_challenge(
    purpose: Challenge.Purpose, *, user: AbstractBaseUser | None = None, scope: str = ""
) -> Challenge:
    """A fresh 256-bit nonce, valid for CIVIC_CHALLENGE_TTL_SECONDS."""
    return Challenge.objects.create(
        nonce=secrets.token_urlsafe(32),
        purpose=purpose,
        user=user,
        scope=scope,
        expires_at=timezone.now() + timedelta(seconds=settings.CIVIC_CHALLENGE_TTL_SECONDS),
    )


def consume_challenge(
    nonce: str,
    purpose: Challenge.Purpose,
    *,
    user: AbstractBaseUser | None,
    scope: str | None = None,
) -> bool:
    """Mark the nonce used; False when unknown, expired, someone else's or already used (replay)."""
    rows = challenge_selectors.live_challenges(nonce, purpose, user=user, scope=scope)
    return rows.update(used_at=timezone.now()) == 1


def purge_expired_challenges() -> int:
    """Delete challenges that expired more than a day ago (a periodic task calls it)."""
    deleted, _ = Challenge.objects.filter(
        expires_at__lt=timezone.now() - timedelta(days=1)
    ).delete()
    return deleted
