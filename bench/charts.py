"""The charts' reads: turnout over time and each log's growth, at scale.

    python bench/charts.py [--ballots 100000] [--checkpoints 5000]
    CIVIC_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/civic_pictures_bench python bench/charts.py

Stores ``--ballots`` cast ballot rows of one open election (a tenth of them re-votes; no
cryptography: the reads only look at times and keys) received over the last 10 hours, and
``--checkpoints`` signed checkpoints of one log (every fifth cosigned, every fiftieth anchored),
then times, as the median of 5 runs: ``timeline_ms`` (voting.selectors.ballot_box.turnout_timeline,
the booth's, the official's and the results page's chart), ``turnout_ms`` (the existing
ballot_box.turnout, the same pages' live count, for comparison) and ``growth_ms``
(ledger.anchoring.selectors.ledger_growth, the ledger page's charts). Runs on a throw-away SQLite
database in a temporary CIVIC_VAR_DIR, or on the PostgreSQL database CIVIC_BENCH_DATABASE_URL
names (it must end in ``_bench``; it is emptied). Progress on stderr, ONE JSON object on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def median_ms(function: object, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        function()  # type: ignore[operator]
        times.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(times), 1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ballots", type=int, default=100_000)
    parser.add_argument("--checkpoints", type=int, default=5000)
    args = parser.parse_args()
    if not 1 <= args.ballots <= 1_000_000 or not 1 <= args.checkpoints <= 100_000:
        parser.error("--ballots in 1..1000000, --checkpoints in 1..100000")
    var = tempfile.mkdtemp(prefix="civic-charts-bench-")
    database = os.environ.get("CIVIC_BENCH_DATABASE_URL", "")
    if database and not database.rstrip("/").endswith("_bench"):
        parser.error("CIVIC_BENCH_DATABASE_URL must name a *_bench database (it is emptied)")
    os.environ.pop("REDIS_URL", None)
    os.environ.pop("DATABASE_URL", None)
    if database:
        os.environ["DATABASE_URL"] = database
    os.environ.update(CIVIC_VAR_DIR=var, DJANGO_SETTINGS_MODULE="civic.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from civic.roles import Role
    from civic.services import create_user_with_role
    from ledger import services as ledger
    from ledger.anchoring.models import AnchorTransaction, CheckpointAnchor
    from ledger.anchoring.selectors import ledger_growth
    from ledger.models import Checkpoint, Cosignature, Observer, OutboxEntry
    from voting.models import BallotKey, CastBallot, Election
    from voting.selectors import ballot_box as box

    say = lambda text: print(text, file=sys.stderr, flush=True)  # noqa: E731
    if database:
        call_command("flush", interactive=False, verbosity=0)
    call_command("migrate", verbosity=0)
    ledger._kick_sequencer = lambda: None  # noqa: SLF001 - nothing is sequenced here
    official = create_user_with_role(
        username="bench-official", email="o@example.org", password="x" * 12, role=Role.OFFICIAL
    )
    now = timezone.now()
    log = ledger.ensure_log("election-1")
    election = Election.objects.create(
        slug="charts-bench", title="Charts bench", created_by=official, state=Election.State.OPEN,
        opens_at=now - timedelta(hours=10), closes_at=now + timedelta(days=1), log_name=log.name,
    )  # fmt: skip
    say(f"storing {args.ballots} ballots")
    voters = max(args.ballots * 9 // 10, 1)
    batch = 5000
    stored = 0
    while stored < args.ballots:
        n = min(batch, args.ballots - stored)
        numbers = range(stored, stored + n)
        outboxes = OutboxEntry.objects.bulk_create(
            OutboxEntry(log=log, kind="ballot.cast", entry=b"{}", leaf_hash=i.to_bytes(32, "big"))
            for i in numbers
        )
        keys = BallotKey.objects.bulk_create(
            (BallotKey(election=election, public_key=f"key{i}") for i in numbers if i < voters),
            ignore_conflicts=True,
        )
        del keys
        key_ids = dict(
            BallotKey.objects.filter(election=election, public_key__in=[f"key{i % voters}" for i in numbers])
            .values_list("public_key", "pk")
        )  # fmt: skip
        CastBallot.objects.bulk_create(
            CastBallot(
                election=election, ballot_key_id=key_ids[f"key{i % voters}"], kind="cast",
                ballot_id=f"b{i}", token={}, key_signature="s", document={},
                tracking_code=f"T{i}", sha256=f"{i:064x}",
                received_at=now - timedelta(hours=10) + timedelta(seconds=i * 36000 / args.ballots),
                counting=i >= args.ballots - voters or i >= voters,
                supersedes_id=None, outbox=outbox,
            )
            for i, outbox in zip(numbers, outboxes, strict=True)
        )  # fmt: skip
        stored += n
    # the re-votes (numbers >= voters) supersede their key's first ballot (by number i - voters)
    first = dict(
        CastBallot.objects.filter(election=election, ballot_id__in=[f"b{i}" for i in range(args.ballots - voters)])
        .values_list("ballot_id", "pk")
    )  # fmt: skip
    for i in range(voters, args.ballots):
        CastBallot.objects.filter(election=election, ballot_id=f"b{i}").update(
            supersedes_id=first[f"b{i - voters}"]
        )
    CastBallot.objects.filter(pk__in=first.values()).update(counting=False)

    say(f"storing {args.checkpoints} checkpoints")
    observer = Observer.objects.create(name="bench-observer", verifier_key="bench+00+key")
    checkpoints = Checkpoint.objects.bulk_create(
        Checkpoint(log=log, size=i + 1, root_hash=b"\x00" * 32, body="b", note="n")
        for i in range(args.checkpoints)
    )
    Cosignature.objects.bulk_create(
        Cosignature(checkpoint=c, observer=observer, timestamp=0, signature_line="l")
        for c in checkpoints[::5]
    )
    for n, checkpoint in enumerate(checkpoints[::50]):
        tx = AnchorTransaction.objects.create(
            chain_id=31337, genesis_hash="0x" + "ab" * 32, contract="0x" + "11" * 20,
            sender="0x" + "22" * 20, nonce=n, tx_hash=f"0x{n:064x}", raw_tx=b"\x00", gas=1,
            state=AnchorTransaction.State.FINAL, block_number=n,
        )  # fmt: skip
        CheckpointAnchor.objects.create(
            transaction=tx, position=0, log=log, checkpoint=checkpoint, origin=log.origin,
            tree_size=checkpoint.size, checkpoint_note="n", checkpoint_hash=b"\x00" * 32,
        )  # fmt: skip
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    timeline = box.turnout_timeline(election)
    assert timeline is not None and timeline.counting == box.turnout(election)["counting"]
    say("timing")
    print(
        json.dumps(
            {
                "database": connection.vendor,
                "ballots": args.ballots,
                "buckets": len(timeline.buckets),
                "checkpoints": args.checkpoints,
                "timeline_ms": median_ms(lambda: box.turnout_timeline(election)),
                "turnout_ms": median_ms(lambda: box.turnout(election)),
                "growth_ms": median_ms(ledger_growth),
            }
        )
    )


if __name__ == "__main__":
    main()
