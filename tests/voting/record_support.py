"""Helpers of the record, report and end-to-end tests: a real election run through the real
services and HTTP endpoints (ceremony with kept key shares, RFC 9474 tokens issued through the
eligibility API, ballots cast and challenged through POST /ballots, the close, the eager Celery
chain, trustees' shares), and an observer set up to audit it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.middleware.security import SecurityMiddleware
from django.test import Client

from civic.roles import Role
from civic_observer import cli as observer_cli
from civic_votecrypto.ballot import new_seed
from ledger import sequencer
from ledger import services as ledger_services
from tests.identity.support_identity import login
from tests.voting.ballot_box_support import (
    ONE_OF_FIVE,
    Voter,
    cast_body,
    make_ballot,
    new_voter,
    post,
    spoil_body,
)
from tests.voting.tally_support import (
    TallyElection,
    account,
    close,
    open_tally_election,
    tally_share_envelope,
)
from voting.models import Election
from voting.services import decryption_shares


@dataclass
class Published:
    te: TallyElection
    expected: dict[str, int]
    voters: list[Voter]
    stats: dict[str, int] = field(default_factory=dict)

    @property
    def slug(self) -> str:
        return self.te.slug

    @property
    def election(self) -> Election:
        return self.te.refresh()


def ballots_url(slug: str) -> str:
    return f"/api/voting/elections/{slug}/ballots"


def vote(
    slug: str,
    voters: int,
    revotes: tuple[int, ...] = (),
    challenges: tuple[int, ...] = (),
) -> tuple[TallyElection, list[Voter], dict[str, int], dict[str, int], Any]:
    """An open election and its voters' ballots through POST /ballots: every voter casts once
    (voter v picks option v % 5), voters in ``challenges`` first challenge a ballot, voters in
    ``revotes`` cast again later (option (v + 2) % 5)."""
    official = account(f"clerk-{slug}", Role.OFFICIAL)
    te = open_tally_election(slug, official, contests=ONE_OF_FIVE["contests"])
    official_client = login(official)
    anonymous = Client()
    people = [new_voter(official_client, slug) for _ in range(voters)]
    counts = dict.fromkeys((f"o{i}" for i in range(5)), 0)
    stats = {"cast": 0, "challenged": 0}
    for v, voter in enumerate(people):
        if v in challenges:
            seed = new_seed()
            ballot = make_ballot(te.election, (v + 1) % 5, seed=seed)
            body = spoil_body(slug, voter, ballot, seed, (v + 1) % 5)
            answer = post(anonymous, ballots_url(slug) + "/spoiled", body)
            assert answer.status_code == 201, answer.content
            stats["challenged"] += 1
        ballot = make_ballot(te.election, v % 5)
        answer = post(anonymous, ballots_url(slug), cast_body(slug, voter, ballot.to_json()))
        assert answer.status_code == 201, answer.content
        stats["cast"] += 1
    for v in revotes:
        ballot = make_ballot(te.election, (v + 2) % 5)
        answer = post(anonymous, ballots_url(slug), cast_body(slug, people[v], ballot.to_json()))
        assert answer.status_code == 201, answer.content
        stats["cast"] += 1
    for v in range(voters):
        counts[f"o{((v + 2) if v in revotes else v) % 5}"] += 1
    return te, people, counts, stats, official


def publish_with_shares(
    te: TallyElection, official: Any, present: tuple[int, ...] = (1, 3)
) -> None:
    """Close (the eager chain freezes and sums), then the ``present`` trustees' shares."""
    close(te.election, official)
    sequencer.sequence_all()
    for index in present:
        decryption_shares.submit_share(
            slug=te.slug, user=te.trustees[index - 1], document=tally_share_envelope(te, index)
        )
    sequencer.sequence_all()
    ledger_services.sign_checkpoints()


def published_election(
    slug: str,
    voters: int = 6,
    revotes: tuple[int, ...] = (1,),
    challenges: tuple[int, ...] = (2,),
) -> Published:
    """Needs transaction=True tests with eager Celery and the inline sequencer."""
    te, people, counts, stats, official = vote(slug, voters, revotes, challenges)
    publish_with_shares(te, official)
    election = te.refresh()
    assert election.state == Election.State.PUBLISHED
    assert election.tally.record_sha256, "the record is sealed when the election is published"
    return Published(te, counts, people, stats)


@pytest.fixture
def plain_http(monkeypatch: pytest.MonkeyPatch) -> None:
    """The live test server speaks plain HTTP; with DEBUG off the security middleware would
    redirect every request to https."""
    monkeypatch.setattr(SecurityMiddleware, "process_request", lambda self, request: None)


def observer_state(tmp: Path, name: str, capsys: pytest.CaptureFixture[str]) -> tuple[Path, str]:
    """A fresh observer's state folder and verifier key, registered with the city."""
    state = tmp / name
    assert observer_cli.main(["init", "--state", str(state), "--name", name]) == 0
    vkey = capsys.readouterr().out.strip().splitlines()[-1]
    ledger_services.register_observer(vkey)
    return state, vkey
