"""Server-side election record benchmark: N one-of-three ballots stored as the box does, the
tally pipeline run (not timed), then the record: ``seal_s`` (one streaming pass through
RecordWriter hashing every ballot, the city's signature, election.record logged), ``stream_s``
(GET /record's generator drained: the same pass writing text), ``zip_s`` (the zip spooled to a
temporary file), ``record_bytes`` and ``peak_mib`` (tracemalloc peak of Python allocations during
a second, untimed stream: it must not grow with N).

    python bench/record_export.py [--ballots 2000]

Runs Django on a throw-away SQLite database in a temporary CIVIC_VAR_DIR (never the project's
var/ or DATABASE_URL). Prints progress to stderr, ONE JSON object to stdout.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ballots", type=int, default=2000)
    args = parser.parse_args()
    if not 1 <= args.ballots <= 200_000:
        parser.error("--ballots must be in 1..200000")
    var = tempfile.mkdtemp(prefix="civic-record-bench-")
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("REDIS_URL", None)
    os.environ.update(
        CIVIC_VAR_DIR=var, DJANGO_SETTINGS_MODULE="civic.settings", CIVIC_BLIND_RSA_BITS="2048",
        CIVIC_TALLY_CHUNK_SIZE="1000", EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
    )  # fmt: skip
    import django

    django.setup()
    import rfc8785
    from django.core.management import call_command
    from django.db import transaction
    from django.utils import timezone

    from civic.roles import Role
    from civic.services import create_user_with_role
    from civic_votecrypto import dkg, group
    from civic_votecrypto import trustee as cli
    from civic_votecrypto.ballot import encrypt_ballot
    from civic_votecrypto.decryption import EncryptedTally, decrypt_share
    from civic_votecrypto.election import election_from_manifest
    from civic_votecrypto.manifest import Manifest
    from ledger import sequencer
    from ledger import services as ledger
    from voting.models import BallotKey, CastBallot, Election, ElectionTrustee, Tally
    from voting.selectors import ballot_box as box
    from voting.selectors.elections import crypto_context
    from voting.services import (
        aggregation,
        box_freeze,
        decryption_shares,
        lifecycle,
        record_export,
        results,
    )
    from voting.services import elections as election_services

    ledger._kick_sequencer = lambda: None  # noqa: SLF001 - this process sequences itself
    group.set_backend("native")
    call_command("migrate", verbosity=0)
    say = lambda text: print(text, file=sys.stderr, flush=True)  # noqa: E731

    official = create_user_with_role(
        username="bench-official", email="o@example.org", password="x" * 12, role=Role.OFFICIAL
    )
    manifest = Manifest.from_json({
        "election_id": "bench", "title": "Bench", "contests": [{
            "id": "q", "type": "one_of_n", "title": "Q", "allow_blank": False,
            "options": [{"id": o, "title": o} for o in ("a", "b", "c")]}]})  # fmt: skip
    election = election_services.create_election(
        slug="bench", title="Bench", district="", created_by=official
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

    say(f"encrypting and storing {args.ballots} ballots ...")
    expected = {"a": 0, "b": 0, "c": 0}
    with transaction.atomic():
        for n in range(args.ballots):
            option = "abc"[n % 3]
            expected[option] += 1
            ballot = encrypt_ballot(ctx, f"b{n}", {"q": {option: 1}})
            document = ballot.to_json()
            sha256 = hashlib.sha256(rfc8785.dumps(document)).hexdigest()
            key = BallotKey.objects.create(election=election, public_key=f"key{n}")
            outbox = ledger.append(election.log_name, box.BALLOT_CAST_EVENT, {
                "election": "bench", "tracking_code": ballot.tracking_code, "ballot_sha256": sha256, "supersedes": None})  # fmt: skip
            CastBallot.objects.create(
                election=election, ballot_key=key, kind="cast", ballot_id=ballot.ballot_id, token={}, key_signature="",
                document=document, tracking_code=ballot.tracking_code, sha256=sha256, received_at=timezone.now(),
                counting=True, outbox=outbox,
            )  # fmt: skip
    lifecycle.close_early(official, election, "benchmark")
    sequencer.sequence_all()

    assert box_freeze.freeze_box(election.pk).frozen
    tally = Tally.objects.get(election=election)
    for index in range(tally.chunks_total):
        aggregation.compute_chunk(tally.pk, index)
    assert aggregation.combine(tally.pk)
    tally.refresh_from_db()
    encrypted = EncryptedTally.from_json(tally.encrypted, manifest)
    identity = election_from_manifest(manifest, 3, 2)
    for index in (1, 3):
        share = decrypt_share(
            ctx.extended_hash, next(s for s in shares if s.index == index), encrypted
        )
        envelope = cli.envelope("tally-share", identity, share.to_json())
        decryption_shares.submit_share(slug="bench", user=trustees[index - 1], document=envelope)
    results.publish_results(tally.pk)
    sequencer.sequence_all()
    election.refresh_from_db()
    assert election.state == Election.State.PUBLISHED
    call_command("identity_init_city_keys", verbosity=0)

    import tracemalloc

    timings: dict[str, float] = {}
    say("sealing ...")
    Tally.objects.filter(pk=tally.pk).update(
        record_sha256="", record_signature=None, record_outbox=None
    )
    t0 = time.perf_counter()
    sealed = record_export.seal_record(election)
    timings["seal_s"] = time.perf_counter() - t0
    say("streaming ...")
    t0 = time.perf_counter()
    size = sum(len(chunk.encode()) for chunk in record_export.stream_record(election))
    timings["stream_s"] = time.perf_counter() - t0
    tracemalloc.start()  # a second pass, traced (tracing slows it: not timed)
    for _chunk in record_export.stream_record(election):
        pass
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    say("zipping ...")
    t0 = time.perf_counter()
    zipped = sum(len(block) for block in record_export.spooled_zip(election, "http://bench"))
    timings["zip_s"] = time.perf_counter() - t0
    out = {
        "ballots": args.ballots,
        **{k: round(v, 4) for k, v in timings.items()},
        "stream_ballots_per_s": round(args.ballots / timings["stream_s"], 1),
        "record_bytes": size,
        "zip_bytes": zipped,
        "peak_mib": round(peak / 2**20, 2),
        "record_sha256": sealed.sha256,
        "database": "sqlite",
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
