"""Shared helpers of the officials' tests: accounts of every role, a valid proposal, clients."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.test import Client
from django.utils import timezone

from civic.roles import Role
from tests.identity.support_identity import make_user
from voting.models import Election
from voting.services import authoring

QUESTIONS: list[dict[str, Any]] = [
    {
        "id": "library",
        "type": "yes_no_abstain",
        "title": "Open the library on Sundays?",
        "options": [{"id": "yes", "title": "Yes"}, {"id": "no", "title": "No"}, {"id": "abstain", "title": "Abstain"}],
    },
    {
        "id": "parks",
        "type": "budget",
        "title": "Parks budget",
        "budget": 5,
        "options": [{"id": "trees", "title": "Trees", "cost": 2}, {"id": "playground", "title": "Playground", "cost": 3}],
    },
]
ROLES = ("anonymous", "citizen", "official", "trustee", "observer")


def trustees(n: int = 3) -> list[AbstractBaseUser]:
    return [make_user(f"keeper{i}", Role.TRUSTEE) for i in range(1, n + 1)]


def window(start_in: timedelta = timedelta(days=1), length: timedelta = timedelta(days=7)) -> tuple[datetime, datetime]:
    opens = (timezone.now() + start_in).replace(microsecond=0)
    return opens, opens + length


def proposal(**overrides: Any) -> authoring.Proposal:
    opens, closes = window()
    fields: dict[str, Any] = {
        "title": "Sunday library",
        "description": "Should the **library** open on Sundays?",
        "district": "",
        "questions": json.loads(json.dumps(QUESTIONS)),
        "opens_at": opens,
        "closes_at": closes,
        "trustees": ["keeper1", "keeper2", "keeper3"],
        "threshold": 2,
        "required_observer_reports": 1,
    }
    fields.update(overrides)
    return authoring.Proposal(**fields)


def body(**overrides: Any) -> dict[str, Any]:
    """The API body of :func:`proposal`."""
    p = proposal()
    out: dict[str, Any] = {
        "title": p.title,
        "description": p.description,
        "district": p.district,
        "questions": p.questions,
        "opens_at": p.opens_at.isoformat(),
        "closes_at": p.closes_at.isoformat(),
        "trustees": p.trustees,
        "threshold": p.threshold,
        "required_observer_reports": 1,
    }
    out.update(overrides)
    return out


def draft(official: AbstractBaseUser, **overrides: Any) -> Election:
    return authoring.create_draft(official, proposal(**overrides))


def client_for(role: str) -> Client:
    """A logged-in client holding ``role`` (a fresh account), or an anonymous one."""
    client = Client(enforce_csrf_checks=False)
    if role != "anonymous":
        client.force_login(make_user(f"as-{role}", Role(role)))
    return client


def post_json(client: Client, url: str, data: Any = None, method: str = "post") -> Any:
    payload = json.dumps(data) if data is not None else ""
    return getattr(client, method)(url, data=payload, content_type="application/json")
