"""20 concurrent casts under one ballot key, each thread on its own database connection, leave
exactly one current ballot, and it is the last in log order. Runs on SQLite (IMMEDIATE
transactions serialize the writers) and on PostgreSQL (the ballot key's row lock does)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from civic.roles import Role
from ledger import sequencer
from tests.identity.support_identity import identity_settings, login, make_user  # noqa: F401
from tests.voting.ballot_box_support import (  # noqa: F401
    box_settings,
    cast_body,
    make_ballot,
    new_voter,
    open_box,
    post,
)
from voting.models import BallotKey, CastBallot

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("box_settings")]
CASTS = 20


def test_concurrent_casts_under_one_key_leave_one_current_ballot() -> None:
    official = make_user("clerk", Role.OFFICIAL)
    election = open_box("rush", official)
    voter = new_voter(login(official), election.slug)
    ballots = [make_ballot(election, n % 5) for n in range(CASTS)]
    bodies = [cast_body(election.slug, voter, b.to_json()) for b in ballots]
    url = f"/api/voting/elections/{election.slug}/ballots"
    start = threading.Barrier(CASTS)
    results: list[Any] = [None] * CASTS

    def cast(n: int) -> None:
        try:
            start.wait()
            results[n] = post(Client(), url, bodies[n]).status_code
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            results[n] = repr(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=cast, args=(n,)) for n in range(CASTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert results == [201] * CASTS
    assert BallotKey.objects.count() == 1
    assert CastBallot.objects.count() == CASTS
    [current] = CastBallot.objects.filter(counting=True)
    # a chain: every ballot but the first replaced exactly one earlier one
    assert CastBallot.objects.exclude(supersedes=None).count() == CASTS - 1
    sequencer.sequence_all()
    by_log = sorted(CastBallot.objects.select_related("outbox"), key=lambda r: r.outbox.entry_index)
    assert by_log[-1].pk == current.pk
    for earlier, later in zip(by_log, by_log[1:], strict=False):
        assert later.supersedes_id == earlier.pk
