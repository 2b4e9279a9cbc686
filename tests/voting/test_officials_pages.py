"""The officials' pages (form, preview, lifecycle buttons) and the citizens' list of elections:
roles, errors next to the field, nothing public before the ceremony is over."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.utils import translation
from django.utils.formats import date_format

from civic.roles import Role
from tests.identity.support_identity import identity_settings, login, make_resident, make_user  # noqa: F401
from tests.voting.support_officials import ROLES, client_for, draft, trustees, window
from tests.voting.test_officials_lifecycle import opened, scheduled
from voting.models import Election
from voting.services import lifecycle

pytestmark = pytest.mark.django_db
OSLO = ZoneInfo("Europe/Oslo")


@pytest.fixture
def official():
    trustees()
    return make_user("clerk", Role.OFFICIAL)


def form_data(**overrides) -> dict:
    opens, closes = window()
    data = {
        "title": "Harbour bath",
        "slug": "",
        "description": "A **new** harbour bath? <script>alert(1)</script>",
        "district": "",
        "opens_at": opens.astimezone(OSLO).strftime("%Y-%m-%dT%H:%M"),
        "closes_at": closes.astimezone(OSLO).strftime("%Y-%m-%dT%H:%M"),
        "trustees": ["keeper1", "keeper2"],
        "threshold": "2",
        "required_observer_reports": "1",
        "q-TOTAL_FORMS": "2",
        "q-INITIAL_FORMS": "0",
        "q-0-qid": "",
        "q-0-type": "yes_no_abstain",
        "q-0-title": "Build the harbour bath?",
        "q-0-options": "",
        "q-1-qid": "colour",
        "q-1-type": "approval",
        "q-1-title": "Which colours?",
        "q-1-options": "Blue\nGreen\nred | Red",
        "q-1-min_selections": "0",
        "q-1-max_selections": "2",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize("role", ROLES)
def test_official_pages_by_every_role(official, role) -> None:
    election = draft(official)
    client = client_for(role)
    urls = ["/voting/official/", "/voting/official/new/", f"/voting/official/{election.slug}/", f"/voting/official/{election.slug}/edit/"]
    for url in urls:
        response = client.get(url)
        if role == "official":
            assert response.status_code == 200, url
        elif role == "anonymous":
            assert response.status_code == 302 and "/accounts/login/" in response["Location"]
        else:
            assert response.status_code == 403
    for url in (f"/voting/official/{election.slug}/delete/", "/voting/official/new/"):
        response = client.post(url, form_data(title="Other"))
        if role != "official":
            assert response.status_code in (302, 403)
    assert Election.objects.filter(slug=election.slug).exists() == (role != "official")
    if role != "official":
        assert not Election.objects.filter(slug="other").exists()


def test_an_official_writes_a_proposal_through_the_form(official) -> None:
    client = login(official)
    response = client.post("/voting/official/new/", form_data())
    assert response.status_code == 302, response.content.decode()[:3000]
    election = Election.objects.get(slug="harbour-bath")
    assert response["Location"] == "/voting/official/harbour-bath/"
    contests = election.manifest["contests"]
    assert [(c["id"], c["type"]) for c in contests] == [("build-the-harbour-bath", "yes_no_abstain"), ("colour", "approval")]
    assert [o["id"] for o in contests[1]["options"]] == ["blue", "green", "red"]
    assert (contests[1]["min_selections"], contests[1]["max_selections"]) == (0, 2)
    assert list(election.trustees.values_list("index", "user__username")) == [(1, "keeper1"), (2, "keeper2")]
    # The window was typed in Oslo time and is stored in UTC.
    assert election.opens_at.astimezone(OSLO).strftime("%Y-%m-%dT%H:%M") == form_data()["opens_at"]

    preview = client.get("/voting/official/harbour-bath/").content.decode()
    assert "<strong>new</strong>" in preview and "<script>alert" not in preview and "&lt;script&gt;" in preview
    assert 'for="c-colour-blue"' in preview and "Choose between 0 and 2 options." in preview
    assert "Start the key ceremony" in preview and "Delete the draft" in preview

    edit = client.get("/voting/official/harbour-bath/edit/").content.decode()
    assert "red | Red" in edit and 'value="Harbour bath"' in edit
    data = form_data(title="Harbour bath 2026", **{"q-INITIAL_FORMS": "2", "q-1-DELETE": "on"})
    assert client.post("/voting/official/harbour-bath/edit/", data).status_code == 302
    election.refresh_from_db()
    assert election.title == "Harbour bath 2026" and len(election.manifest["contests"]) == 1


@pytest.mark.parametrize(
    ("overrides", "field_id", "words"),
    [
        ({"q-1-options": "Blue\nblue | Blue again"}, "id_q-1-options_errors", "appears twice"),
        ({"q-1-max_selections": "9"}, "id_q-1-max_selections_errors", "maximum"),
        ({"threshold": "3"}, "id_threshold_errors", "larger than the number of trustees"),
        ({"trustees": []}, "id_trustees_errors", "at least one trustee"),
        ({"opens_at": "2001-01-01T10:00"}, "id_opens_at_errors", "past"),
        ({"q-0-title": "", "q-1-title": "", "q-1-options": ""}, "questions_errors", "at least one question"),
        ({"q-1-type": "budget", "q-1-options": "Pool | 4\nSauna | 3", "q-1-budget": "2"}, "id_q-1-budget_errors", "No project fits"),
    ],
)
def test_form_errors_show_next_to_the_field_and_store_nothing(official, overrides, field_id, words) -> None:
    response = login(official).post("/voting/official/new/", form_data(**overrides))
    assert response.status_code == 400
    html = response.content.decode()
    assert f'id="{field_id}"' in html, html[:4000]
    chunk = html[html.index(f'id="{field_id}"'):][:400]
    assert words in chunk
    assert not Election.objects.exists()


def test_add_a_question_without_script(official) -> None:
    response = login(official).post("/voting/official/new/", {**form_data(), "add_question": "1"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="q-2-title"' in html and 'value="3"' in html
    # The new, blank question starts with the initial type: no refusal shown for it.
    assert 'id="id_q-2-type_errors"' not in html and "This field is required." not in html
    assert '<option value="yes_no_abstain" selected>' in html.split('name="q-2-type"')[1][:400]
    assert not Election.objects.exists()


def test_lifecycle_buttons_with_reasons_on_the_page(official) -> None:
    client = login(official)
    election = draft(official)
    refused = client.post(f"/voting/official/{election.slug}/cancel/", {"cancel-reason": " "})
    assert refused.status_code == 400 and 'id="cancel_errors"' in refused.content.decode()
    assert client.post(f"/voting/official/{election.slug}/ceremony/").status_code == 302
    election.refresh_from_db()
    assert election.state == "ceremony"
    page = client.get(f"/voting/official/{election.slug}/").content.decode()
    assert "Start the key ceremony" not in page and "Cancel the election" in page
    assert client.get(f"/voting/official/{election.slug}/edit/").status_code == 302

    running = opened(official, title="Running")
    page = client.get(f"/voting/official/{running.slug}/").content.decode()
    assert "Close voting now" in page and "Cancel the election" not in page
    refused = client.post(f"/voting/official/{running.slug}/close/", {"close-reason": ""})
    assert refused.status_code == 400
    running.refresh_from_db()
    assert running.state == "open"
    assert client.post(f"/voting/official/{running.slug}/close/", {"close-reason": "Storm"}).status_code == 302
    running.refresh_from_db()
    assert (running.state, running.state_reason) == ("closed", "Storm")


def test_page_writes_need_the_csrf_token(official) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(official)
    assert client.post("/voting/official/new/", form_data()).status_code == 403
    assert not Election.objects.exists()


def test_nothing_is_public_before_the_ceremony_is_over(official) -> None:
    anonymous = Client()
    hidden = [draft(official, title="Draft one"), lifecycle.start_ceremony(official, draft(official, title="In ceremony"))]
    for election in hidden:
        assert anonymous.get(f"/voting/{election.slug}/booth/").status_code == 404
        assert anonymous.get(f"/api/voting/elections/{election.slug}/context").status_code == 404
    html = anonymous.get("/voting/").content.decode()
    assert "Draft one" not in html and "In ceremony" not in html

    soon = scheduled(official, title="Soon")
    html = anonymous.get("/voting/").content.decode()
    assert "Soon" in html and "Opens at" in html and "Europe/Oslo" in html
    with translation.override("en"):  # the city's zone, in the language's format (tests/civic/test_i18n.py)
        local = date_format(soon.opens_at.astimezone(OSLO), "DATETIME_FORMAT")
    assert f"{local} {soon.opens_at.astimezone(OSLO).tzname()}" in html
    assert anonymous.get(f"/api/voting/elections/{soon.slug}/context").json()["state"] == "scheduled"


def test_citizens_see_their_district_and_the_city_wide_ones(official) -> None:
    opens, closes = window(start_in=timedelta(hours=1))
    scheduled(official, title="North pool", district="north")
    scheduled(official, title="South road", district="south")
    scheduled(official, title="City budget")
    resident = make_resident("nora", "north", login(official))
    html = resident.client.get("/voting/").content.decode()
    assert "North pool" in html and "City budget" in html and "South road" not in html
    assert "Showing the elections of north" in html
    everything = resident.client.get("/voting/?all=1").content.decode()
    assert "South road" in everything
    public = Client().get("/voting/").content.decode()
    assert all(title in public for title in ("North pool", "South road", "City budget"))


def test_an_election_opened_by_the_scheduler_shows_its_booth(official) -> None:
    election = scheduled(official)
    with time_machine.travel(election.opens_at + timedelta(seconds=5)):
        from voting.tasks import run_schedule

        run_schedule()
        html = Client().get("/voting/").content.decode()
    assert f"/voting/{election.slug}/booth/" in html
