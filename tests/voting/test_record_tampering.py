"""Tampering with what the server holds after publishing is caught by the observer's audit of the
record the server then streams, each failure naming its step and object: a stored ballot
changed, one dropped, one added, a partial decryption altered, a result altered, and a record
with a duplicated JSON key. Each tampering runs in a transaction rolled back afterwards, so the
one published election serves them all."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from django.db import transaction
from django.test import Client

from civic_observer.audit import AuditReport
from ledger import services as ledger_services
from ledger.models import OutboxEntry
from tests.identity.support_identity import identity_settings  # noqa: F401
from tests.voting.ballot_box_support import box_settings, make_ballot  # noqa: F401
from tests.voting.record_support import Published, published_election
from tests.voting.tally_support import (
    eager_celery,  # noqa: F401
    inline_sequencer,  # noqa: F401
)
from tests.voting.test_record_export import audit, record_url
from voting.models import BallotKey, CastBallot, DecryptionShare, Tally

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures(
        "box_settings", "identity_settings", "eager_celery", "inline_sequencer"
    ),
]


class Rollback(Exception):
    pass


def audited_after(
    published: Published, tamper: Callable[[], None], text_edit: Any = None
) -> AuditReport:
    """Tamper, fetch the record from the server, audit it against the log; then roll back."""
    report: list[AuditReport] = []
    try:
        with transaction.atomic():
            tamper()
            response = Client().get(record_url(published.slug))
            assert response.status_code == 200, response.content
            text = b"".join(response.streaming_content).decode()
            if text_edit is not None:
                text = text_edit(text)
            report.append(audit(text, published.election))
            raise Rollback
    except Rollback:
        pass
    return report[0]


def failures(report: AuditReport, step: str) -> list[tuple[str, str]]:
    return next(s.failures for s in report.steps if s.id == step)


def change_ballot(published: Published) -> str:
    row = CastBallot.objects.filter(
        election=published.te.election, kind="cast", counting=True
    ).order_by("id")[2]
    document = copy.deepcopy(row.document)
    other = make_ballot(published.te.election, 4, ballot_id=document["ballot_id"]).to_json()
    document["contests"] = other["contests"]
    CastBallot.objects.filter(pk=row.pk).update(document=document)
    return row.tracking_code


def drop_ballot(published: Published) -> str:
    row = (
        CastBallot.objects.filter(
            election=published.te.election, kind="cast", counting=True, supersedes=None
        )
        .order_by("-id")
        .first()
    )
    CastBallot.objects.filter(pk=row.pk).delete()
    return row.tracking_code


def add_ballot(published: Published) -> str:
    election = published.te.election
    template = CastBallot.objects.filter(election=election, kind="cast").order_by("id").first()
    ballot = make_ballot(election, 0)
    key = BallotKey.objects.create(election=election, public_key="A" * 43)
    outbox = OutboxEntry.objects.create(
        log=template.outbox.log,
        kind="ballot.cast",
        entry=b"{}",
        leaf_hash=b"\0" * 32,
        entry_index=10_000,
    )
    CastBallot.objects.create(
        election=election, ballot_key=key, kind="cast", ballot_id=ballot.ballot_id, token=template.token,
        key_signature=template.key_signature, document=ballot.to_json(), tracking_code=ballot.tracking_code,
        sha256="0" * 64, received_at=template.received_at, counting=True, outbox=outbox,
    )  # fmt: skip
    return ballot.tracking_code


def alter_share(published: Published) -> None:
    row = (
        DecryptionShare.objects.filter(election=published.te.election)
        .order_by("trustee__index")
        .first()
    )
    document = copy.deepcopy(row.document)
    body = document["body"]
    partial = body["contests"]["q"]["o0"]
    other = body["contests"]["q"]["o1"]
    partial["share"], other["share"] = other["share"], partial["share"]
    DecryptionShare.objects.filter(pk=row.pk).update(document=document)


def alter_result(published: Published) -> None:
    tally = Tally.objects.get(election=published.te.election)
    results = copy.deepcopy(tally.results)
    results["contests"]["q"]["o0"] += 1
    Tally.objects.filter(pk=tally.pk).update(results=results)


def duplicate_key(text: str) -> str:
    """The results section with its "trustees" key given twice (another value first)."""
    marker = '"results": {'
    assert text.count(marker) == 1
    return text.replace(marker, marker + '"trustees": [1, 2], ')


@pytest.fixture
def published() -> Published:
    return published_election("tamper-vote", voters=5, revotes=(1,), challenges=(2,))


def test_every_tampering_fails_the_audit_naming_the_step(
    published: Published, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ledger_services, "_kick_sequencer", lambda: None)
    honest = audited_after(published, lambda: None)
    assert honest.ok, "\n".join(honest.lines())

    codes: dict[str, str] = {}
    report = audited_after(published, lambda: codes.update(changed=change_ballot(published)))
    assert {"R2", "A3"} <= set(report.failed), report.lines()
    assert any(
        codes["changed"] in obj and "differs from its log entry" in why
        for obj, why in failures(report, "A3")
    )

    report = audited_after(published, lambda: codes.update(dropped=drop_ballot(published)))
    assert "A3" in report.failed, report.lines()
    assert any("is missing from the record" in why for _, why in failures(report, "A3"))

    report = audited_after(published, lambda: codes.update(added=add_ballot(published)))
    assert "A3" in report.failed, report.lines()
    assert any(
        codes["added"] in obj and "is not in the election log" in why
        for obj, why in failures(report, "A3")
    ), failures(report, "A3")

    report = audited_after(published, lambda: alter_share(published))
    assert "V10" in report.failed, report.lines()
    assert any("tally_shares" in obj for obj, _ in failures(report, "V10"))

    report = audited_after(published, lambda: alter_result(published))
    assert "V11" in report.failed, report.lines()
    assert any("q" in obj and "o0" in obj for obj, _ in failures(report, "V11")), failures(
        report, "V11"
    )

    report = audited_after(published, lambda: None, duplicate_key)
    assert report.failed == ["R1"], report.lines()
    assert "repeated" in failures(report, "R1")[0][1] or "duplicate" in failures(report, "R1")[0][1]
