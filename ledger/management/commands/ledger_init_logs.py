"""Create the standing logs (city, credentials) and their signing keys; safe to re-run."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from ledger import keystore, services
from ledger.errors import LedgerError


class Command(BaseCommand):
    help = "Create the city and credentials logs (and any named log) with their signing keys."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("names", nargs="*", help="Extra logs, e.g. election-2027-council.")
        parser.add_argument(
            "--witness-threshold", type=int, default=None, help="Cosignatures needed (k)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        threshold = options["witness_threshold"]
        if threshold is not None and threshold < 1:
            raise SystemExit("--witness-threshold must be at least 1")
        names = [services.CITY_LOG, services.CREDENTIALS_LOG, *options["names"]]
        for name in names:
            try:
                log = services.ensure_log(name, witness_threshold=threshold)
            except LedgerError as error:
                self.stderr.write(self.style.ERROR(error.detail))
                raise SystemExit(2) from error
            self.stdout.write(f"{log.name}: {log.origin} k={log.witness_threshold}")
            self.stdout.write(f"  verifier key: {log.verifier_key}")
        self.stdout.write(f"signing keys in {keystore.keys_file()}")
