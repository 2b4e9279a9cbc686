"""Privacy as tests: no ballot row, ledger entry, log line, access-log line or error report links a
ballot to an account or an address (issue 14).

A citizen casts from a known address while logged in (their session cookie sent along, which
the box must ignore); everything the platform wrote meanwhile is searched for the address, the
account, the DID, and for the link in the other direction."""

from __future__ import annotations

import json
import logging
import runpy
from typing import Any

import pytest
from django.core import mail
from django.db import models

from civic.roles import Role
from ledger.models import OutboxEntry
from tests.identity.support_identity import identity_settings, login, make_resident, make_user  # noqa: F401
from tests.support import REPO_ROOT
from tests.voting.ballot_box_support import (
    box_settings,  # noqa: F401
    cast_body,
    issue_token,
    make_ballot,
    open_box,
    post,
)
from voting.models import BallotKey, CastBallot, Election, EligibilityGrant
from voting.services import ballot_box as box_services

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("box_settings")]
ADDRESS = "203.0.113.77"
FORWARDED = "198.51.100.23"
AGENT = "Mozilla/5.0 (X11; Linux x86_64) PrivacyProbe/1.0"
IDENTIFYING = {
    "user",
    "account",
    "did",
    "ip",
    "address",
    "session",
    "agent",
    "remote",
    "email",
    "grant",
}


class Everything(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record) + " " + repr(record.__dict__))


@pytest.fixture
def captured_logs() -> Any:
    handler = Everything()
    root = logging.getLogger()
    old = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler.lines
    finally:
        root.removeHandler(handler)
        root.setLevel(old)


@pytest.fixture
def election() -> Election:
    return open_box("private-vote", make_user("clerk", Role.OFFICIAL))


def test_ballot_rows_hold_no_account_or_address() -> None:
    for model in (CastBallot, BallotKey):
        for field in model._meta.get_fields():
            assert not any(word in field.name.lower() for word in IDENTIFYING), (model, field.name)
            related = getattr(field, "related_model", None)
            if related is not None:
                assert related in {Election, BallotKey, CastBallot, OutboxEntry}, (
                    model,
                    field.name,
                    related,
                )
    # and the grant (who got a token) holds nothing of the ballot: no key, token, code or ballot
    grant_fields = {f.name for f in EligibilityGrant._meta.get_fields()}
    assert grant_fields == {
        "id", "election", "user", "did", "issued_at", "commitment", "commitment_salt", "district",
    }  # fmt: skip
    assert not any(
        isinstance(f, models.ForeignKey) and f.related_model in {CastBallot, BallotKey}
        for f in EligibilityGrant._meta.get_fields()
    )


def test_a_cast_leaves_no_link_in_rows_ledger_or_logs(
    election: Election, captured_logs: list[str], settings: Any
) -> None:
    settings.LOGGING_LEVEL = "DEBUG"
    official_client = login(make_user("clerk-two", Role.OFFICIAL))
    resident = make_resident("private-ada", "north", official_client)
    voter = issue_token(resident, election.slug)
    grant = EligibilityGrant.objects.get(election=election)
    captured_logs.clear()
    outbox_before = set(OutboxEntry.objects.values_list("pk", flat=True))

    # logged in, session cookie and all, from a known address behind a known proxy hop
    client = resident.client
    client.defaults.update(
        REMOTE_ADDR=ADDRESS, HTTP_X_FORWARDED_FOR=FORWARDED, HTTP_USER_AGENT=AGENT
    )
    ballot = make_ballot(election).to_json()
    response = post(
        client,
        f"/api/voting/elections/{election.slug}/ballots",
        cast_body(election.slug, voter, ballot),
    )
    assert response.status_code == 201
    code = response.json()["tracking_code"]
    # a refused one too (refusals are logged by Django as warnings)
    bad = cast_body(election.slug, voter, ballot)
    bad["signature"] = bad["signature"][::-1]
    assert post(client, f"/api/voting/elections/{election.slug}/ballots", bad).status_code in {
        400,
        403,
    }
    client.get(f"/api/voting/elections/{election.slug}/ballots/{code}")

    secrets_of_the_person = [
        ADDRESS,
        FORWARDED,
        AGENT,
        resident.user.username,
        grant.did,
        resident.user.email or resident.user.username,
    ]
    row = CastBallot.objects.get(tracking_code=code)
    stored_text = json.dumps(
        {f.attname: str(getattr(row, f.attname)) for f in CastBallot._meta.concrete_fields}
    ) + json.dumps(
        {
            f.attname: str(getattr(row.ballot_key, f.attname))
            for f in BallotKey._meta.concrete_fields
        }
    )
    new_entries = OutboxEntry.objects.exclude(pk__in=outbox_before)
    assert [e.kind for e in new_entries] == ["ballot.cast"]
    entry_text = bytes(new_entries.get().entry).decode()
    assert set(json.loads(entry_text)["payload"]) == {
        "election",
        "tracking_code",
        "ballot_sha256",
        "supersedes",
        "district",
    }
    logs = "\n".join(captured_logs)
    assert logs, "the cast was expected to log something (the refusal at least)"
    for secret in secrets_of_the_person:
        assert secret not in stored_text, secret
        assert secret not in entry_text, secret
        assert secret not in logs, secret
    # the ballot's identifiers never sit next to the person's: the grant's log entry is a salted
    # commitment to the DID, with nothing of the ballot key or token
    grant_entry = bytes(OutboxEntry.objects.get(kind="eligibility.token_issued").entry).decode()
    for ballot_secret in (voter.public, voter.token["prefix"], voter.token["signature"], code):
        assert ballot_secret not in grant_entry


