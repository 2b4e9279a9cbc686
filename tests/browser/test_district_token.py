"""The wallet page in Chromium, for a city-wide election with one eligibility key per district:
it blinds under the key of its credential's district, and the token it gets is under that key."""

from __future__ import annotations

import json
from typing import Any

import pytest

from civic.roles import Role
from tests.browser.conftest import Drive, page_errors
from tests.browser.test_eligibility_token import b64url_decode, open_election, seed_of
from tests.identity.support_identity import PASSWORD, login, make_resident, make_user
from voting.models import EligibilityGrant
from voting.selectors.eligibility import ballot_authorization_is_valid, election_keys

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_wallet_blinds_under_its_district_key(drive: Drive, settings: Any) -> None:
    settings.CIVIC_DISTRICTS = ["north", "south"]
    official = make_user("returning-officer", Role.OFFICIAL)
    resident = make_resident("sam", "south", login(official))
    election = open_election("city-budget", "", official)
    keys = {row.district: row.key_id for row in election_keys(election)}
    assert set(keys) == {"north", "south"}

    result = drive(
        "district_token.mjs",
        username="sam",
        password=PASSWORD,
        did=resident.wallet.did,
        secretKey=seed_of(resident.wallet.private_key).hex(),
        passphrase="a passphrase for the test",
        title=election.title,
    )
    assert result["issued"] == {"text": result["texts"]["tokenDone"], "isError": False}
    ballot = {r["id"]: r for r in result["records"]}["ballot:city-budget"]
    assert ballot["token"]["key_id"] == keys["south"]
    assert ballot_authorization_is_valid(
        election, b64url_decode(ballot["publicKey"]), ballot["token"]
    )
    (token_post,) = [r for r in result["requests"] if r["url"].endswith("/tokens")]
    assert json.loads(token_post["body"])["key_id"] == keys["south"]
    assert EligibilityGrant.objects.get(election=election).district == "south"
    assert page_errors(result["consoleErrors"]) == []
