"""Faults in the middle of the load: each of issue 14's faults, one run each, one JSON object.

    python bench/faults.py [--voters 300] [--rate 100] [--users 200] [--only redis,postgres]

One election is prepared once (``--voters`` residents with credentials, ballots encrypted and
signed beforehand); each fault then runs on its own copy of it, in its own PostgreSQL cluster
(pg_ctl, ports 55432-55439) with its own redis-server (56379-56389), gunicorn (8140-8149), Celery
worker and beat, all on 127.0.0.1 (bench/loadkit/run.py):

- ``worker-sequencing``: the Celery worker SIGKILLed (whole process group) while a sequencing
  batch holds the log's lock, restarted after the backlog has passed /healthz's lag threshold;
- ``worker-tally``: the Celery worker SIGKILLed as soon as the box is frozen and the chunks are
  being summed, restarted ``--down`` s later;
- ``redis``: redis-server stopped for ``--down`` s, then started again (empty);
- ``postgres``: the cluster restarted (pg_ctl stop -m fast, ``--down`` s, start);
- ``gunicorn``: one gunicorn worker SIGKILLed while it serves casts (the master starts another).

Prints ONE JSON object: {fault: the run's object as bench/load.py prints it}; each holds the
invariants (accepted, in_box, in_log, counted, lost, duplicated, inclusion proofs, the observer's
audit) and, under "faults", when the fault lasted, the latency meanwhile and what /healthz said.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.loadkit.run import prepare_snapshot, run_load, say  # noqa: E402

FAULT_RUNS = ("worker-sequencing", "worker-tally", "redis", "postgres", "gunicorn")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voters", type=int, default=300)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--down", type=float, default=3.0)
    parser.add_argument("--only", default=",".join(FAULT_RUNS))
    args = parser.parse_args()
    chosen = [name for name in args.only.split(",") if name]
    unknown = sorted(set(chosen) - set(FAULT_RUNS))
    if unknown:
        parser.error(f"unknown faults {unknown}; choose from {', '.join(FAULT_RUNS)}")
    folder = Path(tempfile.mkdtemp(prefix="civic-faults-"))
    try:
        say(f"faults: preparing one election of {args.voters} voters")
        snapshot = prepare_snapshot(args.voters, folder / "snapshot", durable=True)
        results = {}
        for name in chosen:
            say(f"faults: {name}")
            results[name] = run_load(rate=args.rate, users=args.users, fault_name=name,
                                     down_s=args.down, snapshot=snapshot)  # fmt: skip
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