def test_the_access_log_line_of_a_cast_names_no_address_or_browser() -> None:
    """gunicorn's own formatter, fed a cast's request, with the project's format (gunicorn.conf.py
    and the Procfile's web line)."""
    from gunicorn.config import Config
    from gunicorn.glogging import Logger

    conf = runpy.run_path(str(REPO_ROOT / "gunicorn.conf.py"))
    procfile = (REPO_ROOT / "Procfile.dev").read_text()
    web = next(line for line in procfile.splitlines() if line.startswith("web:"))
    procfile_format = web.split("--access-logformat '", 1)[1].split("'", 1)[0]
    environ = {
        "REQUEST_METHOD": "POST", "RAW_URI": "/api/voting/elections/v/ballots", "PATH_INFO": "/api/voting/elections/v/ballots",
        "QUERY_STRING": "", "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": ADDRESS, "HTTP_X_FORWARDED_FOR": FORWARDED,
        "HTTP_USER_AGENT": AGENT, "HTTP_REFERER": "https://vote.example.org/voting/v/booth/",
    }  # fmt: skip

    class Resp:
        status = "201 Created"
        response_length = 321
        sent = 321
        headers: list[tuple[str, str]] = []

    class Req:
        headers = [("X-FORWARDED-FOR", FORWARDED), ("USER-AGENT", AGENT)]

    import datetime

    for fmt in (conf["access_log_format"], procfile_format):
        cfg = Config()
        cfg.set("access_log_format", fmt)
        atoms = Logger(cfg).atoms(Resp(), Req(), environ, datetime.timedelta(milliseconds=7))
        line = fmt % atoms
        assert "POST /api/voting/elections/v/ballots" in line and "201" in line
        for secret in (ADDRESS, FORWARDED, AGENT, "booth"):
            assert secret not in line, (fmt, line)


def test_an_error_report_of_a_cast_names_no_address_or_account(
    election: Election, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.ADMINS = [("Admin", "admin@city.example")]
    settings.DEBUG = False
    official_client = login(make_user("clerk-three", Role.OFFICIAL))
    resident = make_resident("private-bea", "north", official_client)
    voter = issue_token(resident, election.slug)

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the database fell over")

    monkeypatch.setattr(box_services, "_check_open", broken)  # a bug deep in the cast
    client = resident.client
    client.raise_request_exception = False
    client.defaults.update(
        REMOTE_ADDR=ADDRESS, HTTP_X_FORWARDED_FOR=FORWARDED, HTTP_USER_AGENT=AGENT
    )
    body = cast_body(election.slug, voter, make_ballot(election).to_json())
    mail.outbox.clear()
    response = post(client, f"/api/voting/elections/{election.slug}/ballots", body)
    assert response.status_code == 500
    assert mail.outbox, "the 500 was expected to be e-mailed to ADMINS"
    report = "\n".join(
        m.subject + m.body + "".join(str(a[0]) for a in m.alternatives) for m in mail.outbox
    )
    assert "the database fell over" in report  # it is the report of this error
    for secret in (
        ADDRESS,
        FORWARDED,
        AGENT,
        resident.user.username,
        client.cookies["sessionid"].value,
    ):
        assert secret not in report, secret
