"""Ballot box benchmark: real one-of-five ballots cast over HTTP into gunicorn + PostgreSQL.

    CIVIC_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/civic_box_bench \\
    CIVIC_BENCH_REDIS_URL=redis://127.0.0.1:6379/13 python bench/ballot_box.py

Uses a dedicated database whose name ends in ``_bench`` (dropped and re-created: it never reads
DATABASE_URL). Before any load, it opens an election through its real lifecycle (2-of-3 key
ceremony), makes one RFC 9474 token per voter (blind, sign, finalize with the election's key)
and encrypts one ballot per voter on the native backend, with the cast bodies signed by each
fresh Ed25519 ballot key. Then gunicorn serves the app on a free loopback port (native backend)
and a lean asyncio client (keep-alive HTTP/1.1 on raw streams, this process) casts:

- ``casts_per_s``: saturation, a closed loop of ``--concurrency`` clients over ``--saturation`` casts;
- ``p50_ms``/``p95_ms``/``p99_ms``: an open arrival model, Poisson arrivals at ``--rate`` casts/s
  for ``--seconds`` seconds, each latency from its scheduled arrival (so queueing counts);
- ``errors``: any answer but 201 (or a transport error), over both phases;
- ``cpu_ms_per_cast``: CPU time per cast during the saturation phase of the server (gunicorn's
  processes), the database (the PostgreSQL backends of the bench database) and this client, from
  /proc; ``cpu_bound_casts_per_s`` = cores / their sum: what the machine would do if it ran
  nothing else, a figure that holds on a shared machine (``load_avg_1m`` says how shared).

gunicorn runs with the repository's gunicorn.conf.py (worker class, keep-alive); ``--workers``
and ``--threads`` default to its values.

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
import runpy
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BENCH_DATABASE_URL = os.environ.get(
    "CIVIC_BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/civic_box_bench"
)
BENCH_REDIS_URL = os.environ.get("CIVIC_BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
if not BENCH_DATABASE_URL.rstrip("/").endswith("_bench"):
    raise SystemExit(
        "bench/ballot_box.py drops its database: CIVIC_BENCH_DATABASE_URL must name a *_bench database"
    )
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
    # every simulated voter casts from this machine: a polling station (docs/operations.md "Rate
    # limits"); each voter's ballot-key limit still applies
    "CIVIC_CAST_RATE_EXEMPT_NETWORKS": "127.0.0.1/32,::1/128",
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
    official = create_user_with_role(
        username="bench",
        email="bench@bench.invalid",
        password=secrets.token_urlsafe(16),
        role=Role.OFFICIAL,
    )
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
        signature = blind_rsa.finalize(
            public, message, blind_rsa.blind_sign(private, blinding.blinded_msg), blinding.inv
        )
        ballot = encrypt_ballot(
            ctx, f"b-{n}-{secrets.token_hex(4)}", {"q": {f"o{n % 5}": 1}}
        ).to_json()
        signed = box.signed_message(box.CAST_CONTEXT, SLUG, canonicalize(ballot))
        bodies.append(
            json.dumps(
                {
                    "ballot": ballot,
                    "ballot_key": base64url.encode(raw_key),
                    "token": {
                        "key_id": key_row.key_id,
                        "prefix": base64url.encode(message[:32]),
                        "signature": base64url.encode(signature),
                    },
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
    """gunicorn with the repository's gunicorn.conf.py (its worker class, keep-alive, log format)."""
    server = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "civic.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers), "--threads", str(threads), "--log-level", "warning"],
        cwd=ROOT, env={**os.environ, **ENV},
    )  # fmt: skip
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if (
                httpx.get(
                    f"http://127.0.0.1:{port}/api/voting/elections/{SLUG}/turnout", timeout=2
                ).status_code
                == 200
            ):
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    server.kill()
    raise SystemExit("gunicorn did not start")


class Client:
    """A lean HTTP/1.1 client on asyncio streams: keep-alive connections from a pool, one request
    at a time each. The load generator shares the machine with the server, so it should cost as
    little CPU per cast as possible (aiohttp cost a measured share of it)."""

    def __init__(self, url: str) -> None:
        parsed = urlsplit(url)
        self.host, self.port, self.path = (
            parsed.hostname or "127.0.0.1",
            parsed.port or 80,
            parsed.path,
        )
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self.head = (
            f"POST {self.path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nContent-Type: application/json\r\n"
        ).encode()

    async def post(self, body: bytes) -> int:
        """The status of one POST (0 on a transport error); reuses an idle connection, and sends
        again on a new one if an idle one turns out closed by the server before any answer."""
        while self.idle:
            status = await self._exchange(self.idle.pop(), body)
            if status is not None:
                return status
        try:
            connection = await asyncio.open_connection(self.host, self.port)
        except OSError:
            return 0
        return await self._exchange(connection, body) or 0

    async def _exchange(
        self, connection: tuple[asyncio.StreamReader, asyncio.StreamWriter], body: bytes
    ) -> int | None:
        reader, writer = connection
        started = False
        try:
            writer.write(self.head + b"Content-Length: %d\r\n\r\n" % len(body) + body)
            head = await reader.readuntil(b"\r\n\r\n")
            started = True
            lines = head.split(b"\r\n")
            status = int(lines[0].split(b" ", 2)[1])
            length, close, chunked = 0, False, False
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                name, value = name.strip().lower(), value.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"connection":
                    close = value == b"close"
                elif name == b"transfer-encoding":
                    chunked = b"chunked" in value
            if chunked:
                while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
                    await reader.readexactly(size + 2)
                await reader.readuntil(b"\r\n")
            else:
                await reader.readexactly(length)
        except (
            OSError,
            asyncio.IncompleteReadError,
            asyncio.LimitOverrunError,
            ValueError,
            IndexError,
        ):
            writer.close()
            return 0 if started else None
        if close:
            writer.close()
        else:
            self.idle.append(connection)
        return status

    def close(self) -> None:
        for _, writer in self.idle:
            writer.close()
        self.idle.clear()


