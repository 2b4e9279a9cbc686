"""Per-district turnout (issue 11): a city-wide election holds one RFC 9474 key per configured
district, the token is issued with the key of the district the presentation proves, the box
checks a token against the key its key_id names, and turnout per district from the box equals
turnout per district recomputed from the log."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from civic.roles import Role
from identity.core import blind_rsa
from ledger import sequencer
from ledger.models import Entry, Log
from tests.identity.support_identity import identity_settings, login, make_resident, make_user  # noqa: F401
from tests.voting.ballot_box_support import (
    box_settings,  # noqa: F401
    cast_body,
    issue_token,
    make_ballot,
    new_seed,
    new_voter,
    open_box,
    pick_key,
    post,
    request_token,
    spoil_body,
)
from voting.models import EligibilityGrant, EligibilityKey
from voting.selectors import ballot_box as box
from voting.selectors.eligibility import ballot_authorization_is_valid, tokens_issued

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("box_settings")]


@pytest.fixture(autouse=True)
def two_districts(settings: Any) -> None:
    settings.CIVIC_DISTRICTS = ["north", "south"]


@pytest.fixture
def official() -> Any:
    return make_user("clerk", Role.OFFICIAL)


@pytest.fixture
def official_client(official: Any) -> Client:
    return login(official)


@pytest.fixture
def city(official: Any) -> Any:
    return open_box("city-vote", official)


def keys_of(slug: str) -> dict[str, Any]:
    response = Client().get(f"/api/voting/elections/{slug}/eligibility-key")
    assert response.status_code == 200, response.content
    return response.json()


def test_a_city_wide_election_publishes_one_key_per_district(city: Any) -> None:
    published = keys_of(city.slug)
    assert [k["district"] for k in published["keys"]] == ["north", "south"]
    assert len({k["key_id"] for k in published["keys"]}) == 2
    for k in published["keys"]:
        public_key = blind_rsa.public_key_from_pem(k["public_key_pem"])
        assert blind_rsa.key_id(public_key) == k["key_id"] and k["jwk"]["kty"] == "RSA"
        assert k["variant"] == blind_rsa.DEFAULT_VARIANT.name
    # several keys: no single key at the top level that an old wallet would blindly use
    assert "key_id" not in published and "public_key_pem" not in published
    assert published["district"] is None
    rows = EligibilityKey.objects.filter(election=city)
    assert {(r.district, r.key_id) for r in rows} == {
        (k["district"], k["key_id"]) for k in published["keys"]
    }


def test_a_district_election_keeps_one_key_in_the_old_shape(official: Any) -> None:
    election = open_box("north-vote", official, district="north")
    published = keys_of(election.slug)
    (only,) = published["keys"]
    assert only["district"] is None and published["district"] == "north"
    assert (published["key_id"], published["public_key_pem"], published["variant"]) == (
        only["key_id"],
        only["public_key_pem"],
        only["variant"],
    )


def test_tokens_are_issued_with_the_district_key_and_counted_per_district(
    city: Any, official_client: Client
) -> None:
    published = {k["district"]: k["key_id"] for k in keys_of(city.slug)["keys"]}
    north = [new_voter(official_client, city.slug, "north") for _ in range(2)]
    south = new_voter(official_client, city.slug, "south")
    assert {v.token["key_id"] for v in north} == {published["north"]}
    assert south.token["key_id"] == published["south"]
    for voter in [*north, south]:
        assert ballot_authorization_is_valid(
            city, voter.key.public_key().public_bytes_raw(), voter.token
        )
    assert tokens_issued(city) == {"north": 2, "south": 1}
    # a token names its key: claiming the other district's key id breaks the signature
    forged = {**south.token, "key_id": published["north"]}
    assert not ballot_authorization_is_valid(
        city, south.key.public_key().public_bytes_raw(), forged
    )


def test_blinding_under_another_district_key_is_refused_and_nothing_is_kept(
    city: Any, official_client: Client
) -> None:
    resident = make_resident("nora", "north", official_client)
    wrong = pick_key(city.slug, "south")
    response, *_ = request_token(resident, city.slug, wrong)
    assert response.status_code == 409, response.content
    body = response.json()
    assert body["error"] == "wrong_district_key"
    assert body["detail"]["expected_key_id"] == pick_key(city.slug, "north")["key_id"]
    assert "north" in body["detail"]["key_id"]
    assert not EligibilityGrant.objects.filter(election=city).exists()
    # the refusal rolled everything back: asking again under the right key works
    voter = issue_token(resident, city.slug)
    assert voter.token["key_id"] == pick_key(city.slug, "north")["key_id"]
    assert tokens_issued(city) == {"north": 1}


def test_with_several_keys_the_request_must_name_a_key_of_the_election(
    city: Any, official_client: Client
) -> None:
    resident = make_resident("ned", "north", official_client)
    key = pick_key(city.slug, "north")
    for key_id, message in ((None, "required"), ("ab" * 32, "not one of"), (7, "not one of")):
        response, *_ = request_token(resident, city.slug, {**key, "key_id": key_id})
        assert response.status_code == 422, response.content
        assert message in response.json()["detail"]["key_id"]
    assert not EligibilityGrant.objects.exists()


def test_turnout_per_district_from_the_box_equals_the_log(
    city: Any, official_client: Client
) -> None:
    north_a, north_b = (new_voter(official_client, city.slug, "north") for _ in range(2))
    south = new_voter(official_client, city.slug, "south")
    client = Client()
    ballots = f"/api/voting/elections/{city.slug}/ballots"
    for voter in (north_a, north_b, north_a, south):  # north_a votes twice: one counts
        assert (
            post(
                client, ballots, cast_body(city.slug, voter, make_ballot(city).to_json())
            ).status_code
            == 201
        )
    seed = new_seed()
    audited = make_ballot(city, 2, seed=seed)
    assert (
        post(
            client, f"{ballots}/spoiled", spoil_body(city.slug, south, audited, seed, 2)
        ).status_code
        == 201
    )

    expected = [
        {"district": "north", "counting": 2, "cast": 3, "superseded": 1, "spoiled": 0},
        {"district": "south", "counting": 1, "cast": 1, "superseded": 0, "spoiled": 1},
    ]
    from_box = client.get(f"/api/voting/elections/{city.slug}/turnout").json()
    assert from_box["districts"] == expected
    assert (from_box["counting"], from_box["cast"], from_box["spoiled"]) == (3, 4, 1)

    sequencer.sequence_all()
    from_log = box.turnout_from_log(city)
    assert from_log == {
        key: from_box[key] for key in ("counting", "cast", "superseded", "spoiled", "districts")
    }
    log = Log.objects.get(name=city.log_name)
    districts = [
        json.loads(bytes(e.entry))["payload"]["district"]
        for e in Entry.objects.filter(log=log, kind__startswith="ballot.").order_by("index")
    ]
    assert districts == ["north", "north", "north", "south", "south"]


def test_a_one_key_election_counts_one_row_without_district(
    official: Any, official_client: Client
) -> None:
    election = open_box("north-vote", official, district="north")
    voter = new_voter(official_client, election.slug, "north")
    client = Client()
    assert (
        post(
            client,
            f"/api/voting/elections/{election.slug}/ballots",
            cast_body(election.slug, voter, make_ballot(election).to_json()),
        ).status_code
        == 201
    )
    turnout = client.get(f"/api/voting/elections/{election.slug}/turnout").json()
    assert turnout["district"] == "north"
    assert turnout["districts"] == [
        {"district": None, "counting": 1, "cast": 1, "superseded": 0, "spoiled": 0}
    ]
    sequencer.sequence_all()
    assert box.turnout_from_log(election)["districts"] == turnout["districts"]
    assert tokens_issued(election) == {"": 1}
    page = client.get("/voting/").content.decode()
    assert "turnout-districts" not in page


def test_the_list_and_the_booth_show_turnout_per_district(
    city: Any, official_client: Client
) -> None:
    voter = new_voter(official_client, city.slug, "south")
    client = Client()
    assert (
        post(
            client,
            f"/api/voting/elections/{city.slug}/ballots",
            cast_body(city.slug, voter, make_ballot(city).to_json()),
        ).status_code
        == 201
    )
    listing = client.get("/voting/").content.decode()
    assert '<td class="turnout">1 ' in listing
    assert '<li data-district="north">north: 0 ballots</li>' in listing
    assert '<li data-district="south">south: 1 ballot</li>' in listing
    booth = official_client.get(f"/voting/{city.slug}/booth/").content.decode()
    assert 'id="booth-turnout"' in booth and "1 ballot counts so far." in booth
    assert '<li data-district="south">south: 1 ballot</li>' in booth


def test_a_district_without_a_key_is_refused_and_the_key_set_stays_fixed(
    city: Any, official_client: Client, settings: Any
) -> None:
    """Districts added to CIVIC_DISTRICTS after the keys were made get no key in this election."""
    settings.CIVIC_DISTRICTS = ["north", "south", "east"]
    resident = make_resident("erin", "east", official_client)
    assert [k["district"] for k in keys_of(city.slug)["keys"]] == ["north", "south"]
    response, *_ = request_token(resident, city.slug, pick_key(city.slug, "north"))
    assert response.status_code == 403, response.content
    assert "no eligibility key for the district east" in json.dumps(response.json()["detail"])
    assert not EligibilityGrant.objects.exists()
