"""Queueing the tally's Celery jobs from the use cases, after their transaction commits.

Services sit below ``voting.tasks`` (import-linter layers), so they name tasks instead of
importing them. A task registered in this process is queued with ``delay`` (which honours
CELERY_TASK_ALWAYS_EAGER, so tests and the embedded default run the chain in-process when
configured so); otherwise by name. A lost message only delays the work: the periodic
``voting.advance_tallies`` sweep queues whatever step an election is waiting for.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import current_app
from django.db import transaction

logger = logging.getLogger(__name__)

FREEZE_TASK = "voting.freeze_box"
CHUNK_TASK = "voting.tally_chunk"
COMBINE_TASK = "voting.combine_tally"
NOTIFY_TASK = "voting.notify_trustees"
PUBLISH_TASK = "voting.publish_results"
RECORD_TASK = "voting.seal_record"


_loaded: list[bool] = []


def send_now(name: str, *args: Any) -> None:
    if not _loaded:  # the web process: let Celery import the apps' tasks modules once
        current_app.loader.import_default_modules()
        _loaded.append(True)
    task = current_app.tasks.get(name)
    if task is not None:
        task.delay(*args)
    else:  # pragma: no cover - voting.tasks not importable here: queue by name
        current_app.send_task(name, args=list(args))


def enqueue(name: str, *args: Any) -> None:
    """Queue task ``name`` once the current transaction commits (at once outside one)."""
    transaction.on_commit(lambda: send_now(name, *args), robust=True)
