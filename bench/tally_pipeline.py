"""Server-side tally pipeline benchmark: N one-of-three ballots through freeze, chunked aggregation,
two trustees' shares (checked by the server) and publishing, on the real services.

    python bench/tally_pipeline.py [--ballots 2000] [--chunk 1000]

Runs Django on a throw-away SQLite database in a temporary CIVIC_VAR_DIR (never the project's
var/ or DATABASE_URL). Not timed: the election's lifecycle up to open, encrypting the ballots
(distinct ballots, native backend) and storing them as the box does. Timed, one process, one
core: ``freeze_s`` (counts, checkpoint, events), ``chunks_s`` (every chunk task in turn: reading
the documents, decoding, summing), ``combine_s``, ``share_check_s`` (one trustee's share through
``submit_share``: decoding and the batched proof check), ``publish_s`` (decrypt_tally over the
stored shares, discrete logs, check_result, events). Prints progress to stderr, ONE JSON object
to stdout; ``aggregate_ballots_per_s`` = N / chunks_s.
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
    parser.add_argument("--chunk", type=int, default=1000)
    args = parser.parse_args()
    if not 1 <= args.ballots <= 200_000:
        parser.error("--ballots must be in 1..200000")
    var = tempfile.mkdtemp(prefix="civic-tally-bench-")
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("REDIS_URL", None)
    os.environ.update(
        CIVIC_VAR_DIR=var, DJANGO_SETTINGS_MODULE="civic.settings", CIVIC_BLIND_RSA_BITS="2048",
        CIVIC_TALLY_CHUNK_SIZE=str(args.chunk), EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
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
    from voting.services import aggregation, box_freeze, decryption_shares, lifecycle, results
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

    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    assert box_freeze.freeze_box(election.pk).frozen
    timings["freeze_s"] = time.perf_counter() - t0
    tally = Tally.objects.get(election=election)
    t0 = time.perf_counter()
    for index in range(tally.chunks_total):
        aggregation.compute_chunk(tally.pk, index)
    timings["chunks_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    assert aggregation.combine(tally.pk)
    timings["combine_s"] = time.perf_counter() - t0
    tally.refresh_from_db()
    election.refresh_from_db()

    encrypted = EncryptedTally.from_json(tally.encrypted, manifest)
    identity = election_from_manifest(manifest, 3, 2)
    checks = []
    for index in (1, 3):
        share = decrypt_share(
            ctx.extended_hash, next(s for s in shares if s.index == index), encrypted
        )
        envelope = cli.envelope("tally-share", identity, share.to_json())
        t0 = time.perf_counter()
        decryption_shares.submit_share(slug="bench", user=trustees[index - 1], document=envelope)
        checks.append(time.perf_counter() - t0)
    timings["share_check_s"] = max(checks)
    t0 = time.perf_counter()
    assert results.publish_results(tally.pk)
    timings["publish_s"] = time.perf_counter() - t0
    tally.refresh_from_db()
    assert tally.results["contests"]["q"] == expected, (tally.results, expected)
    out = {
        "ballots": args.ballots,
        "chunk_size": args.chunk,
        "chunks": tally.chunks_total,
        **{k: round(v, 4) for k, v in timings.items()},
        "aggregate_ballots_per_s": round(args.ballots / timings["chunks_s"], 1),
        "backend": group.get_backend().name,
        "database": "sqlite",
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
