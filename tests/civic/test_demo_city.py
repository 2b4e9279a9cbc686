"""The demo city's elections (`make run` seeds them): one open election and one published with
results, simulated through the real services; seeding again changes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from civic.demo import seed_demo_city
from ledger.models import OutboxEntry
from tests.identity.support_identity import identity_settings  # noqa: F401
from tests.voting.ballot_box_support import box_settings  # noqa: F401
from voting.demo import DEMO_PUBLISHED_SLUG, DEMO_PUBLISHED_VOTERS, DEMO_SLUG
from voting.models import CastBallot, DecryptionShare, Election

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.slow,
    pytest.mark.usefixtures("box_settings", "identity_settings"),
]


@pytest.fixture
def var_dir(settings: Any, tmp_path: Path) -> Path:
    settings.VAR_DIR = tmp_path
    return tmp_path


def snapshot() -> tuple[int, int, int, int]:
    return (
        Election.objects.count(),
        CastBallot.objects.count(),
        DecryptionShare.objects.count(),
        OutboxEntry.objects.filter(kind__startswith="election.").count(),
    )


def test_the_demo_city_has_an_open_and_a_published_election_and_seeding_again_changes_nothing(
    var_dir: Path,
) -> None:
    seed_demo_city()
    assert Election.objects.get(slug=DEMO_SLUG).state == Election.State.OPEN
    published = Election.objects.get(slug=DEMO_PUBLISHED_SLUG)
    assert published.state == Election.State.PUBLISHED
    results = published.tally.results
    assert len(results["trustees"]) == 2 and set(results["trustees"]) <= {1, 2, 3}
    # one vote per counting ballot in the one-choice questions: every simulated resident counted
    assert sum(results["contests"]["library"].values()) == DEMO_PUBLISHED_VOTERS
    assert sum(results["contests"]["park"].values()) == DEMO_PUBLISHED_VOTERS
    assert published.tally.frozen["counting"] == DEMO_PUBLISHED_VOTERS
    assert CastBallot.objects.filter(election=published, kind=CastBallot.Kind.SPOILED).exists()
    assert CastBallot.objects.filter(
        election=published, counting=False, kind=CastBallot.Kind.CAST
    ).exists()
    # the demo trustees keyed it: their key files are under var/demo_trustees/
    assert (var_dir / "demo_trustees" / f"trustee-a-{DEMO_PUBLISHED_SLUG}.key").exists()

    before = snapshot()
    seed_demo_city()
    assert snapshot() == before
    assert Election.objects.get(slug=DEMO_PUBLISHED_SLUG).pk == published.pk
