"""Casting's rate limits (civic.ratelimit): per ballot key, counted only after the key's own
signature verified; a generous per-address bucket that a polling station's network skips; 429
with Retry-After and the JSON error shape; nothing stored; Redis shared, a lost Redis skipped."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client, RequestFactory

from civic import ratelimit
from civic.roles import Role
from tests.identity.support_identity import identity_settings, login, make_user  # noqa: F401
from tests.security.support import assert_refused, stored
from tests.voting.ballot_box_support import (
    box_settings,  # noqa: F401
    cast_body,
    make_ballot,
    new_voter,
    open_box,
    post,
)
from voting.models import Election

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("box_settings")]


@pytest.fixture
def official_client() -> Client:
    return login(make_user("clerk", Role.OFFICIAL))


@pytest.fixture
def election() -> Election:
    return open_box("busy-vote", make_user("clerk2", Role.OFFICIAL))


def url(slug: str) -> str:
    return f"/api/voting/elections/{slug}/ballots"


def from_address(address: str, **extra: str) -> Client:
    return Client(REMOTE_ADDR=address, **extra)


def assert_limited(response: Any) -> None:
    body = assert_refused(response, 429, "rate_limited")
    wait = int(response["Retry-After"])
    assert 1 <= wait <= 3600
    assert f"try again in {wait} second" in body["detail"]


def test_one_ballot_key_is_limited_and_others_go_on(
    election: Election, official_client: Client, settings: Any
) -> None:
    settings.CIVIC_CAST_RATE_PER_KEY = "3/minute"
    voter, other = (
        new_voter(official_client, election.slug),
        new_voter(official_client, election.slug),
    )
    client = from_address("192.0.2.10")
    for _ in range(3):
        ballot = make_ballot(election).to_json()
        assert (
            post(client, url(election.slug), cast_body(election.slug, voter, ballot)).status_code
            == 201
        )
    before = stored()
    assert_limited(
        post(
            client,
            url(election.slug),
            cast_body(election.slug, voter, make_ballot(election).to_json()),
        )
    )
    assert stored() == before
    # another voter from the same address is not held back
    ballot = make_ballot(election).to_json()
    assert (
        post(client, url(election.slug), cast_body(election.slug, other, ballot)).status_code == 201
    )


def test_nobody_spends_another_voters_budget(
    election: Election, official_client: Client, settings: Any
) -> None:
    """Refused before the key's signature verifies: an attacker sending the victim's ballot key
    and token with bad signatures does not count against the victim's key."""
    settings.CIVIC_CAST_RATE_PER_KEY = "2/minute"
    victim, attacker = (
        new_voter(official_client, election.slug),
        new_voter(official_client, election.slug),
    )
    ballot = make_ballot(election).to_json()
    client = from_address("198.51.100.7")
    for _ in range(5):
        forged = cast_body(election.slug, victim, ballot)
        forged["signature"] = cast_body(election.slug, attacker, ballot)["signature"]
        assert_refused(post(client, url(election.slug), forged), 403, "bad_key_signature")
    assert (
        post(client, url(election.slug), cast_body(election.slug, victim, ballot)).status_code
        == 201
    )


def test_the_address_bucket_and_the_polling_station_exemption(
    election: Election, official_client: Client, settings: Any
) -> None:
    settings.CIVIC_CAST_RATE_PER_ADDRESS = "4/minute"
    settings.CIVIC_CAST_RATE_EXEMPT_NETWORKS = ["10.20.0.0/16"]
    voters = [new_voter(official_client, election.slug) for _ in range(6)]
    ballots = [make_ballot(election).to_json() for _ in voters]
    busy = from_address("203.0.113.5")
    for voter, ballot in zip(voters[:4], ballots[:4], strict=True):
        assert (
            post(busy, url(election.slug), cast_body(election.slug, voter, ballot)).status_code
            == 201
        )
    before = stored()
    assert_limited(post(busy, url(election.slug), cast_body(election.slug, voters[4], ballots[4])))
    # the DRF-served forms of the endpoint (here: a form body) are counted and refused alike
    assert_limited(busy.post(url(election.slug), {"x": "1"}))
    assert_limited(
        busy.post(url(election.slug) + "/spoiled", "{}", content_type="application/json")
    )
    assert stored() == before
    # another address has its own bucket
    elsewhere = from_address("203.0.113.6")
    assert (
        post(
            elsewhere, url(election.slug), cast_body(election.slug, voters[4], ballots[4])
        ).status_code
        == 201
    )
    # a polling station: every booth behind one address, never limited by address
    station = from_address("10.20.3.4")
    for _ in range(10):
        assert post(
            station, url(election.slug), cast_body(election.slug, voters[5], ballots[5])
        ).status_code in {200, 201}
    # reading is never limited
    assert busy.get(f"/api/voting/elections/{election.slug}/turnout").status_code == 200


