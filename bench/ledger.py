"""Ledger benchmark: sequencing rate into PostgreSQL, proof latency, observer mirror rate.

    CIVIC_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/civic_ledger_bench python bench/ledger.py

Uses a dedicated database whose name ends in ``_bench`` (created and migrated if missing; its
ledger tables are emptied first). It never reads DATABASE_URL, so it cannot touch a real
database by accident. Prints progress lines, then ONE JSON object as the last line with:
``sequenced_per_s`` (100,000 entries, batches of 1,000), ``appended_per_s`` (outbox writes),
``inclusion_proof_ms`` / ``consistency_proof_ms`` (mean over random queries, tile reads
included), ``observer_sync_per_s`` (bench/observer_sync.py: a full follow of a static
100,000-entry tile log) and ``observer_sync_live_per_s`` (the real observer following this
Django server over HTTP, its tiles and bundles read from PostgreSQL).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))  # observer_sync, the sibling benchmark
BENCH_DATABASE_URL = os.environ.get(
    "CIVIC_BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/civic_ledger_bench"
)
if not BENCH_DATABASE_URL.rstrip("/").endswith("_bench"):
    raise SystemExit(
        "bench/ledger.py empties its database: CIVIC_BENCH_DATABASE_URL must name a *_bench database"
    )
os.environ["DATABASE_URL"] = BENCH_DATABASE_URL
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civic.settings")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")  # the in-process server speaks plain HTTP
os.environ.setdefault("CIVIC_VAR_DIR", tempfile.mkdtemp(prefix="civic-ledger-bench-"))
os.environ.setdefault(
    "LEDGER_SIGNER_KEYS_FILE", str(Path(os.environ["CIVIC_VAR_DIR"]) / "ledger_keys.json")
)

LOG = "election-bench"


def ensure_database(url: str) -> None:
    import dj_database_url
    import psycopg

    config = dj_database_url.parse(url)
    if "postgresql" not in config["ENGINE"]:
        raise SystemExit(
            "bench/ledger.py measures PostgreSQL: set CIVIC_BENCH_DATABASE_URL to a bench database"
        )
    admin = psycopg.connect(
        host=config["HOST"] or "127.0.0.1",
        port=config["PORT"] or 5432,
        user=config["USER"],
        password=config["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    )
    with admin:
        exists = admin.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]]
        ).fetchone()
        if not exists:
            admin.execute(f'CREATE DATABASE "{config["NAME"]}"')


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--proofs", type=int, default=500)
    args = parser.parse_args()

    ensure_database(os.environ["DATABASE_URL"])
    logging.getLogger("httpx").setLevel(logging.WARNING)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from civic_tlog import merkle
    from ledger import selectors, sequencer, services
    from ledger.models import Checkpoint, Cosignature, Entry, Log, Observer, OutboxEntry, Tile

    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        tables = [
            model._meta.db_table
            for model in (Cosignature, Checkpoint, Entry, Tile, OutboxEntry, Observer, Log)
        ]
        cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
    services._kick_sequencer = lambda: None  # measure the sequencer alone, not a worker race
    log = services.ensure_log(LOG)

    say(f"appending {args.entries} entries to the outbox...")
    started = time.perf_counter()
    for first in range(0, args.entries, args.batch):
        with transaction.atomic():
            for n in range(first, min(first + args.batch, args.entries)):
                services.append(LOG, "ballot.cast", {"n": n, "ballot": f"{n:064x}"})
    append_s = time.perf_counter() - started

    say("sequencing in batches...")
    started = time.perf_counter()
    results = sequencer.sequence_all(limit=args.batch)
    sequence_s = time.perf_counter() - started
    log.refresh_from_db()
    assert log.tree_size == args.entries, log.tree_size
    assert len(results) == -(-args.entries // args.batch)
    services.sign_checkpoints()

    say("checking the root against a from-scratch recomputation...")
    leaves = [
        bytes(h)
        for h in Entry.objects.filter(log=log).order_by("index").values_list("leaf_hash", flat=True)
    ]
    assert merkle.root_from_leaf_hashes(leaves) == bytes(log.root_hash)

    say("proof latency...")
    rng = random.Random(7)
    size = log.tree_size
    inclusion_ms = []
    for _ in range(args.proofs):
        index = rng.randrange(size)
        started = time.perf_counter()
        proof = selectors.inclusion_proof(log, index, size)
        inclusion_ms.append((time.perf_counter() - started) * 1000)
        assert merkle.verify_inclusion(leaves[index], index, size, proof, bytes(log.root_hash))
    consistency_ms = []
    for _ in range(args.proofs):
        old = rng.randrange(1, size)
        started = time.perf_counter()
        selectors.consistency_proof(log, old, size)
        consistency_ms.append((time.perf_counter() - started) * 1000)

    say("observer mirror rate against this server...")
    live = observer_against_django(args.entries)

    say("observer mirror rate against static tiles (bench/observer_sync.py)...")
    from observer_sync import measure_observer_sync

    static = measure_observer_sync(args.entries)

    print(
        json.dumps(
            {
                "entries": args.entries,
                "batch": args.batch,
                "database": connection.vendor,
                "appended_per_s": round(args.entries / append_s),
                "sequenced_per_s": round(args.entries / sequence_s),
                "sequence_s": round(sequence_s, 3),
                "inclusion_proof_ms": round(statistics.mean(inclusion_ms), 3),
                "inclusion_proof_p99_ms": round(
                    sorted(inclusion_ms)[int(len(inclusion_ms) * 0.99)], 3
                ),
                "consistency_proof_ms": round(statistics.mean(consistency_ms), 3),
                **live,
                **static,
            }
        )
    )


def observer_against_django(entries: int) -> dict:
    """The real observer does a full first follow of this server (tiles read from the DB)."""
    from django.core.handlers.wsgi import WSGIHandler
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
    from observer_sync import timed_first_follow

    from ledger import services

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            return None

    httpd = ThreadedWSGIServer(("127.0.0.1", 0), QuietHandler)
    httpd.set_app(WSGIHandler())
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        with tempfile.TemporaryDirectory(prefix="civic-observer-") as state_dir:
            elapsed = timed_first_follow(
                f"http://127.0.0.1:{httpd.server_address[1]}",
                Path(state_dir),
                register=services.register_observer,
            )
    finally:
        httpd.shutdown()
        httpd.server_close()
    return {
        "observer_sync_live_s": round(elapsed, 3),
        "observer_sync_live_per_s": round(entries / elapsed),
    }


if __name__ == "__main__":
    main()
