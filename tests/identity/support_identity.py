"""Fixtures and helpers shared by the identity flow, API and page tests (a citizen's wallet in Python)."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.contrib.auth.models import AbstractBaseUser
from django.test import Client

from civic.roles import Role
from civic.services import create_user_with_role
from identity.core import credentials, did_key
from identity.services import dids
from voting.models import Election
from voting.services.elections import create_election

PASSWORD = "a long passphrase 42"


@pytest.fixture(autouse=True)
def identity_settings(settings: Any, tmp_path: Path) -> None:
    """Own city key file and media folder per test; small RSA keys to keep tests fast."""
    settings.CIVIC_CITY_KEY_FILE = str(tmp_path / "city_keys.json")
    settings.CIVIC_DID_WEB_HOST = "localhost%3A8000"
    settings.CIVIC_BLIND_RSA_BITS = 2048
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.CIVIC_VC_API_RATE = ""  # throttling has its own test
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only
    from identity import keys

    keys.ensure_key_file()


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def post_json(client: Client, url: str, body: Any, **extra: Any) -> Any:
    return client.post(url, data=json.dumps(body), content_type="application/json", **extra)


@dataclass
class Wallet:
    """What the browser holds: the DID key (the server never sees the private half)."""

    private_key: Ed25519PrivateKey
    did: str

    @classmethod
    def new(cls) -> Wallet:
        private_key, did = did_key.generate()
        return cls(private_key, did)

    @property
    def verification_method(self) -> str:
        return did_key.verification_method_id(self.did)

    def present(self, credential: dict[str, Any], challenge: str, domain: str) -> dict[str, Any]:
        vp = credentials.presentation(self.did, [credential])
        return credentials.sign_presentation(
            vp, self.private_key, self.verification_method, challenge=challenge, domain=domain
        )

    def binding_request(self, challenge: dict[str, str]) -> dict[str, str]:
        """The body of POST /api/identity/did/bind: this DID signs the server's challenge."""
        message = dids.binding_message(self.did, challenge["challenge"], challenge["domain"])
        return {
            "did": self.did,
            "challenge": challenge["challenge"],
            "signature": b64url(self.private_key.sign(message)),
        }


def bind(client: Client, wallet: Wallet) -> Any:
    challenge = client.post("/api/identity/did/challenge").json()
    return post_json(client, "/api/identity/did/bind", wallet.binding_request(challenge))


def make_user(username: str, role: Role) -> AbstractBaseUser:
    return create_user_with_role(
        username=username, email=f"{username}@example.org", password=PASSWORD, role=role
    )


def login(user: AbstractBaseUser) -> Client:
    client = Client()
    client.force_login(user)
    return client


def open_election(slug: str, district: str, creator: AbstractBaseUser) -> Election:
    election = create_election(slug=slug, title=slug.title(), district=district, created_by=creator)
    election.state = Election.State.OPEN
    election.save(update_fields=["state"])
    return election


@dataclass
class Resident:
    """A citizen with a bound DID and an issued residency credential."""

    user: AbstractBaseUser
    client: Client
    wallet: Wallet
    credential: dict[str, Any]
    credential_pk: int


def make_resident(username: str, district: str, official_client: Client) -> Resident:
    user = make_user(username, Role.CITIZEN)
    client = login(user)
    wallet = Wallet.new()
    assert bind(client, wallet).status_code == 201
    claim = post_json(
        client,
        "/api/identity/claims",
        {"legal_name": f"{username} Person", "address": "1 Main St", "district": district},
    )
    assert claim.status_code == 201, claim.content
    approved = post_json(official_client, f"/api/identity/claims/{claim.json()['id']}/approve", {})
    assert approved.status_code == 201, approved.content
    pk = approved.json()["id"]
    document = client.get(f"/api/identity/credentials/{pk}").json()
    return Resident(user, client, wallet, document, pk)
