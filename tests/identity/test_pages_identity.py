"""Identity pages: who may open them, the claim form with its document limits, the officials'
queue and credential desk, and the public page of the city's DID."""

from __future__ import annotations

import re

import pytest
from django.contrib.staticfiles import finders
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from civic.roles import Role
from identity.models import Decision, IssuedCredential, ResidencyClaim
from tests.identity.support_identity import (
    Wallet,
    bind,
    identity_settings,  # noqa: F401 - autouse fixture
    login,
    make_resident,
    make_user,
    open_election,
    post_json,
)

pytestmark = pytest.mark.django_db

CITIZEN_PAGES = ["/identity/wallet/", "/identity/claim/"]
OFFICIAL_PAGES = ["/identity/official/claims/", "/identity/official/credentials/"]
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def citizen() -> Client:
    return login(make_user("cit", Role.CITIZEN))


@pytest.fixture
def official() -> Client:
    return login(make_user("off", Role.OFFICIAL))


@pytest.mark.parametrize("url", CITIZEN_PAGES + OFFICIAL_PAGES)
def test_pages_send_anonymous_visitors_to_log_in(url: str) -> None:
    response = Client().get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_each_role_sees_only_its_pages(citizen: Client, official: Client) -> None:
    for url in CITIZEN_PAGES:
        assert citizen.get(url).status_code == 200, url
        assert official.get(url).status_code == 403, url
    for url in OFFICIAL_PAGES:
        assert official.get(url).status_code == 200, url
        assert citizen.get(url).status_code == 403, url


def test_wallet_page_loads_its_modules_from_this_site(citizen: Client) -> None:
    response = citizen.get("/identity/wallet/")
    page = response.content.decode()
    # the import map is the one inline script: it runs by the request's CSP nonce
    nonce = re.search(r'<script type="importmap" nonce="([^"]+)">', page)
    assert nonce and f"'nonce-{nonce[1]}'" in response["Content-Security-Policy"]
    assert '"@noble/curves/": "/static/vendor/noble/curves/"' in page
    assert "/static/identity/js/wallet.mjs" in page
    assert 'id="wallet-messages"' in page
    assert 'role="status"' in page
    assert "http" not in page.split(nonce[0])[1].split("</script>")[0]
    for name in (
        "identity/js/wallet.mjs",
        "identity/js/wallet_keys.mjs",
        "identity/js/wallet_store.mjs",
        "identity/js/blind_rsa.mjs",
        "identity/js/bytes.mjs",
        "vendor/noble/curves/ed25519.js",
        "vendor/noble/hashes/sha2.js",
    ):
        assert finders.find(name), name


def test_wallet_lists_credentials_and_offers_tokens_for_open_elections(official: Client) -> None:
    resident = make_resident("res", "north", official)
    open_election("north-vote", "north", make_user("maker", Role.OFFICIAL))
    page = resident.client.get("/identity/wallet/").content.decode()
    assert resident.wallet.did in page
    assert f"/identity/wallet/credentials/{resident.credential_pk}.json" in page
    assert 'data-slug="north-vote"' in page
    assert f'data-credential-url="/api/identity/credentials/{resident.credential_pk}"' in page
    download = resident.client.get(f"/identity/wallet/credentials/{resident.credential_pk}.json")
    assert download["Content-Disposition"].startswith("attachment")
    assert download.json()["id"] == resident.credential["id"]


def test_claim_form_requires_a_did(citizen: Client) -> None:
    response = citizen.post(
        "/identity/claim/", {"legal_name": "A B", "address": "1 St", "district": "north"}
    )
    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()
    assert ResidencyClaim.objects.count() == 0


def test_claim_form_with_document(citizen: Client, official: Client) -> None:
    bind(citizen, Wallet.new())
    document = SimpleUploadedFile("lease.pdf", PDF, content_type="application/pdf")
    response = citizen.post(
        "/identity/claim/",
        {"legal_name": "A B", "address": "1 St", "district": "north", "document": document},
    )
    assert response.status_code == 302
    claim = ResidencyClaim.objects.get()
    assert claim.document_content_type == "application/pdf"
    downloaded = official.get(f"/identity/official/claims/{claim.pk}/document")
    assert downloaded.status_code == 200
    assert b"".join(downloaded.streaming_content) == PDF
    assert citizen.get(f"/identity/official/claims/{claim.pk}/document").status_code == 403


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("notes.txt", b"just text, not a document"),
        ("big.pdf", b"%PDF-" + b"0" * (2 * 1024 * 1024 + 1)),
    ],
)
def test_claim_form_refuses_wrong_or_oversized_documents(
    citizen: Client, name: str, content: bytes
) -> None:
    bind(citizen, Wallet.new())
    upload = SimpleUploadedFile(name, content, content_type="application/pdf")
    response = citizen.post(
        "/identity/claim/",
        {"legal_name": "A B", "address": "1 St", "district": "north", "document": upload},
    )
    assert response.status_code in (400, 413)
    assert ResidencyClaim.objects.count() == 0


