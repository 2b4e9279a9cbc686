"""The public tracking page in a real browser: a mistyped code, a counting and a superseded ballot."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from civic.roles import Role
from ledger import sequencer
from tests.browser.conftest import Drive, page_errors
from tests.identity.support_identity import identity_settings, login, make_user  # noqa: F401
from tests.voting.ballot_box_support import (  # noqa: F401
    box_settings,
    cast_body,
    make_ballot,
    new_voter,
    open_box,
    post,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("box_settings")]


def test_track_page_finds_counting_and_superseded_ballots(drive: Drive) -> None:
    official = make_user("clerk", Role.OFFICIAL)
    election = open_box("track-vote", official)
    voter = new_voter(login(official), election.slug)
    first, second = make_ballot(election, 1), make_ballot(election, 2)
    url = f"/api/voting/elections/{election.slug}/ballots"
    for ballot in (first, second):
        assert post(Client(), url, cast_body(election.slug, voter, ballot.to_json())).status_code == 201
    sequencer.sequence_all()
    result: dict[str, Any] = drive(
        "track_page.mjs", slug=election.slug, current=second.tracking_code, superseded=first.tracking_code
    )
    assert "error" not in result, result
    assert result["listTurnout"].startswith("1 ")
    assert result["turnout"] == "1 ballot counts so far."
    assert "24 letters" in result["refusal"]
    assert result["invalid"] == "true" and "tracking-code_errors" in result["describedBy"]
    assert result["current"]["status"] == "counting" and result["current"]["heading"] == second.tracking_code
    assert "counting" in result["current"]["text"]
    assert result["current"]["position"].isdigit()
    assert result["superseded"] == {"status": "superseded", "replacedBy": True}
    assert page_errors(result["consoleErrors"]) == []
