"""The whole identity story over HTTP: sign-up, DID binding, claim, approval, verification,
revocation, and an unlinkable eligibility token checked by the ballot box."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from django.test import Client

from civic.roles import Role
from identity.core import blind_rsa
from identity.core.jcs import canonicalize
from identity.models import CitizenDID, Decision, IssuedCredential, ResidencyClaim
from identity.services.encoding import b64url_decode
from ledger.models import OutboxEntry
from tests.identity.support_identity import (
    PASSWORD,
    Resident,
    Wallet,
    b64url,
    bind,
    identity_settings,  # noqa: F401 - autouse fixture
    login,
    make_resident,
    make_user,
    open_election,
    post_json,
)
from voting.errors import IneligibleBallot
from voting.models import EligibilityGrant
from voting.selectors.eligibility import ballot_authorization_is_valid, token_message
from voting.services import eligibility

pytestmark = pytest.mark.django_db


@pytest.fixture
def official() -> Client:
    return login(make_user("clerk", Role.OFFICIAL))


def ledger_entries(kind: str) -> list[dict[str, Any]]:
    rows = OutboxEntry.objects.filter(log__name="credentials", kind=kind).order_by("id")
    return [json.loads(bytes(row.entry)) for row in rows]


def test_sign_up_bind_claim_approve_verify_revoke(official: Client) -> None:
    citizen = Client()
    signup = citizen.post(
        "/accounts/signup/",
        {
            "username": "ada",
            "email": "ada@example.org",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    assert signup.status_code == 302
    wallet = Wallet.new()
    bound = bind(citizen, wallet)
    assert bound.status_code == 201, bound.content
    assert citizen.get("/api/identity/me").json()["did"] == wallet.did

    claim = post_json(
        citizen,
        "/api/identity/claims",
        {"legal_name": "Ada Lovelace", "address": "12 Analytical Row", "district": "north"},
    )
    assert claim.status_code == 201, claim.content
    queue = official.get("/api/identity/claims").json()["claims"]
    assert [c["id"] for c in queue] == [claim.json()["id"]]
    assert queue[0]["legal_name"] == "Ada Lovelace"

    approved = post_json(
        official, f"/api/identity/claims/{claim.json()['id']}/approve", {"reason": "lease checked"}
    )
    assert approved.status_code == 201, approved.content
    decision = Decision.objects.get(action=Decision.Action.APPROVE)
    assert decision.decided_by.get_username() == "clerk"
    credential = citizen.get(f"/api/identity/credentials/{approved.json()['id']}").json()

    # Standard VC 2.0 with an eddsa-jcs-2022 proof by the city's did:web key; minimal claims.
    assert credential["@context"] == ["https://www.w3.org/ns/credentials/v2"]
    assert credential["issuer"] == "did:web:localhost%3A8000"
    assert credential["credentialSubject"] == {"id": wallet.did, "district": "north"}
    assert credential["proof"]["cryptosuite"] == "eddsa-jcs-2022"
    assert "Ada" not in json.dumps(credential)
    statuses = {entry["statusPurpose"]: entry for entry in credential["credentialStatus"]}
    assert set(statuses) == {"revocation", "suspension"}
    for entry in statuses.values():
        listed = Client().get(entry["statusListCredential"].removeprefix("http://localhost:8000"))
        assert listed.status_code == 200
        assert listed.json()["proof"]["verificationMethod"].startswith("did:web:localhost%3A8000#")

    verify = post_json(Client(), "/api/vc/credentials/verify", {"verifiableCredential": credential})
    assert verify.status_code == 200
    assert verify.json()["verified"] is True, verify.json()
    assert {"proof", "issuer", "validity", "status"} <= set(verify.json()["checks"])

    # The ledger holds a salted commitment to the credential, never its content.
    issued = IssuedCredential.objects.get()
    [entry] = ledger_entries("credential.issued")
    assert entry["payload"] == {"commitment": issued.commitment}
    assert (
        issued.commitment
        == hashlib.sha256(
            bytes.fromhex(issued.commitment_salt) + canonicalize(credential)
        ).hexdigest()
    )
    versions_before = len(ledger_entries("status_list.version"))

    revoked = post_json(
        official,
        f"/api/identity/credentials/{issued.pk}/status",
        {"action": "revoke", "reason": "moved away"},
    )
    assert revoked.status_code == 200, revoked.content
    after = post_json(
        Client(), "/api/vc/credentials/verify", {"verifiableCredential": credential}
    ).json()
    assert after["verified"] is False
    assert "REVOKED" in [p["code"] for p in after["problems"]]
    assert len(ledger_entries("status_list.version")) == versions_before + 1
    assert Decision.objects.get(action=Decision.Action.REVOKE).reason == "moved away"


def test_suspension_flips_and_reinstatement_restores(official: Client) -> None:
    resident = make_resident("bo", "south", official)
    url = f"/api/identity/credentials/{resident.credential_pk}/status"
    assert post_json(official, url, {"action": "suspend", "reason": "inquiry"}).status_code == 200
    body = post_json(
        Client(), "/api/vc/credentials/verify", {"verifiableCredential": resident.credential}
    ).json()
    assert [p["code"] for p in body["problems"]] == ["SUSPENDED"]
    assert post_json(official, url, {"action": "reinstate", "reason": "cleared"}).status_code == 200
    body = post_json(
        Client(), "/api/vc/credentials/verify", {"verifiableCredential": resident.credential}
    ).json()
    assert body["verified"] is True
    assert post_json(official, url, {"action": "revoke", "reason": "fraud"}).status_code == 200
    assert post_json(official, url, {"action": "reinstate", "reason": "oops"}).status_code == 409


def test_tampered_credential_fails(official: Client) -> None:
    resident = make_resident("cy", "north", official)
    tampered = json.loads(json.dumps(resident.credential))
    tampered["credentialSubject"]["district"] = "south"
    body = post_json(
        Client(), "/api/vc/credentials/verify", {"verifiableCredential": tampered}
    ).json()
    assert body["verified"] is False
    assert "PROOF_VERIFICATION_ERROR" in [p["code"] for p in body["problems"]]


def test_presentation_verifies_once_and_replay_is_refused(official: Client) -> None:
    resident = make_resident("di", "north", official)
    verifier = Client()
    challenge = verifier.post("/api/vc/challenges").json()
    vp = resident.wallet.present(resident.credential, challenge["challenge"], challenge["domain"])
    request = {
        "verifiablePresentation": vp,
        "options": {"challenge": challenge["challenge"], "domain": challenge["domain"]},
    }
    first = post_json(verifier, "/api/vc/presentations/verify", request)
    assert first.status_code == 200
    assert first.json()["verified"] is True, first.json()
    replay = post_json(verifier, "/api/vc/presentations/verify", request).json()
    assert replay["verified"] is False
    assert "INVALID_CHALLENGE_ERROR" in [p["code"] for p in replay["problems"]]


def verify_presentation(vp: dict[str, Any], challenge: dict[str, str]) -> dict[str, Any]:
    """A third-party verifier's answer for ``vp`` against the challenge it handed out."""
    options = {"challenge": challenge["challenge"], "domain": challenge["domain"]}
    return post_json(
        Client(),
        "/api/vc/presentations/verify",
        {"verifiablePresentation": vp, "options": options},
    ).json()


