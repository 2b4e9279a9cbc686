"""Helpers for the key-ceremony tests: an election in its ceremony with trustee accounts, and
the trustees' messages made in-process with the pure code (honest or not)."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.test import Client

from civic.roles import Role
from civic.services import create_user_with_role
from civic_votecrypto import dkg
from civic_votecrypto import trustee as cli
from civic_votecrypto.election import Election as CryptoElection
from civic_votecrypto.election import election_from_manifest
from civic_votecrypto.group import N
from civic_votecrypto.manifest import Manifest
from voting.models import Election, ElectionTrustee
from voting.services import lifecycle
from voting.services.api_credentials import create_credential

PASSWORD = "a long passphrase 42"


def manifest_for(slug: str) -> dict[str, Any]:
    return {
        "election_id": slug,
        "title": f"Election {slug}",
        "contests": [
            {
                "id": "library",
                "type": "yes_no_abstain",
                "title": "Open the library on Sundays?",
                "options": [{"id": o, "title": o.title()} for o in ("yes", "no", "abstain")],
            }
        ],
    }


def user(username: str, role: Role) -> AbstractBaseUser:
    return create_user_with_role(username=username, email=f"{username}@example.org", password=PASSWORD, role=role)


def election_in_ceremony(
    slug: str, trustees: list[AbstractBaseUser], threshold: int, official: AbstractBaseUser | None = None
) -> Election:
    """What the officials' side does before the ceremony: manifest, t, trustees, then the step."""
    official = official or user(f"official-{slug}", Role.OFFICIAL)
    manifest = manifest_for(slug)
    election = Election.objects.create(
        slug=slug, title=f"Election {slug}", created_by=official, manifest=manifest, threshold=threshold
    )
    for index, account in enumerate(trustees, start=1):
        ElectionTrustee.objects.create(election=election, user=account, index=index)
    lifecycle.transition(election, Election.State.CEREMONY, fixes={"manifest": manifest})
    election.refresh_from_db()
    return election


def crypto_election(election: Election) -> CryptoElection:
    return election_from_manifest(Manifest.from_json(election.manifest), election.trustees.count(), election.threshold)


class BadShareTrustee(dkg.Trustee):
    """Sends trustee ``victim`` a share that is off its own commitments (proofs still valid)."""

    victim = 1

    def polynomial(self, x: int) -> int:
        value = super().polynomial(x)
        return (value + 1) % N if x == self.victim else value


@dataclass
class Party:
    """All trustees of one election, made in-process, producing their envelopes round by round."""

    crypto: CryptoElection
    trustees: list[dkg.Trustee]
    announcements: dict[int, dkg.TrusteeAnnouncement] = field(default_factory=dict)
    commitments: dict[int, dkg.TrusteeCommitments] = field(default_factory=dict)

    @classmethod
    def of(cls, election: Election, cheaters: dict[int, type[dkg.Trustee]] | None = None) -> Party:
        crypto = crypto_election(election)
        kinds = cheaters or {}
        trustees = [kinds.get(i, dkg.Trustee)(crypto.params, i, f"T{i}") for i in crypto.params.indices]
        return cls(crypto, trustees)

    def announcement(self, i: int) -> dict[str, Any]:
        ann = self.trustees[i - 1].announce()
        self.announcements[i] = ann
        return cli.envelope("announcement", self.crypto, ann.to_json())

    def commitment(self, i: int) -> dict[str, Any]:
        msg = self.trustees[i - 1].commit(self.announcements)
        self.commitments[i] = msg
        return cli.envelope("commitments", self.crypto, msg.to_json())

    def complaints(self, i: int) -> dict[str, Any]:
        complaints = self.trustees[i - 1].receive(self.announcements, self.commitments)
        body = {"trustee": i, "complaints": [c.to_json() for c in complaints]}
        return cli.envelope("complaints", self.crypto, body)


def token_for(account: AbstractBaseUser) -> str:
    return create_credential(account, "test").token


def post_message(client: Client, slug: str, document: Any, token: str | None = None) -> Any:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return client.post(
        f"/api/voting/elections/{slug}/ceremony/messages", data=document, content_type="application/json", **headers
    )


def tampered(document: dict[str, Any], edit: Any) -> dict[str, Any]:
    copied = copy.deepcopy(document)
    edit(copied)
    return copied
