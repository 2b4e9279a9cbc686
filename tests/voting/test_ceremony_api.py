"""The key ceremony's API and service: each round accepted from the right trustee only, every
wrong message refused with a clear 4xx and nothing stored, complaints judged publicly, the
context published and the election scheduled when every round is in; every endpoint by role."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
import rfc8785
from django.test import Client

from civic.roles import Role
from ledger.models import OutboxEntry
from tests.voting.ceremony_support import (
    BadShareTrustee,
    Party,
    election_in_ceremony,
    post_message,
    tampered,
    token_for,
    user,
)
from voting.models import ApiCredential, CeremonyMessage, Election
from voting.services.api_credentials import revoke_credential

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup() -> dict[str, Any]:
    trustees = [user(f"t{i}", Role.TRUSTEE) for i in (1, 2, 3)]
    election = election_in_ceremony("ceremony-1", trustees, threshold=2)
    other = user("t-other", Role.TRUSTEE)
    election_in_ceremony("ceremony-2", [other], threshold=1)
    return {
        "election": election,
        "trustees": trustees,
        "tokens": [token_for(t) for t in trustees],
        "party": Party.of(election),
        "other_trustee": other,
        "citizen": user("cit", Role.CITIZEN),
        "official": user("off", Role.OFFICIAL),
    }


def stored() -> list[tuple[int, str]]:
    return sorted(CeremonyMessage.objects.values_list("trustee__index", "kind"))


def announce_all(client: Client, s: dict[str, Any]) -> None:
    for i in (1, 2, 3):
        assert post_message(client, "ceremony-1", s["party"].announcement(i), s["tokens"][i - 1]).status_code == 201


def commit_all(client: Client, s: dict[str, Any]) -> None:
    for i in (1, 2, 3):
        assert post_message(client, "ceremony-1", s["party"].commitment(i), s["tokens"][i - 1]).status_code == 201


def test_the_whole_ceremony_through_the_api_publishes_the_context_and_schedules(client: Client, setup: dict) -> None:
    s = setup
    state = client.get("/api/voting/elections/ceremony-1/ceremony").json()
    assert (state["round"], state["waiting_for"], state["your_index"]) == ("announcement", [1, 2, 3], None)
    announce_all(client, s)
    commit_all(client, s)
    for i in (1, 2):
        response = post_message(client, "ceremony-1", s["party"].complaints(i), s["tokens"][i - 1])
        assert response.status_code == 201 and response.json()["ceremony_completed"] is False
    response = post_message(client, "ceremony-1", s["party"].complaints(3), s["tokens"][2])
    assert response.status_code == 201 and response.json()["ceremony_completed"] is True

    election = Election.objects.get(slug="ceremony-1")
    assert election.state == Election.State.SCHEDULED
    state = client.get("/api/voting/elections/ceremony-1/ceremony", HTTP_AUTHORIZATION=f"Bearer {s['tokens'][1]}").json()
    assert state["your_index"] == 2
    assert state["outcome"] == "complete" and state["qualified"] == [1, 2, 3]
    assert state["joint_key"] == election.context["joint_key"]
    assert all(all(r is not None for r in t["rounds"].values()) for t in state["roster"])
    kinds = list(OutboxEntry.objects.filter(log__name=election.log_name).values_list("kind", flat=True))
    assert kinds[-2:] == ["election.ceremony_completed", "election.scheduled"]
    assert kinds.count("election.ceremony_message") == 9
    # Anyone holding the context can check it is the one the events fix.
    context_sha256 = hashlib.sha256(rfc8785.dumps(election.context)).hexdigest()
    scheduled = json.loads(bytes(OutboxEntry.objects.get(log__name=election.log_name, kind="election.scheduled").entry))
    completed = json.loads(bytes(OutboxEntry.objects.get(log__name=election.log_name, kind="election.ceremony_completed").entry))
    assert scheduled["payload"]["context_sha256"] == context_sha256 == completed["payload"]["context_sha256"]
    assert completed["payload"]["qualified"] == [1, 2, 3] and completed["payload"]["joint_key"] == state["joint_key"]
    message_events = [
        json.loads(bytes(e.entry))["payload"]
        for e in OutboxEntry.objects.filter(log__name=election.log_name, kind="election.ceremony_message")
    ]
    assert {e["sha256"] for e in message_events} == set(CeremonyMessage.objects.values_list("sha256", flat=True))
    # After the ceremony, no more messages.
    again = post_message(client, "ceremony-1", s["party"].complaints(3), s["tokens"][2])
    assert again.status_code == 409 and again.json()["error"] == "ceremony_not_running"


def test_a_bad_share_is_disqualified_by_a_public_complaint_and_the_ceremony_completes(client: Client, setup: dict) -> None:
    s = setup
    s["party"] = Party.of(s["election"], cheaters={3: BadShareTrustee})
    announce_all(client, s)
    commit_all(client, s)
    complaints_1 = s["party"].complaints(1)
    assert [c["accused"] for c in complaints_1["body"]["complaints"]] == [3]
    for i, doc in ((1, complaints_1), (2, s["party"].complaints(2)), (3, s["party"].complaints(3))):
        assert post_message(client, "ceremony-1", doc, s["tokens"][i - 1]).status_code == 201
    state = client.get("/api/voting/elections/ceremony-1/ceremony").json()
    assert state["complaints"] == [
        {"accuser": 1, "accused": 3, "upheld": True, "guilty": 3, "reason": state["complaints"][0]["reason"]}
    ]
    assert "does not match" in state["complaints"][0]["reason"]
    assert state["qualified"] == [1, 2] and set(state["disqualified"]) == {"3"}
    election = Election.objects.get(slug="ceremony-1")
    assert election.state == Election.State.SCHEDULED
    assert election.context["trustees"] == 3 and len(election.context["trustee_commitments"]) == 4
    page = client.get("/voting/ceremony-1/ceremony/").content.decode()
    assert "upheld, trustee 3 is disqualified" in page and election.context["joint_key"] in page


def test_too_few_qualified_trustees_report_that_the_ceremony_cannot_complete(client: Client) -> None:
    trustees = [user(f"u{i}", Role.TRUSTEE) for i in (1, 2, 3)]
    election = election_in_ceremony("strict", trustees, threshold=3)
    tokens = [token_for(t) for t in trustees]
    party = Party.of(election, cheaters={3: BadShareTrustee})
    for stage in (party.announcement, party.commitment, party.complaints):
        for i in (1, 2, 3):
            assert post_message(client, "strict", stage(i), tokens[i - 1]).status_code == 201
    election.refresh_from_db()
    assert election.state == Election.State.CEREMONY and election.context is None
    state = client.get("/api/voting/elections/strict/ceremony").json()
    assert state["outcome"] == "failed" and state["qualified"] == [1, 2] and state["joint_key"] is None
    assert OutboxEntry.objects.filter(log__name=election.log_name, kind="election.ceremony_failed").exists()
    assert "cannot complete" in client.get("/voting/strict/ceremony/").content.decode()


@pytest.mark.parametrize(
    ("case", "status", "code", "needle"),
    [
        ("other election", 400, "wrong_election", "not this election's ceremony"),
        ("other index", 403, "wrong_trustee_index", "you are trustee 1"),
        ("bad schnorr proof", 422, "proof_failed", "communication key proof fails"),
        ("extra field", 400, "malformed_message", "unexpected fields"),
        ("not an envelope", 400, "malformed_message", "not a trustee message"),
        ("tally share", 400, "malformed_message", "only announcement"),
    ],
)
def test_wrong_announcements_are_refused_and_nothing_is_stored(
    client: Client, setup: dict, case: str, status: int, code: str, needle: str
) -> None:
    s = setup
    good = s["party"].announcement(1)
    documents = {
        "other election": tampered(good, lambda d: d.update(election_id="another")),
        "other index": s["party"].announcement(2),
        "bad schnorr proof": tampered(
            good, lambda d: d["body"]["proof"].update(response=f"{(int(d['body']['proof']['response'], 16) ^ 1):064x}")
        ),
        "extra field": {**good, "extra": 1},
        "not an envelope": {"hello": "world"},
        "tally share": {**good, "kind": "tally-share", "body": {"trustee": 1}},
    }
    document = documents[case]
    before = OutboxEntry.objects.count()
    response = post_message(client, "ceremony-1", document, s["tokens"][0])
    body = response.json()
    assert (response.status_code, body["error"], body["status"]) == (status, code, status), body
    assert needle in str(body["detail"])
    assert stored() == [] and OutboxEntry.objects.count() == before


def test_repeated_early_and_bad_commitment_messages_are_refused(client: Client, setup: dict) -> None:
    s = setup
    first = s["party"].announcement(1)
    assert post_message(client, "ceremony-1", first, s["tokens"][0]).status_code == 201
    # The very same bytes again (a resend after a lost answer): nothing new, 200.
    again = post_message(client, "ceremony-1", first, s["tokens"][0])
    assert again.status_code == 200 and again.json()["stored"] is False
    # A second, different announcement: refused.
    other = Party.of(s["election"]).announcement(1)
    response = post_message(client, "ceremony-1", other, s["tokens"][0])
    assert response.status_code == 409 and response.json()["error"] == "duplicate_message"
    # Commitments before everyone announced: refused, naming whom we wait for.
    for i in (2, 3):
        s["party"].announcement(i)
    early = s["party"].commitment(1)
    response = post_message(client, "ceremony-1", early, s["tokens"][0])
    assert response.status_code == 409 and "waiting for trustee(s) 2, 3" in response.json()["detail"]
    for i in (2, 3):
        doc = {"format": "civic-trustee-message/1", "kind": "announcement", **s["party"].crypto.to_json(),
               "body": s["party"].announcements[i].to_json()}  # fmt: skip
        assert post_message(client, "ceremony-1", doc, s["tokens"][i - 1]).status_code == 201
    # A commitments message whose coefficient proof fails (a share swapped after proving).
    bad = tampered(early, lambda d: d["body"]["shares"][0].update(mac="00" * 32))
    response = post_message(client, "ceremony-1", bad, s["tokens"][0])
    assert response.status_code == 422 and "coefficient 0 fails" in response.json()["detail"]
    assert stored() == [(1, "announcement"), (2, "announcement"), (3, "announcement")]
    # Complaints before every commitment is in: refused.
    assert post_message(client, "ceremony-1", early, s["tokens"][0]).status_code == 201
    body = {"trustee": 1, "complaints": []}
    doc = {"format": "civic-trustee-message/1", "kind": "complaints", **s["party"].crypto.to_json(), "body": body}
    response = post_message(client, "ceremony-1", doc, s["tokens"][0])
    assert response.status_code == 409 and response.json()["error"] == "round_not_open"


def test_malformed_bodies_get_the_json_error_shape(client: Client, setup: dict) -> None:
    token = setup["tokens"][0]
    url = "/api/voting/elections/ceremony-1/ceremony/messages"
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    for raw in (b'{"a": 1, "a": 2}', b"[1, 2]", b"not json", b'{"x": NaN}'):
        response = client.post(url, data=raw, content_type="application/json", **auth)
        assert response.status_code == 400 and response.json()["status"] == 400, raw
    big = b'{"pad": "' + b"x" * (300 * 1024) + b'"}'
    response = client.post(url, data=big, content_type="application/json", **auth)
    assert response.status_code == 413 and response.json()["error"] == "payload_too_large"
    assert stored() == []


def test_post_by_role_and_credential(client: Client, setup: dict) -> None:
    s = setup
    doc = s["party"].announcement(1)
    url = "/api/voting/elections/ceremony-1/ceremony/messages"
    # Anonymous: 401 with the Bearer challenge.
    response = client.post(url, data=doc, content_type="application/json")
    assert response.status_code == 401 and response["WWW-Authenticate"].startswith("Bearer")
    # Citizen and official sessions: 403. A trustee of another election: 403 naming it.
    for account in (s["citizen"], s["official"]):
        session = Client()
        session.force_login(account)
        assert session.post(url, data=doc, content_type="application/json").status_code == 403
    other = post_message(client, "ceremony-1", doc, token_for(s["other_trustee"]))
    assert other.status_code == 403 and other.json()["error"] == "not_election_trustee"
    # Bad credentials: malformed, unknown secret, revoked.
    for token in ("nope", s["tokens"][0][:-1] + ("A" if s["tokens"][0][-1] != "A" else "B"), "0" * 16 + "." + "a" * 43):
        response = post_message(client, "ceremony-1", doc, token)
        assert response.status_code == 401 and response.json()["status"] == 401
    revoked = token_for(s["trustees"][0])
    revoke_credential(s["trustees"][0], revoked.split(".")[0])
    response = post_message(client, "ceremony-1", doc, revoked)
    assert response.status_code == 401 and "revoked" in response.json()["detail"]
    assert stored() == []
    # The right trustee, by credential: stored; last use recorded.
    assert post_message(client, "ceremony-1", doc, s["tokens"][0]).status_code == 201
    key_id = s["tokens"][0].split(".")[0]
    assert ApiCredential.objects.get(key_id=key_id).last_used_at is not None
    # A credential's account that lost the trustee role is refused.
    s["trustees"][1].groups.clear()
    response = post_message(client, "ceremony-1", s["party"].announcement(2), s["tokens"][1])
    assert response.status_code == 401


def test_session_post_needs_csrf(setup: dict) -> None:
    s = setup
    session = Client(enforce_csrf_checks=True)
    session.force_login(s["trustees"][0])
    response = session.post(
        "/api/voting/elections/ceremony-1/ceremony/messages", data=s["party"].announcement(1), content_type="application/json"
    )
    assert response.status_code == 403 and "CSRF" in response.json()["detail"]
    assert stored() == []


def test_public_reads_for_every_role(client: Client, setup: dict) -> None:
    s = setup
    post_message(client, "ceremony-1", s["party"].announcement(1), s["tokens"][0])
    accounts = [None, s["citizen"], s["official"], s["other_trustee"], s["trustees"][0]]
    for account in accounts:
        c = Client()
        if account is not None:
            c.force_login(account)
        base = "/api/voting/elections/ceremony-1/ceremony"
        state = c.get(base)
        assert state.status_code == 200
        assert state.json()["your_index"] == (1 if account == s["trustees"][0] else None)
        messages = c.get(f"{base}/messages").json()["messages"]
        assert [m["kind"] for m in messages] == ["announcement"]
        one = c.get(f"{base}/messages/announcement/1")
        assert one.status_code == 200 and one.json() == messages[0]
        assert c.get(f"{base}/messages/announcement/2").status_code == 404
        assert c.get(f"{base}/messages?kind=bogus").status_code == 400
        assert c.get(f"{base}/manifest").json() == s["election"].manifest
        page = c.get("/voting/ceremony-1/ceremony/")
        assert page.status_code == 200
        assert ("Upload my message" in page.content.decode()) == (account == s["trustees"][0])
    # Drafts and unknown elections have no ceremony.
    Election.objects.create(slug="a-draft", title="Draft", created_by=s["official"])
    for slug in ("a-draft", "nope"):
        assert client.get(f"/api/voting/elections/{slug}/ceremony").status_code == 404
        assert client.get(f"/voting/{slug}/ceremony/").status_code == 404
        assert post_message(client, slug, s["party"].announcement(2), s["tokens"][1]).status_code == 404


def test_air_gap_upload_on_the_page(setup: dict) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    s = setup
    page = Client()
    page.force_login(s["trustees"][0])
    url = "/voting/ceremony-1/ceremony/upload/"
    doc = s["party"].announcement(1)
    bad = page.post(url, {"message": SimpleUploadedFile("a.json", b'{"a":1,"a":2}')})
    assert bad.status_code == 400 and "not a JSON message file" in bad.content.decode()
    wrong = page.post(url, {"message": SimpleUploadedFile("a.json", json.dumps(s["party"].announcement(2)).encode())})
    assert wrong.status_code == 400 and "you are trustee 1" in wrong.content.decode()
    assert stored() == []
    ok = page.post(url, {"message": SimpleUploadedFile("a.json", json.dumps(doc).encode())})
    assert ok.status_code == 302 and stored() == [(1, "announcement")]
    # Other roles cannot upload; anonymous goes to log-in; CSRF is enforced.
    for account in (s["citizen"], s["official"]):
        c = Client()
        c.force_login(account)
        assert c.post(url, {"message": SimpleUploadedFile("a.json", b"{}")}).status_code == 403
    assert Client().post(url, {}).status_code == 302
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(s["trustees"][1])
    assert strict.post(url, {"message": SimpleUploadedFile("a.json", b"{}")}).status_code == 403
    other = Client()
    other.force_login(s["other_trustee"])
    denied = other.post(url, {"message": SimpleUploadedFile("a.json", json.dumps(s["party"].announcement(2)).encode())})
    assert denied.status_code == 400 and "not a trustee of election ceremony-1" in denied.content.decode()
    assert stored() == [(1, "announcement")]


def test_credentials_page_shows_the_token_once_and_stores_its_hash(setup: dict) -> None:
    s = setup
    account = s["trustees"][0]
    page = Client()
    page.force_login(account)
    response = page.post("/trustee/credentials/", {"action": "create", "label": "laptop"})
    html = response.content.decode()
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    start = html.index('id="new-token">') + len('id="new-token">')
    token = html[start : html.index("<", start)]
    key_id, secret = token.split(".")
    row = ApiCredential.objects.get(key_id=key_id)
    assert row.label == "laptop" and row.secret_sha256 == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in json.dumps(list(ApiCredential.objects.values()), default=str)
    later = page.get("/trustee/credentials/").content.decode()
    assert key_id in later and secret not in later and "ceremony-1" in later
    # It works, then is revoked from the page, then is refused.
    assert client_state(token)["your_index"] == 1
    assert page.post("/trustee/credentials/", {"action": "revoke", "key_id": key_id}).status_code == 302
    assert Client().get("/api/voting/elections/ceremony-1/ceremony", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401
    # Someone else's credential cannot be revoked by me.
    theirs = s["tokens"][1].split(".")[0]
    page.post("/trustee/credentials/", {"action": "revoke", "key_id": theirs})
    assert ApiCredential.objects.get(key_id=theirs).revoked_at is None
    # Too long a label: the message is next to the field, nothing stored.
    count = ApiCredential.objects.count()
    long = page.post("/trustee/credentials/", {"action": "create", "label": "x" * 101})
    assert long.status_code == 400 and 'id="id_label_errors"' in long.content.decode()
    assert ApiCredential.objects.count() == count


def client_state(token: str) -> dict:
    return Client().get("/api/voting/elections/ceremony-1/ceremony", HTTP_AUTHORIZATION=f"Bearer {token}").json()


def test_credentials_page_by_role(settings: Any, setup: dict) -> None:
    s = setup
    assert Client().get("/trustee/credentials/").status_code == 302
    for account in (s["citizen"], s["official"]):
        c = Client()
        c.force_login(account)
        assert c.get("/trustee/credentials/").status_code == 403
        assert c.post("/trustee/credentials/", {"action": "create"}).status_code == 403
    assert ApiCredential.objects.filter(user__in=[s["citizen"], s["official"]]).count() == 0
    settings.CIVIC_API_MAX_CREDENTIALS = 2
    c = Client()
    c.force_login(s["trustees"][2])  # already holds one (the fixture's)
    assert c.post("/trustee/credentials/", {"action": "create"}).status_code == 200
    over = c.post("/trustee/credentials/", {"action": "create"})
    assert over.status_code == 400 and "at most 2 active credentials" in over.content.decode()
