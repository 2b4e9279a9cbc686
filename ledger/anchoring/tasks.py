"""Celery task: anchor every log's latest witnessed checkpoint that is not anchored yet.

Idempotent and keyed on database state (acks_late: a task lost with its worker runs again and
finds the signed transaction it stored, never signs a second one for the same checkpoint). A
chain outage is logged and retried with backoff; it never touches voting or sequencing, which
do not wait for this task.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import Any

from celery import shared_task

from ledger.anchoring import services
from ledger.anchoring.chain import AnchorChainError
from ledger.anchoring.config import chain_from_config, load_config

logger = logging.getLogger(__name__)


@shared_task(
    bind=True,
    name="anchoring.tasks.anchor_witnessed_checkpoints",
    acks_late=True,
    max_retries=3,
    default_retry_delay=30,
    ignore_result=True,
)
def anchor_witnessed_checkpoints(self: Any) -> dict[str, Any]:
    """One anchoring run; the periodic schedule runs it again anyway, retries only shorten the gap."""
    try:
        config = load_config()
        if not config.enabled:
            return {"status": "disabled"}
        chain = chain_from_config(config)
    except AnchorChainError as exc:
        logger.error("anchoring misconfigured: %s", exc)
        return {"status": "error", "error": str(exc)}
    run = services.anchor_witnessed_checkpoints(chain, config.confirmations)
    if (
        run.status == "error"
        and self.request.retries < self.max_retries
        and not self.request.is_eager
    ):
        raise self.retry(countdown=30 * 2**self.request.retries)
    return asdict(run)
