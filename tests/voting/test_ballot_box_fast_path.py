"""The cast path's fast parts keep the portable behaviour: ledger entries byte-exact RFC 8785
of their payload (the PostgreSQL function fills in ``supersedes`` itself), the lean view's
edges answered as DRF answers them, and the debounced sequencing kick still sent after commit.
Runs on SQLite (the portable path) and on PostgreSQL (the one-round-trip function)."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from django.test import Client

from civic.roles import Role
from civic_tlog import merkle
from ledger import services as ledger_services
from ledger.models import OutboxEntry
from tests.identity.support_identity import identity_settings, login, make_user  # noqa: F401
from tests.voting.ballot_box_support import (
    box_settings,  # noqa: F401
    cast_body,
    make_ballot,
    new_seed,
    new_voter,
    open_box,
    post,
    spoil_body,
)
from voting.models import CastBallot, Election

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("box_settings")]


@pytest.fixture
def official_client() -> Client:
    return login(make_user("clerk", Role.OFFICIAL))


@pytest.fixture
def election() -> Election:
    return open_box("fast-vote", make_user("opener", Role.OFFICIAL))


def url(slug: str, tail: str = "") -> str:
    return f"/api/voting/elections/{slug}/ballots{tail}"


def test_entries_are_the_canonical_bytes_of_their_payload(
    election: Election, official_client: Client
) -> None:
    voter = new_voter(official_client, election.slug)
    client = Client()
    first, second = make_ballot(election, 0), make_ballot(election, 1)
    seed = new_seed()
    audited = make_ballot(election, 2, seed=seed)
    assert (
        post(
            client, url(election.slug), cast_body(election.slug, voter, first.to_json())
        ).status_code
        == 201
    )
    assert (
        post(
            client, url(election.slug), cast_body(election.slug, voter, second.to_json())
        ).status_code
        == 201
    )
    spoil = spoil_body(election.slug, voter, audited, seed, 2)
    assert post(client, url(election.slug, "/spoiled"), spoil).status_code == 201
    rows = {r.tracking_code: r for r in CastBallot.objects.select_related("outbox", "supersedes")}
    assert rows[second.tracking_code].supersedes_id == rows[first.tracking_code].pk
    assert [r.counting for r in (rows[first.tracking_code], rows[second.tracking_code])] == [
        False,
        True,
    ]
    supersedes = {first.tracking_code: None, second.tracking_code: first.tracking_code}
    for code, row in rows.items():
        data = bytes(row.outbox.entry)
        entry = json.loads(data)
        assert ledger_services.entry_bytes(entry["kind"], entry["payload"]) == data
        assert bytes(row.outbox.leaf_hash) == merkle.leaf_hash(data)
        assert (
            entry["payload"]["tracking_code"] == code
            and entry["payload"]["ballot_sha256"] == row.sha256
        )
        if row.kind == "cast":
            assert (
                entry["kind"] == "ballot.cast"
                and entry["payload"]["supersedes"] == supersedes[code]
            )
        else:
            assert entry["kind"] == "ballot.spoiled" and "supersedes" not in entry["payload"]
    assert OutboxEntry.objects.filter(kind__startswith="ballot.").count() == 3


def test_the_entry_template_fills_to_the_entry_bytes() -> None:
    payload = {"election": "e", "tracking_code": "AAAA", "ballot_sha256": "00"}
    template = ledger_services.entry_template("ballot.cast", payload, "supersedes", max_chars=29)
    for value in (None, "ABCD-EFGH-IJKL-MNOP-QRST-UVWX"):
        assert template.fill(value) == ledger_services.entry_bytes(
            "ballot.cast", {**payload, "supersedes": value}
        )


def test_the_lean_view_leaves_other_requests_to_drf(election: Election) -> None:
    client = Client()
    answer = client.put(url(election.slug), data="{}", content_type="application/json")
    assert answer.status_code == 405 and answer.json()["error"] == "method_not_allowed"
    answer = client.post(url(election.slug), data="x=1", content_type="text/plain")
    assert answer.status_code == 415 and answer.json()["error"] == "unsupported_media_type"
    answer = client.post(url(election.slug), data="", content_type="application/json")
    assert answer.status_code == 400 and answer.json()["error"] == "malformed_cast"
    answer = client.post(url("nope", "/spoiled"), data="{}", content_type="application/json")
    assert answer.status_code == 404 and answer.json() == {
        "error": "not_found",
        "detail": "There is no election with this address.",
        "status": 404,
    }
    assert answer["Content-Type"] == "application/json" and "csrftoken" not in answer.cookies


def test_the_debounced_kick_follows_the_commit(
    monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    kicked = threading.Event()
    calls: list[Any] = []

    def kick() -> None:
        calls.append(1)
        kicked.set()

    monkeypatch.setattr(ledger_services, "_kick_sequencer", kick)
    monkeypatch.setattr(ledger_services, "_debounced_kick", ledger_services._DebouncedKick())  # noqa: SLF001
    monkeypatch.setattr(
        ledger_services, "SEQUENCING_DEBOUNCE_S", 1.0
    )  # the second request comes well within
    with django_capture_on_commit_callbacks(execute=True):
        ledger_services.request_sequencing(debounce=True)
        assert not calls  # nothing before the commit
    with django_capture_on_commit_callbacks(execute=True):
        ledger_services.request_sequencing(debounce=True)  # rides on the armed timer
    assert kicked.wait(timeout=30)
    assert calls == [1]


def test_a_cached_open_election_never_lets_a_cast_in_after_the_close(
    election: Election, official_client: Client, settings: Any
) -> None:
    """The box may reuse an open election's row for its first check; the store's own re-check
    inside the transaction still refuses a cast once the close has committed, storing nothing."""
    from tests.voting.ballot_box_support import stored
    from voting.selectors import ballot_box as box_selectors
    from voting.services import lifecycle

    settings.CIVIC_BALLOT_BOX_ELECTION_CACHE_S = 3600.0
    box_selectors._open_elections.clear()  # noqa: SLF001
    client = Client()
    first, late = (
        new_voter(official_client, election.slug),
        new_voter(official_client, election.slug),
    )
    body = cast_body(election.slug, first, make_ballot(election, 0).to_json())
    assert post(client, url(election.slug), body).status_code == 201
    assert box_selectors._open_elections[election.slug][1].state == Election.State.OPEN  # noqa: SLF001
    lifecycle.close_early(
        make_user("closer", Role.OFFICIAL), election, "closing under a cached row"
    )
    before = stored()
    answer = post(
        client,
        url(election.slug),
        cast_body(election.slug, late, make_ballot(election, 1).to_json()),
    )
    assert answer.status_code == 409 and answer.json()["error"] == "election_not_open"
    assert stored() == before
    box_selectors._open_elections.clear()  # noqa: SLF001


def test_an_election_not_open_is_never_cached(election: Election, settings: Any) -> None:
    """Only open elections are kept, so an election that opens is seen by the very next cast."""
    from voting.selectors import ballot_box as box_selectors

    settings.CIVIC_BALLOT_BOX_ELECTION_CACHE_S = 3600.0
    box_selectors._open_elections.clear()  # noqa: SLF001
    Election.objects.filter(pk=election.pk).update(state=Election.State.SCHEDULED)
    assert (
        box_selectors.box_election_cached(election.slug, 3600.0).state == Election.State.SCHEDULED
    )
    assert election.slug not in box_selectors._open_elections  # noqa: SLF001
    Election.objects.filter(pk=election.pk).update(state=Election.State.OPEN)
    assert box_selectors.box_election_cached(election.slug, 3600.0).state == Election.State.OPEN
    assert election.slug in box_selectors._open_elections  # noqa: SLF001
    box_selectors._open_elections.clear()  # noqa: SLF001
