"""The lifecycle: every step by every role through the API and the pages (only officials pass,
the state does not change otherwise), reasons, the ledger events, and opening and closing on
time by the beat task (time-machine)."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import pytest
import rfc8785
import time_machine
from django.conf import settings
from django.test import Client

from civic.roles import Role
from civic_votecrypto import dkg
from civic_votecrypto.election import election_from_manifest
from civic_votecrypto.manifest import Manifest
from ledger.models import OutboxEntry
from tests.identity.support_identity import identity_settings, make_user  # noqa: F401
from tests.voting.support_officials import (
    ROLES,
    body,
    client_for,
    draft,
    post_json,
    trustees,
    window,
)
from voting import tasks
from voting.errors import ElectionStateError, NotAllowed, ProposalInvalid
from voting.models import Election
from voting.selectors.elections import election_is_open
from voting.services import elections as election_services
from voting.services import lifecycle, scheduler

pytestmark = pytest.mark.django_db
State = Election.State


@pytest.fixture
def official():
    trustees()
    return make_user("clerk", Role.OFFICIAL)


def events(election: Election) -> list[tuple[str, dict]]:
    rows = OutboxEntry.objects.filter(log__name=election.log_name).order_by("pk")
    return [(row.kind, json.loads(bytes(row.entry))["payload"]) for row in rows]


def sha(document) -> str:
    return hashlib.sha256(rfc8785.dumps(document)).hexdigest()


def scheduled(official, **overrides) -> Election:
    """A draft taken through the ceremony (run in-process here) to scheduled."""
    election = lifecycle.start_ceremony(official, draft(official, **overrides))
    election.refresh_from_db()
    manifest = Manifest.from_json(election.manifest)
    params = election_from_manifest(manifest, election.trustees.count(), election.threshold).params
    transcript, _ = dkg.run_ceremony(params)
    election_services.publish_election_context(election=election, manifest=manifest, transcript=transcript)
    return lifecycle.complete_ceremony(election)


def opened(official, **overrides) -> Election:
    election = scheduled(official, **overrides)
    with time_machine.travel(election.opens_at + timedelta(seconds=1)):
        assert scheduler.run_schedule().opened == [election.slug]
    election.refresh_from_db()
    return election


# --- the whole way, with its events --------------------------------------------------------


def test_draft_to_closed_on_time_with_every_event(official) -> None:
    election = draft(official)
    assert not election.log_name
    lifecycle.start_ceremony(official, election)
    election.refresh_from_db()
    assert election.state == State.CEREMONY and election.log_name == f"election-{election.pk}"
    city = OutboxEntry.objects.filter(log__name="city", kind="election.log_created").get()
    assert json.loads(bytes(city.entry))["payload"]["log"] == election.log_name

    kind, payload = events(election)[0]
    assert kind == "election.ceremony" and (payload["from"], payload["to"]) == ("draft", "ceremony")
    assert payload["manifest_sha256"] == sha(election.manifest)
    assert payload["window_sha256"] == sha(lifecycle.window_json(election))
    assert payload["trustees_sha256"] == sha(
        [{"index": 1, "username": "keeper1"}, {"index": 2, "username": "keeper2"}, {"index": 3, "username": "keeper3"}]
    )

    # The ceremony completes elsewhere (the trustees' side); here it runs in-process.
    election.delete()
    election = scheduled(official, title="Second")
    assert election.state == State.SCHEDULED
    assert events(election)[-1][1]["context_sha256"] == sha(election.context)

    # Not yet: one second before opening, nothing happens.
    with time_machine.travel(election.opens_at - timedelta(seconds=1)):
        assert tasks.run_schedule() == {"opened": [], "closed": []}
    # Within the beat interval after opens_at, it opens; a second run changes nothing.
    with time_machine.travel(election.opens_at + timedelta(seconds=settings.CIVIC_SCHEDULER_INTERVAL_S)):
        assert tasks.run_schedule() == {"opened": [election.slug], "closed": []}
        assert tasks.run_schedule() == {"opened": [], "closed": []}
        election.refresh_from_db()
        assert election.state == State.OPEN and election_is_open(election)
        assert election.eligibility_keys.count() == 1
    with time_machine.travel(election.closes_at + timedelta(seconds=settings.CIVIC_SCHEDULER_INTERVAL_S)):
        assert tasks.run_schedule() == {"opened": [], "closed": [election.slug]}
        assert tasks.run_schedule() == {"opened": [], "closed": []}
    election.refresh_from_db()
    assert election.state == State.CLOSED and not election_is_open(election)
    kinds = [kind for kind, _ in events(election)]
    assert kinds == ["election.ceremony", "election.scheduled", "election.open", "election.closed"]
    closed = events(election)[-1][1]
    assert "reason" not in closed and closed["window_sha256"] == sha(lifecycle.window_json(election))


def test_beat_runs_the_schedule_every_30_seconds() -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["voting-run-schedule"]
    assert entry == {"task": "voting.run_schedule", "schedule": 30.0}
    assert tasks.run_schedule.name == "voting.run_schedule"


def test_a_window_that_passed_while_scheduled_is_never_opened(official) -> None:
    election = scheduled(official)
    with time_machine.travel(election.closes_at + timedelta(minutes=1)):
        assert tasks.run_schedule() == {"opened": [], "closed": []}
    election.refresh_from_db()
    assert election.state == State.SCHEDULED


def test_close_early_needs_a_reason_which_is_logged(official) -> None:
    election = opened(official)
    for reason in ("", "   ", None, 7, "x" * 1001):
        with pytest.raises(ProposalInvalid):
            lifecycle.close_early(official, election, reason)
    election.refresh_from_db()
    assert election.state == State.OPEN
    lifecycle.close_early(official, election, "Flooding at the polling office")
    election.refresh_from_db()
    assert (election.state, election.state_reason) == (State.CLOSED, "Flooding at the polling office")
    kind, payload = events(election)[-1]
    assert kind == "election.closed" and payload["reason"] == "Flooding at the polling office"
    with pytest.raises(ElectionStateError):
        lifecycle.close_early(official, election, "again")


def test_cancel_needs_a_reason_and_is_refused_once_open(official) -> None:
    plain = draft(official)
    with pytest.raises(ProposalInvalid):
        lifecycle.cancel(official, plain, "")
    lifecycle.cancel(official, plain, "Duplicate of another proposal")
    plain.refresh_from_db()
    assert plain.state == State.CANCELLED
    # No election log for a cancelled draft: the event goes to the city log.
    city = OutboxEntry.objects.filter(log__name="city", kind="election.cancelled").get()
    assert json.loads(bytes(city.entry))["payload"]["reason"] == "Duplicate of another proposal"

    in_ceremony = lifecycle.start_ceremony(official, draft(official, title="Two"))
    lifecycle.cancel(official, in_ceremony, "Trustee unavailable")
    assert events(Election.objects.get(pk=in_ceremony.pk))[-1][0] == "election.cancelled"

    running = opened(official, title="Three")
    with pytest.raises(ElectionStateError):
        lifecycle.cancel(official, running, "too late")
    running.refresh_from_db()
    assert running.state == State.OPEN


def test_the_ceremony_rechecks_the_draft(official) -> None:
    election = draft(official)
    with time_machine.travel(election.opens_at + timedelta(minutes=10)), pytest.raises(ProposalInvalid) as caught:
        lifecycle.start_ceremony(official, election)
    assert "opens_at" in caught.value.detail
    election.refresh_from_db()
    assert election.state == State.DRAFT and not election.log_name


def test_open_election_follows_the_states(official) -> None:
    election = draft(official)
    with pytest.raises(ElectionStateError):
        election_services.open_election(election)
    lifecycle.start_ceremony(official, election)
    with pytest.raises(ElectionStateError):
        election_services.open_election(election)
    with pytest.raises(ElectionStateError):
        lifecycle.complete_ceremony(election)  # no context yet


@pytest.mark.parametrize("role", [Role.CITIZEN, Role.TRUSTEE, Role.OBSERVER])
def test_services_refuse_other_roles(official, role) -> None:
    user = make_user(f"u-{role}", role)
    election = draft(official)
    for step in (lambda: lifecycle.start_ceremony(user, election), lambda: lifecycle.cancel(user, election, "r")):
        with pytest.raises(NotAllowed):
            step()
    election.refresh_from_db()
    assert election.state == State.DRAFT


# --- every step by every role, through the API and the pages --------------------------------

STEPS = {"ceremony": (State.DRAFT, State.CEREMONY), "cancel": (State.DRAFT, State.CANCELLED), "close": (State.OPEN, State.CLOSED)}


def election_in(official, state: str) -> Election:
    return opened(official) if state == State.OPEN else draft(official)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("step", list(STEPS))
def test_api_steps_by_every_role(official, role, step) -> None:
    before, after = STEPS[step]
    election = election_in(official, before)
    client = client_for(role)
    response = post_json(client, f"/api/voting/official/elections/{election.slug}/{step}", {"reason": "Because"})
    election.refresh_from_db()
    if role == "official":
        assert response.status_code == 200, response.content
        assert response.json()["state"] == after == election.state
    else:
        assert response.status_code in (401, 403)
        assert set(response.json()) == {"error", "detail", "status"}
        assert election.state == before


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("step", list(STEPS))
def test_page_steps_by_every_role(official, role, step) -> None:
    before, after = STEPS[step]
    election = election_in(official, before)
    client = client_for(role)
    response = client.post(f"/voting/official/{election.slug}/{step}/", {f"{step}-reason": "Because"})
    election.refresh_from_db()
    if role == "official":
        assert response.status_code == 302 and election.state == after
    elif role == "anonymous":
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
        assert election.state == before
    else:
        assert response.status_code == 403 and election.state == before


@pytest.mark.parametrize("role", ROLES)
def test_api_authoring_by_every_role(official, role) -> None:
    client = client_for(role)
    created = post_json(client, "/api/voting/official/elections", body())
    listing = client.get("/api/voting/official/elections")
    if role != "official":
        assert created.status_code in (401, 403) and listing.status_code in (401, 403)
        assert not Election.objects.exists()
        existing = draft(official)
        url = f"/api/voting/official/elections/{existing.slug}"
        assert client.get(url).status_code in (401, 403)
        assert post_json(client, url, body(title="Changed"), method="put").status_code in (401, 403)
        assert client.delete(url).status_code in (401, 403)
        existing.refresh_from_db()
        assert existing.title == "Sunday library"
        return
    assert created.status_code == 201, created.content
    data = created.json()
    assert data["slug"] == "sunday-library" and data["state"] == "draft"
    assert data["description_html"] == "<p>Should the <strong>library</strong> open on Sundays?</p>\n"
    assert [t["username"] for t in data["trustees"]] == ["keeper1", "keeper2", "keeper3"]
    assert [e["slug"] for e in listing.json()["elections"]] == ["sunday-library"]
    url = "/api/voting/official/elections/sunday-library"
    updated = post_json(client, url, body(title="Library on Sundays", threshold=3), method="put")
    assert updated.status_code == 200 and updated.json()["threshold"] == 3
    taken = post_json(client, "/api/voting/official/elections", body(title="Sunday library"))
    assert taken.status_code == 422 and "slug" in taken.json()["detail"]
    assert client.delete(url).status_code == 204
    assert not Election.objects.exists()


def test_api_bad_input_is_refused_and_stores_nothing(official) -> None:
    client = client_for("official")
    url = "/api/voting/official/elections"
    # 400: not the documented form; 422: refused by the authoring rules
    cases = [
        (body(opens_at="tomorrow"), "opens_at", 400),
        (body(questions=[]), "questions", 422),
        (body(threshold=5), "threshold", 422),
        (body(trustees="keeper1"), "trustees", 422),
        (body(extra=1), "body", 400),
        (body(slug=5), "slug", 400),
        (body(title=["x"]), "title", 422),
        (body(questions=[{"id": "x", "type": "budget", "title": "B", "budget": 1, "options": [{"id": "a", "title": "A", "cost": 2}]}]), "questions.0.budget", 422),
    ]
    for data, field, status in cases:
        response = post_json(client, url, data)
        assert response.status_code == status, (field, response.content)
        assert field in response.json()["detail"], response.json()
    assert post_json(client, url, [1, 2]).status_code == 400
    raw = client.post(url, data='{"title": "a", "title": "b"}', content_type="application/json")
    assert raw.status_code == 400
    assert client.post(url, data="x" * 70000, content_type="application/json").status_code == 413
    assert not Election.objects.exists()
    election = draft(official)
    lifecycle.start_ceremony(official, election)
    frozen = post_json(client, f"{url}/{election.slug}", body(title="Changed"), method="put")
    assert frozen.status_code == 409 and frozen.json()["error"] == "election_state"
    assert client.delete(f"{url}/{election.slug}").status_code == 409
    assert post_json(client, f"{url}/{election.slug}/cancel", {}).status_code == 422  # no reason
    assert post_json(client, f"{url}/{election.slug}/explode", {}).status_code == 404
    assert client.get(f"{url}/nope").status_code == 404


def test_api_writes_need_the_csrf_token(official) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(official)
    response = post_json(client, "/api/voting/official/elections", body())
    assert response.status_code == 403 and "CSRF" in response.json()["detail"]
    assert not Election.objects.exists()


def test_the_schema_documents_the_officials_api(client: Client) -> None:
    paths = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()["paths"]
    assert {"post", "get"} <= set(paths["/api/voting/official/elections"])
    assert {"get", "put", "delete"} <= set(paths["/api/voting/official/elections/{slug}"])
    assert "post" in paths["/api/voting/official/elections/{slug}/{step}"]


def test_window_fields_use_the_city_time_zone(official) -> None:
    opens, closes = window()
    local = opens.astimezone(__import__("zoneinfo").ZoneInfo("Europe/Oslo")).replace(tzinfo=None).isoformat()
    response = post_json(client_for("official"), "/api/voting/official/elections", body(opens_at=local))
    assert response.status_code == 201, response.content
    assert Election.objects.get().opens_at == opens
