"""The demo city: a few accounts so a fresh `make run` can be explored at once."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from civic.roles import Role
from civic.services import create_user_with_role
from ledger.services import record_city_event
from voting.demo import DEMO_TRUSTEES, seed_demo_election, seed_demo_published_election

DEMO_ACCOUNTS: list[tuple[str, Role]] = [
    ("official", Role.OFFICIAL),
    ("alice", Role.CITIZEN),
    ("bob", Role.CITIZEN),
    ("observer", Role.OBSERVER),
    ("trustee-a", Role.TRUSTEE),
    ("trustee-b", Role.TRUSTEE),
    ("trustee-c", Role.TRUSTEE),
]


def demo_logins_file() -> Path:
    return Path(settings.VAR_DIR) / "demo_logins.json"


def seed_demo_city() -> tuple[bool, dict[str, dict[str, str]]]:
    """Create the demo accounts once. Returns (created_now, logins).

    Passwords are random per machine and kept in var/demo_logins.json (mode 0600), never in the repo.
    """
    logins_path = demo_logins_file()
    User = get_user_model()
    if logins_path.exists() and User.objects.filter(username=DEMO_ACCOUNTS[0][0]).exists():
        seed_demo_elections()  # idempotent: a seed stopped half-way resumes here
        return False, json.loads(logins_path.read_text())
    logins: dict[str, dict[str, str]] = {}
    with transaction.atomic():
        for username, role in DEMO_ACCOUNTS:
            password = secrets.token_urlsafe(12)
            user = User.objects.filter(username=username).first()
            if user is None:
                create_user_with_role(
                    username=username,
                    email=f"{username}@demo.invalid",
                    password=password,
                    role=role,
                )
            else:
                user.set_password(password)
                user.save(update_fields=["password"])
            logins[username] = {"role": role.value, "password": password}
        record_demo_seed_event(logins)
    # Outside the accounts' transaction: the trustees' ceremony goes through the HTTP path.
    seed_demo_elections()
    fd = os.open(logins_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(logins, handle, indent=2)
    return True, logins


def seed_demo_elections() -> None:
    """The demo city's open election and its published one (each made once)."""
    User = get_user_model()
    official = User.objects.get(username="official")
    trustees = [User.objects.get(username=name) for name in DEMO_TRUSTEES]
    key_dir = Path(settings.VAR_DIR) / "demo_trustees"
    seed_demo_election(official, trustees, key_dir)
    seed_demo_published_election(official, trustees, key_dir)


def record_demo_seed_event(logins: dict[str, dict[str, str]]) -> None:
    """The seed itself is a public city event, so a fresh demo shows a non-empty ledger.

    Only names and roles go to the ledger; passwords never leave var/.
    """
    record_city_event(
        "city.demo_seeded",
        {
            "city": settings.CIVIC_CITY_NAME,
            "accounts": [
                {"username": name, "role": login["role"]} for name, login in sorted(logins.items())
            ],
        },
    )
