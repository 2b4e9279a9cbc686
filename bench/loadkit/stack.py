"""A private deployment on this machine: its own PostgreSQL cluster (initdb + pg_ctl), its own
redis-server, gunicorn with the repository's gunicorn.conf.py, Celery workers and beat.

Everything binds 127.0.0.1 on ports of its own and lives in one temporary folder; the machine's
services are never touched. PostgreSQL refuses to run as root, so as root the cluster belongs to
the ``postgres`` account (``runuser``); as any other user it is that user's own.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
PG_BIN_CANDIDATES = ("/usr/lib/postgresql/17/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/15/bin")
QUEUE = "civic-load"


class StackError(RuntimeError):
    """A process of the private deployment did not start or stop as it should."""


def pg_bin() -> Path:
    """The folder of initdb and pg_ctl: PG_BIN, else Debian's newest, else the PATH's."""
    configured = os.environ.get("PG_BIN")
    if configured:
        return Path(configured)
    for candidate in PG_BIN_CANDIDATES:
        if (Path(candidate) / "pg_ctl").exists():
            return Path(candidate)
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).parent
    raise StackError("pg_ctl not found: install PostgreSQL's server binaries or set PG_BIN")


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


_claims: list[Any] = []  # lock files held for the life of this process


def free_port(first: int, last: int) -> int:
    """A free port of the range, claimed by a lock file so that two harness runs started at once
    never pick the same one before either binds it."""
    for port in range(first, last + 1):
        claim = open(Path(tempfile.gettempdir()) / f"civic-load-port-{port}.lock", "w")  # noqa: SIM115
        try:
            fcntl.flock(claim, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            claim.close()
            continue
        if port_is_free(port):
            _claims.append(claim)
            return port
        claim.close()
    raise StackError(f"no free port in {first}-{last}")


def wait_for(condition: Callable[[], bool], timeout: float, what: str, interval: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    if not condition():
        raise StackError(f"{what} did not happen within {timeout:.0f} s")


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class PgCluster:
    """A throw-away PostgreSQL cluster on ``port`` (data under ``folder``)."""

    def __init__(self, folder: Path, port: int, *, durable: bool = True) -> None:
        self.folder = folder
        self.data = folder / "pgdata"
        self.port = port
        self.durable = durable
        self.bin = pg_bin()
        self.as_postgres = os.geteuid() == 0

    def _run(self, *args: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        command = [str(self.bin / args[0]), *args[1:]]
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, capture_output=True, text=True, check=check, timeout=timeout)

    def init(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        if self.as_postgres:
            shutil.chown(self.folder, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                  "--no-instructions", "-N")  # fmt: skip
        options = [
            "listen_addresses = '127.0.0.1'",
            f"port = {self.port}",
            f"unix_socket_directories = '{self.folder}'",
            "max_connections = 200",
            "shared_buffers = 64MB",
        ]
        if not self.durable:  # tests only: a crash of the machine may lose the cluster
            options += ["fsync = off", "synchronous_commit = off", "full_page_writes = off"]
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write("\n".join(options) + "\n")

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.folder / "pg.log"), "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop", check=False)

    def restart(self, mode: str = "fast") -> None:
        self.stop(mode)
        self.start()

    def create_database(self, name: str) -> str:
        self._run("psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", "postgres",
                  "-q", "-c", f'CREATE DATABASE "{name}"')  # fmt: skip
        return self.url(name)

    def url(self, name: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"


class RedisServer:
    """redis-server on ``port``, nothing on disk; ``stop``/``start`` keep the port."""

    def __init__(self, folder: Path, port: int) -> None:
        self.folder = folder
        self.port = port
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
             "--appendonly", "no", "--dir", str(self.folder), "--logfile", str(self.folder / "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_for(lambda: _accepts(self.port), 20, f"redis on port {self.port}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=20)
        self.proc = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"


def _children(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    if int(stat.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(entry))
            except (OSError, IndexError, ValueError):
                continue
    return out


class Service:
    """One long-running process of the deployment (its own process group), with its log file."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], log: Path) -> None:
        self.name, self.command, self.env, self.log = name, command, env, log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                self.command, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip

    @property
    def pid(self) -> int:
        if self.proc is None:
            raise StackError(f"{self.name} is not running")
        return self.proc.pid

    def children(self) -> list[int]:
        return _children(self.pid)

    def kill(self) -> None:
        """SIGKILL the whole process group (the worker and its pool children) at once."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=20)
        self.proc = None

    def stop(self, timeout: float = 20) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=20)
        self.proc = None


class Stack:
    """The whole private deployment; ``env`` is what every Django process of it runs with."""

    def __init__(self, *, durable: bool = True, web_workers: int | None = None,
                 celery_workers: int = 1, folder: Path | None = None) -> None:  # fmt: skip
        self.folder = folder or Path(tempfile.mkdtemp(prefix="civic-load-"))
        self.folder.chmod(0o755)
        self.pg = PgCluster(self.folder / "pg", free_port(55432, 55439), durable=durable)
        self.redis = RedisServer(self.folder / "redis", free_port(56379, 56389))
        self.web_port = free_port(8140, 8149)
        self.web_workers = web_workers
        self.celery_workers = celery_workers
        self.services: dict[str, Service] = {}
        self.env: dict[str, str] = {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def start_backends(self) -> None:
        self.pg.init()
        self.pg.start()
        self.redis.start()
        var = self.folder / "var"
        var.mkdir(exist_ok=True)
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "REDIS_URL"))},
            "DATABASE_URL": self.pg.create_database("civic_load"),
            "REDIS_URL": self.redis.url(0),
            "CELERY_QUEUE": QUEUE,
            "DJANGO_SETTINGS_MODULE": "civic.settings",
            "DEBUG": "0",
            "SECURE_SSL_REDIRECT": "0",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECRET_KEY": secrets.token_urlsafe(40),
            "CIVIC_VAR_DIR": str(var),
            "CIVIC_CITY_KEY_FILE": str(var / "city_keys.json"),
            "LEDGER_SIGNER_KEYS_FILE": str(var / "ledger_keys.json"),
            "CIVIC_CRYPTO_BACKEND": "native",
            "CIVIC_BALLOT_BOX_BACKEND": "native",
            # the sweeps that turn a lost message or a killed worker into a delay run often here
            "CIVIC_SCHEDULER_INTERVAL_S": "2",
            "CIVIC_TALLY_FREEZE_RETRY_S": "1",
            "CIVIC_TALLY_CHUNK_SIZE": os.environ.get("CIVIC_LOAD_CHUNK_SIZE", "25"),
            "CIVIC_HEALTH_SEQUENCING_LAG_S": "3",
            # the voters arrive as through the city's proxy: one X-Forwarded-For hop is trusted,
            # so the per-address cast limit (civic.ratelimit) sees each voter's own address
            "CIVIC_NUM_PROXIES": "1",
            "LOG_LEVEL": "WARNING",
        }
        self.env.pop("ANCHOR_RPC_URL", None)

    # -- snapshots: one prepared election, copied into the private cluster of each run (tests) --
    SNAPSHOT_PARTS = ("var", "voters.json")

    def snapshot(self, dest: Path) -> None:
        """Copy the stopped cluster, the key files and the prepared voters to ``dest``."""
        self.pg.stop("fast")
        dest.mkdir(parents=True, exist_ok=True)
        subprocess.run(["cp", "-a", str(self.pg.data), str(dest / "pgdata")], check=True)
        for part in self.SNAPSHOT_PARTS:
            source = self.folder / part
            if source.is_dir():
                shutil.copytree(source, dest / part)
            else:
                shutil.copy2(source, dest / part)
        (dest / "env.json").write_text(json.dumps(self.env))
        self.pg.start()

    def start_backends_from(self, snapshot: Path) -> None:
        """``start_backends`` on a copy of ``snapshot``: same database and keys, own ports."""
        self.pg.folder.mkdir(parents=True, exist_ok=True)
        subprocess.run(["cp", "-a", str(snapshot / "pgdata"), str(self.pg.data)], check=True)
        if self.pg.as_postgres:
            shutil.chown(self.pg.folder, "postgres", "postgres")
        with open(self.pg.data / "postgresql.conf", "a") as conf:  # the last setting wins
            conf.write(f"port = {self.pg.port}\nunix_socket_directories = '{self.pg.folder}'\n")
        for part in self.SNAPSHOT_PARTS:
            source = snapshot / part
            if source.is_dir():
                shutil.copytree(source, self.folder / part)
            else:
                shutil.copy2(source, self.folder / part)
        self.pg.start()
        self.redis.start()
        old = json.loads((snapshot / "env.json").read_text())
        var = self.folder / "var"
        self.env = {
            **old,
            "DATABASE_URL": self.pg.url("civic_load"),
            "REDIS_URL": self.redis.url(0),
            "CIVIC_VAR_DIR": str(var),
            "CIVIC_CITY_KEY_FILE": str(var / "city_keys.json"),
            "LEDGER_SIGNER_KEYS_FILE": str(var / "ledger_keys.json"),
        }

    def manage(self, *args: str, timeout: float = 600) -> str:
        done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=self.env,
                              capture_output=True, text=True, timeout=timeout)  # fmt: skip
        if done.returncode != 0:
            raise StackError(f"manage.py {' '.join(args)}: {done.stderr[-2000:]}")
        return done.stdout

    def _service(self, name: str, command: list[str]) -> Service:
        service = Service(name, command, self.env, self.folder / f"{name}.log")
        service.start()
        self.services[name] = service
        return service

    def start_web(self) -> Service:
        command = [str(VENV_BIN / "gunicorn"), "civic.wsgi", "--bind", f"127.0.0.1:{self.web_port}",
                   "--log-level", "warning", "--graceful-timeout", "5"]  # fmt: skip
        if self.web_workers:
            command += ["--workers", str(self.web_workers)]
        web = self._service("web", command)
        wait_for(self.healthz_answers, 60, "gunicorn answering /healthz")
        return web

    def healthz_answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/healthz", timeout=2):
                return True
        except urllib.error.HTTPError:
            return True
        except OSError:
            return False

    def start_worker(self, name: str = "worker") -> Service:
        return self._service(name, [
            str(VENV_BIN / "celery"), "-A", "civic", "worker", "--pool", "prefork",
            "--concurrency", str(self.celery_workers), "--queues", QUEUE, "--without-heartbeat",
            "--without-gossip", "--without-mingle", "--loglevel", "WARNING", "--hostname",
            f"{name}-{self.web_port}@%h",
        ])  # fmt: skip

    def start_beat(self) -> Service:
        return self._service("beat", [
            str(VENV_BIN / "celery"), "-A", "civic", "beat", "--loglevel", "WARNING",
            "--schedule", str(self.folder / "celerybeat-schedule"),
        ])  # fmt: skip

    def close(self) -> None:
        for service in reversed(list(self.services.values())):
            try:
                service.stop()
            except (OSError, subprocess.TimeoutExpired):
                service.kill()
        self.redis.stop()
        self.pg.stop("immediate")
        if not os.environ.get("CIVIC_LOAD_KEEP"):
            shutil.rmtree(self.folder, ignore_errors=True)
