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
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench" / "support"))

from closed_election import SLUG, closed_election, setup_django, trustee_envelopes  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ballots", type=int, default=2000)
    parser.add_argument("--chunk", type=int, default=1000)
    args = parser.parse_args()
    if not 1 <= args.ballots <= 200_000:
        parser.error("--ballots must be in 1..200000")
    setup_django("civic-tally-bench-", args.chunk)
    from civic_votecrypto import group
    from voting.models import Tally
    from voting.services import aggregation, box_freeze, decryption_shares, results

    closed = closed_election(args.ballots)
    election = closed.election

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

    checks = []
    for user, envelope in trustee_envelopes(closed, tally):
        t0 = time.perf_counter()
        decryption_shares.submit_share(slug=SLUG, user=user, document=envelope)
        checks.append(time.perf_counter() - t0)
    timings["share_check_s"] = max(checks)
    t0 = time.perf_counter()
    assert results.publish_results(tally.pk)
    timings["publish_s"] = time.perf_counter() - t0
    tally.refresh_from_db()
    assert tally.results["contests"]["q"] == closed.expected, (tally.results, closed.expected)
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
