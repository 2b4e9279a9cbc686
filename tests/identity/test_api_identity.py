"""Identity endpoints: authorization by role, DID resolution, binding rules, and bad input."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from civic.roles import Role
from identity import keys
from identity.models import (
    Challenge,
    CitizenDID,
    Decision,
    IssuedCredential,
    ResidencyClaim,
)
from identity.services import dids
from tests.identity.support_identity import (
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
from voting.models import EligibilityGrant

pytestmark = pytest.mark.django_db


@pytest.fixture
def clients() -> dict[str, Client]:
    return {
        "anonymous": Client(),
        "citizen": login(make_user("cit", Role.CITIZEN)),
        "official": login(make_user("off", Role.OFFICIAL)),
        "trustee": login(make_user("tru", Role.TRUSTEE)),
    }


def json_error(response: Any) -> dict[str, Any]:
    assert response["Content-Type"].startswith("application/json"), response.content[:200]
    body = response.json()
    assert body["status"] == response.status_code
    assert isinstance(body["error"], str) and body["error"]
    return body


# -- authorization ---------------------------------------------------------------------------------

CITIZEN_ONLY = [
    ("get", "/api/identity/me", None),
    ("post", "/api/identity/did/challenge", None),
    ("post", "/api/identity/did/bind", {"did": "x", "challenge": "y", "signature": "z"}),
    ("post", "/api/identity/claims", {"legal_name": "A", "address": "B", "district": "C"}),
    ("get", "/api/identity/credentials/1", None),
    ("post", "/api/voting/elections/e1/token-challenge", None),
    ("post", "/api/voting/elections/e1/tokens", {"blinded_message": "AA", "presentation": {}}),
]
OFFICIAL_ONLY = [
    ("get", "/api/identity/claims", None),
    ("post", "/api/identity/claims/1/approve", {}),
    ("post", "/api/identity/claims/1/reject", {"reason": "no"}),
    ("get", "/api/identity/credentials", None),
    ("post", "/api/identity/credentials/1/status", {"action": "revoke", "reason": "r"}),
]


def call(client: Client, method: str, url: str, body: Any) -> Any:
    if method == "get":
        return client.get(url)
    return post_json(client, url, body) if body is not None else client.post(url)


def assert_only_role_may_call(
    clients: dict[str, Client], allowed: str, method: str, url: str, body: Any
) -> None:
    """Every other client gets a JSON 403; the allowed role gets past the role check."""
    for who in (name for name in clients if name != allowed):
        response = call(clients[who], method, url, body)
        assert response.status_code == 403, (who, url, response.content)
        json_error(response)
    assert call(clients[allowed], method, url, body).status_code != 403


@pytest.mark.parametrize(("method", "url", "body"), CITIZEN_ONLY)
def test_citizen_endpoints_refuse_everyone_else(
    clients: dict[str, Client], method: str, url: str, body: Any
) -> None:
    assert_only_role_may_call(clients, "citizen", method, url, body)


@pytest.mark.parametrize(("method", "url", "body"), OFFICIAL_ONLY)
def test_official_endpoints_refuse_everyone_else(
    clients: dict[str, Client], method: str, url: str, body: Any
) -> None:
    assert_only_role_may_call(clients, "official", method, url, body)
    assert Decision.objects.count() == 0


def test_public_endpoints_answer_anyone(clients: dict[str, Client]) -> None:
    anonymous = clients["anonymous"]
    assert anonymous.get("/.well-known/did.json").status_code == 200
    assert anonymous.post("/api/vc/challenges").status_code == 201
    assert (
        post_json(anonymous, "/api/vc/credentials/verify", {"verifiableCredential": {}}).status_code
        == 200
    )
    open_election("public-e", "", make_user("maker", Role.OFFICIAL))
    key = anonymous.get("/api/voting/elections/public-e/eligibility-key")
    assert key.status_code == 200
    assert key.json()["variant"] == "RSABSSA-SHA384-PSS-Randomized"
    assert key.json()["jwk"]["kty"] == "RSA"
    assert (
        json_error(anonymous.get("/api/voting/elections/nope/eligibility-key"))["error"]
        == "not_found"
    )


def test_wrong_citizen_cannot_read_another_citizens_credential(clients: dict[str, Client]) -> None:
    owner = make_resident("own", "north", clients["official"])
    intruder = clients["citizen"]
    response = intruder.get(f"/api/identity/credentials/{owner.credential_pk}")
    assert response.status_code == 404
    json_error(response)
    assert (
        intruder.get(f"/identity/wallet/credentials/{owner.credential_pk}.json").status_code == 404
    )
    assert (
        owner.client.get(f"/identity/wallet/credentials/{owner.credential_pk}.json").status_code
        == 200
    )


def test_wrong_citizen_cannot_use_another_citizens_credential_for_a_token(
    clients: dict[str, Client],
) -> None:
    owner = make_resident("own", "north", clients["official"])
    thief = make_resident("thief", "south", clients["official"])
    open_election("e2", "north", make_user("maker", Role.OFFICIAL))
    challenge = thief.client.post("/api/voting/elections/e2/token-challenge").json()
    # The thief presents the owner's credential with their own key: holder mismatch.
    vp = thief.wallet.present(owner.credential, challenge["challenge"], challenge["domain"])
    response = post_json(
        thief.client,
        "/api/voting/elections/e2/tokens",
        {"blinded_message": b64url(bytes(256)), "presentation": vp},
    )
    assert response.status_code == 403
    assert EligibilityGrant.objects.count() == 0


# -- DID documents and resolution --------------------------------------------------------------


def test_city_did_document_is_served_and_resolves() -> None:
    document = Client().get("/.well-known/did.json")
    assert document["Content-Type"] == "application/did+json"
    assert document.json()["id"] == "did:web:localhost%3A8000"
    assert document.json()["assertionMethod"] == ["did:web:localhost%3A8000#key-1"]
    for path in (
        "/1.0/identifiers/did:web:localhost%3A8000",
        "/1.0/identifiers/did:web:localhost:8000",
    ):
        resolved = Client().get(path)
        assert resolved.status_code == 200
        assert resolved.json()["didDocument"] == document.json()
        assert resolved.json()["didResolutionMetadata"]["contentType"] == "application/did+json"


def test_did_key_resolution_matches_the_published_vectors(conformance_dir: Path) -> None:
    vectors = json.loads(
        (conformance_dir / "did_key" / "test-vectors" / "ed25519-x25519.json").read_text()
    )
    assert vectors
    for did, vector in vectors.items():
        key_format = vector["didDocument"]["verificationMethod"][0]["type"]
        response = Client().get(
            f"/1.0/identifiers/{did}?publicKeyFormat={key_format}&enableEncryptionKeyDerivation=true"
        )
        assert response.status_code == 200, did
        assert response.json()["didDocument"] == vector["didDocument"]
        multikey = Client().get(f"/1.0/identifiers/{did}").json()["didDocument"]
        assert multikey["verificationMethod"][0]["publicKeyMultibase"] == did.removeprefix(
            "did:key:"
        )


@pytest.mark.parametrize(
    ("did", "status", "error"),
    [
        ("not-a-did", 400, "invalidDid"),
        ("did:key:z6MkBAD", 400, "invalidDid"),
        ("did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme", 400, "invalidDid"),
        ("did:example:123", 501, "methodNotSupported"),
        ("did:web:elsewhere.example", 404, "notFound"),
        ("did:web:bad..host", 400, "invalidDid"),
        (
            "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp?publicKeyFormat=Nope",
            400,
            "unsupportedPublicKeyType",
        ),
    ],
)
def test_resolution_errors(did: str, status: int, error: str) -> None:
    response = Client().get(f"/1.0/identifiers/{did}")
    assert response.status_code == status
    body = json_error(response)
    assert body["error"] == error
    assert body["didResolutionMetadata"]["error"] == error
    assert body["didDocument"] is None


# -- DID binding ---------------------------------------------------------------------------------


def test_binding_refuses_replay_expiry_wrong_key_and_a_taken_did(
    clients: dict[str, Client],
) -> None:
    citizen = clients["citizen"]
    wallet = Wallet.new()
    challenge = citizen.post("/api/identity/did/challenge").json()
    body = wallet.binding_request(challenge)
    message = dids.binding_message(wallet.did, challenge["challenge"], challenge["domain"])

    impostor = Wallet.new()
    wrong_key = dict(body, signature=b64url(impostor.private_key.sign(message)))
    # well-formed, refused by the DID's key: 422 (400 is for a request not in the documented form)
    assert json_error(post_json(citizen, "/api/identity/did/bind", wrong_key))["status"] == 422
    assert post_json(citizen, "/api/identity/did/bind", body).status_code == 201
    replay = post_json(citizen, "/api/identity/did/bind", body)
    assert replay.status_code in (409, 422)  # a used challenge, or the DID already bound
    json_error(replay)

    expired = citizen.post("/api/identity/did/challenge").json()
    Challenge.objects.filter(nonce=expired["challenge"]).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    fresh = Wallet.new()
    response = post_json(citizen, "/api/identity/did/bind", fresh.binding_request(expired))
    assert response.status_code == 422
    assert "expired" in json.dumps(response.json())

    # Someone else's challenge cannot be used, and a DID bound to one account is never re-bound.
    other = login(make_user("other", Role.CITIZEN))
    theirs = other.post("/api/identity/did/challenge").json()
    stolen = fresh.binding_request(theirs)
    assert post_json(citizen, "/api/identity/did/bind", stolen).status_code == 422
    assert bind(other, wallet).status_code == 409
    assert CitizenDID.objects.count() == 1


# -- bad input -----------------------------------------------------------------------------------

BAD_BODIES = [
    ("malformed", b"{not json", "application/json"),
    ("duplicate keys", b'{"a": 1, "a": 2}', "application/json"),
    ("not an object", b"[1, 2, 3]", "application/json"),
    ("wrong media type", b"did=x", "application/x-www-form-urlencoded"),
    ("NaN", b'{"a": NaN}', "application/json"),
    ("deep", b"[" * 5000 + b"]" * 5000, "application/json"),
]


@pytest.mark.parametrize(("label", "raw", "content_type"), BAD_BODIES)
def test_bad_bodies_get_4xx_json_and_store_nothing(
    clients: dict[str, Client], label: str, raw: bytes, content_type: str
) -> None:
    resident = make_resident("res", "north", clients["official"])
    open_election("e3", "", make_user("maker", Role.OFFICIAL))
    counts = (
        CitizenDID.objects.count(),
        ResidencyClaim.objects.count(),
        IssuedCredential.objects.count(),
        Decision.objects.count(),
    )
    targets = [
        (resident.client, "/api/identity/did/bind"),
        (resident.client, "/api/identity/claims"),
        (resident.client, "/api/voting/elections/e3/tokens"),
        (clients["official"], f"/api/identity/credentials/{resident.credential_pk}/status"),
        (clients["anonymous"], "/api/vc/credentials/verify"),
        (clients["anonymous"], "/api/vc/presentations/verify"),
    ]
    for client, url in targets:
        response = client.post(url, data=raw, content_type=content_type)
        assert 400 <= response.status_code < 500, (label, url, response.status_code)
        json_error(response)
    assert counts == (
        CitizenDID.objects.count(),
        ResidencyClaim.objects.count(),
        IssuedCredential.objects.count(),
        Decision.objects.count(),
    )
    assert EligibilityGrant.objects.count() == 0


def test_oversized_bodies_are_refused_with_413(clients: dict[str, Client]) -> None:
    huge = json.dumps({"verifiableCredential": {"pad": "x" * (70 * 1024)}})
    response = clients["anonymous"].post(
        "/api/vc/credentials/verify", data=huge, content_type="application/json"
    )
    assert response.status_code == 413
    assert json_error(response)["error"] == "payload_too_large"


@pytest.mark.parametrize(
    "body",
    [
        {"legal_name": 5, "address": "a", "district": "n"},
        {"legal_name": "", "address": "a", "district": "n"},
        {"legal_name": "x" * 201, "address": "a", "district": "n"},
        {"legal_name": ["a"], "address": {"b": 1}, "district": None},
        {},
    ],
)
def test_claims_with_wrong_types_are_refused(
    clients: dict[str, Client], body: dict[str, Any]
) -> None:
    citizen = clients["citizen"]
    assert bind(citizen, Wallet.new()).status_code == 201
    response = post_json(citizen, "/api/identity/claims", body)
    assert response.status_code == 400
    json_error(response)
    assert ResidencyClaim.objects.count() == 0


def test_claim_needs_a_bound_did_and_only_one_pending(clients: dict[str, Client]) -> None:
    citizen = clients["citizen"]
    body = {"legal_name": "A B", "address": "1 St", "district": "north"}
    assert json_error(post_json(citizen, "/api/identity/claims", body))["error"] == "did_required"
    assert bind(citizen, Wallet.new()).status_code == 201
    assert post_json(citizen, "/api/identity/claims", body).status_code == 201
    assert json_error(post_json(citizen, "/api/identity/claims", body))["status"] == 409
    assert ResidencyClaim.objects.count() == 1


def test_decisions_are_recorded_and_cannot_be_repeated(clients: dict[str, Client]) -> None:
    citizen, official = clients["citizen"], clients["official"]
    bind(citizen, Wallet.new())
    claim = post_json(
        citizen,
        "/api/identity/claims",
        {"legal_name": "A B", "address": "1 St", "district": "north"},
    ).json()
    assert (
        json_error(
            post_json(official, f"/api/identity/claims/{claim['id']}/reject", {"reason": "  "})
        )["status"]
        == 400
    )
    assert (
        post_json(
            official,
            f"/api/identity/claims/{claim['id']}/reject",
            {"reason": "no proof of address"},
        ).status_code
        == 200
    )
    assert (
        json_error(post_json(official, f"/api/identity/claims/{claim['id']}/approve", {}))["status"]
        == 409
    )
    assert IssuedCredential.objects.count() == 0
    decision = Decision.objects.get()
    assert (decision.action, decision.reason, decision.decided_by.get_username()) == (
        "reject",
        "no proof of address",
        "off",
    )
    mine = citizen.get("/api/identity/me").json()["claims"]
    assert mine[0]["state"] == "rejected" and mine[0]["decision_reason"] == "no proof of address"
    assert json_error(post_json(official, "/api/identity/claims/999/approve", {}))["status"] == 404


@pytest.mark.parametrize(
    "body",
    [
        {"blinded_message": 5, "presentation": {}},
        {"blinded_message": "!!!not base64!!!", "presentation": {}},
        {"blinded_message": b64url(b"short"), "presentation": "not an object"},
        {
            "blinded_message": b64url(bytes(256)),
            "presentation": {"proof": {"challenge": "made-up"}},
        },
    ],
)
def test_token_requests_with_bad_fields_are_refused(
    clients: dict[str, Client], body: dict[str, Any]
) -> None:
    resident = make_resident("tok", "north", clients["official"])
    open_election("e4", "", make_user("maker", Role.OFFICIAL))
    response = post_json(resident.client, "/api/voting/elections/e4/tokens", body)
    assert 400 <= response.status_code < 500
    json_error(response)
    assert EligibilityGrant.objects.count() == 0


def test_verify_endpoints_reject_missing_fields_but_never_500() -> None:
    anonymous = Client()
    assert (
        json_error(post_json(anonymous, "/api/vc/credentials/verify", {"credential": {}}))["status"]
        == 400
    )
    assert (
        json_error(
            post_json(anonymous, "/api/vc/presentations/verify", {"verifiablePresentation": {}})
        )["status"]
        == 400
    )
    odd = [
        None,
        1,
        "x",
        [],
        {"proof": []},
        {"proof": {"type": 5}},
        {"@context": {"a": 1}, "proof": {"proofValue": "z"}},
    ]
    for credential in odd:
        response = post_json(
            anonymous, "/api/vc/credentials/verify", {"verifiableCredential": credential}
        )
        assert response.status_code in (200, 400)
        if response.status_code == 200:
            assert response.json()["verified"] is False
    response = post_json(
        anonymous,
        "/api/vc/presentations/verify",
        {
            "verifiablePresentation": {"holder": 5, "proof": {"challenge": 1}},
            "options": {"challenge": "c", "domain": "d"},
        },
    )
    assert response.status_code == 200
    assert response.json()["verified"] is False


def test_status_list_credential_is_signed_and_large(clients: dict[str, Client]) -> None:
    make_resident("sl", "north", clients["official"])
    from identity.core import status_list

    for purpose in ("revocation", "suspension"):
        listed = Client().get(f"/identity/status/{purpose}/1")
        assert listed.status_code == 200
        credential = listed.json()
        assert credential["issuer"] == keys.city_did()
        bits = status_list.StatusList.decode(credential["credentialSubject"]["encodedList"])
        assert bits.length >= 131_072
        verified = post_json(
            Client(), "/api/vc/credentials/verify", {"verifiableCredential": credential}
        ).json()
        assert verified["verified"] is True, verified
    assert Client().get("/identity/status/revocation/9").status_code == 404


def test_anonymous_verifier_endpoints_are_rate_limited(settings: Any) -> None:
    from django.core.cache import cache

    cache.clear()
    settings.CIVIC_VC_API_RATE = "3/minute"
    anonymous = Client()
    answers = [anonymous.post("/api/vc/challenges").status_code for _ in range(4)]
    assert answers == [201, 201, 201, 429]
    assert json_error(anonymous.post("/api/vc/challenges"))["status"] == 429
    assert Challenge.objects.count() == 3
    cache.clear()


def test_remote_did_web_resolution_is_guarded(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import httpx

    from identity import web_resolver

    other = {"id": "did:web:partner.example", "verificationMethod": []}
    served: dict[str, Any] = {
        "partner.example": other,
        "liar.example": {"id": "did:web:someone.else"},
    }

    def handler(request: httpx.Request) -> httpx.Response:
        document = served.get(request.url.host)
        if document is None:
            return httpx.Response(404)
        assert str(request.url) == f"https://{request.url.host}/.well-known/did.json"
        return httpx.Response(200, json=document)

    real_fetch = web_resolver.fetch_document
    monkeypatch.setattr(web_resolver, "check_public_host", lambda host, port: None)
    monkeypatch.setattr(
        web_resolver,
        "fetch_document",
        lambda did: real_fetch(did, transport=httpx.MockTransport(handler)),
    )
    # Off by default: no request leaves the server.
    assert Client().get("/1.0/identifiers/did:web:partner.example").status_code == 404
    settings.CIVIC_DID_WEB_RESOLVE_REMOTE = True
    resolved = Client().get("/1.0/identifiers/did:web:partner.example")
    assert resolved.status_code == 200
    assert resolved.json()["didDocument"] == other
    assert (
        json_error(Client().get("/1.0/identifiers/did:web:liar.example"))["error"]
        == "invalidDidDocument"
    )
    assert json_error(Client().get("/1.0/identifiers/did:web:gone.example"))["error"] == "notFound"


def test_remote_resolution_refuses_private_hosts() -> None:
    from identity import web_resolver
    from identity.core.data_integrity import ResolutionError

    for host in ("localhost", "127.0.0.1", "10.0.0.8", "169.254.169.254"):
        with pytest.raises(ResolutionError, match="not a public host"):
            web_resolver.check_public_host(host, 443)
