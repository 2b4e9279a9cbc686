"""What every hostile-input test needs: an open election with voters, and the proof that a
refusal stored nothing (ballot rows, ballot keys, the ledger outbox and the log, tokens)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ledger.models import Entry, OutboxEntry
from voting.models import BallotKey, CastBallot, EligibilityGrant


@dataclass(frozen=True)
class Stored:
    ballots: int
    ballot_keys: int
    outbox: int
    entries: int
    grants: int


def stored() -> Stored:
    """Every row a cast (or a token) could leave behind: all of them must stay put on a refusal."""
    return Stored(
        CastBallot.objects.count(),
        BallotKey.objects.count(),
        OutboxEntry.objects.count(),
        Entry.objects.count(),
        EligibilityGrant.objects.count(),
    )


def assert_refused(response: Any, status: int, error: str | None = None) -> dict[str, Any]:
    """A 4xx in the one JSON error shape, naming the problem."""
    assert response.status_code == status, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error", "detail", "status"} and body["status"] == status, body
    assert isinstance(body["detail"], str | dict) and body["detail"], body
    if error is not None:
        assert body["error"] == error, body
    return body
