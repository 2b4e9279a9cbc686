"""One API credential mechanism for trustees and officials: an official scripts the officials' API
with a bearer credential end to end (no session, no CSRF token); revoked, malformed and role-less
credentials are 401; the roles still decide (a trustee's credential is 403 on the officials' API,
an official's is 403 on the trustees' ceremony endpoint); the officials' credentials page by role;
the rename migration keeps the rows."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client

from civic.roles import Role
from ledger.models import OutboxEntry
from tests.identity.support_identity import identity_settings, make_user  # noqa: F401
from tests.voting.ceremony_support import Party, post_message
from tests.voting.support_officials import body, trustees
from voting.errors import ApiRoleRequired
from voting.models import ApiCredential, CeremonyMessage, Election
from voting.services.api_credentials import create_credential, revoke_credential

pytestmark = pytest.mark.django_db
API = "/api/voting/official/elections"
PAGE = "/voting/official/credentials/"


@pytest.fixture
def accounts() -> dict[str, Any]:
    keepers = trustees()
    return {
        "official": make_user("clerk", Role.OFFICIAL),
        "trustees": keepers,
        "citizen": make_user("resident", Role.CITIZEN),
        "observer": make_user("watcher", Role.OBSERVER),
    }


def bearer(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def call(method: str, url: str, token: str | None, data: Any = None) -> Any:
    """A script's request: no session, and a client that would enforce CSRF if a session were used."""
    client = Client(enforce_csrf_checks=True)
    payload = json.dumps(data) if data is not None else ""
    headers = bearer(token) if token else {}
    return getattr(client, method)(url, data=payload, content_type="application/json", **headers)


def test_an_official_scripts_a_draft_to_its_ceremony_with_a_token(accounts: dict[str, Any]) -> None:
    token = create_credential(accounts["official"], "city script").token
    created = call("post", API, token, body())
    assert created.status_code == 201, created.content
    slug = created.json()["slug"]
    assert created.json()["state"] == "draft"
    assert Election.objects.get(slug=slug).created_by == accounts["official"]
    edited = call("put", f"{API}/{slug}", token, body(title="Library on Sundays", threshold=3))
    assert edited.status_code == 200 and edited.json()["title"] == "Library on Sundays"
    listing = call("get", API, token)
    assert [e["slug"] for e in listing.json()["elections"]] == [slug]
    started = call("post", f"{API}/{slug}/ceremony", token)
    assert started.status_code == 200, started.content
    election = Election.objects.get(slug=slug)
    assert election.state == Election.State.CEREMONY == started.json()["state"]
    assert election.threshold == 3 and election.title == "Library on Sundays"
    assert OutboxEntry.objects.filter(log__name=election.log_name, kind="election.ceremony").count() == 1
    key_id = token.split(".")[0]
    assert ApiCredential.objects.get(key_id=key_id).last_used_at is not None
    # The trustees take it from there with their own credentials.
    doc = Party.of(election).announcement(1)
    assert post_message(Client(), slug, doc, create_credential(accounts["trustees"][0]).token).status_code == 201


def test_a_session_write_still_needs_csrf_but_a_bearer_write_does_not(accounts: dict[str, Any]) -> None:
    session = Client(enforce_csrf_checks=True)
    session.force_login(accounts["official"])
    refused = session.post(API, data=json.dumps(body()), content_type="application/json")
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    assert not Election.objects.exists()
    token = create_credential(accounts["official"]).token
    # The same logged-in client with the credential: the bearer decides, no CSRF token needed.
    accepted = session.post(API, data=json.dumps(body()), content_type="application/json", **bearer(token))
    assert accepted.status_code == 201 and Election.objects.count() == 1


def test_bad_credentials_are_401_and_change_nothing(accounts: dict[str, Any]) -> None:
    official = accounts["official"]
    token = create_credential(official).token
    revoke_credential(official, token.split(".")[0])
    revoked = call("post", API, token, body())
    assert revoked.status_code == 401 and "revoked" in revoked.json()["detail"]
    assert revoked["WWW-Authenticate"] == 'Bearer realm="civic"'
    live = create_credential(official).token
    wrong_secret = live[:-1] + ("A" if live[-1] != "A" else "B")
    for bad in ("nope", wrong_secret, "0" * 16 + "." + "a" * 43, live + " extra"):
        response = call("post", API, bad, body())
        assert response.status_code == 401, bad
        assert set(response.json()) == {"error", "detail", "status"}
    anonymous = call("post", API, None, body())
    assert anonymous.status_code == 401 and anonymous["WWW-Authenticate"].startswith("Bearer")
    # An account that no longer holds an API role: its credential stops working.
    official.groups.clear()
    assert call("get", API, live).status_code == 401
    assert not Election.objects.exists()


def test_the_roles_still_decide_in_both_directions(accounts: dict[str, Any]) -> None:
    official, keeper = accounts["official"], accounts["trustees"][0]
    trustee_token = create_credential(keeper).token
    official_token = create_credential(official).token
    # A trustee's credential on every officials' endpoint: 403, nothing changes.
    assert call("get", API, trustee_token).status_code == 403
    assert call("post", API, trustee_token, body()).status_code == 403
    assert not Election.objects.exists()
    slug = call("post", API, official_token, body()).json()["slug"]
    for method, url, data in (
        ("get", f"{API}/{slug}", None),
        ("put", f"{API}/{slug}", body(title="Changed")),
        ("delete", f"{API}/{slug}", None),
        ("post", f"{API}/{slug}/ceremony", None),
    ):
        response = call(method, url, trustee_token, data)
        assert response.status_code == 403 and response.json()["error"] == "permission_denied", (method, url)
    election = Election.objects.get(slug=slug)
    assert election.state == Election.State.DRAFT and election.title == "Sunday library"
    # An official's credential on the trustees' ceremony endpoint: 403, nothing stored.
    assert call("post", f"{API}/{slug}/ceremony", official_token).status_code == 200
    election.refresh_from_db()
    doc = Party.of(election).announcement(1)
    refused = post_message(Client(), slug, doc, official_token)
    assert refused.status_code == 403 and refused.json()["error"] == "permission_denied"
    assert not CeremonyMessage.objects.exists()
    assert post_message(Client(), slug, doc, trustee_token).status_code == 201


