"""The results page in a real browser once an observer's signed report has arrived: the record's
hash and downloads, the report's observer, verdict, time and link, and "verified"."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from civic_observer.state import load_signer
from tests.browser.conftest import Drive, page_errors
from tests.identity.support_identity import identity_settings  # noqa: F401
from tests.voting.ballot_box_support import box_settings  # noqa: F401
from tests.voting.record_support import observer_state, published_election
from tests.voting.tally_support import (
    eager_celery,  # noqa: F401
    inline_sequencer,  # noqa: F401
)
from tests.voting.test_record_export import audit, streamed

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures(
        "box_settings", "identity_settings", "eager_celery", "inline_sequencer"
    ),
]


def test_results_page_shows_the_record_and_a_passing_report(
    drive: Drive, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    published = published_election("browser-report", voters=3, revotes=(), challenges=(1,))
    state, _ = observer_state(tmp_path, "observer.browser", capsys)
    report = audit(streamed(published.slug), published.election)
    report.sign(load_signer(state))
    answer = Client().post(
        f"/api/voting/elections/{published.slug}/audit-reports",
        data=json.dumps(report.to_json()),
        content_type="application/json",
    )
    assert answer.status_code == 201, answer.content
    sha256 = published.election.tally.record_sha256

    result: dict[str, Any] = drive("results_report.mjs", slug=published.slug)
    assert "error" not in result, result
    assert result["recordSha256"] == sha256
    assert result["downloads"]["record-json"]["status"] == 200
    assert result["downloads"]["record-json"]["type"] == "application/json"
    assert result["downloads"]["record-zip"]["status"] == 200
    assert result["downloads"]["record-zip"]["type"] == "application/zip"
    assert result["verified"].startswith("Verified: 1 independent observer re-verified")
    [row] = result["reports"]
    assert row["observer"] == "observer.browser" and row["verdict"] == "Passed: every check holds"
    assert row["time"] and row["link"].startswith(
        f"/api/voting/elections/{published.slug}/audit-reports/"
    )
    assert result["reportResult"] == "pass" and result["reportRecord"] == sha256
    for found in result["findings"]:
        assert len(found["h1"]) == 1 and found["unlabelled"] == [] and found["duplicateIds"] == []
    assert page_errors(result["consoleErrors"]) == []