def test_presentation_with_wrong_domain_or_someone_elses_credential_fails(official: Client) -> None:
    alice = make_resident("al", "north", official)
    mallory = make_resident("ma", "north", official)
    challenge = Client().post("/api/vc/challenges").json()
    wrong_domain = alice.wallet.present(alice.credential, challenge["challenge"], "evil.example")
    body = verify_presentation(wrong_domain, challenge)
    assert body["verified"] is False
    stolen = mallory.wallet.present(alice.credential, challenge["challenge"], challenge["domain"])
    body = verify_presentation(stolen, challenge)
    assert body["verified"] is False
    assert "HOLDER_MISMATCH" in [p["code"] for p in body["problems"]]


def request_token(
    resident: Resident, slug: str
) -> tuple[Any, bytes, bytes, blind_rsa.BlindingResult, Any]:
    """The browser's side: fresh ballot key, blinded token message, presentation; returns the answer."""
    key = Client().get(f"/api/voting/elections/{slug}/eligibility-key").json()
    public_key = blind_rsa.public_key_from_pem(key["public_key_pem"])
    ballot_key = Wallet.new().private_key.public_key().public_bytes_raw()
    input_msg = blind_rsa.prepare(token_message(slug, ballot_key))
    blinding = blind_rsa.blind(public_key, input_msg)
    challenge = resident.client.post(f"/api/voting/elections/{slug}/token-challenge").json()
    vp = resident.wallet.present(resident.credential, challenge["challenge"], challenge["domain"])
    response = post_json(
        resident.client,
        f"/api/voting/elections/{slug}/tokens",
        {"blinded_message": b64url(blinding.blinded_msg), "presentation": vp},
    )
    return response, ballot_key, input_msg, blinding, public_key


