"""Create the city's did:web signing key file once (the demo seed calls this)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from identity import keys


class Command(BaseCommand):
    help = "Generate the city's Ed25519 did:web key into CIVIC_CITY_KEY_FILE or var/city_keys.json (mode 0600)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--rotate",
            action="store_true",
            help="Add a new key and sign with it from now on (old keys stay in the DID document).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            path, changed = keys.ensure_key_file(rotate=options["rotate"])
            city = keys.load_city_keys()
        except Exception as exc:  # noqa: BLE001 - any failure is reported as a command error
            raise CommandError(f"cannot set up the city keys: {exc}") from exc
        state = "created" if changed else "already present"
        self.stdout.write(f"City key file {path} {state}.")
        self.stdout.write(f"City DID {city.did}, signing with {city.verification_method}")
