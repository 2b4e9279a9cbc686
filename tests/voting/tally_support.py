"""Helpers of the tally tests: an open election with trustee accounts whose key shares the test
holds (a real in-process key ceremony), ballots stored as the box stores them, the Celery chain
run eagerly, trustees' shares made with the pure code."""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import count
from typing import Any

import pytest
import rfc8785
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from civic.celery import app as celery_app
from civic.roles import Role
from civic.services import create_user_with_role
from civic_votecrypto import dkg, group
from civic_votecrypto import trustee as cli
from civic_votecrypto.ballot import EncryptedBallot, challenge_ballot, encrypt_ballot, new_seed
from civic_votecrypto.decryption import EncryptedTally, decrypt_share
from civic_votecrypto.election import election_from_manifest
from civic_votecrypto.manifest import Manifest
from ledger import sequencer
from ledger import services as ledger_services
from voting.models import BallotKey, CastBallot, Election, ElectionTrustee
from voting.selectors import ballot_box as box
from voting.selectors.elections import crypto_context
from voting.services import elections as election_services
from voting.services import lifecycle
from voting.services.api_credentials import create_credential

PASSWORD = "a long passphrase 42"
ONE_OF_THREE = [
    {
        "id": "q",
        "type": "one_of_n",
        "title": "Which park gets the new playground?",
        "allow_blank": False,
        "options": [{"id": o, "title": f"Park {o.upper()}"} for o in ("a", "b", "c")],
    }
]
EVERY_TYPE = [
    {
        "id": "sundays",
        "type": "yes_no_abstain",
        "title": "Open the library on Sundays?",
        "options": [{"id": o, "title": o.title()} for o in ("yes", "no", "abstain")],
    },
    ONE_OF_THREE[0],
    {
        "id": "events",
        "type": "approval",
        "title": "Which summer events?",
        "min_selections": 0,
        "max_selections": 2,
        "options": [{"id": o, "title": o.title()} for o in ("concert", "market", "race")],
    },
    {
        "id": "plans",
        "type": "score",
        "title": "Score the plans",
        "max_score": 5,
        "max_total": 10,
        "options": [{"id": o, "title": f"Plan {o}"} for o in ("p1", "p2")],
    },
    {
        "id": "budget",
        "type": "budget",
        "title": "Spend 10 on",
        "budget": 10,
        "options": [
            {"id": "trees", "title": "Trees", "cost": 4},
            {"id": "bikes", "title": "Bike lanes", "cost": 6},
        ],
    },
]
_ids = count(1)


