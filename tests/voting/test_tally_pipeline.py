"""The tally pipeline on the service layer: the box frozen at close (waiting for the sequencer and a
signed checkpoint), the chunked aggregation equal to one pass whatever the chunk size, retried and
duplicated chunks storing nothing twice, the whole chain run by Celery (eager), and an election
without ballots."""

from __future__ import annotations

import json
from typing import Any

import pytest

from civic.roles import Role
from civic_votecrypto.ballot import EncryptedBallot
from civic_votecrypto.decryption import aggregate_ballots
from ledger.models import Checkpoint, Entry, Log
from tests.identity.support_identity import identity_settings  # noqa: F401
from tests.voting.ballot_box_support import box_settings  # noqa: F401
from tests.voting.tally_support import (
    account,
    close,
    eager_celery,  # noqa: F401
    encrypt,
    inline_sequencer,  # noqa: F401
    one_of_three,
    open_tally_election,
    sequence,
    spoil,
    store_ballot,
    tally_share_envelope,
)
from voting.models import CastBallot, Election, Tally, TallyChunk
from voting.selectors.elections import crypto_context
from voting.services import aggregation, box_freeze, decryption_shares, results

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("box_settings", "identity_settings")]


def log_events(election: Election, kind: str) -> list[dict[str, Any]]:
    log = Log.objects.get(name=election.log_name)
    rows = (
        Entry.objects.filter(log=log, kind=kind).order_by("index").values_list("entry", flat=True)
    )
    return [json.loads(bytes(raw))["payload"] for raw in rows]


def voted(election: Election) -> dict[str, int]:
    """Seven voters, two of whom re-vote and one challenges a ballot: 5 + 2 rows, 7 counting."""
    plan = [
        ("k1", "a"),
        ("k2", "b"),
        ("k3", "a"),
        ("k1", "c"),
        ("k4", "c"),
        ("k5", "a"),
        ("k2", "a"),
        ("k6", "b"),
        ("k7", "b"),
    ]
    for key, option in plan:
        store_ballot(election, encrypt(election, one_of_three(option)), key)
    spoil(election, one_of_three("c"), "k3")
    return {"a": 3, "b": 2, "c": 2}  # k1 -> c, k2 -> a, k3 a, k4 c, k5 a, k6 b, k7 b


def single_pass(election: Election) -> dict[str, Any]:
    rows = CastBallot.objects.filter(election=election, counting=True).order_by("id")
    ballots = [EncryptedBallot.from_json(r.document) for r in rows]
    return aggregate_ballots(crypto_context(election).manifest, ballots).to_json()


def test_the_freeze_waits_for_the_sequencer_then_logs_box_frozen_and_starts_tallying(
    settings: Any,
) -> None:
    settings.CIVIC_TALLY_CHUNK_SIZE = 3
    official = account("clerk", Role.OFFICIAL)
    te = open_tally_election("freeze-vote", official)
    voted(te.election)
    close(te.election, official)

    waiting = box_freeze.freeze_box(te.election.pk)
    assert not waiting.frozen and "not sequenced" in waiting.waiting
    assert not Tally.objects.exists() and te.refresh().state == Election.State.CLOSED

    sequence()
    assert box_freeze.freeze_box(te.election.pk).frozen
    sequence()
    election = te.refresh()
    assert election.state == Election.State.TALLYING
    [frozen] = log_events(election, "election.box_frozen")
    assert {k: frozen[k] for k in ("counting", "cast", "spoiled")} == {
        "counting": 7,
        "cast": 9,
        "spoiled": 1,
    }
    log = Log.objects.get(name=election.log_name)
    last_ballot = (
        Entry.objects.filter(log=log, kind__startswith="ballot.").order_by("-index").first()
    )
    assert frozen["checkpoint"]["size"] > last_ballot.index
    checkpoint = Checkpoint.objects.get(log=log, size=frozen["checkpoint"]["size"])
    assert bytes(checkpoint.root_hash).hex() == frozen["checkpoint"]["root_hash"]
    assert [e["to"] for e in log_events(election, "election.tallying")] == ["tallying"]
    tally = election.tally
    assert (tally.chunk_size, tally.chunks_total, tally.chunks_done) == (3, 3, 0)
    # Idempotent: a second freeze (a replayed message) changes nothing.
    assert box_freeze.freeze_box(election.pk).frozen
    assert len(log_events(election, "election.box_frozen")) == 1


