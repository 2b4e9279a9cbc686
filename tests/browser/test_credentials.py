"""Residency credentials through the pages in Chromium: the claim form, an official's approval
in the review queue, the wallet's credential list and download, and revocation at the desk."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from civic.roles import Role
from identity.models import Decision, IssuedCredential, ResidencyClaim
from tests.browser.conftest import Drive, page_errors
from tests.identity.support_identity import (
    PASSWORD,
    Wallet,
    bind,
    login,
    make_resident,
    make_user,
    post_json,
)

pytestmark = pytest.mark.django_db(transaction=True)

CLAIM = {"legal_name": "Grace Hopper", "address": "7 Harbour Lane", "district": "north"}


def test_claim_approved_in_queue_shows_in_wallet_and_verifies(drive: Drive) -> None:
    citizen = make_user("grace", Role.CITIZEN)
    wallet = Wallet.new()
    assert bind(login(citizen), wallet).status_code == 201
    official = make_user("clerk", Role.OFFICIAL)

    result = drive(
        "claim_approval.mjs",
        citizen={"username": "grace"},
        official={"username": "clerk"},
        password=PASSWORD,
        claim=CLAIM,
        reason="tenancy agreement checked",
    )

    # The form named the DID the credential will carry, and the claim reached the server.
    assert wallet.did in result["didNotice"]
    assert "Your claim was sent" in result["afterClaim"]
    claim = ResidencyClaim.objects.get(user=citizen)
    assert (claim.legal_name, claim.address, claim.district) == tuple(CLAIM.values())
    assert claim.subject_did == wallet.did
    assert any("north" in item for item in result["claimsListed"])

    # The official saw it in the queue and approved it with a reason, recorded with their name.
    assert "1 claim waiting" in result["queueCaption"]
    assert CLAIM["legal_name"] in result["reviewed"] and wallet.did in result["reviewed"]
    assert "credential was issued" in result["decisionMessage"]
    assert "No claim is waiting for review." in result["queueAfter"]
    decision = Decision.objects.get(claim=claim)
    assert (decision.action, decision.decided_by, decision.reason) == (
        Decision.Action.APPROVE,
        official,
        "tenancy agreement checked",
    )

    # The wallet lists the credential as active; its JSON download is the issued document.
    issued = IssuedCredential.objects.get(claim=claim)
    assert [row[0] for row in result["rows"]] == ["north"]
    assert result["rows"][0][3] == "active"
    assert result["downloadName"] == f"residency-credential-{issued.pk}.json"
    credential = json.loads(result["credentialText"])
    assert credential == issued.document
    assert credential["credentialSubject"]["id"] == wallet.did
    assert CLAIM["legal_name"] not in result["credentialText"]

    # A verifier (over HTTP, from the browser's side) accepts it.
    assert result["verification"]["status"] == 200
    assert result["verification"]["body"]["verified"] is True, result["verification"]
    assert page_errors(result["consoleErrors"]) == []


def test_revocation_at_the_desk_shows_in_wallet_and_flips_verification(drive: Drive) -> None:
    official = make_user("registrar", Role.OFFICIAL)
    resident = make_resident("linus", "south", login(official))
    assert (
        post_json(
            Client(), "/api/vc/credentials/verify", {"verifiableCredential": resident.credential}
        ).json()["verified"]
        is True
    )

    result = drive(
        "revocation.mjs",
        citizen={"username": "linus"},
        official={"username": "registrar"},
        password=PASSWORD,
        reason="moved to another city",
    )

    assert result["statusBefore"] == "active"
    assert "status list re-published" in result["message"]
    assert result["deskStatus"] == "revoked"
    assert result["formsLeft"] == 0  # revocation is final: no more actions offered
    assert result["statusAfter"] == "revoked"
    issued = IssuedCredential.objects.get(pk=resident.credential_pk)
    assert issued.status == "revoked"
    decision = Decision.objects.get(action=Decision.Action.REVOKE)
    assert (decision.decided_by, decision.reason) == (official, "moved to another city")
    after = post_json(
        Client(), "/api/vc/credentials/verify", {"verifiableCredential": resident.credential}
    ).json()
    assert after["verified"] is False
    assert "REVOKED" in [problem["code"] for problem in after["problems"]]
    assert page_errors(result["consoleErrors"]) == []
