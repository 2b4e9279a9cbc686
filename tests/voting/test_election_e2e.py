"""End to end against a live server: a 2-of-3 election, 50 voters through the real HTTP endpoints
(tokens, casts, re-votes, challenged ballots, invalid ballots refused with nothing stored), the
close, the eager tally chain, two trustees decrypting with the trustee program over HTTP (the
third absent), the results published and the record sealed; then the independent observer
program audits the election from the server (record + its own mirror of the log), passes, posts
its signed report, and the results page shows it and says "verified"."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from civic_observer import cli as observer_cli
from ledger import sequencer
from ledger import services as ledger_services
from tests.identity.support_identity import identity_settings  # noqa: F401
from tests.voting.ballot_box_support import box_settings, cast_body, make_ballot, post, stored  # noqa: F401
from tests.voting.record_support import ballots_url, observer_state, plain_http, vote  # noqa: F401
from tests.voting.tally_support import (
    close,
    eager_celery,  # noqa: F401
    inline_sequencer,  # noqa: F401
)
from tests.voting.test_tally_network import decrypt
from voting.models import AuditReport, CastBallot, Election

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.slow,
    pytest.mark.usefixtures(
        "box_settings", "identity_settings", "eager_celery", "inline_sequencer", "plain_http"
    ),
]
VOTERS = 50
REVOTES = (1, 7, 12, 30, 49)
CHALLENGES = (3, 20, 41)


def refuse_invalid_ballots(slug: str, election: Election, voter: Any) -> None:
    before = stored()
    anonymous = Client()
    ballot = make_ballot(election, 1)
    body = cast_body(slug, voter, ballot.to_json())
    forged = {
        **body,
        "signature": body["signature"][:-2] + ("AA" if body["signature"][-2:] != "AA" else "BA"),
    }
    bad_token = copy.deepcopy(body)
    bad_token["token"]["signature"] = bad_token["token"]["signature"][::-1]
    tampered = copy.deepcopy(body)
    tampered["ballot"]["contests"][0]["selections"][0]["proof"]["c0"] = "00" * 32
    for bad in (forged, bad_token, tampered):
        response = post(anonymous, ballots_url(slug), bad)
        assert 400 <= response.status_code < 500, response.content
        assert response.json()["detail"]
    raw = anonymous.post(
        ballots_url(slug), data='{"ballot": 1, "ballot": 2}', content_type="application/json"
    )
    assert raw.status_code == 400
    assert stored() == before


def test_an_election_end_to_end_is_audited_by_an_observer(
    live_server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    te, people, expected, stats, official = vote("e2e-vote", VOTERS, REVOTES, CHALLENGES)
    refuse_invalid_ballots(te.slug, te.election, people[0])
    assert CastBallot.objects.filter(election=te.election).count() == VOTERS + len(REVOTES) + len(
        CHALLENGES
    )
    close(te.election, official)  # the eager chain freezes and sums
    assert te.refresh().state == Election.State.TALLYING

    for index in (1, 3):  # trustee 2 stays absent
        code, out, err = decrypt(live_server.url, te, index, tmp_path)
        assert code == 0, (out, err)
    election = te.refresh()
    assert election.state == Election.State.PUBLISHED
    assert election.tally.results == {"trustees": [1, 3], "contests": {"q": expected}}
    assert election.tally.record_sha256
    sequencer.sequence_all()
    ledger_services.sign_checkpoints()

    state, _ = observer_state(tmp_path, "observer.e2e", capsys)
    code = observer_cli.main(
        ["audit-election", "--server", live_server.url, "--election", te.slug, "--state", str(state),
         "--post", "--no-progress", "--jobs", "1", "--out", str(tmp_path / "report.json")]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0, out
    assert "AUDIT PASSED" in out and "report posted" in out
    report = AuditReport.objects.get(election=election)
    assert report.passed and report.observer.name == "observer.e2e"
    assert report.report == json.loads((tmp_path / "report.json").read_text())
    assert report.report["record_sha256"] == election.tally.record_sha256
    assert report.report["ballots"] == {
        "cast": VOTERS + len(REVOTES), "counting": VOTERS, "challenged": len(CHALLENGES),
    }  # fmt: skip

    page = Client().get(f"/voting/{te.slug}/results/").content.decode()
    assert "observer.e2e" in page and "Passed: every check holds" in page
    assert 'id="verified-status"><strong>Verified</strong>' in page.replace("\n", "")
    assert election.tally.record_sha256 in page
