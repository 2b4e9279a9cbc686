"""The demo city's elections (`make run` seeds them): one open election and one published with
results, simulated through the real services, and the demo observer's passing report on it,
verified by the server like any posted report; seeding again changes nothing."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from civic.demo import seed_demo_city
from civic_observer import cli as observer_cli
from civic_observer.audit import verify_report
from ledger import services as ledger_services
from ledger.models import Observer, OutboxEntry
from tests.identity.support_identity import identity_settings  # noqa: F401
from tests.voting.ballot_box_support import box_settings  # noqa: F401
from voting.demo import (
    DEMO_PUBLISHED_SLUG,
    DEMO_PUBLISHED_VOTERS,
    DEMO_SLUG,
    demo_observer_report,
    demo_observer_state,
)
from voting.models import AuditReport, CastBallot, DecryptionShare, Election

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.slow,
    pytest.mark.usefixtures("box_settings", "identity_settings"),
]


DEMO_OBSERVER = "demo-observer.civic.invalid"


@pytest.fixture
def var_dir(settings: Any, tmp_path: Path) -> Path:
    settings.VAR_DIR = tmp_path
    return tmp_path


def init_observer(state: Path, name: str, capsys: pytest.CaptureFixture[str]) -> str:
    """What scripts/run_demo.sh does before the seed: `civic_observer init`, then the key's
    registration (manage.py ledger_register_observer)."""
    assert observer_cli.main(["init", "--state", str(state), "--name", name]) == 0
    vkey = capsys.readouterr().out.strip().splitlines()[-1]
    ledger_services.register_observer(vkey)
    return vkey


def snapshot() -> tuple[int, int, int, int, int]:
    return (
        Election.objects.count(),
        CastBallot.objects.count(),
        DecryptionShare.objects.count(),
        OutboxEntry.objects.filter(kind__startswith="election.").count(),
        AuditReport.objects.count(),
    )


def test_the_demo_city_has_an_open_and_a_published_election_and_seeding_again_changes_nothing(
    var_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    vkey = init_observer(demo_observer_state(), DEMO_OBSERVER, capsys)
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

    # the demo observer audited it and its signed report passed the server's checks
    [report] = AuditReport.objects.filter(election=published)
    assert report.passed and report.observer.verifier_key == vkey
    assert report.observer.name == DEMO_OBSERVER
    document = report.report
    assert document["result"] == "pass" and verify_report(document)
    assert all(step["status"] == "PASS" for step in document["steps"])
    assert {"R2", "V14", "A2", "A3", "A4", "A6"} <= {step["id"] for step in document["steps"]}
    assert document["record_sha256"] == published.tally.record_sha256
    assert document["ballots"]["counting"] == DEMO_PUBLISHED_VOTERS
    listing = Client().get(f"/api/voting/elections/{DEMO_PUBLISHED_SLUG}/audit-reports").json()
    assert listing["verified"] is True
    assert [r["observer"] for r in listing["reports"]] == [DEMO_OBSERVER]
    page = Client().get(f"/voting/{DEMO_PUBLISHED_SLUG}/results/").content.decode()
    assert DEMO_OBSERVER in page and "Passed: every check holds" in page
    assert 'id="verified-status"><strong>Verified</strong>' in page.replace("\n", "")

    before = snapshot()
    out = io.StringIO()
    call_command("seed_demo", stdout=out)  # what make run prints each time
    assert snapshot() == before
    assert (
        f"Published election {DEMO_PUBLISHED_SLUG} (verified; observer reports: "
        f"{DEMO_OBSERVER}: pass)" in out.getvalue()
    )
    assert Election.objects.get(slug=DEMO_PUBLISHED_SLUG).pk == published.pk
    assert demo_observer_report(published).pk == report.pk  # once: the stored report

    # without a key, or with a key the city never registered, the seed stores nothing
    assert demo_observer_report(published, var_dir / "nobody") is None
    stranger = var_dir / "stranger"
    assert observer_cli.main(["init", "--state", str(stranger), "--name", "stranger.invalid"]) == 0
    assert demo_observer_report(published, stranger) is None
    # a retired observer's key no longer reports either
    Observer.objects.filter(verifier_key=vkey).update(active=False)
    assert demo_observer_report(published) is None
    assert snapshot() == before
