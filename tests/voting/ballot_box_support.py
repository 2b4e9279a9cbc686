"""Helpers of the ballot box tests: an open election with a real key ceremony, real RFC 9474
tokens issued through the eligibility API with the wallet's message format, real ballots."""

from __future__ import annotations

import json
from dataclasses import dataclass
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.contrib.auth.models import AbstractBaseUser
from django.test import Client

from civic_votecrypto import dkg, group
from civic_votecrypto.ballot import (
    ElectionContext,
    EncryptedBallot,
    challenge_ballot,
    encrypt_ballot,
    new_seed,
)
from civic_votecrypto.election import election_from_manifest
from civic_votecrypto.manifest import Manifest
from identity.core import blind_rsa
from identity.core.jcs import canonicalize
from identity.services.encoding import b64url_decode
from ledger import services as ledger_services
from ledger.models import OutboxEntry
from tests.identity.support_identity import Resident, b64url, make_resident
from voting.models import CastBallot, Election
from voting.selectors import ballot_box as box
from voting.selectors.elections import crypto_context
from voting.selectors.eligibility import token_message
from voting.services import elections as election_services
from voting.services import lifecycle

ONE_OF_FIVE = {
    "contests": [
        {
            "id": "q",
            "type": "one_of_n",
            "title": "One of five",
            "allow_blank": False,
            "options": [{"id": f"o{i}", "title": f"Option {i}"} for i in range(5)],
        }
    ],
}
_ids = count(1)


@pytest.fixture
def box_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: Any) -> None:
    """Own ledger key file; the sequencing kick recorded instead of sent (tests sequence)."""
    settings.LEDGER_SIGNER_KEYS_FILE = str(tmp_path / "ledger_keys.json")
    settings.LEDGER_ORIGIN_PREFIX = "test.civic.example/ledger"
    monkeypatch.setattr(ledger_services, "_kick_sequencer", lambda: None)


def open_box(slug: str, official: AbstractBaseUser, district: str = "") -> Election:
    """An election through its real lifecycle: ceremony (2 of 3 trustees), scheduled, open."""
    election = election_services.create_election(slug=slug, title=slug.title(), district=district, created_by=official)
    election = lifecycle.transition(election, Election.State.CEREMONY)
    manifest = Manifest.from_json({"election_id": slug, "title": slug.title(), **ONE_OF_FIVE})
    with group.use_backend("native"):
        transcript, _ = dkg.run_ceremony(election_from_manifest(manifest, 3, 2).params)
    election_services.publish_election_context(election=election, manifest=manifest, transcript=transcript)
    lifecycle.complete_ceremony(election)
    election_services.open_election(election)
    election.refresh_from_db()
    return election


@dataclass
class Voter:
    """What the booth holds for one election: the ballot key and its finalized token."""

    key: Ed25519PrivateKey
    token: dict[str, str]

    @property
    def public(self) -> str:
        return b64url(self.key.public_key().public_bytes_raw())


def pick_key(slug: str, district: str) -> dict[str, Any]:
    """The published key a wallet with a credential for ``district`` blinds under (as the JS
    wallet's pickEligibilityKey): the one key, or the district's."""
    keys = Client().get(f"/api/voting/elections/{slug}/eligibility-key").json()["keys"]
    return keys[0] if len(keys) == 1 else next(k for k in keys if k["district"] == district)


def request_token(resident: Resident, slug: str, key: dict[str, Any]) -> tuple[Any, Any, bytes, Ed25519PrivateKey]:
    """POST /tokens blinded under ``key``: (response, blinding, input message, ballot key)."""
    public_key = blind_rsa.public_key_from_pem(key["public_key_pem"])
    ballot_key = Ed25519PrivateKey.generate()
    input_msg = blind_rsa.prepare(token_message(slug, ballot_key.public_key().public_bytes_raw()))
    blinding = blind_rsa.blind(public_key, input_msg)
    challenge = resident.client.post(f"/api/voting/elections/{slug}/token-challenge").json()
    vp = resident.wallet.present(resident.credential, challenge["challenge"], challenge["domain"])
    response = resident.client.post(
        f"/api/voting/elections/{slug}/tokens",
        data=json.dumps({"blinded_message": b64url(blinding.blinded_msg), "presentation": vp, "key_id": key["key_id"]}),
        content_type="application/json",
    )
    return response, blinding, input_msg, ballot_key


def issue_token(resident: Resident, slug: str) -> Voter:
    """The wallet's flow over HTTP: fresh Ed25519 ballot key, blinded token message under the key
    of the credential's district, presentation."""
    key = pick_key(slug, resident.credential["credentialSubject"]["district"])
    public_key = blind_rsa.public_key_from_pem(key["public_key_pem"])
    response, blinding, input_msg, ballot_key = request_token(resident, slug, key)
    assert response.status_code == 201, response.content
    blind_signature = b64url_decode(response.json()["blind_signature"], "blind_signature")
    signature = blind_rsa.finalize(public_key, input_msg, blind_signature, blinding.inv)
    token = {"key_id": response.json()["key_id"], "prefix": b64url(input_msg[:32]), "signature": b64url(signature)}
    return Voter(ballot_key, token)


def new_voter(official_client: Client, slug: str, district: str = "north") -> Voter:
    resident = make_resident(f"voter{next(_ids)}", district, official_client)
    return issue_token(resident, slug)


def make_ballot(election: Election, option: int = 0, ballot_id: str | None = None, seed: bytes | None = None) -> EncryptedBallot:
    ctx: ElectionContext = crypto_context(election)
    with group.use_backend("native"):
        return encrypt_ballot(ctx, ballot_id or f"ballot-{next(_ids)}", {"q": {f"o{option}": 1}}, seed)


def cast_body(slug: str, voter: Voter, ballot_json: dict[str, Any]) -> dict[str, Any]:
    message = box.signed_message(box.CAST_CONTEXT, slug, canonicalize(ballot_json))
    return {
        "ballot": ballot_json,
        "ballot_key": voter.public,
        "token": voter.token,
        "signature": b64url(voter.key.sign(message)),
    }


def spoil_body(slug: str, voter: Voter, ballot: EncryptedBallot, seed: bytes, option: int) -> dict[str, Any]:
    challenged = challenge_ballot(ballot, seed, {"q": {f"o{option}": 1}}).to_json()
    message = box.signed_message(box.SPOIL_CONTEXT, slug, canonicalize(challenged))
    return {
        "challenged": challenged,
        "ballot_key": voter.public,
        "token": voter.token,
        "signature": b64url(voter.key.sign(message)),
    }


def post_raw(client: Client, url: str, raw: str | bytes) -> Any:
    return client.post(url, data=raw, content_type="application/json")


def post(client: Client, url: str, body: Any) -> Any:
    return post_raw(client, url, json.dumps(body))


def stored() -> tuple[int, int]:
    """(ballot rows, ballot ledger entries): both must stay put on a refusal."""
    return CastBallot.objects.count(), OutboxEntry.objects.filter(kind__startswith="ballot.").count()


__all__ = ["new_seed"]
