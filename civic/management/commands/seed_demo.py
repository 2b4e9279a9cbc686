"""Seed the demo city once and print its logins."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from civic.demo import seed_demo_city


class Command(BaseCommand):
    help = "Create the demo city's accounts (once) and print their logins."

    def handle(self, *args: Any, **options: Any) -> None:
        created, logins = seed_demo_city()
        self.stdout.write("Demo city " + ("seeded." if created else "already seeded."))
        self.stdout.write("Logins (user / password / role):")
        for username, login in logins.items():
            self.stdout.write(f"  {username:10} {login['password']:20} {login['role']}")
