"""A voting token from the wallet page in Chromium: ballot key, blinding and finalization in the
page; the ballot box's check accepts it; asking again is refused (409) without losing it."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from civic.roles import Role
from tests.browser.conftest import Drive, page_errors
from tests.browser.test_citizen_wallet import encodings
from tests.identity.support_identity import PASSWORD, login, make_resident, make_user
from voting.models import Election, EligibilityGrant
from voting.selectors.eligibility import ballot_authorization_is_valid
from voting.services.elections import create_election
from voting.services.eligibility import ensure_election_keys

pytestmark = pytest.mark.django_db(transaction=True)


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def seed_of(private_key: Ed25519PrivateKey) -> bytes:
    return private_key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )


def open_election(slug: str, district: str, creator: Any) -> Election:
    election = create_election(
        slug=slug, title="Harbour park", district=district, created_by=creator
    )
    election.state = Election.State.OPEN
    election.save(update_fields=["state"])
    ensure_election_keys(election)
    return election


def test_wallet_gets_a_token_the_ballot_box_accepts_and_only_one(drive: Drive) -> None:
    official = make_user("returning-officer", Role.OFFICIAL)
    resident = make_resident("mary", "harbour", login(official))
    election = open_election("harbour-park", "harbour", official)
    secret = seed_of(resident.wallet.private_key)

    result = drive(
        "eligibility_token.mjs",
        username="mary",
        password=PASSWORD,
        did=resident.wallet.did,
        secretKey=secret.hex(),
        passphrase="a passphrase for the test",
        title=election.title,
    )
    texts = result["texts"]
    assert result["restored"]["isError"] is False and result["restoredOther"]["isError"] is False

    # The page made the ballot key, blinded, and finalized; the ballot box accepts the token.
    assert result["issued"] == {"text": texts["tokenDone"], "isError": False}
    assert result["buttonsLeft"] == 0
    ballots = {r["id"]: r for r in result["recordsAfterToken"]}
    ballot = ballots["ballot:harbour-park"]
    ballot_key = b64url_decode(ballot["publicKey"])
    assert ballot_authorization_is_valid(election, ballot_key, ballot["token"])
    assert not ballot_authorization_is_valid(election, bytes(32), ballot["token"])
    grant = EligibilityGrant.objects.get(election=election)
    assert (grant.user, grant.did) == (resident.user, resident.wallet.did)

    # Neither the DID key nor the ballot key left the browser; the blinded message did.
    token_posts = [r for r in result["requests"] if r["url"].endswith("/tokens")]
    assert token_posts and all("blinded_message" in r["body"] for r in token_posts)
    ballot_secret = bytes.fromhex(ballot["secretKey"])
    for request in result["requests"]:
        for encoded in encodings(secret) + encodings(ballot_secret):
            assert encoded not in request["body"], request["url"]
        assert ballot["token"]["signature"] not in request["body"]

    # A second request from a tab opened before: the token this browser holds is kept.
    assert result["again"]["isError"] is False, result["again"]
    kept = {r["id"]: r for r in result["recordsAfterAgain"]}["ballot:harbour-park"]
    assert kept == ballot

    # From another device: the server refuses (409) and the page says so.
    assert result["refused"]["isError"] is True
    assert result["refused"]["text"] == f"{texts['error']} {texts['alreadyIssued']}"
    answers = [r["status"] for r in result["responses"] if r["url"].endswith("/tokens")]
    assert answers == [201, 409]  # the stale tab asked nothing: this browser holds the token
    assert EligibilityGrant.objects.filter(election=election).count() == 1

    # The refused device kept its fresh ballot key (no token); restoring its backup on the
    # device holding the token does not replace the token with that bare key.
    bare = {r["id"]: r for r in result["otherRecords"]}["ballot:harbour-park"]
    assert "token" not in bare and bare["secretKey"] != ballot["secretKey"]
    assert result["restoredOld"] == {"text": texts["restored"], "isError": False}
    assert {r["id"]: r for r in result["recordsAfterOldBackup"]}["ballot:harbour-park"] == ballot

    assert "token received" in result["tokensSection"]
    # Chromium logs the refused request itself; nothing else went wrong in the pages.
    (logged,) = page_errors(result["consoleErrors"])
    assert "/tokens: Failed to load resource" in logged and "status of 409" in logged