def finalize_token(
    response: Any, input_msg: bytes, blinding: blind_rsa.BlindingResult, public_key: Any
) -> dict[str, str]:
    blind_signature = b64url_decode(response.json()["blind_signature"], "blind_signature")
    signature = blind_rsa.finalize(public_key, input_msg, blind_signature, blinding.inv)
    return {
        "key_id": response.json()["key_id"],
        "prefix": b64url(input_msg[:32]),
        "signature": b64url(signature),
    }


def test_eligibility_token_issue_finalize_and_ballot_box_check(official: Client) -> None:
    resident = make_resident("ev", "north", official)
    creator = make_user("planner", Role.OFFICIAL)
    council = open_election("council-north", "north", creator)
    budget = open_election("budget", "", creator)

    response, ballot_key, input_msg, blinding, public_key = request_token(resident, "council-north")
    assert response.status_code == 201, response.content
    token = finalize_token(response, input_msg, blinding, public_key)
    assert ballot_authorization_is_valid(council, ballot_key, token)
    eligibility.authorize_ballot(council, ballot_key, token)

    # Only the fact is recorded (DID + election), plus a ledger commitment of it.
    grant = EligibilityGrant.objects.get()
    assert (grant.did, grant.election_id) == (resident.wallet.did, council.pk)
    [entry] = ledger_entries("eligibility.token_issued")
    assert entry["payload"] == {"commitment": grant.commitment, "election": "council-north"}
    assert resident.wallet.did not in json.dumps(entry)

    # Second token for the same election: 409 and nothing signed or stored.
    again, *_ = request_token(resident, "council-north")
    assert again.status_code == 409
    assert again.json()["error"] == "token_already_issued"
    assert EligibilityGrant.objects.count() == 1

    # The token is bound to its election and its ballot key; forgeries are refused.
    eligibility.ensure_election_keys(budget)
    assert not ballot_authorization_is_valid(budget, ballot_key, token)
    other_key = Wallet.new().private_key.public_key().public_bytes_raw()
    assert not ballot_authorization_is_valid(council, other_key, token)
    forged = dict(
        token, signature=b64url(bytes(len(b64url_decode(token["signature"], "s"))))
    )
    assert not ballot_authorization_is_valid(council, ballot_key, forged)
    flipped = bytearray(b64url_decode(token["signature"], "s"))
    flipped[-1] ^= 1
    assert not ballot_authorization_is_valid(
        council, ballot_key, dict(token, signature=b64url(bytes(flipped)))
    )
    assert not ballot_authorization_is_valid(council, ballot_key, "not a token")
    with pytest.raises(IneligibleBallot):
        eligibility.authorize_ballot(council, ballot_key, forged)

    # The whole-city election accepts the same citizen with a token of its own.
    budget_response, budget_key, budget_input, budget_blinding, budget_public = request_token(
        resident, "budget"
    )
    assert budget_response.status_code == 201, budget_response.content
    budget_token = finalize_token(budget_response, budget_input, budget_blinding, budget_public)
    assert ballot_authorization_is_valid(budget, budget_key, budget_token)
    assert not ballot_authorization_is_valid(council, budget_key, budget_token)