def test_behind_a_proxy_the_forwarded_address_counts(
    election: Election, settings: Any, official_client: Client
) -> None:
    settings.CIVIC_CAST_RATE_PER_ADDRESS = "1/minute"
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    voter = new_voter(official_client, election.slug)
    body = cast_body(election.slug, voter, make_ballot(election).to_json())
    proxy = "127.0.0.1"
    first = from_address(proxy, HTTP_X_FORWARDED_FOR="203.0.113.50")
    assert post(first, url(election.slug), body).status_code == 201
    assert_limited(post(first, url(election.slug), body))
    # another client behind the same proxy; a spoofed left-most entry does not help the first
    assert (
        post(
            from_address(proxy, HTTP_X_FORWARDED_FOR="203.0.113.51"), url(election.slug), body
        ).status_code
        == 200
    )
    spoofed = from_address(proxy, HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.50")
    assert_limited(post(spoofed, url(election.slug), body))


def test_without_a_proxy_setting_x_forwarded_for_is_ignored(settings: Any) -> None:
    request = RequestFactory().post("/", REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR="9.9.9.9")
    assert ratelimit.client_address(request) == "192.0.2.1"


def test_rules_are_settings_driven_and_can_be_off(settings: Any) -> None:
    assert [str(item) for item in ratelimit.parse_rule("20/minute;200/hour")] == [
        "20 per 1 minute",
        "200 per 1 hour",
    ]
    assert ratelimit.parse_rule("") == ()
    settings.CIVIC_CAST_RATE_PER_ADDRESS = ""
    request = RequestFactory().post("/", REMOTE_ADDR="192.0.2.99")
    for _ in range(1000):
        ratelimit.hit_cast_address(request)  # off: never refuses


def test_counters_hold_no_address_or_key(settings: Any) -> None:
    settings.CIVIC_CAST_RATE_PER_ADDRESS = "5/minute"
    ratelimit.hit_cast_address(RequestFactory().post("/", REMOTE_ADDR="192.0.2.77"))
    ratelimit.hit_ballot_key("some-vote", b"\x07" * 32)
    keys = list(ratelimit.storage().storage.keys())  # type: ignore[attr-defined]
    assert len(keys) == 3  # one per item of each rule (the key rule has two)
    assert not any("192.0.2.77" in k or ("07" * 32) in k for k in keys)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[str]:
    """A Redis server of this test's own (so stopping it touches nothing shared)."""
    port = _free_port()
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        if server.poll() is None:
            server.terminate()
            server.wait(timeout=10)


def test_redis_counters_are_shared_and_a_lost_redis_refuses_nothing(
    own_redis: str, settings: Any, tmp_path: Path
) -> None:
    settings.CIVIC_RATE_LIMIT_STORAGE = own_redis
    settings.CIVIC_CAST_RATE_PER_KEY = "2/minute"
    ratelimit.hit_ballot_key("shared-vote", b"\x01" * 32)
    ratelimit._limiters.clear()  # noqa: SLF001 - another web process: a fresh client, the same Redis
    ratelimit.hit_ballot_key("shared-vote", b"\x01" * 32)
    with pytest.raises(ratelimit.RateLimited) as refused:
        ratelimit.hit_ballot_key("shared-vote", b"\x01" * 32)
    assert 1 <= refused.value.retry_after <= 60
    # Redis gone: the limit is skipped (logged), never a 500 and never a refused ballot
    subprocess.run(
        ["redis-cli", "-u", own_redis, "shutdown", "nosave"], check=False, capture_output=True
    )
    for _ in range(3):
        ratelimit.hit_ballot_key("shared-vote", b"\x01" * 32)
