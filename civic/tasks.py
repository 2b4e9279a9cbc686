"""Platform tasks. Every task is idempotent: running it twice leaves the same state."""

from __future__ import annotations

import socket

from celery import shared_task

from civic.services import record_task_probe


@shared_task(name="civic.record_probe")
def record_probe(token: str) -> str:
    """Prove a worker ran: store the token (a second delivery finds the row and stops)."""
    record_task_probe(token=token, worker=socket.gethostname())
    return token
