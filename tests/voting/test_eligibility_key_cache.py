"""The election's sealed RSA key is unsealed once per process (voting.services.eligibility's
cache): two tokens unseal it once; a re-sealed key, a replaced key or another city key file is
read afresh, never served from the cache; threads asking at once unseal it once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.exceptions import InvalidTag
from django.test import Client

from civic.roles import Role
from identity.core import blind_rsa
from tests.identity.support_identity import (
    identity_settings,  # noqa: F401 - autouse fixture
    login,
    make_resident,
    make_user,
    open_election,
)
from tests.identity.test_flow_http import finalize_token, request_token
from voting.models import EligibilityKey
from voting.selectors.eligibility import ballot_authorization_is_valid
from voting.services import eligibility

pytestmark = pytest.mark.django_db


@pytest.fixture
def unseals(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The key ids unsealed (really, with the original function) while the test runs."""
    seen: list[str] = []
    original = eligibility.unseal_private_key

    def counting(row: EligibilityKey) -> Any:
        seen.append(row.key_id)
        return original(row)

    eligibility._unsealed.clear()  # noqa: SLF001 - a fresh process
    monkeypatch.setattr(eligibility, "unseal_private_key", counting)
    yield seen
    eligibility._unsealed.clear()  # noqa: SLF001


def issue(resident: Any, slug: str) -> tuple[bytes, dict[str, str]]:
    response, ballot_key, input_msg, blinding, public_key = request_token(resident, slug)
    assert response.status_code == 201, response.content
    return ballot_key, finalize_token(response, input_msg, blinding, public_key)


def test_two_tokens_unseal_the_key_once_and_a_changed_key_is_read_again(
    unseals: list[str], settings: Any, tmp_path: Any
) -> None:
    official = login(make_user("clerk", Role.OFFICIAL))
    residents = [make_resident(name, "north", official) for name in ("ca", "cb", "cc", "cd")]
    election = open_election("cached", "", make_user("planner", Role.OFFICIAL))
    for resident in residents[:2]:
        ballot_key, token = issue(resident, "cached")
        assert ballot_authorization_is_valid(election, ballot_key, token)
    row = EligibilityKey.objects.get(election=election)
    assert unseals == [row.key_id]

    # the same key sealed again (a fresh nonce): other bytes, so it is unsealed again
    private = eligibility.unseal_private_key(row)
    unseals.clear()
    row.private_key_sealed = eligibility.seal_private_key(row, private)
    row.save(update_fields=["private_key_sealed"])
    ballot_key, token = issue(residents[2], "cached")
    assert ballot_authorization_is_valid(election, ballot_key, token)
    assert unseals == [row.key_id]

    # a replaced key (new key pair under the row): the new one signs, never the cached old one
    replacement = blind_rsa.generate_key(2048)
    row.key_id = blind_rsa.key_id(replacement.public_key())
    row.public_key_pem = blind_rsa.public_key_pem(replacement.public_key())
    row.private_key_sealed = eligibility.seal_private_key(row, replacement)
    row.save(update_fields=["key_id", "public_key_pem", "private_key_sealed"])
    assert Client().get("/api/voting/elections/cached/eligibility-key").json()["key_id"] == (
        row.key_id
    )
    ballot_key, token = issue(residents[3], "cached")
    assert token["key_id"] == row.key_id
    assert ballot_authorization_is_valid(election, ballot_key, token)

    # another city key file: the cached key is not served, unsealing fails as it must
    settings.CIVIC_CITY_KEY_FILE = str(tmp_path / "other.json")
    from identity import keys

    keys.ensure_key_file()
    with pytest.raises(InvalidTag):
        eligibility.election_private_key(row)


def test_threads_asking_at_once_unseal_the_key_once(unseals: list[str]) -> None:
    election = open_election("threads", "", make_user("planner", Role.OFFICIAL))
    [row] = eligibility.ensure_election_keys(election)
    assert row.election.slug == "threads"  # loaded here: the threads do not query the database
    workers, start = 8, threading.Barrier(8)
    got: list[Any] = []

    def ask() -> None:
        start.wait()
        got.append(eligibility.election_private_key(row))

    threads = [threading.Thread(target=ask) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert unseals == [row.key_id]
    assert len(got) == workers and all(key is got[0] for key in got)


def test_the_cache_keeps_at_most_its_limit(unseals: list[str], monkeypatch: Any) -> None:
    monkeypatch.setattr(eligibility._unsealed, "limit", 2)  # noqa: SLF001
    creator = make_user("planner", Role.OFFICIAL)
    rows = [
        eligibility.ensure_election_keys(open_election(f"limit-{i}", "", creator))[0]
        for i in range(3)
    ]
    for row in rows:
        eligibility.election_private_key(row)
    eligibility.election_private_key(rows[2])  # still cached
    eligibility.election_private_key(rows[0])  # evicted (least recently used): unsealed again
    assert unseals == [rows[0].key_id, rows[1].key_id, rows[2].key_id, rows[0].key_id]
