"""Celery tasks of the ledger. Both are idempotent and keyed on database state only:
a duplicate or replayed message finds nothing pending / nothing new to sign."""

from __future__ import annotations

from celery import shared_task

from ledger import sequencer, services


@shared_task(name=services.SEQUENCE_PENDING_TASK)
def sequence_pending() -> int:
    """Drain every log's outbox in batches of 1,000; returns how many rows were handled."""
    return sum(result.taken for result in sequencer.sequence_all())


@shared_task(name="ledger.sign_checkpoints")
def sign_checkpoints() -> int:
    """Sign a checkpoint for every log whose tree grew since its last checkpoint."""
    return len(services.sign_checkpoints())
