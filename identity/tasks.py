"""Celery tasks of identity: housekeeping only (issuing and revoking happen in the request)."""

from __future__ import annotations

from celery import shared_task

from identity.services import challenges


@shared_task(name="identity.purge_expired_challenges")
def purge_expired_challenges() -> int:
    """Delete challenges expired for over a day; safe to run any number of times."""
    return challenges.purge_expired_challenges()
