"""Observers' reports over HTTP: a signed civic-audit-report/1 from a registered observer is
stored once (a resend is idempotent) and shown on the results page, which says "verified" once
enough distinct observers passed the record; every refusal answers 4xx JSON and stores nothing."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from civic_observer.audit import AuditReport as ObserverReport
from civic_observer.state import load_signer
from ledger.models import Observer
from tests.identity.support_identity import identity_settings  # noqa: F401
from tests.voting.ballot_box_support import box_settings  # noqa: F401
from tests.voting.record_support import Published, observer_state, published_election, vote
from tests.voting.tally_support import (
    eager_celery,  # noqa: F401
    inline_sequencer,  # noqa: F401
)
from tests.voting.test_record_export import audit, streamed
from voting.models import AuditReport, Election
from voting.services import audit_reports

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures(
        "box_settings", "identity_settings", "eager_celery", "inline_sequencer"
    ),
]


def reports_url(slug: str, tail: str = "") -> str:
    return f"/api/voting/elections/{slug}/audit-reports{tail}"


def send(slug: str, body: Any, raw: bool = False) -> Any:
    data = body if raw else json.dumps(body)
    return Client(enforce_csrf_checks=True).post(
        reports_url(slug), data=data, content_type="application/json"
    )


def refused(response: Any, status: int, error: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["error"] == error and body["status"] == status and body["detail"]
    return body


@pytest.fixture
def published() -> Published:
    return published_election("report-vote", voters=4, revotes=(1,), challenges=(2,))


@pytest.fixture
def report_of(published: Published, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Any:
    """make(name, registered=True, edit=None): a signed report of the honest record by observer ``name``."""
    text = streamed(published.slug)

    def make(name: str, *, registered: bool = True, edit: Any = None) -> dict[str, Any]:
        if registered:
            state, _ = observer_state(tmp_path, name, capsys)
        else:
            from civic_observer import cli

            state = tmp_path / name
            assert cli.main(["init", "--state", str(state), "--name", name]) == 0
            capsys.readouterr()
        report: ObserverReport = audit(text, published.election)
        if edit is not None:
            edit(report)
        report.sign(load_signer(state))
        return report.to_json()

    return make


def test_a_report_is_stored_once_listed_and_shown(published: Published, report_of: Any) -> None:
    document = report_of("observer.one")
    assert document["result"] == "pass"
    first = send(published.slug, document)
    assert first.status_code == 201, first.content
    assert first.json()["stored"] is True and first.json()["result"] == "pass"
    again = send(published.slug, document)
    assert again.status_code == 200 and again.json()["stored"] is False
    assert again.json()["id"] == first.json()["id"]
    assert AuditReport.objects.count() == 1
    listing = Client().get(reports_url(published.slug)).json()
    assert listing["verified"] is True and listing["required"] == 1
    [summary] = listing["reports"]
    assert summary["observer"] == "observer.one" and summary["result"] == "pass"
    one = Client().get(reports_url(published.slug, f"/{summary['id']}"))
    assert one.status_code == 200 and one.json() == document
    assert Client().get(reports_url(published.slug, "/999999")).status_code == 404
    page = Client().get(f"/voting/{published.slug}/results/").content.decode()
    assert "observer.one" in page and reports_url(published.slug, f"/{summary['id']}") in page
    assert "<strong>Verified</strong>" in page
    assert f"/api/voting/elections/{published.slug}/record.zip" in page
    assert published.election.tally.record_sha256 in page


def test_verified_needs_passing_reports_of_distinct_observers(
    published: Published, report_of: Any
) -> None:
    Election.objects.filter(pk=published.te.election.pk).update(required_observer_reports=2)
    assert send(published.slug, report_of("observer.a")).status_code == 201

    def failing(report: ObserverReport) -> None:
        step = next(s for s in report.steps if s.id == "A6")
        step.fail("tally", "made up for the test")

    assert send(published.slug, report_of("observer.b", edit=failing)).status_code == 201
    page = Client().get(f"/voting/{published.slug}/results/").content.decode()
    assert "Not verified yet: 1 of the 2 passing observer reports required." in page
    assert "Failed at steps A6" in page
    assert send(published.slug, report_of("observer.c")).status_code == 201
    page = Client().get(f"/voting/{published.slug}/results/").content.decode()
    assert "<strong>Verified</strong>" in page and "2 independent observers" in page


def test_every_refusal_is_4xx_json_and_stores_nothing(
    published: Published, report_of: Any, settings: Any
) -> None:
    slug = published.slug
    good = report_of("observer.good")
    refused(send(slug, report_of("observer.stranger", registered=False)), 403, "unknown_observer")
    Observer.objects.filter(name="observer.good").update(active=False)
    refused(send(slug, good), 403, "unknown_observer")
    Observer.objects.filter(name="observer.good").update(active=True)

    forged = copy.deepcopy(good)
    forged["ballots"]["counting"] += 1
    refused(send(slug, forged), 422, "bad_report_signature")
    refused(send(slug, {**good, "signature": "not base64!"}), 422, "bad_report_signature")

    def other_record(report: ObserverReport) -> None:
        report.record_sha256 = "ab" * 32

    def other_election(report: ObserverReport) -> None:
        report.election = "another-vote"

    refused(send(slug, report_of("observer.h", edit=other_record)), 422, "wrong_record")
    refused(send(slug, report_of("observer.e", edit=other_election)), 422, "wrong_record")

    refused(send(slug, "{not json", raw=True), 400, "invalid")
    refused(send(slug, '{"format": 1, "format": 2}', raw=True), 400, "invalid")
    refused(send(slug, [good]), 400, "invalid")
    refused(send(slug, {k: v for k, v in good.items() if k != "steps"}), 400, "malformed_report")
    refused(send(slug, {**good, "format": "civic-audit-report/9"}), 400, "malformed_report")
    refused(send(slug, {**good, "result": "fail"}), 422, "inconsistent_report")  # against its steps
    refused(send(slug, {**good, "observer": "me"}), 400, "malformed_report")
    big = {**good, "tool": "x" * (audit_reports.MAX_REPORT_BYTES + 1)}
    refused(send(slug, big), 413, "payload_too_large")
    refused(send("no-such-vote", good), 404, "not_found")
    refused(Client().get(reports_url("no-such-vote")), 404, "not_found")
    assert AuditReport.objects.count() == 0


def test_no_report_before_the_record_is_published(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    te, *_ = vote("early-vote", 1)
    state, _ = observer_state(tmp_path, "observer.early", capsys)
    report = ObserverReport([], election=te.slug, record_sha256="00" * 32)
    from civic_observer.audit import AuditStep

    report.steps = [AuditStep("R1", "Record loads strictly")]
    report.sign(load_signer(state))
    response = send(te.slug, report.to_json())
    assert response.status_code == 409, response.content
    assert response.json()["detail"] == "this election has no published record to report on yet"
    assert AuditReport.objects.count() == 0
    assert Client().get(f"/voting/{te.slug}/results/").status_code == 404