def test_a_cast_checked_before_the_close_but_stored_after_it_is_rolled_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The race the re-check inside the cast's transaction closes: the first "open" check passed
    (simulated by skipping it), then the election closed; the cast must store nothing."""
    from django.test import Client

    from tests.identity.support_identity import login
    from tests.voting.ballot_box_support import cast_body, new_voter, post, stored
    from voting.services import ballot_box

    official = account("clerk", Role.OFFICIAL)
    te = open_tally_election("late-vote", official)
    voter = new_voter(login(official), te.slug)
    close(te.election, official)
    monkeypatch.setattr(ballot_box, "_check_open", lambda election: None)
    before = stored()
    body = cast_body(te.slug, voter, encrypt(te.election, one_of_three("a")).to_json())
    answer = post(Client(), f"/api/voting/elections/{te.slug}/ballots", body)
    assert answer.status_code == 409 and answer.json()["error"] == "election_not_open"
    assert stored() == before


@pytest.mark.parametrize("chunk_size", [1, 2, 3, 7, 50])
def test_chunked_aggregation_equals_the_single_pass_aggregate(
    settings: Any, chunk_size: int
) -> None:
    settings.CIVIC_TALLY_CHUNK_SIZE = chunk_size
    official = account("clerk", Role.OFFICIAL)
    te = open_tally_election(f"chunks-{chunk_size}", official)
    voted(te.election)
    close(te.election, official)
    sequence()
    assert box_freeze.freeze_box(te.election.pk).frozen
    tally = Tally.objects.get(election=te.election)
    assert tally.chunks_total == -(-7 // chunk_size)

    order = list(reversed(range(tally.chunks_total)))  # any order: workers race
    assert not aggregation.combine(tally.pk)  # too early: nothing stored
    for index in order:
        assert aggregation.compute_chunk(tally.pk, index)
    first = TallyChunk.objects.get(tally=tally, index=0)
    # A retried (or duplicated) chunk stores nothing and counts nothing twice.
    assert not aggregation.compute_chunk(tally.pk, 0)
    assert TallyChunk.objects.get(tally=tally, index=0).sums == first.sums
    tally.refresh_from_db()
    assert tally.chunks_done == tally.chunks_total
    assert sum(TallyChunk.objects.filter(tally=tally).values_list("ballot_count", flat=True)) == 7
    with pytest.raises(ValueError):
        aggregation.compute_chunk(tally.pk, tally.chunks_total)

    assert aggregation.combine(tally.pk)
    assert not aggregation.combine(tally.pk)  # idempotent
    tally.refresh_from_db()
    assert tally.encrypted == single_pass(te.election)
    sequence()
    [computed] = log_events(te.election, "election.tally_computed")
    assert computed == {"election": te.slug, "ballot_count": 7, "tally_sha256": tally.tally_sha256}


@pytest.mark.usefixtures("eager_celery", "inline_sequencer")
def test_the_whole_chain_runs_from_the_close_through_celery(
    settings: Any,
    mailoutbox: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.CIVIC_TALLY_CHUNK_SIZE = 2
    official = account("clerk", Role.OFFICIAL)
    te = open_tally_election("chain-vote", official)
    expected = voted(te.election)
    # pytest-django's plain django_db never commits: run the on-commit callbacks as a commit would.
    with django_capture_on_commit_callbacks(execute=True):
        close(te.election, official)
    election = te.refresh()
    assert election.state == Election.State.TALLYING
    tally = election.tally
    assert tally.encrypted == single_pass(election) and tally.chunks_done == 4
    assert [m.to for m in mailoutbox] == [[u.email] for u in te.trustees]
    assert "civic-trustee decrypt" in mailoutbox[0].body and te.slug in mailoutbox[0].body

    # Trustees 1 and 3 decrypt; trustee 2 is absent.
    for index in (1, 3):
        with django_capture_on_commit_callbacks(execute=True):
            decryption_shares.submit_share(
                slug=te.slug, user=te.trustees[index - 1], document=tally_share_envelope(te, index)
            )
    election = te.refresh()
    assert election.state == Election.State.PUBLISHED
    tally = election.tally
    assert tally.results == {"trustees": [1, 3], "contests": {"q": expected}}
    sequence()
    [event] = log_events(election, "election.results")
    assert event == {"election": te.slug, "results_sha256": tally.results_sha256}
    [published] = log_events(election, "election.published")
    assert published["results_sha256"] == tally.results_sha256
    assert not results.publish_results(tally.pk)  # idempotent


@pytest.mark.usefixtures("eager_celery", "inline_sequencer")
def test_an_election_without_ballots_publishes_zeros_without_trustees(
    mailoutbox: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    official = account("clerk", Role.OFFICIAL)
    te = open_tally_election("empty-vote", official)
    with django_capture_on_commit_callbacks(execute=True):
        close(te.election, official)
    election = te.refresh()
    assert election.state == Election.State.PUBLISHED
    assert election.tally.frozen["counting"] == 0 and election.tally.chunks_total == 0
    assert election.tally.results == {"trustees": [], "contests": {"q": {"a": 0, "b": 0, "c": 0}}}
    assert mailoutbox == []


def test_the_sweep_queues_whatever_step_an_election_waits_for(
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    mailoutbox: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    """Messages lost (nothing queued at the close): the beat sweep freezes, sums the missing chunks,
    combines, notifies, and publishes once t shares are in."""
    from voting import tasks
    from voting.services import jobs

    settings.CIVIC_TALLY_CHUNK_SIZE = 3
    official = account("clerk", Role.OFFICIAL)
    te = open_tally_election("sweep-vote", official)
    expected = voted(te.election)
    close(te.election, official)  # its on-commit queueing never runs here: as if the broker lost it
    sequence()
    queued: list[tuple[str, tuple[Any, ...]]] = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(jobs, "send_now", lambda name, *args: queued.append((name, args)))
        assert tasks.advance_tallies() == ["sweep-vote: freeze"]
    assert queued == [(jobs.FREEZE_TASK, (te.election.pk,))]

    with django_capture_on_commit_callbacks(execute=False):  # the freeze's own queueing is lost too
        box_freeze.freeze_box(te.election.pk)
    tally = Tally.objects.get(election=te.election)
    aggregation.compute_chunk(tally.pk, 1)
    from civic.celery import app

    monkeypatch.setitem(app.conf, "task_always_eager", True)
    monkeypatch.setitem(app.conf, "task_eager_propagates", True)
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.advance_tallies() == ["sweep-vote: 2 chunks"]
    tally.refresh_from_db()
    assert tally.encrypted == single_pass(te.election) and len(mailoutbox) == 3
    for index in (2, 3):
        with django_capture_on_commit_callbacks(execute=False):
            decryption_shares.submit_share(
                slug=te.slug, user=te.trustees[index - 1], document=tally_share_envelope(te, index)
            )
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.advance_tallies() == ["sweep-vote: publish"]
    assert te.refresh().state == Election.State.PUBLISHED
    assert te.election.tally.results["contests"]["q"] == expected
    # The record's sealing waits for box_frozen to be sequenced; the sweep then seals it.
    sequence()
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.advance_tallies() == ["sweep-vote: record"]
    assert Tally.objects.get(election=te.election).record_sha256
    assert tasks.advance_tallies() == []
