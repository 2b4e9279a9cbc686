"""Register an observer node's verifier key (what ``python -m civic_observer init`` printed)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from civic_tlog import note
from ledger import services
from ledger.errors import LedgerError, ObserverExists


class Command(BaseCommand):
    help = "Register an observer: ledger_register_observer [NAME] VERIFIER_KEY"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("args", nargs="+", metavar="[NAME] VERIFIER_KEY")
        parser.add_argument(
            "--if-missing", action="store_true", help="Succeed quietly if already registered."
        )

    def handle(self, *args: str, **options: Any) -> None:
        if len(args) not in (1, 2):
            raise CommandError("expected [NAME] VERIFIER_KEY")
        vkey = args[-1].strip()
        if len(args) == 2:
            try:
                key_name = note.parse_verifier_key(vkey).name
            except note.NoteError as error:
                raise CommandError(f"invalid verifier key: {error}") from error
            if key_name != args[0]:
                raise CommandError(f"the key is named {key_name!r}, not {args[0]!r}")
        try:
            observer = services.register_observer(vkey)
        except ObserverExists as error:
            if options["if_missing"]:
                self.stdout.write(f"already registered: {error.detail}")
                return
            raise CommandError(error.detail) from error
        except LedgerError as error:
            raise CommandError(error.detail) from error
        self.stdout.write(self.style.SUCCESS(f"registered observer {observer.name}"))
