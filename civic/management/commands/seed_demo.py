"""Seed the demo city once and print its logins."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from civic.demo import seed_demo_city
from voting.demo import demo_published_election
from voting.selectors import tally as tally_selectors


class Command(BaseCommand):
    help = "Create the demo city's accounts (once) and print their logins."

    def handle(self, *args: Any, **options: Any) -> None:
        created, logins = seed_demo_city()
        self.stdout.write("Demo city " + ("seeded." if created else "already seeded."))
        self.stdout.write("Logins (user / password / role):")
        for username, login in logins.items():
            self.stdout.write(f"  {username:10} {login['password']:20} {login['role']}")
        published = demo_published_election()
        if published is not None:
            reports = tally_selectors.observer_reports(published)
            verdicts = ", ".join(f"{r['observer']}: {r['verdict']}" for r in reports) or "none yet"
            verified = "verified" if tally_selectors.is_verified(published) else "not verified yet"
            self.stdout.write(
                f"Published election {published.slug} ({verified}; observer reports: {verdicts}): "
                f"/voting/{published.slug}/results/"
            )