def test_only_api_roles_get_credentials(accounts: dict[str, Any]) -> None:
    for account in (accounts["citizen"], accounts["observer"]):
        with pytest.raises(ApiRoleRequired):
            create_credential(account)
    assert not ApiCredential.objects.exists()
    assert create_credential(accounts["official"]).token
    assert create_credential(accounts["trustees"][0]).token


def test_the_officials_credentials_page_by_role(accounts: dict[str, Any]) -> None:
    anonymous = Client().get(PAGE)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    assert Client().post(PAGE, {"action": "create"}).status_code == 302
    for account in (accounts["citizen"], accounts["observer"], accounts["trustees"][0]):
        c = Client()
        c.force_login(account)
        assert c.get(PAGE).status_code == 403
        assert c.post(PAGE, {"action": "create", "label": "x"}).status_code == 403
    assert not ApiCredential.objects.exists()
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(accounts["official"])
    assert strict.post(PAGE, {"action": "create"}).status_code == 403
    assert not ApiCredential.objects.exists()


def test_the_officials_credentials_page_shows_the_token_once(settings: Any, accounts: dict[str, Any]) -> None:
    page = Client()
    page.force_login(accounts["official"])
    listing = page.get("/voting/official/").content.decode()
    assert f'href="{PAGE}"' in listing
    empty = page.get(PAGE)
    assert empty.status_code == 200 and "officials' JSON API" in empty.content.decode()
    assert "Your key ceremonies" not in empty.content.decode()
    response = page.post(PAGE, {"action": "create", "label": "election script"})
    html = response.content.decode()
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    start = html.index('id="new-token">') + len('id="new-token">')
    token = html[start : html.index("<", start)]
    key_id, secret = token.split(".")
    row = ApiCredential.objects.get(key_id=key_id)
    assert row.user == accounts["official"] and row.label == "election script"
    assert row.secret_sha256 == hashlib.sha256(secret.encode()).hexdigest()
    assert "/api/voting/official/elections" in html and "civic-trustee" not in html
    # Listed afterwards with its dates, never the secret; it works, then is revoked and refused.
    assert call("get", API, token).status_code == 200
    later = page.get(PAGE).content.decode()
    assert key_id in later and "election script" in later and secret not in later and "never" not in later
    assert page.post(PAGE, {"action": "revoke", "key_id": key_id}).status_code == 302
    assert call("get", API, token).status_code == 401
    assert "revoked" in page.get(PAGE).content.decode()
    # Someone else's credential cannot be revoked from here.
    theirs = create_credential(accounts["trustees"][0]).credential.key_id
    page.post(PAGE, {"action": "revoke", "key_id": theirs})
    assert ApiCredential.objects.get(key_id=theirs).revoked_at is None
    # Bad input: next to the field, nothing stored; the per-account limit applies here too.
    count = ApiCredential.objects.count()
    long = page.post(PAGE, {"action": "create", "label": "x" * 101})
    assert long.status_code == 400 and 'id="id_label_errors"' in long.content.decode()
    settings.CIVIC_API_MAX_CREDENTIALS = 1
    assert page.post(PAGE, {"action": "create"}).status_code == 200
    over = page.post(PAGE, {"action": "create"})
    assert over.status_code == 400 and "at most 1 active credentials" in over.content.decode()
    assert ApiCredential.objects.count() == count + 1


def test_credentials_is_not_an_election_slug(accounts: dict[str, Any]) -> None:
    token = create_credential(accounts["official"]).token
    response = call("post", API, token, body(slug="credentials"))
    assert response.status_code == 422 and "slug" in response.json()["detail"]  # a rule: reserved


def test_the_schema_documents_the_bearer_scheme(client: Client) -> None:
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    scheme = schema["components"]["securitySchemes"]["apiCredential"]
    assert scheme["type"] == "http" and scheme["scheme"] == "bearer"
    for path, method in ((API, "post"), (f"{API}/{{slug}}/{{step}}", "post"),
                         ("/api/voting/elections/{slug}/ceremony/messages", "post")):
        assert {"apiCredential": []} in schema["paths"][path][method]["security"], path


OLD = [("voting", "0004_lifecycle_trustees_ceremony")]
NEW = [("voting", "0005_api_credentials")]


@pytest.fixture
def back_to_latest() -> Iterator[None]:
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def migrate(targets: list[tuple[str, str]]) -> Any:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return MigrationExecutor(connection).loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_the_rename_keeps_the_trustees_credentials(back_to_latest: None) -> None:
    old = migrate(OLD)
    user = old.get_model(settings.AUTH_USER_MODEL).objects.create(username="old-trustee")
    old.get_model("voting", "TrusteeCredential").objects.create(
        user=user, key_id="ab" * 8, secret_sha256="c" * 64, label="laptop"
    )
    new = migrate(NEW)
    row = new.get_model("voting", "ApiCredential").objects.get(key_id="ab" * 8)
    assert (row.user_id, row.secret_sha256, row.label, row.revoked_at) == (user.pk, "c" * 64, "laptop", None)
    assert "voting_trusteecredential" not in connection.introspection.table_names()