def test_token_refused_outside_district_when_closed_or_revoked(official: Client) -> None:
    resident = make_resident("fi", "south", official)
    creator = make_user("planner", Role.OFFICIAL)
    open_election("council-north", "north", creator)
    wrong_district, *_ = request_token(resident, "council-north")
    assert wrong_district.status_code == 403
    assert wrong_district.json()["error"] == "not_eligible"

    closed = open_election("closed-one", "", creator)
    closed.state = closed.State.CLOSED
    closed.save(update_fields=["state"])
    not_open, *_ = request_token(resident, "closed-one")
    assert not_open.status_code == 409
    assert not_open.json()["error"] == "election_not_open"

    open_election("city-wide", "", creator)
    post_json(
        official,
        f"/api/identity/credentials/{resident.credential_pk}/status",
        {"action": "revoke", "reason": "left"},
    )
    revoked, *_ = request_token(resident, "city-wide")
    assert revoked.status_code == 403
    assert "REVOKED" in json.dumps(revoked.json())
    assert EligibilityGrant.objects.count() == 0


def test_rotated_did_marks_the_old_one_replaced_and_old_credential_no_longer_gets_tokens(
    official: Client,
) -> None:
    resident = make_resident("gu", "north", official)
    new_wallet = Wallet.new()
    assert bind(resident.client, new_wallet).status_code == 201
    old = CitizenDID.objects.get(did=resident.wallet.did)
    assert old.replaced_at is not None
    assert old.replaced_by.did == new_wallet.did
    resolved = Client().get(f"/1.0/identifiers/{resident.wallet.did}").json()
    assert resolved["didDocumentMetadata"]["nextVersionId"] == new_wallet.did
    open_election("any", "", make_user("planner", Role.OFFICIAL))
    response, *_ = request_token(resident, "any")
    assert response.status_code == 403
    assert ResidencyClaim.objects.count() == 1


def test_expired_credential_fails_verification(official: Client) -> None:
    from datetime import timedelta
    from unittest import mock

    from django.utils import timezone

    citizen = login(make_user("old", Role.CITIZEN))
    bind(citizen, Wallet.new())
    claim = post_json(
        citizen,
        "/api/identity/claims",
        {"legal_name": "Old Timer", "address": "1 St", "district": "north"},
    ).json()
    two_years_ago = timezone.now() - timedelta(days=730)
    with mock.patch("identity.services.credentials.timezone.now", return_value=two_years_ago):
        pk = post_json(official, f"/api/identity/claims/{claim['id']}/approve", {}).json()["id"]
    credential = citizen.get(f"/api/identity/credentials/{pk}").json()
    body = post_json(
        Client(), "/api/vc/credentials/verify", {"verifiableCredential": credential}
    ).json()
    assert body["verified"] is False
    assert [p["code"] for p in body["problems"]] == ["EXPIRED"]


def test_key_rotation_keeps_old_credentials_verifiable(
    official: Client, settings: Any, tmp_path: Any
) -> None:
    import os

    from django.core.management import call_command

    settings.CIVIC_CITY_KEY_FILE = str(tmp_path / "rotating.json")
    call_command("identity_init_city_keys")
    assert os.stat(settings.CIVIC_CITY_KEY_FILE).st_mode & 0o777 == 0o600
    resident = make_resident("ro", "north", official)
    assert resident.credential["proof"]["verificationMethod"].endswith("#key-1")
    call_command("identity_init_city_keys", "--rotate")
    document = Client().get("/.well-known/did.json").json()
    assert [m["id"].split("#")[1] for m in document["verificationMethod"]] == ["key-1", "key-2"]
    body = post_json(
        Client(), "/api/vc/credentials/verify", {"verifiableCredential": resident.credential}
    ).json()
    assert body["verified"] is True, body
    newer = make_resident("rn", "north", official)
    assert newer.credential["proof"]["verificationMethod"].endswith("#key-2")


def test_election_keys_are_sealed_at_rest(settings: Any, tmp_path: Any) -> None:
    from cryptography.exceptions import InvalidTag

    from voting.models import EligibilityKey

    open_election("sealed", "", make_user("planner", Role.OFFICIAL))
    assert Client().get("/api/voting/elections/sealed/eligibility-key").status_code == 200
    row = EligibilityKey.objects.get()
    assert "PRIVATE" not in row.private_key_sealed
    # With another city key file the sealed key cannot be opened: no token can be signed.
    settings.CIVIC_CITY_KEY_FILE = str(tmp_path / "other.json")
    from identity import keys

    keys.ensure_key_file()
    with pytest.raises(InvalidTag):
        eligibility.unseal_private_key(row)
