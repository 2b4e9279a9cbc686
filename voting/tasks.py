"""Celery entry points of voting. Idempotent, keyed on database state (docs/operations.md)."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from django.conf import settings
from django.db import OperationalError

from voting.models import Election
from voting.services import (
    aggregation,
    box_freeze,
    jobs,
    record_export,
    results,
    scheduler,
    tally_notices,
    tally_sweep,
)

logger = logging.getLogger(__name__)


@shared_task(name="voting.run_schedule")
def run_schedule() -> dict[str, list[str]]:
    """Open and close the elections whose time has come (beat: every CIVIC_SCHEDULER_INTERVAL_S)."""
    run = scheduler.run_schedule()
    return {"opened": run.opened, "closed": run.closed}


# -- the tally (docs/operations.md § The tally): each step idempotent, each safe to retry ----------
@shared_task(name=jobs.FREEZE_TASK, bind=True, max_retries=None)
def freeze_box(self: Any, election_id: int) -> dict[str, Any]:
    """Freeze a closed box; retry (bounded) while the sequencer or the checkpoint lag behind."""
    outcome = box_freeze.freeze_box(election_id)
    if outcome.waiting:
        eager = bool(getattr(self.request, "is_eager", False))
        if not eager and self.request.retries < settings.CIVIC_TALLY_FREEZE_MAX_RETRIES:
            raise self.retry(countdown=settings.CIVIC_TALLY_FREEZE_RETRY_S)
        logger.warning(
            "tally: freeze of election %s still waiting (%s); the sweep resumes it",
            election_id,
            outcome.waiting,
        )
    return {"frozen": outcome.frozen, "waiting": outcome.waiting}


@shared_task(
    name=jobs.CHUNK_TASK, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5
)
def tally_chunk(tally_id: int, index: int) -> bool:
    """Sum one chunk of the counting ballots (stored once per (tally, index))."""
    return aggregation.compute_chunk(tally_id, index)


@shared_task(
    name=jobs.COMBINE_TASK, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5
)
def combine_tally(tally_id: int) -> bool:
    """Sum the chunk sums into the encrypted tally once every chunk is stored."""
    return aggregation.combine(tally_id)


@shared_task(name=jobs.NOTIFY_TASK, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def notify_trustees(tally_id: int) -> int:
    """Email the trustees that the tally awaits their shares."""
    return tally_notices.notify_trustees(tally_id)


@shared_task(
    name=jobs.PUBLISH_TASK, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5
)
def publish_results(tally_id: int) -> bool:
    """Combine t valid shares, solve, check and publish the results."""
    return results.publish_results(tally_id)


@shared_task(name=jobs.RECORD_TASK, bind=True, max_retries=None)
def seal_record(self: Any, election_id: int) -> str:
    """Hash, sign and log a published election's record; retry while its log lags behind."""
    election = Election.objects.get(pk=election_id)
    try:
        return record_export.seal_record(election).sha256
    except record_export.RecordNotReady as exc:
        eager = bool(getattr(self.request, "is_eager", False))
        if not eager and self.request.retries < settings.CIVIC_TALLY_FREEZE_MAX_RETRIES:
            raise self.retry(countdown=settings.CIVIC_TALLY_FREEZE_RETRY_S) from exc
        logger.warning("record: %s not sealed yet: %s (the sweep tries again)", election.slug, exc)
        return ""


@shared_task(name="voting.advance_tallies")
def advance_tallies() -> list[str]:
    """Beat: queue each election's next tally step (what a lost message or crash left undone)."""
    return tally_sweep.advance_tallies().queued
