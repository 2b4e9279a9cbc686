"""The election record from the server: sealed once at publishing (hash signed by the city and
logged as election.record), streamed byte-identical on every GET, as JSON and as a zip, and by
``manage.py export_election_record``; the offline audit of what the server streams passes; every
refusal is a 4xx JSON answer or a command error."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from civic_observer.audit import LogCopy, audit_election
from civic_votecrypto import record
from identity import keys as city_keys
from ledger.models import Entry, Log
from tests.identity.support_identity import identity_settings  # noqa: F401
from tests.voting.ballot_box_support import box_settings  # noqa: F401
from tests.voting.record_support import Published, publish_with_shares, published_election, vote
from tests.voting.tally_support import (
    eager_celery,  # noqa: F401
    inline_sequencer,  # noqa: F401
)
from voting.models import Election
from voting.services import record_export

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures(
        "box_settings", "identity_settings", "eager_celery", "inline_sequencer"
    ),
]


def record_url(slug: str, tail: str = "") -> str:
    return f"/api/voting/elections/{slug}/record{tail}"


def log_entries(election: Election) -> list[bytes]:
    log = Log.objects.get(name=election.log_name)
    return [
        bytes(e)
        for e in Entry.objects.filter(log=log).order_by("index").values_list("entry", flat=True)
    ]


def streamed(slug: str) -> bytes:
    response = Client().get(record_url(slug))
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json" and response.streaming
    assert response["X-Record-SHA256"] == Election.objects.get(slug=slug).tally.record_sha256
    return b"".join(response.streaming_content)


def audit(text: bytes | str, election: Election) -> Any:
    return audit_election(text, LogCopy(log_entries(election), "the test database"))


def log_events(election: Election, kind: str) -> list[dict[str, Any]]:
    log = Log.objects.get(name=election.log_name)
    rows = Entry.objects.filter(log=log, kind=kind).values_list("entry", flat=True)
    return [json.loads(bytes(r))["payload"] for r in rows]


@pytest.fixture
def published() -> Published:
    return published_election("record-vote")


def test_the_record_is_sealed_logged_once_and_streams_byte_identical(published: Published) -> None:
    election = published.election
    tally = election.tally
    first, second = streamed(published.slug), streamed(published.slug)
    assert first == second
    document = json.loads(first)
    rec = record.loads(first)
    assert rec.record_sha256.hex() == tally.record_sha256
    assert document["city_signature"] == tally.record_signature
    assert record.verify_city_signature(rec.record_sha256, rec.city_signature)
    public = city_keys.load_city_keys().signing_key.public_key().public_bytes_raw()
    assert rec.city_signature.public_key == public  # the city's did:web key signs the record
    [event] = log_events(election, record_export.RECORD_EVENT)
    assert event == {
        "election": published.slug,
        "record_sha256": tally.record_sha256,
        "city_signature": tally.record_signature["signature"],
    }
    again = record_export.seal_record(election)  # idempotent
    assert not again.created and again.sha256 == tally.record_sha256
    assert len(log_events(election, record_export.RECORD_EVENT)) == 1
    # every section the spec lists, every ballot with its bookkeeping, in log order
    cast = document["ballots"]["cast"]
    assert len(cast) == published.stats["cast"] == 7
    assert [c["status"] for c in cast].count("superseded") == 1
    superseded = next(c for c in cast if c["status"] == "superseded")
    assert next(c for c in cast if c["supersedes"])["supersedes"] == superseded["tracking_code"]
    assert [c["log_index"] for c in cast] == sorted(c["log_index"] for c in cast)
    assert len(document["ballots"]["challenged"]) == 1
    assert document["eligibility"]["tokens_issued"] == [{"district": None, "count": 6}]
    assert document["weights"] == {"source": record.WEIGHTS_UNIFORM}
    assert document["log"]["name"] == election.log_name
    assert [s["trustee"] for s in document["tally_shares"]] == [1, 3]
    assert document["results"] == tally.results
    assert rec.results == {("q", k): v for k, v in published.expected.items()}


def test_the_audit_of_the_streamed_record_passes(published: Published) -> None:
    report = audit(streamed(published.slug), published.election)
    assert report.ok, "\n".join(report.lines())
    assert {s.id for s in report.steps} >= {
        "R1",
        "R2",
        "V1",
        "V14",
        "A1",
        "A2",
        "A3",
        "A4",
        "A5",
        "A6",
    }


def test_the_zip_holds_the_same_record_and_a_readme(published: Published) -> None:
    response = Client().get(record_url(published.slug, ".zip"))
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert 'filename="record-vote-record.zip"' in response["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert sorted(archive.namelist()) == ["README.txt", "record.json"]
    assert archive.read("record.json") == streamed(published.slug)
    readme = archive.read("README.txt").decode()
    assert published.election.tally.record_sha256 in readme
    assert "audit-election" in readme and "protocol-trustees.md" in readme


def test_the_command_writes_the_same_record_as_json_and_zip(
    published: Published, tmp_path: Path
) -> None:
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "export_election_record", published.slug, "--out", str(tmp_path / "r.json"),
        stdout=out, stderr=err,
    )  # fmt: skip
    assert (tmp_path / "r.json").read_bytes() == streamed(published.slug)
    assert published.election.tally.record_sha256 in out.getvalue()
    assert "record written" in err.getvalue()
    call_command(
        "export_election_record",
        published.slug,
        "--out",
        str(tmp_path / "r.zip"),
        stdout=out,
        stderr=err,
    )
    with zipfile.ZipFile(tmp_path / "r.zip") as archive:
        assert archive.read("record.json") == streamed(published.slug)


def test_unknown_and_unpublished_elections_have_no_record(tmp_path: Path) -> None:
    te, *_ = vote("open-vote", 1)
    for slug in ("no-such-vote", te.slug):
        for tail in ("", ".zip"):
            response = Client().get(record_url(slug, tail))
            assert response.status_code == 404, response.content
            assert response.json()["error"] == "not_found"
    with pytest.raises(CommandError, match="there is no election 'no-such-vote'"):
        call_command("export_election_record", "no-such-vote", "--out", str(tmp_path / "x.json"))
    with pytest.raises(CommandError, match="is open: its record exists once it is published"):
        call_command("export_election_record", te.slug, "--out", str(tmp_path / "x.json"))
    assert not (tmp_path / "x.json").exists()
    response = Client().post(record_url(te.slug), data="{}", content_type="application/json")
    assert response.status_code == 405


def test_an_empty_election_publishes_a_complete_signed_record() -> None:
    """The server publishes a box without ballots as zeros without any trustee; the verifier
    accepts exactly that (V10/V11: nothing to decrypt, every count 0) and the audit passes."""
    te, _, _, _, official = vote("empty-record", 0)
    publish_with_shares(te, official, present=())
    election = te.refresh()
    assert election.state == Election.State.PUBLISHED and election.tally.record_sha256
    text = streamed(te.slug)
    assert json.loads(text)["tally"]["contests"]["q"]["o0"] == {"alpha": None, "beta": None}
    report = audit(text, election)
    assert report.failed == [], "\n".join(report.lines())
