"""Hostile casts, each answered by a clear 4xx in the one JSON shape and storing nothing: no
ballot row, no ballot key, no ledger outbox row or log entry, no token (issue 14).

Tokens: replayed, from another election, under someone else's ballot key; a closed election;
encodings: off-curve, infinity and non-canonical points, scalars not below the group order;
JSON: duplicate keys, deep nesting, huge numbers and bodies, bodies over the limit. Slow bodies
are tests/security/test_slow_bodies.py (a real socket against gunicorn)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from civic.roles import Role
from civic_votecrypto import group
from tests.identity.support_identity import identity_settings, login, make_resident, make_user  # noqa: F401
from tests.security.support import assert_refused, stored
from tests.voting.ballot_box_support import (
    box_settings,  # noqa: F401
    cast_body,
    issue_token,
    make_ballot,
    new_voter,
    open_box,
    pick_key,
    post,
    post_raw,
    request_token,
)
from voting.models import Election
from voting.selectors import ballot_box as box
from voting.services import lifecycle

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("box_settings")]
P = 2**256 - 2**32 - 977  # the secp256k1 field prime
OFF_CURVE_X = 5  # x^3 + 7 = 132 is not a square mod p
INFINITY_ENCODINGS = ["00", "00" * 33, "02" + "00" * 32]


@pytest.fixture
def official() -> Any:
    return make_user("clerk", Role.OFFICIAL)


@pytest.fixture
def official_client(official: Any) -> Client:
    return login(official)


@pytest.fixture
def election(official: Any) -> Election:
    return open_box("hostile-vote", official)


def url(slug: str) -> str:
    return f"/api/voting/elections/{slug}/ballots"


def test_off_curve_x_is_not_on_the_curve() -> None:
    """The fixture value really is off the curve (else the test below would prove nothing)."""
    rhs = (OFF_CURVE_X**3 + 7) % P
    assert pow(rhs, (P - 1) // 2, P) == P - 1


def _mutations(ballot: dict[str, Any]) -> dict[str, Callable[[dict[str, Any]], None]]:
    """Each mutation breaks one point or scalar encoding somewhere in a real ballot."""
    sel = ("contests", 0, "selections", 0)

    def at(doc: dict[str, Any], *path: Any) -> Any:
        for step in path:
            doc = doc[step]
        return doc

    def set_(path: tuple[Any, ...], key: str, value: str) -> Callable[[dict[str, Any]], None]:
        return lambda doc: at(doc, *path).__setitem__(key, value)

    alpha = at(ballot, *sel, "ciphertext")["alpha"]
    x = int(alpha[2:], 16)
    branch = (*sel, "proof", "branches", 0)
    return {
        "off-curve point": set_((*sel, "ciphertext"), "alpha", "02" + f"{OFF_CURVE_X:064x}"),
        "x not below p": set_((*sel, "ciphertext"), "alpha", "02" + f"{P + 1:064x}"),
        "x = p + x (non-canonical)": set_(
            (*sel, "ciphertext"), "alpha", alpha[:2] + f"{x + P:064x}"
        )
        if x + P < 2**256
        else set_((*sel, "ciphertext"), "alpha", "02" + "ff" * 32),
        "uncompressed point": set_((*sel, "ciphertext"), "alpha", "04" + alpha[2:] + alpha[2:]),
        "wrong prefix byte": set_((*sel, "ciphertext"), "alpha", "05" + alpha[2:]),
        "uppercase hex": set_((*sel, "ciphertext"), "alpha", alpha.upper()),
        "infinity (empty)": set_((*sel, "ciphertext"), "beta", INFINITY_ENCODINGS[0]),
        "infinity (33 zero bytes)": set_((*sel, "ciphertext"), "beta", INFINITY_ENCODINGS[1]),
        "infinity (02 + zero x)": set_((*sel, "ciphertext"), "beta", INFINITY_ENCODINGS[2]),
        "proof commitment off-curve": set_(branch, "a", "03" + f"{OFF_CURVE_X:064x}"),
        "scalar = n": set_(branch, "c", f"{group.N:064x}"),
        "scalar = n + 1": set_(branch, "v", f"{group.N + 1:064x}"),
        "scalar 2^256 - 1": set_(branch, "v", "ff" * 32),
        "scalar too short": set_(branch, "v", "01"),
        "scalar too long": set_(branch, "c", "00" * 33),
    }


def test_bad_points_and_scalars_are_refused_and_store_nothing(
    election: Election, official_client: Client
) -> None:
    voter = new_voter(official_client, election.slug)
    ballot = make_ballot(election).to_json()
    client = Client()
    before = stored()
    names = []
    for name, mutate in _mutations(ballot).items():
        broken = copy.deepcopy(ballot)
        mutate(broken)
        assert broken != ballot, name
        # signed again by the voter's own key: only the encoding is wrong
        response = post(client, url(election.slug), cast_body(election.slug, voter, broken))
        body = assert_refused(response, 400, "malformed_cast")
        assert "civic-ballot-v1" in body["detail"], (name, body)
        names.append(name)
    assert len(names) == 15
    assert stored() == before
    # and the untouched ballot is then taken: the refusals spent nothing of the voter's
    assert (
        post(client, url(election.slug), cast_body(election.slug, voter, ballot)).status_code == 201
    )


def test_tokens_replayed_elsewhere_or_under_another_key_are_refused(
    election: Election, official: Any, official_client: Client
) -> None:
    resident = make_resident("replayer", "north", official_client)
    voter = issue_token(resident, election.slug)
    other = open_box("other-vote", official)
    other_voter = new_voter(official_client, other.slug)
    ballot = make_ballot(election).to_json()
    client = Client()
    before = stored()

    # a second token for the same citizen: one token per citizen per election
    again, *_ = request_token(resident, election.slug, pick_key(election.slug, "north"))
    assert_refused(again, 409)
    # a token of another election (signed by its ballot key, over this election's message)
    foreign = cast_body(election.slug, other_voter, ballot)
    assert_refused(post(client, url(election.slug), foreign), 403, "ineligible_ballot")
    # this voter's token presented by another ballot key that signs correctly itself
    thief = new_voter(official_client, election.slug)
    before = stored()
    stolen = cast_body(election.slug, thief, ballot)
    stolen["token"] = voter.token
    assert_refused(post(client, url(election.slug), stolen), 403, "ineligible_ballot")
    # a ballot under someone else's ballot key: their key and token, this attacker's signature
    forged = cast_body(election.slug, voter, ballot)
    forged["signature"] = cast_body(election.slug, thief, ballot)["signature"]
    assert_refused(post(client, url(election.slug), forged), 403, "bad_key_signature")
    # a signature made for another election's box
    replayed = cast_body(election.slug, voter, ballot)
    replayed["signature"] = cast_body(other.slug, voter, ballot)["signature"]
    assert_refused(post(client, url(election.slug), replayed), 403, "bad_key_signature")
    assert stored() == before

    # a replay of a whole accepted cast stores nothing new and answers the same receipt
    good = cast_body(election.slug, voter, ballot)
    first = post(client, url(election.slug), good)
    assert first.status_code == 201
    after_first = stored()
    replay = post(client, url(election.slug), good)
    assert replay.status_code == 200 and replay.json() == first.json()
    assert stored() == after_first
    # the same ballot under another key is not a second vote
    other_key = cast_body(election.slug, thief, ballot)
    assert_refused(post(client, url(election.slug), other_key), 409, "ballot_already_received")
    assert stored() == after_first


def test_a_closed_election_takes_no_ballot(
    election: Election, official: Any, official_client: Client
) -> None:
    voter = new_voter(official_client, election.slug)
    body = cast_body(election.slug, voter, make_ballot(election).to_json())
    lifecycle.close_early(official, election, "storm")
    before = stored()
    body_json = assert_refused(post(Client(), url(election.slug), body), 409, "election_not_open")
    assert "not open" in body_json["detail"]
    assert_refused(post(Client(), url(election.slug) + "/spoiled", body), 409, "election_not_open")
    assert stored() == before


def test_hostile_json_is_refused_and_stores_nothing(
    election: Election, official_client: Client, settings: Any
) -> None:
    voter = new_voter(official_client, election.slug)
    ballot = make_ballot(election).to_json()
    good = cast_body(election.slug, voter, ballot)
    raw = json.dumps(good)
    client = Client()
    citizen = make_resident("deep-nester", "north", official_client).client
    before = stored()
    limit = box.cast_body_limit(election, settings.CIVIC_BALLOT_BOX_MAX_BODY_BYTES)

    cases: dict[str, tuple[bytes | str, int, str]] = {
        "duplicate top-level key": (raw[:-1] + ', "signature": "AAAA"}', 400, "malformed_cast"),
        "duplicate key inside the ballot": (
            raw.replace('"ballot": {', '"ballot": {"election_id": "x", ', 1)
            if '"election_id"' in json.dumps(ballot)
            else raw.replace('"ballot": {', '"ballot": {"contests": [], ', 1),
            400,
            "malformed_cast",
        ),
        "nested past the parser (within the size limit)": (
            "[" * 5_000 + "]" * 5_000,
            400,
            "malformed_cast",
        ),
        "nested past the depth limit": ('{"a":' * 40 + "1" + "}" * 40, 400, "malformed_cast"),
        "nested deep inside the ballot": (
            raw.replace('"ballot": {', '"ballot": {"x": ' + "[" * 40 + "]" * 40 + ", ", 1),
            400,
            "malformed_cast",
        ),
        "a 10,000-digit number": ('{"ballot": ' + "9" * 10_000 + "}", 400, "malformed_cast"),
        "NaN": (
            raw.replace('"ballot_key": ', '"x": NaN, "ballot_key": ', 1),
            400,
            "malformed_cast",
        ),
        "invalid UTF-8": (b'{"ballot": "\xff\xfe"}', 400, "malformed_cast"),
        "lone surrogate": ('{"ballot": "\\ud800"}', 400, "malformed_cast"),
        "not an object": ("[1, 2, 3]", 400, "malformed_cast"),
        "truncated": (raw[: len(raw) // 2], 400, "malformed_cast"),
        "over the election's limit": (
            json.dumps(dict(good, pad="x" * limit)),
            413,
            "payload_too_large",
        ),
    }
    for name, (payload, status, error) in cases.items():
        assert len(payload) < limit or status == 413, name
        response = post_raw(client, url(election.slug), payload)
        body = assert_refused(response, status, error)
        assert body["detail"], name
    # a declared length over the limit is refused before the body is read
    response = client.generic(
        "POST",
        url(election.slug),
        b"{}",
        content_type="application/json",
        CONTENT_LENGTH=str(limit + 1),
    )
    assert_refused(response, 413, "payload_too_large")
    # the same hostile bodies at the DRF-served endpoints (tokens, ceremony) are refused too
    deep = "[" * 5_000 + "]" * 5_000
    token_url = f"/api/voting/elections/{election.slug}/tokens"
    assert_refused(citizen.post(token_url, deep, content_type="application/json"), 400)
    assert_refused(
        citizen.post(token_url, '{"a": 1, "a": 2}', content_type="application/json"), 400
    )
    assert stored() == before


def test_bodies_over_the_global_limit_are_refused_unread(settings: Any) -> None:
    """Pages and forms: Django's own limit, answered before the body is parsed."""
    client = Client()
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    response = client.post(
        "/api/voting/official/elections", "x" * 4096, content_type="application/json"
    )
    assert response.status_code in {401, 403, 413}  # refused before anything else, never a 500
    assert response["Content-Type"].startswith("application/json")
