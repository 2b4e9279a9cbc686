"""One load run, with or without a fault in the middle: the harness of bench/load.py,
bench/faults.py and tests/load/.

    stack up (own PostgreSQL cluster, own Redis) -> prepare voters -> gunicorn, Celery worker,
    Celery beat -> Locust voters (and the fault, and /healthz polled throughout) -> the ledger
    drains -> close -> freeze and chunked sum by the workers -> trustees decrypt -> verify

Faults (``FAULTS``): ``worker-sequencing`` SIGKILLs the Celery worker (its whole process group)
while it sequences the log, ``worker-tally`` while the tally's chunks are being summed, ``redis``
stops redis-server and starts it again, ``postgres`` restarts the cluster (pg_ctl stop -m fast,
start), ``gunicorn`` SIGKILLs one gunicorn worker while it serves casts. Each restarts what it
killed after ``down_s`` seconds, records when, and what /healthz said meanwhile.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from bench.loadkit.stack import ROOT, VENV_BIN, Stack, StackError, wait_for

FAULTS = ("none", "worker-sequencing", "worker-tally", "worker", "redis", "postgres", "gunicorn")
# "worker": both worker kills in one run (while sequencing, and again while tallying)
COMBINED = {"worker": ("worker-sequencing", "worker-tally")}


def say(line: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {line}", file=sys.stderr, flush=True)


@dataclass
class Poll:
    t: float
    status: int  # HTTP status, 0 when /healthz did not answer at all
    failing: list[str] = field(default_factory=list)
    degraded: list[str] = field(default_factory=list)


class HealthPoller(threading.Thread):
    """GET /healthz every ``interval`` seconds; keeps every answer."""

    def __init__(self, url: str, interval: float = 0.25) -> None:
        super().__init__(daemon=True)
        self.url, self.interval = f"{url}/healthz", interval
        self.polls: list[Poll] = []
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.is_set():
            started = time.time()
            try:
                with urllib.request.urlopen(self.url, timeout=3) as answer:
                    status, body = answer.status, json.loads(answer.read())
            except urllib.error.HTTPError as exc:
                status = exc.code
                try:
                    body = json.loads(exc.read())
                except ValueError:
                    body = {}
            except (OSError, ValueError):
                status, body = 0, {}
            self.polls.append(Poll(started, status, body.get("failing", []), body.get("degraded", [])))
            self.halt.wait(max(0.0, self.interval - (time.time() - started)))

    def between(self, start: float, end: float) -> list[Poll]:
        return [p for p in self.polls if start <= p.t <= end]


class Db:
    """Read-only SQL on the deployment's database for the harness's own polling (no Django)."""

    def __init__(self, url: str) -> None:
        self.url = url

    def one(self, sql: str, *params: Any) -> Any:
        try:
            with psycopg.connect(self.url, connect_timeout=2, autocommit=True) as conn:
                row = conn.execute(sql, params).fetchone()
                return row[0] if row else None
        except psycopg.Error:
            return None

    def cast_rows(self) -> int:
        return self.one("SELECT count(*) FROM voting_castballot") or 0

    def pending(self) -> int | None:
        return self.one("SELECT count(*) FROM ledger_outboxentry WHERE sequenced_at IS NULL")

    def state(self) -> str | None:
        return self.one("SELECT state FROM voting_election WHERE slug = 'load-2026'")

    def tally(self) -> tuple[int, int, bool] | None:
        """(chunks stored, chunks in all, combined) of the election's tally, if frozen."""
        row = None
        try:
            with psycopg.connect(self.url, connect_timeout=2, autocommit=True) as conn:
                row = conn.execute(
                    "SELECT (SELECT count(*) FROM voting_tallychunk c WHERE c.tally_id = t.id),"
                    " t.chunks_total, t.encrypted IS NOT NULL FROM voting_tally t"
                ).fetchone()
        except psycopg.Error:
            return None
        return (int(row[0]), int(row[1]), bool(row[2])) if row else None

    def sequencing_now(self) -> bool:
        """A sequencing batch holds the log lock right now (SELECT ... FOR UPDATE / COPY)."""
        return bool(self.one(
            "SELECT count(*) FROM pg_stat_activity WHERE state <> 'idle' AND pid <> pg_backend_pid()"
            " AND (query ILIKE '%ledger_log%FOR UPDATE%' OR query ILIKE 'COPY%ledger_entry%'"
            " OR query ILIKE '%ledger_tile%')"
        ))  # fmt: skip


TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds of these processes (from /proc; 0 for one that is gone)."""
    total = 0.0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / TICKS
    return total


def election_step(stack: Stack, *args: str, timeout: float = 900) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-m", "bench.loadkit.election", *args], cwd=ROOT,
                          env=stack.env, capture_output=True, text=True, timeout=timeout)  # fmt: skip
    if done.returncode != 0:
        raise StackError(f"election step {args[0]} failed: {done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))], 1)


class Fault:
    """What was done, when, and (filled in after the run) what /healthz said meanwhile."""

    def __init__(self, name: str, down_s: float) -> None:
        self.name, self.down_s = name, down_s
        self.started = self.ended = 0.0
        self.notes: dict[str, Any] = {}

    def window(self) -> tuple[float, float]:
        return self.started, self.ended


def _kill_worker_while_sequencing(stack: Stack, db: Db, fault: Fault) -> None:
    deadline = time.time() + 0.5  # the casts go on meanwhile: never wait long
    while time.time() < deadline and not db.sequencing_now():
        time.sleep(0.005)
    fault.notes["caught_sequencing"] = db.sequencing_now()
    fault.started = time.time()
    stack.services["worker"].kill()
    fault.notes["pending_at_kill"] = db.pending()
    # down long enough for the backlog to pass /healthz's lag threshold (what it must then say)
    time.sleep(max(fault.down_s, float(stack.env["CIVIC_HEALTH_SEQUENCING_LAG_S"]) + 3))
    fault.notes["pending_before_restart"] = db.pending()
    stack.start_worker()
    fault.ended = time.time()


def _kill_worker_while_tallying(stack: Stack, db: Db, fault: Fault) -> None:
    """SIGKILL the worker as soon as the frozen box's chunks are being summed (polled on one kept
    connection every millisecond or so: a chunk takes milliseconds)."""
    query = ("SELECT (SELECT count(*) FROM voting_tallychunk c WHERE c.tally_id = t.id),"
             " t.chunks_total, t.encrypted IS NOT NULL FROM voting_tally t")  # fmt: skip
    deadline = time.time() + 120
    with psycopg.connect(db.url, autocommit=True) as conn:
        while time.time() < deadline and conn.execute(query).fetchone() is None:
            time.sleep(0.001)
    fault.started = time.time()
    stack.services["worker"].kill()
    fault.notes["chunks_at_kill"] = db.tally()
    time.sleep(fault.down_s)
    fault.notes["chunks_before_restart"] = db.tally()
    stack.start_worker()
    fault.ended = time.time()


def _stop_redis(stack: Stack, fault: Fault) -> None:
    fault.started = time.time()
    stack.redis.stop()
    time.sleep(fault.down_s)
    stack.redis.start()
    fault.ended = time.time()


def _restart_postgres(stack: Stack, fault: Fault) -> None:
    fault.started = time.time()
    stack.pg.stop("fast")
    time.sleep(fault.down_s)
    stack.pg.start()
    fault.ended = time.time()


def _kill_gunicorn_worker(stack: Stack, fault: Fault) -> None:
    fault.started = time.time()
    workers = stack.services["web"].children()
    fault.notes["killed_pid"] = workers[0] if workers else None
    if workers:
        os.kill(workers[0], signal.SIGKILL)
    time.sleep(fault.down_s)
    fault.ended = time.time()


def inject_during_load(stack: Stack, db: Db, faults: list[Fault], voters: int) -> None:
    """The faults one after the other (a thread runs this): the k-th of n once k/(n+1) of the
    voters have cast, so each lands in the middle of the casting."""
    for k, fault in enumerate(faults, start=1):
        share = max(1, voters * k // (len(faults) + 1))
        wait_for(lambda n=share: db.cast_rows() >= n, 300, f"{share} casts", 0.02)
        if fault.name == "worker-sequencing":
            _kill_worker_while_sequencing(stack, db, fault)
        elif fault.name == "redis":
            _stop_redis(stack, fault)
        elif fault.name == "postgres":
            _restart_postgres(stack, fault)
        elif fault.name == "gunicorn":
            _kill_gunicorn_worker(stack, fault)


def health_truth(fault: Fault, poller: HealthPoller, lag_s: float) -> dict[str, Any]:
    """What /healthz said during the fault, and whether that was the truth.

    redis: every answer while it was down names ``broker`` failing (503); postgres: every answer
    names ``database`` failing (503); a killed Celery worker: once the oldest unsequenced entry is
    older than the lag threshold, ``sequencing`` is reported degraded (200: casting still works);
    a killed gunicorn worker: the site still answers. And everything is ok again afterwards.
    """
    start, end = fault.window()
    during = poller.between(start + 0.3, end - 0.1)
    after = [p for p in poller.polls if p.t > end + 3][-3:]
    said = sorted({f"{p.status} failing={','.join(p.failing) or '-'} degraded={','.join(p.degraded) or '-'}"
                   for p in during})  # fmt: skip
    if fault.name == "redis":
        truthful = bool(during) and all(p.status == 503 and "broker" in p.failing for p in during)
    elif fault.name == "postgres":
        truthful = bool(during) and all(p.status == 503 and "database" in p.failing for p in during)
    elif fault.name == "worker-sequencing":
        # entries waited (the casts went on): once the oldest is older than the threshold the
        # backlog must show; with none waiting there is nothing to report, and none is reported
        late = poller.between(start + lag_s + 1.5, end - 0.1)
        backlog = bool(fault.notes.get("pending_before_restart"))
        truthful = bool(late) and all(("sequencing" in p.degraded) == backlog for p in late)
        truthful = truthful and all(p.status == 200 for p in during)
    else:  # a gunicorn worker or the tally's worker: the site itself stays up
        truthful = bool(during) and all(p.status == 200 for p in during)
    recovered = bool(after) and all(p.status == 200 and not p.failing for p in after)
    return {"said": said, "polls": len(during), "truthful": truthful, "recovered_after": recovered}


def prepare_snapshot(voters: int, folder: Path, *, durable: bool = False) -> Path:
    """A prepared election (migrated database, keys, ``voters`` residents) that several runs copy
    (``run_load(snapshot=...)``), so each run has its own cluster without preparing again."""
    stack = Stack(durable=durable)
    try:
        stack.start_backends()
        election_step(stack, "prepare", "--voters", str(voters), "--file", str(stack.folder / "voters.json"))
        stack.snapshot(folder)
    finally:
        stack.close()
    return folder


def run_load(voters: int = 200, rate: float = 100.0, users: int = 200, fault_name: str = "none",
             *, durable: bool = True, down_s: float = 3.0, bound_s: float = 300.0,
             timeout_every: int = 10, web_workers: int | None = None,
             snapshot: Path | None = None) -> dict[str, Any]:  # fmt: skip
    """One run; the JSON object bench/load.py prints."""
    if not set(fault_name.split("+")) <= set(FAULTS):
        raise ValueError(f"fault must be one of {', '.join(FAULTS)}, or several joined by +")
    names = COMBINED.get(fault_name, () if fault_name == "none" else tuple(fault_name.split("+")))
    faults = [Fault(name, down_s) for name in names]
    stack = Stack(durable=durable, web_workers=web_workers)
    try:
        say(f"load: private stack in {stack.folder} (pg :{stack.pg.port}, redis :{stack.redis.port}, web :{stack.web_port})")
        prepared = stack.folder / "voters.json"
        started = time.time()
        if snapshot is not None:
            stack.start_backends_from(snapshot)
            voters = len(json.loads(prepared.read_text())["voters"])
        else:
            stack.start_backends()
            election_step(stack, "prepare", "--voters", str(voters), "--file", str(prepared))
        db = Db(stack.env["DATABASE_URL"])
        prepare_s = time.time() - started
        say(f"load: {voters} voters prepared in {prepare_s:.0f} s; starting gunicorn, Celery worker and beat")
        stack.start_web()
        stack.start_worker()
        stack.start_beat()
        poller = HealthPoller(stack.url)
        poller.start()
        out = stack.folder / "locust-out.json"
        env = {**stack.env, "CIVIC_LOAD_VOTERS": str(prepared), "CIVIC_LOAD_OUT": str(out),
               "CIVIC_LOAD_RATE": str(rate), "CIVIC_LOAD_USERS": str(users),
               "CIVIC_LOAD_TIMEOUT_EVERY": str(timeout_every), "PYTHONPATH": str(ROOT)}  # fmt: skip
        locust_log = open(stack.folder / "locust.log", "wb")  # noqa: SIM115 - closed with the stack
        locust = subprocess.Popen(
            [str(VENV_BIN / "locust"), "-f", str(ROOT / "bench" / "loadkit" / "locustfile.py"),
             "--headless", "--users", str(users), "--spawn-rate", str(rate), "--host", stack.url,
             "--run-time", f"{int(bound_s)}s", "--stop-timeout", "30", "--only-summary",
             "--loglevel", "WARNING", "--exit-code-on-error", "0"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=locust_log,
        )  # fmt: skip
        injector = None
        in_load = [f for f in faults if f.name != "worker-tally"]
        if in_load:
            injector = threading.Thread(target=inject_during_load, args=(stack, db, in_load, voters), daemon=True)
            injector.start()
        say(f"load: {users} Locust users, {rate:g} voters/s, fault: {fault_name}")
        web = stack.services["web"]
        web_pids = [web.pid, *web.children()]
        cpu_before = cpu_seconds(web_pids)
        locust.wait(timeout=bound_s + 60)
        web_cpu_s = cpu_seconds(web_pids) - cpu_before
        if injector is not None:
            injector.join(timeout=120)
        run = json.loads(out.read_text())
        say("load: waiting for the ledger to drain")
        wait_for(lambda: db.pending() == 0, 120, "every outbox entry sequenced", 0.2)
        killers = [threading.Thread(target=_kill_worker_while_tallying, args=(stack, db, f), daemon=True)
                   for f in faults if f.name == "worker-tally"]  # fmt: skip
        for killer in killers:  # watching before the close: the freeze follows its commit at once
            killer.start()
        election_step(stack, "close")
        for killer in killers:
            killer.join(timeout=180)
        say("load: closed; waiting for the workers to freeze and sum")
        wait_for(lambda: (db.tally() or (0, 0, False))[2], 300, "the encrypted tally", 0.2)
        receipts_file = stack.folder / "receipts.json"
        receipts_file.write_text(json.dumps(run["receipts"]))
        say("load: summed; trustees decrypt, then receipts, inclusion proofs, the observer's audit")
        finished = election_step(stack, "finish", "--file", str(receipts_file), "--voters-file",
                                 str(prepared), "--url", stack.url)  # fmt: skip
        decrypted, checks = finished["decrypted"], finished["checks"]
        poller.halt.set()
        result = summarize(voters, rate, run, checks, decrypted, faults, poller, stack, prepare_s)
        # what the web processes spent per voter (4 booth/token requests and the cast): a figure
        # that holds on a shared machine, unlike the latencies (load_avg_1m says how shared)
        result["web_cpu_ms_per_voter"] = round(1000 * web_cpu_s / max(1, voters), 1)
        return result
    finally:
        stack.close()


def summarize(voters: int, rate: float, run: dict[str, Any], checks: dict[str, Any],
              decrypted: dict[str, Any], faults: list[Fault], poller: HealthPoller, stack: Stack,
              prepare_s: float) -> dict[str, Any]:  # fmt: skip
    t0 = run["t0"]
    casts = [s for s in run["samples"] if s[1].startswith("cast")]
    cast_ms = [s[2] for s in casts]
    # the rate: answered casts over the cast phase, without the resends held back a second
    # after a deliberate hang-up (their latencies count in the percentiles all the same)
    plain = [s for s in casts if s[1] == "cast"]
    answered = sum(1 for s in plain if s[3] in (200, 201))
    span = (max(s[0] + s[2] / 1000 for s in plain) - min(s[0] for s in plain)) if plain else 0
    result: dict[str, Any] = {
        "voters": voters,
        "offered_per_s": rate,
        "casts_per_s": round(answered / span, 1) if span else 0.0,
        "p50_ms": percentile(cast_ms, 50),
        "p95_ms": percentile(cast_ms, 95),
        "p99_ms": percentile(cast_ms, 99),
        "errors_5xx": sum(1 for s in run["samples"] if s[3] >= 500),
        "errors_500": sum(1 for s in run["samples"] if s[3] == 500),
        "errors_transport": sum(1 for s in run["samples"] if s[3] == 0),
        "accepted": checks["accepted"],
        "in_box": checks["in_box"],
        "in_log": checks["in_log"],
        "counted": checks["counted"],
        "lost": checks["lost"],
        "duplicated": checks["duplicated"],
        "unreceipted_in_box": checks["unreceipted_in_box"],
        "results_match_receipts": checks["results_match_receipts"],
        "not_voted": sum(1 for r in run["receipts"] if not r.get("tracking_code")),
        "refusals": sorted({r["refused"][:80] for r in run["receipts"] if r.get("refused")})[:5],
        "timeout_retries": checks["timeout_retries"],
        "timeout_retries_same_receipt": checks["timeout_retries_same_receipt"],
        "inclusion_proofs_failed": checks["inclusion"]["failed"],
        "inclusion_failures": checks["inclusion"]["failures"],
        "audit_passed": checks["audit"]["passed"],
        "audit_summary": checks["audit"]["summary"],
        "published": decrypted["state"] == "published",
        "token_p95_ms": percentile([s[2] for s in run["samples"] if s[1] == "token: request"], 95),
        "booth_p95_ms": percentile([s[2] for s in run["samples"] if s[1].startswith("booth")], 95),
        "prepare_s": round(prepare_s, 1),
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
    }
    result["faults"] = {}
    for fault in faults:
        start, end = fault.window()
        in_fault = [s[2] for s in casts if start - 0.5 <= t0 + s[0] <= end + 1]
        result["faults"][fault.name] = {
            "down_s": round(end - start, 1),
            **fault.notes,
            "cast_attempts_during": len(in_fault),
            "p95_ms_during": percentile(in_fault, 95),
            "max_ms_during": round(max(in_fault), 1) if in_fault else 0.0,
            "health": health_truth(fault, poller, float(stack.env["CIVIC_HEALTH_SEQUENCING_LAG_S"])),
        }
    return result
