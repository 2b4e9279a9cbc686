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
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench" / "support"))

from closed_election import SLUG, closed_election, say, setup_django, trustee_envelopes  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ballots", type=int, default=2000)
    args = parser.parse_args()
    if not 1 <= args.ballots <= 200_000:
        parser.error("--ballots must be in 1..200000")
    setup_django("civic-record-bench-", 1000)
    from django.core.management import call_command

    from ledger import sequencer
    from voting.models import Election, Tally
    from voting.services import aggregation, box_freeze, decryption_shares, record_export, results

    closed = closed_election(args.ballots)
    election = closed.election
    assert box_freeze.freeze_box(election.pk).frozen
    tally = Tally.objects.get(election=election)
    for index in range(tally.chunks_total):
        aggregation.compute_chunk(tally.pk, index)
    assert aggregation.combine(tally.pk)
    tally.refresh_from_db()
    for user, envelope in trustee_envelopes(closed, tally):
        decryption_shares.submit_share(slug=SLUG, user=user, document=envelope)
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