@pytest.fixture
def eager_celery(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run queued tasks in-process (as CELERY_TASK_ALWAYS_EAGER does), errors raised."""
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)
    monkeypatch.setitem(celery_app.conf, "task_eager_propagates", True)


@pytest.fixture
def inline_sequencer(box_settings: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """The sequencing kick runs the sequencer at once (as a worker would, moments later); after
    ``box_settings``, which silences the kick."""
    monkeypatch.setattr(ledger_services, "_kick_sequencer", lambda: sequencer.sequence_all())


@dataclass
class TallyElection:
    election: Election
    trustees: list[AbstractBaseUser]
    shares: list[dkg.TrusteeKeyShare]

    @property
    def slug(self) -> str:
        return self.election.slug

    def refresh(self) -> Election:
        self.election.refresh_from_db()
        return self.election


def account(username: str, role: Role) -> AbstractBaseUser:
    return create_user_with_role(
        username=username, email=f"{username}@example.org", password=PASSWORD, role=role
    )


def open_tally_election(
    slug: str,
    official: AbstractBaseUser,
    *,
    contests: list[dict[str, Any]] | None = None,
    n: int = 3,
    t: int = 2,
) -> TallyElection:
    """An election through its real lifecycle with n trustee accounts: ceremony (run in-process,
    the test keeps the key shares), scheduled, open."""
    manifest = Manifest.from_json(
        {"election_id": slug, "title": slug.title(), "contests": contests or ONE_OF_THREE}
    )
    election = election_services.create_election(
        slug=slug, title=slug.title(), district="", created_by=official
    )
    election.manifest, election.threshold = manifest.to_json(), t
    election.save(update_fields=["manifest", "threshold"])
    trustees = [account(f"{slug}-t{i}", Role.TRUSTEE) for i in range(1, n + 1)]
    for index, user in enumerate(trustees, start=1):
        ElectionTrustee.objects.create(election=election, user=user, index=index)
    election = lifecycle.transition(
        election, Election.State.CEREMONY, fixes={"manifest": manifest.to_json()}
    )
    with group.use_backend("native"):
        transcript, shares = dkg.run_ceremony(election_from_manifest(manifest, n, t).params)
    election_services.publish_election_context(
        election=election, manifest=manifest, transcript=transcript
    )
    lifecycle.complete_ceremony(election)
    election_services.open_election(election)
    election.refresh_from_db()
    return TallyElection(election, trustees, shares)


def encrypt(
    election: Election, choices: dict[str, dict[str, int]], seed: bytes | None = None
) -> EncryptedBallot:
    with group.use_backend("native"):
        return encrypt_ballot(crypto_context(election), f"ballot-{next(_ids)}", choices, seed)


def one_of_three(option: str) -> dict[str, dict[str, int]]:
    return {"q": {option: 1}}


def store_ballot(
    election: Election, ballot: EncryptedBallot, key: str, *, spoiled_with: Any = None
) -> CastBallot:
    """A ballot row and its ledger entry exactly as the box's ``_store`` writes them (the proofs and
    token checks of casting are the ballot box tests' concern; here we need many ballots fast)."""
    document = ballot.to_json() if spoiled_with is None else spoiled_with.to_json()
    sha256 = hashlib.sha256(rfc8785.dumps(ballot.to_json())).hexdigest()
    kind = CastBallot.Kind.CAST if spoiled_with is None else CastBallot.Kind.SPOILED
    with transaction.atomic():
        key_row, _ = BallotKey.objects.get_or_create(election=election, public_key=key)
        previous = None
        event: dict[str, Any] = {
            "election": election.slug,
            "tracking_code": ballot.tracking_code,
            "ballot_sha256": sha256,
        }
        if kind == CastBallot.Kind.CAST:
            previous = CastBallot.objects.filter(ballot_key=key_row, counting=True).first()
            if previous is not None:
                CastBallot.objects.filter(pk=previous.pk).update(counting=False)
            event["supersedes"] = previous.tracking_code if previous else None
            name = box.BALLOT_CAST_EVENT
        else:
            event["challenged_sha256"] = hashlib.sha256(rfc8785.dumps(document)).hexdigest()
            name = box.BALLOT_SPOILED_EVENT
        outbox = ledger_services.append(election.log_name, name, event)
        return CastBallot.objects.create(
            election=election, ballot_key=key_row, kind=kind, ballot_id=ballot.ballot_id,
            token={"key_id": "k", "prefix": "p", "signature": "s"}, key_signature="s" * 86,
            document=document, tracking_code=ballot.tracking_code, sha256=sha256,
            received_at=timezone.now(), counting=kind == CastBallot.Kind.CAST, supersedes=previous, outbox=outbox,
        )  # fmt: skip


def spoil(election: Election, choices: dict[str, dict[str, int]], key: str) -> CastBallot:
    seed = new_seed()
    ballot = encrypt(election, choices, seed)
    return store_ballot(election, ballot, key, spoiled_with=challenge_ballot(ballot, seed, choices))


def close(election: Election, official: AbstractBaseUser) -> Election:
    return lifecycle.close_early(official, election, "the test closes the box")


def trustee_token(user: AbstractBaseUser) -> str:
    return create_credential(user, "test").token


def tally_share_envelope(tally_election: TallyElection, index: int) -> dict[str, Any]:
    """Trustee ``index``'s honest share of the stored tally, as the trustee program sends it."""
    election = tally_election.refresh()
    manifest = crypto_context(election).manifest
    tally = EncryptedTally.from_json(election.tally.encrypted, manifest)
    key_share = next(s for s in tally_election.shares if s.index == index)
    with group.use_backend("native"):
        share = decrypt_share(crypto_context(election).extended_hash, key_share, tally)
    identity = election_from_manifest(
        manifest, election.context["trustees"], election.context["threshold"]
    )
    return cli.envelope("tally-share", identity, share.to_json())


def edited(document: dict[str, Any], edit: Any) -> dict[str, Any]:
    copied = copy.deepcopy(document)
    edit(copied)
    return copied


def sequence() -> None:
    sequencer.sequence_all()


def iter_counts(results: dict[str, Any]) -> Iterator[tuple[str, str, int]]:
    for contest, options in results["contests"].items():
        for option, value in options.items():
            yield contest, option, value
