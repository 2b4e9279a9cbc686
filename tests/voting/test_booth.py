"""Elections get a verified key ceremony, open, and serve a booth whose worker makes valid ballots."""

from __future__ import annotations

import dataclasses
import json
import subprocess
from pathlib import Path

import pytest
from django.contrib.auth.models import AbstractUser
from django.test import Client

from civic.roles import Role
from civic.services import create_user_with_role
from civic_votecrypto import dkg
from civic_votecrypto.ballot import decode_ballot, verify_ballot
from civic_votecrypto.election import election_from_manifest
from civic_votecrypto.errors import CryptoError
from civic_votecrypto.manifest import Manifest
from ledger.models import OutboxEntry
from tests.identity.support_identity import login, make_resident
from tests.support import REPO_ROOT
from voting.demo import DEMO_MANIFEST, seed_demo_election
from voting.errors import ElectionStateError
from voting.models import Election, EligibilityKey
from voting.selectors import elections as selectors
from voting.services import elections as services
from voting.services import lifecycle

pytestmark = pytest.mark.django_db
BUNDLE = REPO_ROOT / "voting" / "static" / "voting" / "build" / "booth_worker.js"


@pytest.fixture
def official() -> AbstractUser:
    return create_user_with_role(username="clerk", email="clerk@city.example", password="a long passphrase 42", role=Role.OFFICIAL)


def in_ceremony(slug: str, official: AbstractUser) -> Election:
    """A bare election moved into its key ceremony (no manifest or trustees fixed: legacy rows)."""
    election = services.create_election(slug=slug, title="Vote", district="", created_by=official)
    return lifecycle.transition(election, Election.State.CEREMONY)


def ceremony_for(manifest_json: dict, trustees: int = 3, threshold: int = 2) -> tuple[Manifest, dkg.CeremonyTranscript]:
    manifest = Manifest.from_json(manifest_json)
    params = election_from_manifest(manifest, trustees, threshold).params
    transcript, _ = dkg.run_ceremony(params)
    return manifest, transcript


def test_publish_and_open_records_hashes_and_makes_the_eligibility_key(official: AbstractUser) -> None:
    election = in_ceremony("vote-1", official)
    manifest, transcript = ceremony_for({**DEMO_MANIFEST, "election_id": "vote-1"})
    services.publish_election_context(election=election, manifest=manifest, transcript=transcript)
    election.refresh_from_db()
    ctx = selectors.crypto_context(election)
    assert ctx.joint_key == transcript.joint_key()
    assert election.context["extended_hash"] == ctx.extended_hash.hex()
    with pytest.raises(ElectionStateError, match="scheduled"):
        services.open_election(election)
    lifecycle.complete_ceremony(election)
    services.open_election(election)
    election.refresh_from_db()
    assert election.state == Election.State.OPEN
    assert EligibilityKey.objects.filter(election=election).exists()
    city = list(OutboxEntry.objects.filter(log__name="city").values_list("kind", flat=True))
    assert city == ["election.log_created", "election.context_published"]
    own = list(OutboxEntry.objects.filter(log__name=election.log_name).values_list("kind", flat=True))
    assert own == ["election.ceremony", "election.scheduled", "election.open"]


def test_ceremony_for_another_manifest_is_refused(official: AbstractUser) -> None:
    election = in_ceremony("vote-2", official)
    manifest, _ = ceremony_for({**DEMO_MANIFEST, "election_id": "vote-2"})
    _, other = ceremony_for({**DEMO_MANIFEST, "election_id": "another"})
    with pytest.raises(dkg.CeremonyError, match="another manifest"):
        services.publish_election_context(election=election, manifest=manifest, transcript=other)
    election.refresh_from_db()
    assert election.context is None


