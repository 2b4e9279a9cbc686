"""Run one anchoring round now (what the periodic Celery task does) and report it."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ledger.anchoring import services
from ledger.anchoring.chain import AnchorChainError
from ledger.anchoring.config import chain_from_config, load_config


class Command(BaseCommand):
    help = (
        "Anchor every log's latest witnessed checkpoint not anchored yet, and follow sent anchors."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="print the run as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            config = load_config()
            chain = chain_from_config(config)
        except AnchorChainError as exc:
            raise CommandError(str(exc)) from exc
        run = services.anchor_witnessed_checkpoints(chain, config.confirmations)
        if options["json"]:
            self.stdout.write(json.dumps(asdict(run), indent=2))
        else:
            if run.sent_tx:
                self.stdout.write(f"sent {run.sent_tx} covering {', '.join(run.covered_logs)}")
            for label, hashes in (
                ("final", run.finalized),
                ("reorganized, sent again", run.reorged),
                ("dropped, re-anchoring", run.dropped),
                ("written to another chain, re-anchoring", run.other_chain),
            ):
                for tx_hash in hashes:
                    self.stdout.write(f"{label}: {tx_hash}")
            if run.status == "ok" and not (
                run.sent_tx or run.finalized or run.reorged or run.dropped or run.other_chain
            ):
                self.stdout.write("nothing to do")
        if run.status == "busy":
            raise CommandError("another anchoring run is in progress")
        if run.status == "error":
            raise CommandError(f"anchoring delayed: {run.error}")
