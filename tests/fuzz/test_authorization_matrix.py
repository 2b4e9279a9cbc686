"""The authorization matrix: every URL pattern of the URL configuration × every role, with the
answer each must get, in one table (MATRIX). A pattern without a row fails the test, so a new page
or endpoint cannot ship without saying who may use it.

Roles: anonymous, citizen (a resident of the open election's district), official, trustee (of
every seeded election), observer, and citizen-elsewhere (a resident of another district). The
answer is a status code, or LOGIN: a redirect to the log-in page (pages send anonymous visitors
there; the API answers 401/403 instead). A request is the pattern's first method with the real
objects of tests/fuzz/world.py (writes get an empty JSON object, so they are judged and refused
without changing anything, past the authorization check: 400/409/422 show that the role got in).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from tests.fuzz.urlconf import routes
from tests.fuzz.world import ROLES, World

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

LOGIN = "login"
A, C, OF, T, B, E = ROLES  # anonymous, citizen, official, trustee, observer, citizen-elsewhere


def every(answer: Any) -> dict[str, Any]:
    return dict.fromkeys(ROLES, answer)


def only(roles: tuple[str, ...], answer: Any, *, anonymous: Any = LOGIN, others: Any = 403) -> dict[str, Any]:
    """``answer`` for ``roles``, ``anonymous`` for anonymous, ``others`` for every other role."""
    table = every(others) | dict.fromkeys(roles, answer)
    table[A] = anonymous
    return table


def signed_in(answer: Any, anonymous: Any = LOGIN) -> dict[str, Any]:
    return every(answer) | {A: anonymous}


CITIZENS = (C, E)
# route -> (method, URL arguments by name of a world value, expected answer per role)
# URL arguments: "published", "open", "draft", ... name an election (world.slugs); other names
# are given in ARGS below.
MATRIX: dict[str, tuple[str, dict[str, str], dict[str, Any]]] = {
    "": ("GET", {}, every(200)),
    "healthz": ("GET", {}, every(200)),
    "accounts/signup/": ("GET", {}, signed_in(302, anonymous=200)),
    "accounts/login/": ("GET", {}, signed_in(302, anonymous=200)),
    "accounts/logout/": ("GET", {}, every(405)),
    "accounts/password_change/": ("GET", {}, signed_in(200)),
    "accounts/password_change/done/": ("GET", {}, signed_in(200)),
    "accounts/password_reset/": ("GET", {}, every(200)),
    "accounts/password_reset/done/": ("GET", {}, every(200)),
    "accounts/reset/<uidb64>/<token>/": ("GET", {"uidb64": "uid", "token": "token"}, every(200)),
    "accounts/reset/done/": ("GET", {}, every(200)),
    "i18n/setlang/": ("GET", {}, every(302)),
    "citizen/": ("GET", {}, only(CITIZENS, 200)),
    "official/": ("GET", {}, only((OF,), 200)),
    "trustee/": ("GET", {}, only((T,), 200)),
    "observer/": ("GET", {}, only((B,), 200)),
    # identity: public documents
    ".well-known/did.json": ("GET", {}, every(200)),
    "^1\\.0/identifiers/(?P<did>.+)$": ("GET", {"did": "city_did"}, every(200)),
    "identity/status/<str:purpose>/<int:number>": ("GET", {"purpose": "purpose", "number": "number"}, every(200)),
    "api/vc/credentials/verify": ("POST", {}, every(400)),
    "api/vc/challenges": ("POST", {}, every(201)),
    "api/vc/presentations/verify": ("POST", {}, every(400)),
    # identity: citizens and officials
    "api/identity/me": ("GET", {}, only(CITIZENS, 200, anonymous=403)),
    "api/identity/did/challenge": ("POST", {}, only(CITIZENS, 201, anonymous=403)),
    "api/identity/did/bind": ("POST", {}, only(CITIZENS, 400, anonymous=403)),
    "api/identity/claims": ("GET", {}, only((OF,), 200, anonymous=403)),
    "api/identity/credentials/<int:pk>": ("GET", {"pk": "credential"}, only(CITIZENS, 200, anonymous=403) | {E: 404}),
    "api/identity/claims/<int:pk>/approve": ("POST", {"pk": "decided_claim"}, only((OF,), 409, anonymous=403)),
    "api/identity/claims/<int:pk>/reject": ("POST", {"pk": "decided_claim"}, only((OF,), 400, anonymous=403)),  # no reason
    "api/identity/credentials": ("GET", {}, only((OF,), 200, anonymous=403)),
    "api/identity/credentials/<int:pk>/status": ("POST", {"pk": "credential"}, only((OF,), 400, anonymous=403)),
    "identity/": ("GET", {}, every(200)),
    "identity/wallet/": ("GET", {}, only(CITIZENS, 200)),
    "identity/wallet/credentials/<int:pk>.json": ("GET", {"pk": "credential"}, only(CITIZENS, 200) | {E: 404}),
    "identity/claim/": ("GET", {}, only(CITIZENS, 200)),
    "identity/official/claims/": ("GET", {}, only((OF,), 200)),
    "identity/official/claims/<int:pk>/": ("GET", {"pk": "pending_claim"}, only((OF,), 200)),
    "identity/official/claims/<int:pk>/document": ("GET", {"pk": "pending_claim"}, only((OF,), 404)),
    "identity/official/credentials/": ("GET", {}, only((OF,), 200)),
    # voting: citizens
    "voting/": ("GET", {}, every(200)),
    "voting/verify/": ("GET", {}, every(200)),
    "voting/<slug:slug>/booth/": ("GET", {"slug": "open"}, every(200)),  # anyone may check an encryption
    "api/voting/elections/<slug:slug>/context": ("GET", {"slug": "published"}, every(200)),
    "api/voting/elections/<slug:slug>/eligibility-key": ("GET", {"slug": "open"}, every(200)),
    "api/voting/elections/<slug:slug>/token-challenge": ("POST", {"slug": "open"}, only(CITIZENS, 201, anonymous=403)),
    "api/voting/elections/<slug:slug>/tokens": ("POST", {"slug": "open"}, only(CITIZENS, 400, anonymous=403)),
    # voting: officials
    "voting/official/": ("GET", {}, only((OF,), 200)),
    "voting/official/new/": ("GET", {}, only((OF,), 200)),
    "voting/official/credentials/": ("GET", {}, only((OF,), 200)),
    "voting/official/<slug:slug>/": ("GET", {"slug": "draft"}, only((OF,), 200)),
    "voting/official/<slug:slug>/edit/": ("GET", {"slug": "draft"}, only((OF,), 200)),
    "voting/official/<slug:slug>/delete/": ("GET", {"slug": "draft"}, only((OF,), 405)),
    "voting/official/<slug:slug>/ceremony/": ("GET", {"slug": "draft"}, only((OF,), 405)),
    "voting/official/<slug:slug>/cancel/": ("GET", {"slug": "draft"}, only((OF,), 405)),
    "voting/official/<slug:slug>/close/": ("GET", {"slug": "open"}, only((OF,), 405)),
    "api/voting/official/elections": ("GET", {}, only((OF,), 200, anonymous=401)),
    "api/voting/official/elections/<slug:slug>": ("GET", {"slug": "draft"}, only((OF,), 200, anonymous=401)),
    "api/voting/official/elections/<slug:slug>/<str:step>": ("POST", {"slug": "published", "step": "close_step"}, only((OF,), 422, anonymous=401)),
    # voting: trustees, the ceremony and the tally
    "trustee/credentials/": ("GET", {}, only((T,), 200)),
    "voting/<slug:slug>/ceremony/": ("GET", {"slug": "published"}, every(200)),
    "voting/<slug:slug>/ceremony/upload/": ("GET", {"slug": "published"}, only((T,), 405)),
    "api/voting/elections/<slug:slug>/ceremony": ("GET", {"slug": "published"}, every(200)),
    "api/voting/elections/<slug:slug>/ceremony/manifest": ("GET", {"slug": "published"}, every(200)),
    "api/voting/elections/<slug:slug>/ceremony/messages": ("POST", {"slug": "published"}, only((T,), 409, anonymous=401)),
    "api/voting/elections/<slug:slug>/ceremony/messages/<str:kind>/<int:index>": ("GET", {"slug": "published", "kind": "kind", "index": "index"}, every(200)),
    "api/voting/elections/<slug:slug>/tally": ("GET", {"slug": "published"}, every(200)),
    "api/voting/elections/<slug:slug>/tally-shares": ("POST", {"slug": "published"}, only((T,), 409, anonymous=401)),
    "voting/<slug:slug>/decryption/": ("GET", {"slug": "published"}, every(200)),
    "voting/<slug:slug>/results/": ("GET", {"slug": "published"}, every(200)),
    # voting: the ballot box (anonymous by design: the token is the credential)
    "api/voting/elections/<slug:slug>/ballots": ("POST", {"slug": "open"}, every(400)),
    "api/voting/elections/<slug:slug>/ballots/spoiled": ("POST", {"slug": "open"}, every(400)),
    "api/voting/elections/<slug:slug>/ballots/<str:tracking_code>": ("GET", {"slug": "published", "tracking_code": "tracking_code"}, every(200)),
    "api/voting/elections/<slug:slug>/turnout": ("GET", {"slug": "published"}, every(200)),
    "voting/<slug:slug>/track/": ("GET", {"slug": "published"}, every(200)),
    # voting: the record and the observers' reports
    "api/voting/elections/<slug:slug>/record": ("GET", {"slug": "published"}, every(200)),
    "api/voting/elections/<slug:slug>/record.zip": ("GET", {"slug": "published"}, every(200)),
    "api/voting/elections/<slug:slug>/audit-reports": ("POST", {"slug": "published"}, every(400)),
    "api/voting/elections/<slug:slug>/audit-reports/<int:report_id>": ("GET", {"slug": "published", "report_id": "no_report"}, every(404)),
    # ledger (public, read by anyone; cosignatures authenticate by signature)
    "ledger/": ("GET", {}, every(200)),
    "ledger/<slug:log>/checkpoint": ("GET", {"log": "log"}, every(200)),
    "ledger/<slug:log>/tile/<path:tile_path>": ("GET", {"log": "log", "tile_path": "tile_path"}, every(200)),
    "api/ledger/anchors": ("GET", {}, every(200)),
    "api/ledger/<slug:log>/entries/<int:index>": ("GET", {"log": "log", "index": "entry_index"}, every(200)),
    "api/ledger/<slug:log>/entries/by-hash/<str:leaf_hash>": ("GET", {"log": "log", "leaf_hash": "leaf_hash"}, every(200)),
    "api/ledger/logs": ("GET", {}, every(200)),
    "api/ledger/observers": ("POST", {}, only((OF,), 400, anonymous=403)),
    "api/ledger/<slug:log>/consistency": ("GET", {"log": "log"}, every(400)),
    "api/ledger/<slug:log>/cosignatures": ("POST", {"log": "log"}, every(400)),
    # the API's own description
    "api/schema/": ("GET", {}, every(200)),
    "api/docs/": ("GET", {}, every(200)),
}
# Django's admin registers a pattern per model: one rule for all of them (staff only; no seeded
# account is staff, so everyone is sent to the admin's log-in).
ADMIN_PREFIX = "admin/"
ADMIN = ("GET", {}, every("admin-login"))
ADMIN_PAGES = {"admin/login/": ("GET", {}, every(200)), "admin/logout/": ("GET", {}, every(302))}


def _args(world: World) -> dict[str, Any]:
    from civic_tlog import tiles
    from identity import keys
    from identity.models import IssuedCredential, ResidencyClaim, StatusList
    from ledger.models import OutboxEntry, Tile
    from voting.models import Election

    log = Election.objects.get(slug=world.slugs["published"]).log_name
    entry = OutboxEntry.objects.filter(log__name=log).exclude(entry_index=None).order_by("entry_index").first()
    status_list = StatusList.objects.order_by("pk").first()
    tile = Tile.objects.filter(log__name=log).order_by("pk").first()
    width = len(bytes(tile.hashes)) // 32
    citizen = world.users[C]
    return {
        **world.slugs,
        "city_did": keys.city_did(),
        "purpose": status_list.purpose,
        "number": status_list.number,
        "credential": IssuedCredential.objects.get(claim__user=citizen).pk,
        "decided_claim": ResidencyClaim.objects.get(user=citizen).pk,
        "pending_claim": ResidencyClaim.objects.get(user__username="fuzz-citizen-waiting").pk,
        "close_step": "close",
        "kind": "announcement",
        "index": 1,
        "tracking_code": world.values["tracking_code"][0],
        "no_report": 999999,
        "log": log,
        "entry_index": entry.entry_index,
        "leaf_hash": bytes(entry.leaf_hash).hex(),
        "tile_path": tiles.tile_path(tile.level, tile.index, width).removeprefix("tile/"),
        "uid": "MQ",
        "token": "set-password",
    }


def _url(route: str, kwargs: dict[str, str], args: dict[str, Any]) -> str:
    import re

    if route.startswith("^"):  # a regular expression route: its one group
        return "/" + re.sub(r"\(\?P<[a-z]+>[^)]*\)", str(args[kwargs["did"]]), route[1:-1]).replace("\\", "")

    def value(match: re.Match[str]) -> str:
        return str(args[kwargs[match.group(1)]])

    return "/" + re.sub(r"<(?:[a-z_]+:)?([a-z_]+)>", value, route)


def _answer(response: Any) -> Any:
    if response.status_code == 302:
        location = response["Location"]
        if location.startswith("/accounts/login/"):
            return LOGIN
        if location.startswith("/admin/login/"):
            return "admin-login"
    return response.status_code


def test_every_url_pattern_has_a_row() -> None:
    missing = [r.route for r in routes() if r.route not in MATRIX and not r.route.startswith(ADMIN_PREFIX)]
    stale = sorted(set(MATRIX) - {r.route for r in routes()})
    assert not missing, f"URL patterns without a row in the authorization matrix: {missing}"
    assert not stale, f"rows for URL patterns that no longer exist: {stale}"


def test_every_role_gets_the_expected_answer_on_every_url(world: World) -> None:
    args = _args(world)
    clients: dict[str, Client] = {role: world.client(role) for role in ROLES}
    wrong = []
    for route in routes():
        if route.route.startswith(ADMIN_PREFIX):
            method, kwargs, expected = ADMIN_PAGES.get(route.route, ADMIN)
        else:
            method, kwargs, expected = MATRIX[route.route]
        if route.route.startswith(ADMIN_PREFIX) and "<" in route.route:
            continue  # the admin's object pages: the same rule as its index, checked there
        url = _url(route.route, kwargs, args)
        for role in ROLES:
            client = clients[role]
            if method == "GET":
                response = client.get(url)
            else:
                response = client.post(url, data=json.dumps({}), content_type="application/json")
            got = _answer(response)
            if got != expected[role]:
                wrong.append(f"{method} {url} as {role}: expected {expected[role]}, got {got}")
    assert not wrong, "\n".join(wrong)
