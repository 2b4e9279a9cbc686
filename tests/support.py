"""Helpers for tests that start real processes (Celery workers, the web server, observers)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


def services_required() -> bool:
    """CI sets CIVIC_REQUIRE_SERVICES=1: a missing PostgreSQL or Redis then fails instead of skipping."""
    return os.environ.get("CIVIC_REQUIRE_SERVICES") == "1"


def require_service(available: bool, what: str) -> None:
    if available:
        return
    if services_required():
        pytest.fail(f"{what} is required (CIVIC_REQUIRE_SERVICES=1) but not available")
    pytest.skip(f"{what} not configured on this machine")


def database_url_for(settings_dict: dict) -> str:
    """A DATABASE_URL that points a child process at the database this test uses."""
    engine = settings_dict["ENGINE"]
    if engine.endswith("sqlite3"):
        return f"sqlite:///{settings_dict['NAME']}"
    if engine.endswith("postgresql"):
        user = settings_dict.get("USER") or "postgres"
        password = settings_dict.get("PASSWORD") or ""
        auth = f"{user}:{password}@" if password else f"{user}@"
        host = settings_dict.get("HOST") or "127.0.0.1"
        port = settings_dict.get("PORT") or 5432
        return f"postgres://{auth}{host}:{port}/{settings_dict['NAME']}"
    raise ValueError(f"no URL form for engine {engine}")


def child_env(**overrides: str | None) -> dict[str, str]:
    """The current environment with overrides; a None value removes the variable."""
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "civic.settings")
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def run_manage(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False,
    )


@contextmanager
def celery_worker(env: dict[str, str], queue: str) -> Iterator[subprocess.Popen[str]]:
    """A real Celery worker process consuming only `queue`, stopped when the block ends."""
    proc = subprocess.Popen(
        [str(VENV_BIN / "celery"), "-A", "civic", "worker", "--pool", "solo", "--queues", queue,
         "--without-heartbeat", "--without-gossip", "--without-mingle", "--loglevel", "WARNING",
         "--hostname", f"test-{queue}@%h"],
        cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_until(condition: Callable[[], bool], timeout: float, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()
