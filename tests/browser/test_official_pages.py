"""The officials' pages in Chromium: write a proposal with two question types, see a refusal
next to its field, preview it as the booth shows it, start the key ceremony."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from civic.roles import Role
from ledger.models import OutboxEntry
from tests.browser.conftest import Drive, page_errors
from tests.identity.support_identity import PASSWORD, make_user
from voting.models import Election

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_official_writes_previews_and_starts_the_ceremony(drive: Drive) -> None:
    make_user("clerk", Role.OFFICIAL)
    for name in ("tove", "ulf", "vera"):
        make_user(name, Role.TRUSTEE)
    oslo = ZoneInfo("Europe/Oslo")
    opens = (timezone.now() + timedelta(days=2)).astimezone(oslo).replace(second=0, microsecond=0)
    closes = opens + timedelta(days=7)
    result = drive(
        "official_proposal.mjs",
        username="clerk",
        password=PASSWORD,
        title="Harbour bath",
        description="Should the city build a **harbour bath**? <script>alert(1)</script>",
        opensAt=opens.strftime("%Y-%m-%dT%H:%M"),
        closesAt=closes.strftime("%Y-%m-%dT%H:%M"),
        trustees=["tove", "ulf", "vera"],
        threshold=2,
        questions=["Build the harbour bath?", "Harbour budget"],
        projects=["Pool | 3", "Sauna | 2", "Jetty | 1"],
        cap=4,
    )
    # The refused form answers 400 on purpose; Chromium logs that status, nothing else may appear.
    errors = page_errors(result["consoleErrors"])
    assert [e for e in errors if "/voting/official/new/" not in e or "status of 400" not in e] == []
    assert len(errors) == 1
    for page in result["audits"]:
        assert page["unlabelled"] == [] and page["duplicateIds"] == [] and len(page["h1"]) == 1, page

    assert "larger than the number of trustees" in result["thresholdError"]
    assert result["previewUrl"] == "/voting/official/harbour-bath/"
    assert "The draft was saved" in result["saved"]
    assert "<strong>harbour bath</strong>" in result["description"] and "<script" not in result["description"]
    assert result["legends"] == ["Build the harbour bath?", "Harbour budget"]
    assert "Pool (3 units)" in result["optionLabels"] and "Yes" in result["optionLabels"]

    assert "key ceremony has started" in result["afterCeremony"]
    assert "Key ceremony" in result["state"] and result["editLinks"] == 0
    election = Election.objects.get(slug="harbour-bath")
    assert election.state == Election.State.CEREMONY
    assert election.opens_at == opens
    assert [c["type"] for c in election.manifest["contests"]] == ["yes_no_abstain", "budget"]
    assert list(election.trustees.values_list("user__username", flat=True)) == ["tove", "ulf", "vera"]
    assert OutboxEntry.objects.filter(log__name=election.log_name, kind="election.ceremony").exists()
