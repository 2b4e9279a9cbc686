"""Sequence every pending entry and sign new checkpoints now (what the Celery tasks do)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from ledger import sequencer, services


class Command(BaseCommand):
    help = "Run the ledger sequencer and checkpoint signer once, without a worker."

    def handle(self, *args: Any, **options: Any) -> None:
        for result in sequencer.sequence_all():
            self.stdout.write(f"{result.log}: +{result.appended} -> {result.tree_size}")
        for checkpoint in services.sign_checkpoints():
            self.stdout.write(f"signed {checkpoint.log.name} at size {checkpoint.size}")
