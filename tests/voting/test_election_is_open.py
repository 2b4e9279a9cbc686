"""One rule for "is this election open?" (issue 9): state OPEN and now within its time window,
used by token issuance and by the wallet's list alike."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from civic.roles import Role
from tests.identity.support_identity import (
    identity_settings,  # noqa: F401 - autouse fixture
    login,
    make_user,
    open_election,
    post_json,
)
from voting.selectors.elections import election_is_open, open_elections

pytestmark = pytest.mark.django_db


def test_state_and_time_window_both_decide() -> None:
    creator = make_user("maker", Role.OFFICIAL)
    now = timezone.now()
    running = open_election("running", "", creator)
    not_yet = open_election("not-yet", "", creator)
    not_yet.opens_at = now + timedelta(hours=1)
    not_yet.save(update_fields=["opens_at"])
    over = open_election("over", "", creator)
    over.closes_at = now - timedelta(seconds=1)
    over.save(update_fields=["closes_at"])
    closed = open_election("closed", "", creator)
    closed.state = closed.State.CLOSED
    closed.save(update_fields=["state"])

    assert [e.slug for e in open_elections()] == ["running"]
    assert election_is_open(running)
    assert not any(election_is_open(e) for e in (not_yet, over, closed))

    citizen = login(make_user("cit", Role.CITIZEN))
    wallet = citizen.get("/identity/wallet/").content.decode()
    assert "data-slug=\"running\"" in wallet and "data-slug=\"over\"" not in wallet
    refused = post_json(
        citizen, "/api/voting/elections/over/tokens", {"blinded_message": "AA", "presentation": {}}
    )
    assert (refused.status_code, refused.json()["error"]) == (409, "election_not_open")
    assert Client().get("/api/voting/elections/nope/eligibility-key").status_code == 404
