"""The ballot box over HTTP: a valid cast, every refusal with nothing stored, idempotent resend,
re-voting, spoiled ballots, receipts, tracking, turnout, and the log matching the box."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from django.test import Client

from civic.roles import Role
from civic_tlog import note
from ledger import sequencer
from ledger import services as ledger_services
from ledger.models import Entry, Log, OutboxEntry
from tests.identity.support_identity import identity_settings, login, make_user  # noqa: F401
from tests.voting.ballot_box_support import (
    box_settings,  # noqa: F401
    cast_body,
    make_ballot,
    new_seed,
    new_voter,
    open_box,
    post,
    post_raw,
    spoil_body,
    stored,
)
from voting.models import CastBallot, Election
from voting.selectors import ballot_box as box
from voting.services import lifecycle

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("box_settings")]


@pytest.fixture
def official() -> Any:
    return make_user("clerk", Role.OFFICIAL)


@pytest.fixture
def official_client(official: Any) -> Client:
    return login(official)


@pytest.fixture
def election(official: Any) -> Election:
    return open_box("town-vote", official)


def url(slug: str, tail: str = "") -> str:
    return f"/api/voting/elections/{slug}/ballots{tail}"


def assert_refused(response: Any, status: int, error: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["error"] == error and body["status"] == status and body["detail"]
    return body


def test_a_valid_cast_is_stored_and_logged_with_a_receipt(election: Election, official_client: Client) -> None:
    voter = new_voter(official_client, election.slug)
    ballot = make_ballot(election, 2)
    anonymous = Client(enforce_csrf_checks=True)  # no session, no CSRF token: none is needed
    response = post(anonymous, url(election.slug), cast_body(election.slug, voter, ballot.to_json()))
    assert response.status_code == 201, response.content
    receipt = response.json()
    assert set(receipt) == {"election", "tracking_code", "log", "ballot_sha256", "status", "received_at", "position"}
    assert receipt["tracking_code"] == ballot.tracking_code
    assert receipt["status"] == "counting" and receipt["position"] is None
    assert receipt["log"] == election.log_name
    row = CastBallot.objects.get()
    assert row.document == ballot.to_json() and row.counting and row.kind == "cast"
    # no account, no address on the row: only the ballot key, token and ballot
    assert {f.name for f in CastBallot._meta.get_fields()} >= {"ballot_key", "token"}
    assert not any(f.name in {"user", "ip", "address", "did"} for f in CastBallot._meta.get_fields())
    entry = OutboxEntry.objects.get(kind="ballot.cast")
    payload = json.loads(bytes(entry.entry))["payload"]
    assert payload == {
        "election": election.slug,
        "tracking_code": ballot.tracking_code,
        "ballot_sha256": receipt["ballot_sha256"],
        "supersedes": None,
        "district": None,  # a one-key election
    }
    assert voter.token["signature"] not in bytes(entry.entry).decode()

    sequencer.sequence_all()
    tracked = Client().get(url(election.slug, f"/{ballot.tracking_code}")).json()
    assert tracked["status"] == "counting"
    assert tracked["position"] == {"index": Entry.objects.get(kind="ballot.cast").index}


def test_resending_the_same_cast_is_idempotent(election: Election, official_client: Client) -> None:
    voter = new_voter(official_client, election.slug)
    body = cast_body(election.slug, voter, make_ballot(election).to_json())
    first = post(Client(), url(election.slug), body)
    assert first.status_code == 201
    again = post(Client(), url(election.slug), body)
    assert again.status_code == 200
    assert again.json() == first.json()
    assert stored() == (1, 1)


def test_a_new_ballot_under_the_same_key_replaces_the_earlier_one(election: Election, official_client: Client) -> None:
    voter = new_voter(official_client, election.slug)
    first, second = make_ballot(election, 0), make_ballot(election, 4)
    assert post(Client(), url(election.slug), cast_body(election.slug, voter, first.to_json())).status_code == 201
    assert post(Client(), url(election.slug), cast_body(election.slug, voter, second.to_json())).status_code == 201
    assert stored() == (2, 2)
    rows = list(CastBallot.objects.order_by("id"))
    assert [r.counting for r in rows] == [False, True]
    assert rows[1].supersedes_id == rows[0].pk
    client = Client()
    assert client.get(url(election.slug, f"/{first.tracking_code}")).json()["status"] == "superseded"
    assert client.get(url(election.slug, f"/{second.tracking_code}")).json()["supersedes"] == first.tracking_code
    turnout = client.get(f"/api/voting/elections/{election.slug}/turnout").json()
    assert (turnout["counting"], turnout["cast"], turnout["superseded"]) == (1, 2, 1)
    # the earlier ballot cannot come back as the one that counts by being sent again
    again = post(client, url(election.slug), cast_body(election.slug, voter, first.to_json()))
    assert again.status_code == 200 and again.json()["status"] == "superseded"


def test_refusals_store_nothing(election: Election, official: Any, official_client: Client) -> None:
    voter = new_voter(official_client, election.slug)
    other_election = open_box("other-vote", official)
    other_voter = new_voter(official_client, other_election.slug)
    ballot = make_ballot(election).to_json()
    good = cast_body(election.slug, voter, ballot)
    client = Client()
    before = stored()

    # token of another election
    body = cast_body(election.slug, voter, ballot)
    body["token"] = other_voter.token
    assert_refused(post(client, url(election.slug), body), 403, "ineligible_ballot")
    # token reused by another ballot key (which signs correctly with its own key)
    thief = new_voter(official_client, election.slug)
    stolen = cast_body(election.slug, thief, ballot)
    stolen["token"] = voter.token
    assert_refused(post(client, url(election.slug), stolen), 403, "ineligible_ballot")
    # forged ballot-key signature: another key's signature over the same ballot
    forged = dict(good, signature=cast_body(election.slug, thief, ballot)["signature"])
    assert_refused(post(client, url(election.slug), forged), 403, "bad_key_signature")
    # a signature over another election's message
    wrong_slug = dict(good, signature=cast_body(other_election.slug, voter, ballot)["signature"])
    assert_refused(post(client, url(election.slug), wrong_slug), 403, "bad_key_signature")
    # a flipped proof bit (signed again, so only the proof is wrong)
    flipped = copy.deepcopy(ballot)
    branch = flipped["contests"][0]["selections"][1]["proof"]["branches"][0]
    branch["v"] = branch["v"][:-1] + ("1" if branch["v"][-1] == "0" else "0")
    assert_refused(post(client, url(election.slug), cast_body(election.slug, voter, flipped)), 422, "proof_invalid")
    # a ballot encrypted for another election's context
    elsewhere = make_ballot(other_election).to_json()
    assert_refused(post(client, url(election.slug), cast_body(election.slug, voter, elsewhere)), 422, "wrong_context")
    # duplicate JSON keys, unknown fields, malformed
    raw = json.dumps(good)
    duplicated = raw[:-1] + ', "signature": "AAAA"}'
    assert_refused(post_raw(client, url(election.slug), duplicated), 400, "malformed_cast")
    assert_refused(post(client, url(election.slug), dict(good, note="hi")), 400, "malformed_cast")
    assert_refused(post(client, url(election.slug), dict(good, token=dict(voter.token, extra="x"))), 400, "malformed_cast")
    assert_refused(post(client, url(election.slug), dict(good, ballot_key="short")), 400, "malformed_cast")
    assert_refused(post_raw(client, url(election.slug), b"[1, 2"), 400, "malformed_cast")
    broken = copy.deepcopy(ballot)
    broken["contests"][0]["selections"][0]["ciphertext"]["alpha"] = "02" + "00" * 32
    assert_refused(post(client, url(election.slug), cast_body(election.slug, voter, broken)), 400, "malformed_cast")
    # too large
    limit = box.cast_body_limit(election, 10**9)
    huge = dict(good, ballot=dict(ballot, code="x" * limit))
    assert_refused(post(client, url(election.slug), huge), 413, "payload_too_large")
    assert stored() == before

    # unknown election, closed election
    assert_refused(post(client, url("nope"), good), 404, "not_found")
    lifecycle.close_early(official, election, "storm")
    assert_refused(post(client, url(election.slug), good), 409, "election_not_open")
    assert stored() == before


def test_a_ballot_id_under_two_keys_is_refused(election: Election, official_client: Client) -> None:
    first, second = new_voter(official_client, election.slug), new_voter(official_client, election.slug)
    ballot = make_ballot(election).to_json()
    assert post(Client(), url(election.slug), cast_body(election.slug, first, ballot)).status_code == 201
    assert_refused(post(Client(), url(election.slug), cast_body(election.slug, second, ballot)), 409, "ballot_already_received")
    assert stored() == (1, 1)


def test_refusal_details_are_translated(election: Election, official_client: Client) -> None:
    voter = new_voter(official_client, election.slug)
    body = cast_body(election.slug, voter, make_ballot(election).to_json())
    body["token"] = dict(voter.token, key_id="0" * 64)
    english = post(Client(), url(election.slug), body).json()["detail"]
    norwegian = Client().post(url(election.slug), data=json.dumps(body), content_type="application/json", HTTP_ACCEPT_LANGUAGE="nb")
    assert norwegian.status_code == 403
    # the catalogue is regenerated by the lead; the string is marked for translation either way
    assert isinstance(norwegian.json()["detail"], str) and english


def test_spoiled_ballots_are_checked_published_and_never_counted(election: Election, official_client: Client) -> None:
    voter = new_voter(official_client, election.slug)
    seed = new_seed()
    audited = make_ballot(election, 3, seed=seed)
    client = Client()
    lie = spoil_body(election.slug, voter, audited, seed, 1)  # claims another choice than encrypted
    assert_refused(post(client, url(election.slug, "/spoiled"), lie), 422, "challenge_mismatch")
    assert stored() == (0, 0)
    good = spoil_body(election.slug, voter, audited, seed, 3)
    response = post(client, url(election.slug, "/spoiled"), good)
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "spoiled"
    assert post(client, url(election.slug, "/spoiled"), good).status_code == 200
    # the audited ballot cannot then be cast
    assert_refused(post(client, url(election.slug), cast_body(election.slug, voter, audited.to_json())), 409, "ballot_already_received")
    cast = make_ballot(election, 0)
    assert post(client, url(election.slug), cast_body(election.slug, voter, cast.to_json())).status_code == 201
    tracked = client.get(url(election.slug, f"/{audited.tracking_code}")).json()
    assert tracked["status"] == "spoiled" and tracked["kind"] == "spoiled"
    row = CastBallot.objects.get(kind="spoiled")
    assert row.document["seed"] == seed.hex() and not row.counting
    turnout = client.get(f"/api/voting/elections/{election.slug}/turnout").json()
    assert (turnout["counting"], turnout["spoiled"]) == (1, 1)
    entry = OutboxEntry.objects.get(kind="ballot.spoiled")
    assert set(json.loads(bytes(entry.entry))["payload"]) == {"election", "tracking_code", "ballot_sha256", "challenged_sha256", "district"}


def test_ballots_and_log_entries_match_one_to_one(election: Election, official_client: Client) -> None:
    voters = [new_voter(official_client, election.slug) for _ in range(3)]
    client = Client()
    codes = []
    for n, voter in enumerate(voters):
        ballot = make_ballot(election, n)
        codes.append(ballot.tracking_code)
        assert post(client, url(election.slug), cast_body(election.slug, voter, ballot.to_json())).status_code == 201
    revote = make_ballot(election, 4)
    assert post(client, url(election.slug), cast_body(election.slug, voters[0], revote.to_json())).status_code == 201
    sequencer.sequence_all()
    log = Log.objects.get(name=election.log_name)
    entries = {
        json.loads(bytes(e.entry))["payload"]["tracking_code"]: e.index
        for e in Entry.objects.filter(log=log, kind="ballot.cast")
    }
    rows = {r.tracking_code: r.outbox.entry_index for r in CastBallot.objects.select_related("outbox")}
    assert entries == rows and len(rows) == 4
    # the one that counts per key is the last in log order
    assert entries[revote.tracking_code] > entries[codes[0]]
    from_log = box.turnout_from_log(election)
    from_box = client.get(f"/api/voting/elections/{election.slug}/turnout").json()
    assert from_log["counting"] == from_box["counting"] == 3
    assert from_log["cast"] == from_box["cast"] == 4


def test_tracking_shows_the_witnessed_checkpoint_receipt(election: Election, official_client: Client) -> None:
    voter = new_voter(official_client, election.slug)
    ballot = make_ballot(election)
    assert post(Client(), url(election.slug), cast_body(election.slug, voter, ballot.to_json())).status_code == 201
    client = Client()
    tracked = client.get(url(election.slug, f"/{ballot.tracking_code.lower().replace('-', '')}")).json()
    assert tracked["position"] is None and tracked["ledger_receipt"] is None and not tracked["witnessed"]
    sequencer.sequence_all()
    log = Log.objects.get(name=election.log_name)
    signer, verifier = note.generate_cosigner("observer.test")
    ledger_services.register_observer(verifier)
    checkpoint = ledger_services.sign_checkpoint(log.pk)
    assert client.get(url(election.slug, f"/{ballot.tracking_code}")).json()["witnessed"] is False
    ledger_services.add_cosignature(log.name, checkpoint.body, note.cosign(checkpoint.body, signer, 1_700_000_000))
    tracked = client.get(url(election.slug, f"/{ballot.tracking_code}")).json()
    assert tracked["witnessed"] is True
    receipt = tracked["ledger_receipt"]
    assert receipt["index"] == tracked["position"]["index"] and receipt["tree_size"] == checkpoint.size
    assert "— observer.test" in receipt["checkpoint"] and "anchor" in receipt
    assert_refused(client.get(url(election.slug, "/AAAA-AAAA-AAAA-AAAA-AAAA-AAAA")), 404, "unknown_tracking_code")
    assert_refused(client.get(url(election.slug, "/not-a-code")), 404, "unknown_tracking_code")

    page = client.get(f"/voting/{election.slug}/track/", {"code": ballot.tracking_code}).content.decode()
    assert 'data-status="counting"' in page and "Witnessed by the observers" in page
    assert "1 ballot counts so far." in page
    bad = client.get(f"/voting/{election.slug}/track/", {"code": "zzz"}).content.decode()
    assert 'aria-invalid="true"' in bad and "24 letters" in bad
    missing = client.get(f"/voting/{election.slug}/track/", {"code": "AAAA-AAAA-AAAA-AAAA-AAAA-AAAA"}).content.decode()
    assert "No ballot with this tracking code" in missing
    assert client.get("/voting/nope/track/").status_code == 404


def test_every_role_may_cast_track_and_read_turnout_and_nothing_needs_a_session(
    election: Election, official_client: Client
) -> None:
    """Anyone (anonymous included) may use these endpoints; the session is never looked at."""
    for role in (None, Role.CITIZEN, Role.OFFICIAL, Role.TRUSTEE, Role.OBSERVER):
        client = Client(enforce_csrf_checks=True)
        if role is not None:
            client.force_login(make_user(f"someone-{role.value}", role))
        voter = new_voter(official_client, election.slug)
        ballot = make_ballot(election)
        assert post(client, url(election.slug), cast_body(election.slug, voter, ballot.to_json())).status_code == 201
        assert client.get(url(election.slug, f"/{ballot.tracking_code}")).status_code == 200
        assert client.get(f"/api/voting/elections/{election.slug}/turnout").status_code == 200
        assert client.get(f"/voting/{election.slug}/track/").status_code == 200
    assert CastBallot.objects.filter(counting=True).count() == 5


def test_drafts_have_no_box(official: Any) -> None:
    from voting.services.elections import create_election

    create_election(slug="draft-vote", title="Draft", district="", created_by=official)
    client = Client()
    assert_refused(client.get("/api/voting/elections/draft-vote/turnout"), 404, "not_found")
    assert_refused(post(client, url("draft-vote"), {}), 404, "not_found")
    assert client.get("/voting/draft-vote/track/").status_code == 404


def test_the_election_list_shows_live_turnout(election: Election, official_client: Client) -> None:
    voter = new_voter(official_client, election.slug)
    page = Client().get("/voting/").content.decode()
    assert '<td class="turnout">0 ' in page
    assert post(Client(), url(election.slug), cast_body(election.slug, voter, make_ballot(election).to_json())).status_code == 201
    page = Client().get("/voting/").content.decode()
    assert '<td class="turnout">1 ' in page and f"/voting/{election.slug}/track/" in page


def test_the_web_server_access_log_records_no_client_address() -> None:
    import runpy

    from tests.support import REPO_ROOT

    conf = runpy.run_path(str(REPO_ROOT / "gunicorn.conf.py"))
    assert "%(h)s" not in conf["access_log_format"] and "forwarded" not in conf["access_log_format"].lower()
    procfile = (REPO_ROOT / "Procfile.dev").read_text()
    web = next(line for line in procfile.splitlines() if line.startswith("web:"))
    assert "--access-logformat" in web and "%(h)s" not in web
