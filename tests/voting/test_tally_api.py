"""The tally over HTTP: the public tally and ballot list, the trustees' shares with every refusal
storing nothing (401/403 by role, a wrong share naming the trustee and the selection, malformed,
duplicate keys, oversize, early, a different second share), resends idempotent, 2 of 3 trustees
(one absent) publishing the known totals of ballots cast through the real box, and the pages."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from civic.roles import Role
from civic_votecrypto.ballot import challenge_ballot, new_seed
from civic_votecrypto.group import G
from identity.core.jcs import canonicalize
from tests.identity.support_identity import b64url, identity_settings, login  # noqa: F401
from tests.voting.ballot_box_support import box_settings, cast_body, new_voter, post  # noqa: F401
from tests.voting.tally_support import (
    account,
    close,
    eager_celery,  # noqa: F401
    edited,
    encrypt,
    inline_sequencer,  # noqa: F401
    one_of_three,
    open_tally_election,
    sequence,
    store_ballot,
    tally_share_envelope,
    trustee_token,
)
from voting.models import DecryptionShare, Election
from voting.selectors import ballot_box as box
from voting.services import aggregation, box_freeze

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures(
        "box_settings", "identity_settings", "eager_celery", "inline_sequencer"
    ),
]


def bearer(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def post_share(
    client: Client, slug: str, body: Any, token: str | None = None, raw: str | None = None
) -> Any:
    data = raw if raw is not None else json.dumps(body)
    return client.post(
        f"/api/voting/elections/{slug}/tally-shares",
        data=data,
        content_type="application/json",
        **(bearer(token) if token else {}),
    )


@pytest.fixture
def tallied(django_capture_on_commit_callbacks: Any) -> Any:
    """An election closed with 4 counting ballots (a:2, b:1, c:1) and its tally computed."""
    official = account("clerk", Role.OFFICIAL)
    te = open_tally_election("api-vote", official)
    for key, option in [("k1", "a"), ("k2", "b"), ("k3", "a"), ("k4", "b"), ("k4", "c")]:
        store_ballot(te.election, encrypt(te.election, one_of_three(option)), key)
    with django_capture_on_commit_callbacks(execute=True):
        close(te.election, official)
    assert te.refresh().tally.encrypted is not None
    return te


def test_the_tally_and_the_ballot_list_are_public(tallied: Any) -> None:
    slug = tallied.slug
    document = Client().get(f"/api/voting/elections/{slug}/tally").json()
    election = tallied.refresh()
    assert document["tally"] == election.tally.encrypted and document["state"] == "tallying"
    assert document["hashes"]["extended_hash"] == election.context["extended_hash"]
    assert document["manifest"] == election.context["manifest"]
    assert document["box_frozen"]["counting"] == 4 and document["progress"] == {
        "chunks_done": 1,
        "chunks_total": 1,
    }
    assert (
        document["parameters"] == {"trustees": 3, "threshold": 2}
        and document["shares_received"] == []
    )

    first = Client().get(f"/api/voting/elections/{slug}/ballots?limit=2").json()
    assert [b["status"] for b in first["ballots"]] == ["counting", "counting"] and first[
        "next_after"
    ]
    rest = (
        Client()
        .get(f"/api/voting/elections/{slug}/ballots?after={first['next_after']}&limit=10")
        .json()
    )
    statuses = [b["status"] for b in first["ballots"] + rest["ballots"]]
    assert (
        statuses == ["counting", "counting", "counting", "superseded", "counting"]
        and rest["next_after"] is None
    )
    superseded = rest["ballots"][1]
    assert (
        superseded["weight"] is None
        and rest["ballots"][2]["supersedes"] == superseded["tracking_code"]
    )
    for bad in ("limit=0", "limit=100000", "after=-1", "after=x"):
        answer = Client().get(f"/api/voting/elections/{slug}/ballots?{bad}")
        assert answer.status_code == 400 and "must be an integer" in answer.json()["detail"], bad
    assert Client().get("/api/voting/elections/nope/tally").status_code == 404
    assert Client().get("/api/voting/elections/nope/ballots").status_code == 404


def test_before_the_close_there_is_no_tally_and_no_list() -> None:
    te = open_tally_election("early-vote", account("clerk", Role.OFFICIAL))
    assert (
        Client().get(f"/api/voting/elections/{te.slug}/tally").json()["error"] == "tally_not_ready"
    )
    listing = Client().get(f"/api/voting/elections/{te.slug}/ballots")
    assert listing.status_code == 409 and "closed" in listing.json()["detail"]
    answer = post_share(Client(), te.slug, {"x": 1}, trustee_token(te.trustees[0]))
    assert answer.status_code == 409 and answer.json()["error"] == "tally_not_ready"


def test_who_may_post_a_share(tallied: Any) -> None:
    slug, envelope = tallied.slug, tally_share_envelope(tallied, 1)
    other = open_tally_election("other-vote", account("clerk2", Role.OFFICIAL))
    citizen = account("cid", Role.CITIZEN)
    assert post_share(Client(), slug, envelope).status_code == 401
    assert post_share(Client(), slug, envelope, "kid.not-a-secret").status_code == 401
    assert post_share(login(citizen), slug, envelope).status_code == 403
    assert (
        post_share(Client(), slug, envelope, trustee_token(other.trustees[0])).json()["error"]
        == "not_election_trustee"
    )
    # Trustee 2 of this election posting trustee 1's share: refused, naming the trustee.
    wrong = post_share(Client(), slug, envelope, trustee_token(tallied.trustees[1]))
    assert wrong.status_code == 422 and wrong.json()["detail"]["trustee"] == 2
    assert DecryptionShare.objects.count() == 0


def test_a_wrong_or_malformed_share_is_refused_naming_the_trustee_and_selection(
    tallied: Any, settings: Any
) -> None:
    slug, token = tallied.slug, trustee_token(tallied.trustees[0])
    envelope = tally_share_envelope(tallied, 1)

    def bump(doc: dict[str, Any]) -> None:  # another point, well-formed: the proof no longer holds
        doc["body"]["contests"]["q"]["b"]["share"] = G.hex()

    answer = post_share(Client(), slug, edited(envelope, bump), token)
    body = answer.json()
    assert answer.status_code == 422 and body["error"] == "share_refused"
    assert body["detail"]["trustee"] == 1 and body["detail"]["selections"] == ["q/b"]
    assert "trustee 1" in body["detail"]["message"] and "q/b" in body["detail"]["message"]

    missing = edited(envelope, lambda d: d["body"]["contests"]["q"].pop("c"))
    # the envelope's documented form, with a body its decoder refuses: 422
    assert post_share(Client(), slug, missing, token).json()["error"] == "malformed_content"
    other_election = edited(envelope, lambda d: d.update(election_id="another"))
    assert post_share(Client(), slug, other_election, token).json()["error"] == "malformed_content"
    assert post_share(Client(), slug, {"kind": "tally-share"}, token).status_code == 400
    assert post_share(Client(), slug, None, token, raw="{not json").status_code == 400
    dup = json.dumps(envelope)[:-1] + ', "format": "civic-trustee-message/1"}'
    duplicate_keys = post_share(Client(), slug, None, token, raw=dup)
    assert (
        duplicate_keys.status_code == 400 and "duplicate" in duplicate_keys.json()["detail"].lower()
    )
    settings.CIVIC_TALLY_MAX_SHARE_BYTES = 500
    assert post_share(Client(), slug, envelope, token).status_code == 413
    assert (
        DecryptionShare.objects.count() == 0 and tallied.refresh().state == Election.State.TALLYING
    )


def test_two_of_three_trustees_publish_and_a_resend_is_idempotent(
    tallied: Any, django_capture_on_commit_callbacks: Any
) -> None:
    slug = tallied.slug
    tokens = [trustee_token(u) for u in tallied.trustees]
    first = tally_share_envelope(tallied, 1)
    stored = post_share(Client(), slug, first, tokens[0])
    assert stored.status_code == 201 and stored.json() | {"sha256": None} == {
        "trustee": 1, "sha256": None, "stored": True, "received": 1, "threshold": 2,
    }  # fmt: skip
    again = post_share(Client(), slug, first, tokens[0])
    assert again.status_code == 200 and again.json()["stored"] is False
    different = tally_share_envelope(tallied, 1)  # fresh proof nonces: another valid share
    assert post_share(Client(), slug, different, tokens[0]).json()["error"] == "duplicate_share"
    assert Client().get(f"/voting/{slug}/results/").status_code == 404

    with django_capture_on_commit_callbacks(execute=True):
        assert (
            post_share(Client(), slug, tally_share_envelope(tallied, 3), tokens[2]).status_code
            == 201
        )
    election = tallied.refresh()
    assert election.state == Election.State.PUBLISHED
    assert election.tally.results == {
        "trustees": [1, 3],
        "contests": {"q": {"a": 2, "b": 1, "c": 1}},
    }
    late = post_share(Client(), slug, tally_share_envelope(tallied, 2), tokens[1])
    assert late.status_code == 409 and late.json()["error"] == "tally_not_ready"
    shares = Client().get(f"/api/voting/elections/{slug}/tally-shares").json()["shares"]
    assert [s["body"]["trustee"] for s in shares] == [1, 3]
    assert (
        Client().get(f"/api/voting/elections/{slug}/tally").json()["results"]
        == election.tally.results
    )


def test_ballots_cast_through_the_box_are_counted(django_capture_on_commit_callbacks: Any) -> None:
    """Real tokens and casts over HTTP: a re-vote replaces, a challenged ballot never counts."""
    official = account("clerk", Role.OFFICIAL)
    te = open_tally_election("box-vote", official)
    clerk = login(official)
    url = f"/api/voting/elections/{te.slug}/ballots"
    voters = [new_voter(clerk, te.slug) for _ in range(3)]
    for voter, option in zip(voters, ("a", "b", "b"), strict=True):
        assert (
            post(
                Client(),
                url,
                cast_body(te.slug, voter, encrypt(te.election, one_of_three(option)).to_json()),
            ).status_code
            == 201
        )
    revote = encrypt(te.election, one_of_three("c"))
    assert post(Client(), url, cast_body(te.slug, voters[2], revote.to_json())).status_code == 201
    seed = new_seed()
    challenged = encrypt(te.election, one_of_three("a"), seed)
    document = challenge_ballot(challenged, seed, one_of_three("a")).to_json()
    message = box.signed_message(box.SPOIL_CONTEXT, te.slug, canonicalize(document))
    body = {
        "challenged": document,
        "ballot_key": voters[0].public,
        "token": voters[0].token,
        "signature": b64url(voters[0].key.sign(message)),
    }
    assert post(Client(), f"{url}/spoiled", body).status_code == 201
    with django_capture_on_commit_callbacks(execute=True):
        close(te.election, official)
    election = te.refresh()
    assert election.tally.frozen | {"checkpoint": None} == {
        "election": te.slug, "counting": 3, "cast": 4, "spoiled": 1, "checkpoint": None,
    }  # fmt: skip
    tokens = [trustee_token(u) for u in te.trustees]
    for index in (2, 3):
        with django_capture_on_commit_callbacks(execute=True):
            assert (
                post_share(
                    Client(), te.slug, tally_share_envelope(te, index), tokens[index - 1]
                ).status_code
                == 201
            )
    election = te.refresh()
    assert election.tally.results == {
        "trustees": [2, 3],
        "contests": {"q": {"a": 1, "b": 1, "c": 1}},
    }
    page = Client().get(f"/voting/{te.slug}/results/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "3 ballots counted of 3 voting tokens issued (100.0 %)" in html
    assert 'role="img"' in html and "<table" in html and "No observer has reported" in html


def test_the_decryption_page_tells_each_trustee(tallied: Any) -> None:
    slug = tallied.slug
    public = Client().get(f"/voting/{slug}/decryption/").content.decode()
    assert (
        "civic-trustee decrypt" not in public
        and "1 of 1 chunks summed" not in public
        and "Done." in public
    )
    mine = login(tallied.trustees[1]).get(f"/voting/{slug}/decryption/").content.decode()
    assert (
        f"civic-trustee decrypt --server http://testserver --election {slug} --key-file trustee-2.key"
        in mine
    )
    assert (
        post_share(
            Client(), slug, tally_share_envelope(tallied, 2), trustee_token(tallied.trustees[1])
        ).status_code
        == 201
    )
    after = login(tallied.trustees[1]).get(f"/voting/{slug}/decryption/").content.decode()
    assert "Your partial decryption was received and verified" in after
    official_page = (
        login(account("clerk9", Role.OFFICIAL)).get(f"/voting/official/{slug}/").content.decode()
    )
    assert "partial decryptions received: 1 of the 2 needed" in official_page


def test_the_official_page_shows_chunk_progress(settings: Any) -> None:
    settings.CIVIC_TALLY_CHUNK_SIZE = 1
    official = account("clerk", Role.OFFICIAL)
    te = open_tally_election("progress-vote", official)
    for key in ("k1", "k2", "k3"):
        store_ballot(te.election, encrypt(te.election, one_of_three("a")), key)
    close(te.election, official)
    sequence()
    assert box_freeze.freeze_box(te.election.pk).frozen
    aggregation.compute_chunk(te.refresh().tally.pk, 1)
    page = login(official).get(f"/voting/official/{te.slug}/").content.decode()
    assert "1 of 3 chunks summed" in page and '<progress max="3" value="1"' in page


def test_the_trustee_page_links_to_the_decryption(tallied: Any) -> None:
    page = login(tallied.trustees[0]).get("/trustee/credentials/").content.decode()
    assert f'href="/voting/{tallied.slug}/decryption/">Decrypt the tally</a>' in page
