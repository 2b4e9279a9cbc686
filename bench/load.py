"""Load benchmark: Locust voters through gunicorn, PostgreSQL, Redis and Celery, then the tally.

    python bench/load.py [--voters 200] [--rate 100] [--users 200] [--fault NAME]

Starts a private deployment on 127.0.0.1 only (its own PostgreSQL cluster with pg_ctl on
55432-55439, its own redis-server on 56379-56389, gunicorn with gunicorn.conf.py on 8140-8149, a
Celery worker and beat with that Redis as broker); prepares ``--voters`` residents with residency
credentials (their ballots encrypted and signed beforehand, as the browser does); then
``--users`` Locust users arrive at ``--rate`` voters/s, each voter fetching the booth's data,
obtaining its blind-signed token and casting, with the retries of a careful client; the election
is closed, frozen and summed by the Celery workers, two of three trustees decrypt, and the
invariants are checked (bench/loadkit/election.py ``verify``): every receipt's ballot in the box,
the log and the tally exactly once, each inclusion proof, the observer's audit.

``--fault`` (bench/loadkit/run.py): worker-sequencing, worker-tally, redis, postgres, gunicorn.
Bounded: at most ``--bound`` seconds of load. Prints progress to stderr and ONE JSON object.
Target on 2 cores (no fault): p95_ms < 150, errors_5xx = lost = duplicated = 0 and
accepted = in_box = in_log = counted.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.loadkit.run import FAULTS, run_load  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voters", type=int, default=200)
    parser.add_argument("--rate", type=float, default=100.0, help="offered voters (casts) per second")
    parser.add_argument("--users", type=int, default=200, help="concurrent Locust users")
    parser.add_argument("--fault", choices=FAULTS, default="none")
    parser.add_argument("--down", type=float, default=3.0, help="seconds a faulty part stays down")
    parser.add_argument("--bound", type=float, default=240.0, help="seconds of load at most")
    args = parser.parse_args()
    result = run_load(args.voters, args.rate, args.users, args.fault, down_s=args.down,
                      bound_s=args.bound)  # fmt: skip
    print(json.dumps(result))


if __name__ == "__main__":
    main()
