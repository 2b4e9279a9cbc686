"""Shared set-up of the server-side benchmarks (bench/tally_pipeline.py, bench/record_export.py):
Django on a throw-away SQLite database, and an election of N one-of-three ballots stored as the
box stores them, closed and sequenced. Not a benchmark itself: ``make bench`` runs only bench/*.py.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
from dataclasses import dataclass
from typing import Any

SLUG = "bench"


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def setup_django(prefix: str, tally_chunk_size: int) -> None:
    """Django in a temporary CIVIC_VAR_DIR (never the project's var/ or DATABASE_URL)."""
    var = tempfile.mkdtemp(prefix=prefix)
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("REDIS_URL", None)
    os.environ.update(
        CIVIC_VAR_DIR=var, DJANGO_SETTINGS_MODULE="civic.settings", CIVIC_BLIND_RSA_BITS="2048",
        CIVIC_TALLY_CHUNK_SIZE=str(tally_chunk_size),
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
    )  # fmt: skip
    import django  # noqa: PLC0415

    django.setup()


@dataclass
class ClosedElection:
    election: Any
    manifest: Any
    ctx: Any
    shares: list[Any]
    trustees: list[Any]
    expected: dict[str, int]


def closed_election(ballots: int) -> ClosedElection:
    """An election with 2-of-3 trustees, ``ballots`` distinct ballots (native backend), closed
    and its log sequenced: what the tally pipeline starts from. Untimed."""
    import rfc8785  # noqa: PLC0415
    from django.core.management import call_command  # noqa: PLC0415
    from django.db import transaction  # noqa: PLC0415
    from django.utils import timezone  # noqa: PLC0415

    from civic.roles import Role  # noqa: PLC0415
    from civic.services import create_user_with_role  # noqa: PLC0415
    from civic_votecrypto import dkg, group  # noqa: PLC0415
    from civic_votecrypto.ballot import encrypt_ballot  # noqa: PLC0415
    from civic_votecrypto.election import election_from_manifest  # noqa: PLC0415
    from civic_votecrypto.manifest import Manifest  # noqa: PLC0415
    from ledger import sequencer  # noqa: PLC0415
    from ledger import services as ledger  # noqa: PLC0415
    from voting.models import BallotKey, CastBallot, Election, ElectionTrustee  # noqa: PLC0415
    from voting.selectors import ballot_box as box  # noqa: PLC0415
    from voting.selectors.elections import crypto_context  # noqa: PLC0415
    from voting.services import elections as election_services  # noqa: PLC0415
    from voting.services import lifecycle  # noqa: PLC0415

    ledger._kick_sequencer = lambda: None  # noqa: SLF001 - this process sequences itself
    group.set_backend("native")
    call_command("migrate", verbosity=0)
    official = create_user_with_role(
        username="bench-official", email="o@example.org", password="x" * 12, role=Role.OFFICIAL
    )
    manifest = Manifest.from_json({
        "election_id": SLUG, "title": "Bench", "contests": [{
            "id": "q", "type": "one_of_n", "title": "Q", "allow_blank": False,
            "options": [{"id": o, "title": o} for o in ("a", "b", "c")]}]})  # fmt: skip
    election = election_services.create_election(
        slug=SLUG, title="Bench", district="", created_by=official
    )
    election.manifest, election.threshold = manifest.to_json(), 2
    election.save(update_fields=["manifest", "threshold"])
    trustees = []
    for i in (1, 2, 3):
        user = create_user_with_role(
            username=f"bench-t{i}", email=f"t{i}@example.org", password="x" * 12, role=Role.TRUSTEE
        )
        ElectionTrustee.objects.create(election=election, user=user, index=i)
        trustees.append(user)
    lifecycle.transition(election, Election.State.CEREMONY, fixes={"manifest": manifest.to_json()})
    transcript, shares = dkg.run_ceremony(election_from_manifest(manifest, 3, 2).params)
    election_services.publish_election_context(
        election=election, manifest=manifest, transcript=transcript
    )
    lifecycle.complete_ceremony(election)
    election_services.open_election(election)
    election.refresh_from_db()
    ctx = crypto_context(election)

    say(f"encrypting and storing {ballots} ballots ...")
    expected = {"a": 0, "b": 0, "c": 0}
    with transaction.atomic():
        for n in range(ballots):
            option = "abc"[n % 3]
            expected[option] += 1
            ballot = encrypt_ballot(ctx, f"b{n}", {"q": {option: 1}})
            document = ballot.to_json()
            sha256 = hashlib.sha256(rfc8785.dumps(document)).hexdigest()
            key = BallotKey.objects.create(election=election, public_key=f"key{n}")
            outbox = ledger.append(election.log_name, box.BALLOT_CAST_EVENT, {
                "election": SLUG, "tracking_code": ballot.tracking_code, "ballot_sha256": sha256, "supersedes": None})  # fmt: skip
            CastBallot.objects.create(
                election=election, ballot_key=key, kind="cast", ballot_id=ballot.ballot_id, token={}, key_signature="",
                document=document, tracking_code=ballot.tracking_code, sha256=sha256, received_at=timezone.now(),
                counting=True, outbox=outbox,
            )  # fmt: skip
    lifecycle.close_early(official, election, "benchmark")
    sequencer.sequence_all()
    return ClosedElection(election, manifest, ctx, list(shares), trustees, expected)


def trustee_envelopes(closed: ClosedElection, tally: Any) -> list[tuple[Any, dict[str, Any]]]:
    """(user, tally-share envelope) of trustees 1 and 3 (trustee 2 stays absent)."""
    from civic_votecrypto import trustee as cli  # noqa: PLC0415
    from civic_votecrypto.decryption import EncryptedTally, decrypt_share  # noqa: PLC0415
    from civic_votecrypto.election import election_from_manifest  # noqa: PLC0415

    encrypted = EncryptedTally.from_json(tally.encrypted, closed.manifest)
    identity = election_from_manifest(closed.manifest, 3, 2)
    out = []
    for index in (1, 3):
        share = decrypt_share(
            closed.ctx.extended_hash, next(s for s in closed.shares if s.index == index), encrypted
        )
        out.append(
            (closed.trustees[index - 1], cli.envelope("tally-share", identity, share.to_json()))
        )
    return out