def test_claim_form_field_errors_are_announced(citizen: Client) -> None:
    bind(citizen, Wallet.new())
    response = citizen.post(
        "/identity/claim/", {"legal_name": "", "address": "1 St", "district": "north"}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="id_legal_name_errors"' in page
    assert 'aria-invalid="true"' in page
    assert '<label for="id_legal_name"' in page


def test_official_reviews_approves_and_rejects_from_the_queue(official: Client) -> None:
    first, second = (login(make_user(name, Role.CITIZEN)) for name in ("one", "two"))
    for client in (first, second):
        bind(client, Wallet.new())
        post_json(
            client,
            "/api/identity/claims",
            {"legal_name": "Some Body", "address": "1 St", "district": "north"},
        )
    claims = list(ResidencyClaim.objects.order_by("pk"))
    queue = official.get("/identity/official/claims/").content.decode()
    assert all(f"/identity/official/claims/{c.pk}/" in queue for c in claims)

    missing_reason = official.post(
        f"/identity/official/claims/{claims[1].pk}/", {"decision": "reject", "reason": ""}
    )
    assert missing_reason.status_code == 400
    assert ResidencyClaim.objects.get(pk=claims[1].pk).state == "pending"

    assert (
        official.post(
            f"/identity/official/claims/{claims[0].pk}/", {"decision": "approve"}
        ).status_code
        == 302
    )
    assert (
        official.post(
            f"/identity/official/claims/{claims[1].pk}/",
            {"decision": "reject", "reason": "unknown address"},
        ).status_code
        == 302
    )
    assert IssuedCredential.objects.count() == 1
    assert [(d.action, d.decided_by.get_username()) for d in Decision.objects.order_by("pk")] == [
        ("approve", "off"),
        ("reject", "off"),
    ]
    detail = official.get(f"/identity/official/claims/{claims[1].pk}/").content.decode()
    assert "unknown address" in detail


def test_official_suspends_and_revokes_from_the_credential_desk(official: Client) -> None:
    resident = make_resident("res", "north", official)
    desk = official.get("/identity/official/credentials/").content.decode()
    assert f'for="reason-{resident.credential_pk}"' in desk
    response = official.post(
        "/identity/official/credentials/",
        {"credential": resident.credential_pk, "action": "suspend", "reason": "check"},
    )
    assert response.status_code == 302
    assert IssuedCredential.objects.get().status == "suspended"
    refused = official.post(
        "/identity/official/credentials/",
        {"credential": resident.credential_pk, "action": "revoke", "reason": ""},
    )
    assert refused.status_code == 400
    assert IssuedCredential.objects.get().status == "suspended"
    official.post(
        "/identity/official/credentials/",
        {"credential": resident.credential_pk, "action": "revoke", "reason": "moved"},
    )
    assert IssuedCredential.objects.get().status == "revoked"
    assert (
        resident.client.post(
            "/identity/official/credentials/",
            {"credential": resident.credential_pk, "action": "reinstate", "reason": "x"},
        ).status_code
        == 403
    )


def test_public_city_page_shows_the_did_and_status_lists(official: Client) -> None:
    empty = Client().get("/identity/").content.decode()
    assert "did:web:localhost%3A8000" in empty
    make_resident("res", "north", official)
    page = Client().get("/identity/").content.decode()
    assert "http://localhost:8000/identity/status/revocation/1" in page
    assert "http://localhost:8000/identity/status/suspension/1" in page
    assert "/1.0/identifiers/did:web:localhost%253A8000" in page
    assert (
        Client().get("/1.0/identifiers/did:web:localhost%253A8000").json()["didDocument"]["id"]
        == "did:web:localhost%3A8000"
    )
