"""Opening and closing on time: the beat task calls :func:`run_schedule` every
CIVIC_SCHEDULER_INTERVAL_S seconds (30 by default), so an election opens and closes within a
minute of its time.

Idempotent and keyed on database state only: each election is re-checked under its row lock, so
two workers, a replayed message or a second run in the same second change nothing twice. An
election whose ceremony finished after its opening time opens at the next run; one whose whole
window passed while it was still scheduled is left for an official to cancel (never opened late
for zero seconds).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from voting.errors import ElectionStateError
from voting.models import Election
from voting.services import lifecycle
from voting.services.elections import open_election

logger = logging.getLogger(__name__)


@dataclass
class ScheduleRun:
    opened: list[str] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)


@transaction.atomic
def open_if_due(election: Election, now: datetime) -> bool:
    """Open a scheduled election whose opening time has come and whose window is not over."""
    locked = Election.objects.select_for_update().get(pk=election.pk)
    due = (
        locked.state == Election.State.SCHEDULED
        and locked.context is not None
        and locked.opens_at is not None
        and locked.opens_at <= now
        and (locked.closes_at is None or now < locked.closes_at)
    )
    if not due:
        return False
    open_election(locked)
    return True


def run_schedule(now: datetime | None = None) -> ScheduleRun:
    """Open every due scheduled election and close every open one whose time is up."""
    now = now or timezone.now()
    run = ScheduleRun()
    to_open = Election.objects.filter(state=Election.State.SCHEDULED, opens_at__lte=now).exclude(context=None)
    for election in to_open:
        try:
            if open_if_due(election, now):
                run.opened.append(election.slug)
        except ElectionStateError as exc:  # moved on under us (another worker, a cancel)
            logger.info("scheduler: %s not opened: %s", election.slug, exc)
    for election in Election.objects.filter(state=Election.State.OPEN, closes_at__lte=now):
        try:
            if lifecycle.close_if_due(election, now):
                run.closed.append(election.slug)
        except ElectionStateError as exc:
            logger.info("scheduler: %s not closed: %s", election.slug, exc)
    if run.opened or run.closed:
        logger.info("scheduler: opened %s, closed %s", run.opened, run.closed)
    return run