def test_ceremony_with_a_forged_proof_is_refused(official: AbstractUser) -> None:
    election = in_ceremony("vote-3", official)
    manifest, transcript = ceremony_for({**DEMO_MANIFEST, "election_id": "vote-3"})
    first, second = transcript.commitments[0], transcript.commitments[1]
    forged = dataclasses.replace(transcript, commitments=(dataclasses.replace(first, proofs=second.proofs), *transcript.commitments[1:]))
    with pytest.raises(CryptoError):
        services.publish_election_context(election=election, manifest=manifest, transcript=forged)
    election.refresh_from_db()
    assert election.context is None
    assert not OutboxEntry.objects.filter(kind="election.context_published").exists()


def test_context_is_published_once_and_opening_needs_it(official: AbstractUser) -> None:
    election = in_ceremony("vote-4", official)
    with pytest.raises(ElectionStateError, match="scheduled"):
        services.open_election(election)
    manifest, transcript = ceremony_for({**DEMO_MANIFEST, "election_id": "vote-4"})
    services.publish_election_context(election=election, manifest=manifest, transcript=transcript)
    with pytest.raises(ElectionStateError, match="published once"):
        services.publish_election_context(election=election, manifest=manifest, transcript=transcript)


def test_booth_page_lists_every_option_with_a_label(client: Client, official: AbstractUser) -> None:
    election = seed_demo_election(official)
    html = client.get(f"/voting/{election.slug}/booth/").content.decode()
    assert 'id="election-context"' in html and 'id="booth-messages"' in html
    assert "voting/build/booth_worker.js" in html
    for contest in DEMO_MANIFEST["contests"]:
        assert contest["title"] in html
        for option in contest["options"]:
            assert f'<label for="c-{contest["id"]}-{option["id"]}"' in html
    assert client.get("/voting/").status_code == 200
    assert election.title in client.get("/voting/").content.decode()


def booth_config(html: str) -> dict:
    marker = '<script id="booth-config" type="application/json">'
    start = html.index(marker) + len(marker)
    return json.loads(html[start : html.index("</script>", start)])


def test_booth_tells_its_script_where_to_cast_and_where_the_token_comes_from(
    client: Client, official: AbstractUser
) -> None:
    election = seed_demo_election(official)
    anonymous = booth_config(client.get(f"/voting/{election.slug}/booth/").content.decode())
    assert anonymous == {
        "slug": election.slug,
        "ballotsUrl": f"/api/voting/elections/{election.slug}/ballots",
        "spoiledUrl": f"/api/voting/elections/{election.slug}/ballots/spoiled",
        "open": True,
        "token": None,
        "boundDid": None,
        "verifyUrl": "/voting/verify/",
    }
    resident = make_resident("ines", "north", login(official))
    response = resident.client.get(f"/voting/{election.slug}/booth/")
    assert "csrftoken" in response.cookies  # the token request is a session POST
    config = booth_config(response.content.decode())
    assert config["boundDid"] == resident.wallet.did
    assert config["token"] == {
        "slug": election.slug,
        "keyUrl": f"/api/voting/elections/{election.slug}/eligibility-key",
        "challengeUrl": f"/api/voting/elections/{election.slug}/token-challenge",
        "tokenUrl": f"/api/voting/elections/{election.slug}/tokens",
        "credentialUrl": f"/api/identity/credentials/{resident.credential_pk}",
    }
    # A citizen without a credential gets the URLs but none to present: the booth says why.
    bare = create_user_with_role(
        username="noone", email="noone@city.example", password="a long passphrase 42", role=Role.CITIZEN
    )
    other = Client()
    other.force_login(bare)
    config = booth_config(other.get(f"/voting/{election.slug}/booth/").content.decode())
    assert config["token"]["credentialUrl"] == "" and config["boundDid"] is None


def test_draft_and_unknown_elections_have_no_booth(client: Client, official: AbstractUser) -> None:
    services.create_election(slug="draft-1", title="Draft", district="", created_by=official)
    assert client.get("/voting/draft-1/booth/").status_code == 404
    assert client.get("/voting/nope/booth/").status_code == 404
    response = client.get("/api/voting/elections/draft-1/context")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_context_api_serves_the_published_context(client: Client, official: AbstractUser) -> None:
    election = seed_demo_election(official)
    body = client.get(f"/api/voting/elections/{election.slug}/context").json()
    assert body["context"] == election.context
    assert body["state"] == "open"


