"""Turnout over time (voting.selectors.ballot_box.turnout_timeline): buckets of a nice width from
the opening to now or to the close, ballots cast per bucket (re-votes in, challenged ballots out),
the running count of ballots that count (equal to the box's turnout at the end), and the chart
and table the public pages draw from it."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.core.cache import cache
from django.test import Client
from redis.exceptions import RedisError

from civic.roles import Role
from ledger.models import OutboxEntry
from tests.voting.ballot_box_support import box_settings  # noqa: F401
from tests.voting.tally_support import (
    account,
    close,
    encrypt,
    one_of_three,
    open_tally_election,
    spoil,
    store_ballot,
)
from voting.models import CastBallot, Election
from voting.selectors import ballot_box as box

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("box_settings")]

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # 10:00 in Europe/Oslo


def at(seconds: int) -> datetime:
    return T0 + timedelta(seconds=seconds)


def cast_at(election: Election, key: str, seconds: int, option: str = "a") -> CastBallot:
    ballot = store_ballot(election, encrypt(election, one_of_three(option)), key)
    CastBallot.objects.filter(pk=ballot.pk).update(received_at=at(seconds))
    return ballot


@pytest.fixture
def voting_election() -> Election:
    """Open since T0: key1 at +90 s and again at +330 s (a re-vote), key2 at +200 s, key3 at
    +400 s; key4 challenges a ballot at +250 s (never counted)."""
    official = account("clerk", Role.OFFICIAL)
    election = open_tally_election("timeline-vote", official).election
    Election.objects.filter(pk=election.pk).update(opens_at=T0, closes_at=at(86400))
    election.refresh_from_db()
    cast_at(election, "key1", 90)
    cast_at(election, "key2", 200, "b")
    challenged = spoil(election, one_of_three("c"), "key4")
    CastBallot.objects.filter(pk=challenged.pk).update(received_at=at(250))
    cast_at(election, "key1", 330, "c")
    cast_at(election, "key3", 400)
    return election


def test_buckets_count_casts_and_the_running_turnout_in_nice_widths(
    voting_election: Election,
) -> None:
    timeline = box.turnout_timeline(voting_election, now=at(600), max_buckets=10)
    assert timeline is not None
    assert timeline.bucket_seconds == 60 and timeline.start == T0 and timeline.end == at(600)
    assert [(b.start, b.end) for b in timeline.buckets] == [
        (at(60 * i), at(60 * (i + 1))) for i in range(10)
    ]
    assert [b.cast for b in timeline.buckets] == [0, 1, 0, 1, 0, 1, 1, 0, 0, 0]
    assert [b.new_voters for b in timeline.buckets] == [0, 1, 0, 1, 0, 0, 1, 0, 0, 0]
    assert [b.counting for b in timeline.buckets] == [0, 1, 1, 2, 2, 2, 3, 3, 3, 3]
    # the last point is the box's own turnout: ballots that count, re-votes once, no challenge
    assert timeline.counting == box.turnout(voting_election)["counting"] == 3
    assert timeline.cast == box.turnout(voting_election)["cast"] == 4

    # the bucket width is a nice one, at most 48 buckets, whatever the time open
    for now, width in ((at(600), 15), (at(3 * 3600), 300), (at(3 * 86400), 86400)):
        timeline = box.turnout_timeline(voting_election, now=min(now, at(86400)))
        assert timeline is not None
        assert len(timeline.buckets) <= box.TIMELINE_MAX_BUCKETS
        assert timeline.buckets[-1].counting == 3
        if now <= at(86400):
            assert timeline.bucket_seconds == width
    # while open the axis ends at the closing time at the latest
    assert box.turnout_timeline(voting_election, now=at(5 * 86400)).end == at(86400)


def test_a_closed_election_ends_at_its_close_or_closing_time(voting_election: Election) -> None:
    """Closed early (the close before the closing time): the axis ends at the close; closed by the
    scheduler after its closing time: at the closing time (no ballot is taken after it)."""
    official = account("clerk2", Role.OFFICIAL)
    assert box.closed_at(voting_election) is None
    close(voting_election, official)
    closed = OutboxEntry.objects.get(log__name=voting_election.log_name, kind="election.closed")
    assert box.closed_at(voting_election) == closed.created_at
    late = box.turnout_timeline(voting_election, now=closed.created_at + timedelta(days=9))
    assert late is not None and late.end == at(86400) and late.counting == 3
    Election.objects.filter(pk=voting_election.pk).update(
        closes_at=closed.created_at + timedelta(days=1)
    )
    voting_election.refresh_from_db()
    early = box.turnout_timeline(voting_election, now=closed.created_at + timedelta(days=9))
    assert early is not None and early.end == closed.created_at and early.counting == 3


def test_a_flat_line_without_ballots_and_none_before_the_opening() -> None:
    official = account("clerk", Role.OFFICIAL)
    election = open_tally_election("timeline-empty", official).election
    timeline = box.turnout_timeline(election)
    assert timeline is not None and timeline.buckets
    assert {b.counting for b in timeline.buckets} == {0}
    for state in (Election.State.SCHEDULED, Election.State.CANCELLED, Election.State.DRAFT):
        election.state = state
        assert box.turnout_timeline(election) is None


def test_the_booth_and_the_official_page_show_the_chart_and_its_table(
    voting_election: Election, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pages draw the selector's numbers: the table's last row is the turnout, the chart is
    an image named by its title and description, and nothing is coloured in (classes only)."""
    Election.objects.filter(pk=voting_election.pk).update(opens_at=T0 - timedelta(hours=1))
    cache.delete(box.timeline_cache_key(voting_election))  # a run moments ago kept its own
    official = account("clerk3", Role.OFFICIAL)
    client = Client()
    client.force_login(official)
    for url, chart_id in (
        (f"/voting/{voting_election.slug}/booth/", "booth-turnout-timeline"),
        (f"/voting/official/{voting_election.slug}/", "official-turnout-timeline"),
    ):
        page = client.get(url)
        assert page.status_code == 200, url
        html = page.content.decode()
        assert f'id="{chart_id}"' in html and 'data-counting="3"' in html, url
        assert f'aria-labelledby="{chart_id}-title {chart_id}-desc"' in html
        assert "style=" not in html.split(f'id="{chart_id}"')[1].split("</details>")[0]
        rows = re.findall(r'<td class="cast">(\d+)</td><td class="counting">(\d+)</td>', html)
        assert rows and rows[-1][1] == "3" and sum(int(c) for c, _ in rows) == 4, url

    # the pages keep the timeline 15 s, and a lost cache only costs the scan
    cache.delete(box.timeline_cache_key(voting_election))
    first = box.cached_turnout_timeline(voting_election)
    assert first is not None and first.counting == 3
    cast_at(voting_election, "key9", 500)
    assert box.cached_turnout_timeline(voting_election).counting == 3  # kept
    assert box.turnout_timeline(voting_election).counting == 4  # the selector itself is live

    def lost(*args: object, **kwargs: object) -> None:
        raise RedisError("connection refused")

    monkeypatch.setattr(cache, "get", lost)
    monkeypatch.setattr(cache, "set", lost)
    assert box.cached_turnout_timeline(voting_election).counting == 4
    monkeypatch.undo()
    cache.delete(box.timeline_cache_key(voting_election))
