"""The charts in a real browser, their numbers checked against the database: the turnout over
time on the booth of an open election and on a published election's results page (an image
named by its title and description, the table alternative opened by keyboard, every row's
running count equal to the ballots that counted by then), and each log's growth on the ledger
page (circles on the witnessed checkpoints, squares on the anchored ones, the table listing the
checkpoints the database holds). axe-core finds no WCAG 2.2 A/AA violation in those regions."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.core.cache import cache
from django.utils import timezone

from civic.roles import Role
from civic_tlog import note
from ledger import selectors as ledger_selectors
from ledger import services as ledger_services
from ledger.models import Checkpoint, Log
from tests.browser.conftest import Drive, page_errors
from tests.ledger.test_ledger_growth import anchor
from tests.voting.ballot_box_support import box_settings  # noqa: F401
from tests.voting.tally_support import (
    account,
    close,
    eager_celery,  # noqa: F401
    encrypt,
    inline_sequencer,  # noqa: F401
    one_of_three,
    open_tally_election,
    spoil,
    store_ballot,
    tally_share_envelope,
)
from voting.models import CastBallot, Election
from voting.selectors import ballot_box as box
from voting.services import decryption_shares

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("box_settings", "eager_celery", "inline_sequencer"),
]


def first_casts_before(election: Election, until: datetime) -> int:
    """Ballot keys that had cast by ``until``: the ballots that count then."""
    return CastBallot.objects.filter(
        election=election, kind=CastBallot.Kind.CAST, supersedes__isnull=True, received_at__lt=until
    ).count()


def check_turnout_chart(found: dict[str, Any], election: Election, *, last_closed: bool) -> None:
    assert found["images"] == 1 and found["styled"] == 0 and found["axe"] == []
    assert found["name"].startswith("Ballots that count over time | A line of the ballots")
    assert found["path"].startswith("M") and found["lineStroke"] not in ("", "none")
    assert found["open"] is True and found["rows"]
    rows = found["rows"]
    casts = CastBallot.objects.filter(election=election, kind=CastBallot.Kind.CAST).count()
    assert sum(int(r["cells"][2]) for r in rows) == casts
    for row in rows[:-1] if not last_closed else rows:
        until = datetime.fromisoformat(row["times"][1])
        if row is rows[-1]:
            until += timedelta(seconds=1)  # the last bucket holds its end
        assert int(row["cells"][3]) == first_casts_before(election, until), row
    assert int(rows[-1]["cells"][3]) == box.turnout(election)["counting"]
    assert found["yLabels"][0] == "0" and found["xLabels"]


def test_turnout_and_ledger_charts_match_the_database(drive: Drive, settings: Any) -> None:
    settings.ANCHOR_RPC_URL = ""  # anchoring off: the recorded anchors are all there is
    official = account("clerk", Role.OFFICIAL)
    now = timezone.now()

    # an open election: key1 casts 50 min ago and re-votes 20 min ago, key2 casts 30 min ago,
    # key3 challenges a ballot 10 min ago
    live = open_tally_election("charts-open", official).election
    Election.objects.filter(pk=live.pk).update(opens_at=now - timedelta(hours=1))
    for key, minutes, option in (("key1", 50, "a"), ("key2", 30, "b"), ("key1", 20, "c")):
        ballot = store_ballot(live, encrypt(live, one_of_three(option)), key)
        CastBallot.objects.filter(pk=ballot.pk).update(received_at=now - timedelta(minutes=minutes))
    spoiled = spoil(live, one_of_three("a"), "key3")
    CastBallot.objects.filter(pk=spoiled.pk).update(received_at=now - timedelta(minutes=10))

    # a published election with three voters
    te = open_tally_election("charts-done", official)
    for n, option in enumerate("aba"):
        store_ballot(te.election, encrypt(te.election, one_of_three(option)), f"done{n}")
    close(te.election, official)
    for index in (1, 2):
        decryption_shares.submit_share(
            slug=te.slug, user=te.trustees[index - 1], document=tally_share_envelope(te, index)
        )
    assert te.refresh().state == Election.State.PUBLISHED

    # the ledger: checkpoints signed, the latest of each log cosigned, the city's anchored
    ledger_services.sign_checkpoints()
    signer, verifier = note.generate_cosigner("observer.test")
    ledger_services.register_observer(verifier)
    for log in Log.objects.all():
        latest = ledger_selectors.latest_checkpoint(log)
        if latest is not None:
            line = note.cosign(latest.body, signer, 1_790_000_000)
            ledger_services.add_cosignature(log.name, latest.body, line)
    anchor(ledger_selectors.latest_checkpoint(Log.objects.get(name="city")), 5)

    for election in (live, te.refresh()):  # a run moments ago may have kept its own
        cache.delete(box.timeline_cache_key(election))
    result = drive("charts.mjs", openSlug=live.slug, publishedSlug=te.slug)

    live.refresh_from_db()
    check_turnout_chart(result["booth"], live, last_closed=False)
    assert result["booth"]["counting"] == "2"
    assert "Reload the page to bring it up to date." in result["booth"]["caption"]
    check_turnout_chart(result["results"], te.refresh(), last_closed=True)

    assert [t.split(":")[0] for t in result["legend"]] == ["Log size (entries)", "Circle", "Square"]
    logs = {log.name: log for log in Log.objects.filter(checkpoints__isnull=False).distinct()}
    assert set(result["logs"]) == set(logs)
    for name, found in result["logs"].items():
        assert found["images"] == 1 and found["styled"] == 0 and found["open"], name
        assert found["name"].startswith(f"Size of the log {name} over time | A step line"), name
        checkpoints = Checkpoint.objects.filter(log=logs[name]).order_by("size")
        assert [int(r["data"]["size"]) for r in found["rows"]] == [c.size for c in checkpoints]
        witnessed = [r for r in found["rows"] if r["data"]["witnessed"] == "1"]
        assert len(witnessed) == found["circles"] == 1, name  # the cosigned latest one
        assert int(witnessed[0]["data"]["size"]) == logs[name].tree_size
        anchored = [r for r in found["rows"] if r["data"]["anchored"] == "1"]
        assert len(anchored) == found["squares"] == (1 if name == "city" else 0), name
        assert found["counts"]["checkpoints"] == str(checkpoints.count())
    assert "yes, block 5 of chain 31337" in result["logs"]["city"]["rows"][-1]["cells"][3]
    assert result["ledgerAxe"] == []
    assert page_errors(result["consoleErrors"]) == []
