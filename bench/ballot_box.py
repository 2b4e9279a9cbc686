"""Ballot box benchmark: real one-of-five ballots cast over HTTP into gunicorn + PostgreSQL.

    CIVIC_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/civic_box_bench \\
    CIVIC_BENCH_REDIS_URL=redis://127.0.0.1:6379/13 python bench/ballot_box.py

Uses a dedicated database whose name ends in ``_bench`` (dropped and re-created: it never reads
DATABASE_URL). Before any load, it opens an election through its real lifecycle (2-of-3 key
ceremony), makes one RFC 9474 token per voter (blind, sign, finalize with the election's key)
and encrypts one ballot per voter on the native backend, with the cast bodies signed by each
fresh Ed25519 ballot key. Then gunicorn serves the app on a free loopback port (native backend)
and an asyncio client (aiohttp, this process) casts:

- ``casts_per_s``: saturation, a closed loop of ``--concurrency`` clients over ``--saturation`` casts;
- ``p50_ms``/``p95_ms``/``p99_ms``: an open arrival model, Poisson arrivals at ``--rate`` casts/s
  for ``--seconds`` seconds, each latency from its scheduled arrival (so queueing counts);
- ``errors``: any answer but 201 (or a transport error), over both phases.

Afterwards it checks that the box holds one row and one ledger outbox entry per 201. Bounded: at
most ``--timeout`` seconds of load, loopback only. Prints progress to stderr, ONE JSON object to
stdout. The sequencing kicks go to a private Celery queue on the given Redis db, deleted at the end
(no worker runs: this measures the request path; the sequencer has bench/ledger.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BENCH_DATABASE_URL = os.environ.get("CIVIC_BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/civic_box_bench")
BENCH_REDIS_URL = os.environ.get("CIVIC_BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
if not BENCH_DATABASE_URL.rstrip("/").endswith("_bench"):
    raise SystemExit("bench/ballot_box.py drops its database: CIVIC_BENCH_DATABASE_URL must name a *_bench database")
QUEUE = "civic-ballot-box-bench"
VAR = Path(tempfile.mkdtemp(prefix="civic-box-bench-"))
ENV = {
    "DATABASE_URL": BENCH_DATABASE_URL,
    "REDIS_URL": BENCH_REDIS_URL,
    "CELERY_QUEUE": QUEUE,
    "DJANGO_SETTINGS_MODULE": "civic.settings",
    "DEBUG": "0",
    "SECURE_SSL_REDIRECT": "0",
    "SECRET_KEY": secrets.token_urlsafe(40),
    "CIVIC_VAR_DIR": str(VAR),
    "CIVIC_CITY_KEY_FILE": str(VAR / "city_keys.json"),
    "LEDGER_SIGNER_KEYS_FILE": str(VAR / "ledger_keys.json"),
    "CIVIC_CRYPTO_BACKEND": "native",
    "CIVIC_BALLOT_BOX_BACKEND": "native",
}
os.environ.update(ENV)
SLUG = "bench-box"
MANIFEST = {
    "election_id": SLUG,
    "title": "Ballot box benchmark",
    "contests": [
        {
            "id": "q",
            "type": "one_of_n",
            "title": "One of five",
            "allow_blank": False,
            "options": [{"id": f"o{i}", "title": f"Option {i}"} for i in range(5)],
        }
    ],
}


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def recreate_database(url: str) -> None:
    import dj_database_url
    import psycopg

    config = dj_database_url.parse(url)
    if "postgresql" not in config["ENGINE"]:
        raise SystemExit("bench/ballot_box.py measures PostgreSQL")
    admin = psycopg.connect(
        host=config["HOST"] or "127.0.0.1",
        port=config["PORT"] or 5432,
        user=config["USER"],
        password=config["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    )
    with admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{config["NAME"]}"')
        admin.execute(f'CREATE DATABASE "{config["NAME"]}"')


def prepare(voters: int) -> list[bytes]:
    """The election, and one signed cast body (JSON bytes) per voter."""
    import django

    django.setup()
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from django.core.management import call_command

    from civic.roles import Role
    from civic.services import create_user_with_role
    from civic_votecrypto import dkg, group
    from civic_votecrypto.ballot import encrypt_ballot
    from civic_votecrypto.election import election_from_manifest
    from civic_votecrypto.manifest import Manifest
    from identity import keys
    from identity.core import base64url, blind_rsa
    from identity.core.jcs import canonicalize
    from voting.models import Election
    from voting.selectors import ballot_box as box
    from voting.selectors.elections import crypto_context
    from voting.selectors.eligibility import token_message
    from voting.services import elections, eligibility, lifecycle

    call_command("migrate", verbosity=0)
    keys.ensure_key_file()
    group.set_backend("native")
    official = create_user_with_role(username="bench", email="bench@bench.invalid", password=secrets.token_urlsafe(16), role=Role.OFFICIAL)
    election = elections.create_election(slug=SLUG, title="Bench", district="", created_by=official)
    election = lifecycle.transition(election, Election.State.CEREMONY)
    manifest = Manifest.from_json(MANIFEST)
    transcript, _ = dkg.run_ceremony(election_from_manifest(manifest, 3, 2).params)
    elections.publish_election_context(election=election, manifest=manifest, transcript=transcript)
    lifecycle.complete_ceremony(election)
    election = elections.open_election(election)
    election.refresh_from_db()
    key_row = eligibility.ensure_election_keys(election)[0]
    private = eligibility.unseal_private_key(key_row)
    public = private.public_key()
    ctx = crypto_context(election)
    bodies = []
    started = time.perf_counter()
    for n in range(voters):
        ballot_key = Ed25519PrivateKey.generate()
        raw_key = ballot_key.public_key().public_bytes_raw()
        message = blind_rsa.prepare(token_message(SLUG, raw_key))
        blinding = blind_rsa.blind(public, message)
        signature = blind_rsa.finalize(public, message, blind_rsa.blind_sign(private, blinding.blinded_msg), blinding.inv)
        ballot = encrypt_ballot(ctx, f"b-{n}-{secrets.token_hex(4)}", {"q": {f"o{n % 5}": 1}}).to_json()
        signed = box.signed_message(box.CAST_CONTEXT, SLUG, canonicalize(ballot))
        bodies.append(
            json.dumps(
                {
                    "ballot": ballot,
                    "ballot_key": base64url.encode(raw_key),
                    "token": {"key_id": key_row.key_id, "prefix": base64url.encode(message[:32]), "signature": base64url.encode(signature)},
                    "signature": base64url.encode(ballot_key.sign(signed)),
                }
            ).encode()
        )
        if (n + 1) % 500 == 0:
            say(f"  {n + 1} voters ready ({time.perf_counter() - started:.0f} s)")
    from django.db import connections

    connections.close_all()
    return bodies


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(port: int, workers: int, threads: int) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "civic.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers), "--threads", str(threads), "--log-level", "warning"],
        cwd=ROOT, env={**os.environ, **ENV},
    )  # fmt: skip
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/voting/elections/{SLUG}/turnout", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    server.kill()
    raise SystemExit("gunicorn did not start")


async def one(session: Any, url: str, body: bytes) -> bool:
    try:
        async with session.post(url, data=body, headers={"Content-Type": "application/json"}) as response:
            await response.read()
            return response.status == 201
    except Exception:  # noqa: BLE001 - counted as an error
        return False


async def saturate(url: str, bodies: list[bytes], concurrency: int, timeout: float) -> tuple[float, int, int]:
    import aiohttp

    queue = list(reversed(bodies))
    errors = done = 0
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:

        async def worker() -> None:
            nonlocal errors, done
            while queue and time.monotonic() < deadline:
                ok = await one(session, url, queue.pop())
                done += 1
                errors += not ok

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return (done - errors) / elapsed, done, errors


async def open_loop(url: str, bodies: list[bytes], rate: float, timeout: float) -> tuple[list[float], int, float]:
    import aiohttp

    rng = random.Random(11)
    latencies: list[float] = []
    errors = 0
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        start = time.perf_counter()

        async def arrival(at: float, body: bytes) -> None:
            nonlocal errors
            await asyncio.sleep(max(0.0, start + at - time.perf_counter()))
            ok = await one(session, url, body)
            latencies.append((time.perf_counter() - (start + at)) * 1000)
            errors += not ok

        at, tasks = 0.0, []
        for body in bodies:
            at += rng.expovariate(rate)
            tasks.append(asyncio.create_task(arrival(at, body)))
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=timeout)
        achieved = len(bodies) / (time.perf_counter() - start)
    return latencies, errors, achieved


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def stored_counts() -> tuple[int, int]:
    from django.db import connections

    from ledger.models import OutboxEntry
    from voting.models import CastBallot

    connections.close_all()
    return CastBallot.objects.count(), OutboxEntry.objects.filter(kind="ballot.cast").count()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--saturation", type=int, default=1500, help="casts in the closed-loop phase")
    parser.add_argument("--concurrency", type=int, default=24)
    parser.add_argument("--rate", type=float, default=100.0, help="offered casts/s in the open phase")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the open phase")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=120.0, help="bound of each load phase")
    args = parser.parse_args()

    open_count = int(args.rate * args.seconds)
    warmup = 40
    recreate_database(BENCH_DATABASE_URL)
    say(f"preparing {warmup + args.saturation + open_count} voters (token + ballot + signature each) ...")
    bodies = prepare(warmup + args.saturation + open_count)
    port = free_port()
    server = start_server(port, args.workers, args.threads)
    url = f"http://127.0.0.1:{port}/api/voting/elections/{SLUG}/ballots"
    try:
        say("warming up ...")
        asyncio.run(saturate(url, bodies[:warmup], 4, args.timeout))
        say(f"saturation: {args.saturation} casts, {args.concurrency} clients ...")
        rate, done, sat_errors = asyncio.run(
            saturate(url, bodies[warmup : warmup + args.saturation], args.concurrency, args.timeout)
        )
        time.sleep(1)
        say(f"open arrivals: {open_count} casts at {args.rate}/s ...")
        latencies, open_errors, achieved = asyncio.run(
            open_loop(url, bodies[warmup + args.saturation :], args.rate, args.timeout)
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
    rows, entries = stored_counts()
    import redis

    redis.Redis.from_url(BENCH_REDIS_URL).delete(QUEUE)
    result = {
        "casts_per_s": round(rate, 1),
        "p50_ms": round(percentile(latencies, 50), 1),
        "p95_ms": round(percentile(latencies, 95), 1),
        "p99_ms": round(percentile(latencies, 99), 1),
        "errors": sat_errors + open_errors,
        "offered_per_s": args.rate,
        "achieved_per_s": round(achieved, 1),
        "saturation_casts": done,
        "open_casts": len(latencies),
        "stored_ballots": rows,
        "ballot_entries": entries,
        "workers": args.workers,
        "threads": args.threads,
        "concurrency": args.concurrency,
        "cpus": os.cpu_count(),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