def test_receipt_page_knows_the_published_contexts(client: Client, official: AbstractUser) -> None:
    election = seed_demo_election(official)
    html = client.get("/voting/verify/").content.decode()
    assert election.context["extended_hash"] in html


def run_bundle(script: str) -> dict:
    """Run code against the esbuild bundle the browser's worker loads (built by make setup)."""
    assert BUNDLE.exists(), "the booth worker bundle is built by `make setup`"
    result = subprocess.run(
        ["node", "--input-type=module", "-e", script], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_bundled_worker_makes_ballots_python_verifies_and_catches_a_flipped_bit(official: AbstractUser) -> None:
    election = seed_demo_election(official)
    message = {
        "type": "encrypt",
        "id": 1,
        "context": election.context,
        "ballot_id": "b-test-1",
        "selections": {"library": {"yes": 1}, "council": {"amina": 1, "sofie": 1}, "parks": {"trees": 1, "playground": 1}},
    }
    script = f"""
import {{ handleBoothMessage }} from "{BUNDLE.as_posix()}";
const replies = [];
handleBoothMessage({json.dumps(message)}, (r) => replies.push(r));
process.stdout.write(JSON.stringify(replies.at(-1)));
"""
    reply = run_bundle(script)
    assert reply["type"] == "encrypted", reply
    ctx = selectors.crypto_context(election)
    ballot = decode_ballot(reply["ballot"])
    verify_ballot(ctx, ballot)
    assert reply["tracking_code"]
    tampered = json.loads(json.dumps(reply["ballot"]))
    response = tampered["contests"][0]["selections"][0]["proof"]["branches"][0]["v"]
    flipped = int(response, 16) ^ 1  # one bit of one proof response
    tampered["contests"][0]["selections"][0]["proof"]["branches"][0]["v"] = f"{flipped:064x}"
    with pytest.raises(CryptoError):
        verify_ballot(ctx, decode_ballot(tampered))


def test_over_budget_choices_are_refused_by_the_worker(official: AbstractUser) -> None:
    election = seed_demo_election(official)
    message = {
        "type": "encrypt", "id": 7, "context": election.context, "ballot_id": "b-test-2",
        "selections": {"library": {"yes": 1}, "council": {}, "parks": {"trees": 1, "playground": 1, "benches": 1}},
    }
    script = f"""
import {{ handleBoothMessage }} from "{BUNDLE.as_posix()}";
const replies = [];
handleBoothMessage({json.dumps(message)}, (r) => replies.push(r));
process.stdout.write(JSON.stringify(replies.at(-1)));
"""
    reply = run_bundle(script)
    assert reply["type"] == "error" and reply["id"] == 7
    assert reply["error"]["name"] == "BallotError", reply


def test_bundle_is_built_from_the_current_sources() -> None:
    sources = list((REPO_ROOT / "voting" / "static" / "voting" / "js").glob("*.mjs"))
    assert BUNDLE.stat().st_mtime >= max(Path(s).stat().st_mtime for s in sources), "run `make setup`"


def test_booth_shows_the_description_sanitized(client: Client, official: AbstractUser) -> None:
    election = seed_demo_election(official)
    Election.objects.filter(pk=election.pk).update(
        description="**Read this.** <script>alert(1)</script> [site](javascript:alert(1))"
    )
    html = client.get(f"/voting/{election.slug}/booth/").content.decode()
    description = html.split('id="election-description">', 1)[1].split("</div>", 1)[0]
    assert "<strong>Read this.</strong>" in description
    assert "<script" not in description and "&lt;script&gt;" in description  # shown, never run
    assert "href=" not in description  # a javascript: link does not become a link