async def one(client: Client, body: bytes) -> bool:
    return await client.post(body) == 201


async def saturate(
    url: str, bodies: list[bytes], concurrency: int, timeout: float
) -> tuple[float, int, int]:
    queue = list(reversed(bodies))
    errors = done = 0
    deadline = time.monotonic() + timeout
    client = Client(url)

    async def worker() -> None:
        nonlocal errors, done
        while queue and time.monotonic() < deadline:
            ok = await one(client, queue.pop())
            done += 1
            errors += not ok

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    client.close()
    return (done - errors) / elapsed, done, errors


async def open_loop(
    url: str, bodies: list[bytes], rate: float, timeout: float
) -> tuple[list[float], int, float]:
    rng = random.Random(11)
    latencies: list[float] = []
    errors = 0
    client = Client(url)
    start = time.perf_counter()

    async def arrival(at: float, body: bytes) -> None:
        nonlocal errors
        await asyncio.sleep(max(0.0, start + at - time.perf_counter()))
        ok = await one(client, body)
        latencies.append((time.perf_counter() - (start + at)) * 1000)
        errors += not ok

    at, tasks = 0.0, []
    for body in bodies:
        at += rng.expovariate(rate)
        tasks.append(asyncio.create_task(arrival(at, body)))
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=timeout)
    achieved = len(bodies) / (time.perf_counter() - start)
    client.close()
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


# -- CPU accounting (the machine may be shared: CPU time per cast does not depend on its load) ---
TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str]:
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of one process (0 once it is gone)."""
    try:
        fields = _stat(pid)
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


def server_pids(master: int) -> list[int]:
    """gunicorn's master and its workers."""
    pids = [master]
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if int(_stat(int(entry))[1]) == master:
                    pids.append(int(entry))
            except (OSError, IndexError, ValueError):
                continue
    return pids


def database_pids() -> list[int]:
    """The PostgreSQL backends serving the bench database (same machine: loopback only)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return [row[0] for row in cursor.fetchall()]


class CpuMeter:
    """CPU seconds spent by the server, the database backends and this client during a phase."""

    def __init__(self, master: int) -> None:
        self.master = master
        self.start = self._sample()

    def _sample(self) -> dict[str, dict[int, float]]:
        return {
            "server": {pid: process_cpu(pid) for pid in server_pids(self.master)},
            "db": {pid: process_cpu(pid) for pid in database_pids()},
            "client": {0: time.process_time()},
        }

    def per_cast_ms(self, casts: int) -> dict[str, float]:
        end = self._sample()
        out = {}
        for part, pids in end.items():
            spent = sum(cpu - self.start[part].get(pid, 0.0) for pid, cpu in pids.items())
            out[part] = round(1000 * spent / max(1, casts), 2)
        return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--saturation", type=int, default=1500, help="casts in the closed-loop phase"
    )
    parser.add_argument("--concurrency", type=int, default=24)
    parser.add_argument(
        "--rate", type=float, default=100.0, help="offered casts/s in the open phase"
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the open phase")
    conf = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    parser.add_argument(
        "--workers", type=int, default=conf["workers"], help="default: gunicorn.conf.py's"
    )
    parser.add_argument(
        "--threads", type=int, default=conf["threads"], help="default: gunicorn.conf.py's"
    )
    parser.add_argument("--timeout", type=float, default=120.0, help="bound of each load phase")
    args = parser.parse_args()

    open_count = int(args.rate * args.seconds)
    warmup = 40
    recreate_database(BENCH_DATABASE_URL)
    say(
        f"preparing {warmup + args.saturation + open_count} voters (token + ballot + signature each) ..."
    )
    bodies = prepare(warmup + args.saturation + open_count)
    port = free_port()
    server = start_server(port, args.workers, args.threads)
    url = f"http://127.0.0.1:{port}/api/voting/elections/{SLUG}/ballots"
    try:
        say("warming up ...")
        asyncio.run(saturate(url, bodies[:warmup], 4, args.timeout))
        say(f"saturation: {args.saturation} casts, {args.concurrency} clients ...")
        meter = CpuMeter(server.pid)
        rate, done, sat_errors = asyncio.run(
            saturate(url, bodies[warmup : warmup + args.saturation], args.concurrency, args.timeout)
        )
        cpu = meter.per_cast_ms(done)
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
        # CPU per cast at saturation, by part; what the machine's cores could do if they did
        # nothing else (the load average says how much else they did meanwhile)
        "cpu_ms_per_cast": cpu,
        "cpu_bound_casts_per_s": round(
            1000 * (os.cpu_count() or 1) / max(0.01, sum(cpu.values())), 1
        ),
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
