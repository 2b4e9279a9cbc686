"""``manage.py simulate_election --voters N``: a complete election through the real services
(voting.simulation), progress on stderr, the election's slug on stdout."""

from __future__ import annotations

import contextlib
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from civic.errors import DomainError
from voting.simulation import Plan, SimulationError, simulate_election


class Command(BaseCommand):
    help = (
        "Run a complete election through the real services (ceremony, tokens, casting with "
        "re-votes and challenges, closing, tally, trustee decryption, publishing) and print its slug."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--voters", type=int, required=True, help="residents who vote (1..1,000,000)"
        )
        parser.add_argument(
            "--revote-share", type=float, default=0.1, help="share of voters who vote twice"
        )
        parser.add_argument(
            "--challenge-share", type=float, default=0.05, help="share who challenge a ballot first"
        )
        parser.add_argument("--trustees", type=int, default=3, help="trustees in the key ceremony")
        parser.add_argument("--threshold", type=int, default=2, help="trustees needed to decrypt")
        parser.add_argument("--absent", type=int, default=1, help="trustees who never decrypt")
        parser.add_argument("--seed", type=int, default=None, help="seed of the voters' choices")
        parser.add_argument(
            "--slug", default="", help="the election's slug (default: sim-<time>-<random>)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        plan = Plan(
            voters=options["voters"],
            revote_share=options["revote_share"],
            challenge_share=options["challenge_share"],
            trustees=options["trustees"],
            threshold=options["threshold"],
            absent=options["absent"],
            seed=options["seed"],
            slug=options["slug"],
        )
        quiet = options["verbosity"] == 0

        def bar(description: str, total: int) -> tqdm:
            return tqdm(total=total, desc=description, file=sys.stderr, disable=quiet, unit="")

        def say(line: str) -> None:
            if not quiet:
                self.stderr.write(line)

        try:  # mail to the trustees (console backend in development) must not mix with the slug
            with contextlib.redirect_stdout(sys.stderr):
                outcome = simulate_election(plan, progress=bar, say=say)
        except (SimulationError, DomainError) as exc:
            raise CommandError(str(exc)) from None
        say(
            f"{outcome.slug}: published; {outcome.cast} ballots cast ({outcome.revotes} re-votes), "
            f"{outcome.challenged} challenged, {len(outcome.refused)} invalid casts refused "
            f"({', '.join(outcome.refused) or 'none'}), decrypted by trustees {outcome.decrypted_by}"
        )
        self.stdout.write(outcome.slug)
