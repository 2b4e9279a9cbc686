"""Celery entry points of voting. Idempotent, keyed on database state (docs/operations.md)."""

from __future__ import annotations

from celery import shared_task

from voting.services import scheduler


@shared_task(name="voting.run_schedule")
def run_schedule() -> dict[str, list[str]]:
    """Open and close the elections whose time has come (beat: every CIVIC_SCHEDULER_INTERVAL_S)."""
    run = scheduler.run_schedule()
    return {"opened": run.opened, "closed": run.closed}
