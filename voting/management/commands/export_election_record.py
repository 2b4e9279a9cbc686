"""Write a published election's sealed record to a file: JSON, or a zip when FILE ends in .zip."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from civic.errors import DomainError
from voting.models import Election
from voting.selectors.elections import election_by_slug
from voting.services import record_export

PROGRESS_EVERY = 1000  # ballots between two progress lines


class Command(BaseCommand):
    help = (
        "Export a published election's record (civic-election-record/2) to FILE; a FILE ending "
        "in .zip gets record.json and README.txt in a zip. Progress goes to stderr."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="The election's slug.")
        parser.add_argument("--out", required=True, help="Where to write (.json or .zip).")
        parser.add_argument(
            "--server",
            default="https://civic.example",
            help="The server URL the zip's README names for auditing.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        slug, out = options["slug"], Path(options["out"])
        election = election_by_slug(slug)
        if election is None:
            raise CommandError(f"there is no election {slug!r}")
        if election.state != Election.State.PUBLISHED:
            raise CommandError(
                f"election {slug!r} is {election.state}: its record exists once it is published"
            )
        try:
            sha256 = self._write(election, out, options["server"])
        except DomainError as exc:
            raise CommandError(str(exc.detail if hasattr(exc, "detail") else exc)) from exc
        except OSError as exc:
            raise CommandError(f"cannot write {out}: {exc.strerror or exc}") from exc
        self.stdout.write(f"{out}: record of {slug}, sha256 {sha256}")

    def _write(self, election: Election, out: Path, server: str) -> str:
        if out.suffix.lower() == ".zip":
            with out.open("wb") as fp:
                record_export.write_zip(election, fp, server)
            self.stderr.write(f"zip written: {out.stat().st_size} bytes")
            return record_export.sealed_tally(election).record_sha256
        shown = [0]

        def progress(lines: int) -> None:
            if lines - shown[0] >= PROGRESS_EVERY:
                shown[0] = lines
                self.stderr.write(f"{lines} ballots written")
                self.stderr.flush()

        with out.open("w", encoding="utf-8") as fp:
            sha256 = record_export.write_record_file(election, fp, progress)
        self.stderr.write(f"record written: {out.stat().st_size} bytes")
        return sha256
