"""Tasks sent from Django are executed by real worker processes, over Redis and over the embedded broker."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import pytest
import redis
from django.db import connection
from kombu import Connection

from civic.models import TaskProbe
from civic.tasks import record_probe
from tests.support import (
    celery_worker,
    child_env,
    database_url_for,
    require_service,
    run_manage,
    wait_until,
)


def redis_url_for_tests() -> str:
    return os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15"


def redis_reachable(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.mark.django_db(transaction=True)
def test_task_runs_on_a_real_worker_over_redis() -> None:
    url = redis_url_for_tests()
    require_service(redis_reachable(url), f"Redis at {url}")
    queue = f"test-{secrets.token_hex(6)}"
    token = secrets.token_hex(16)
    env = child_env(DATABASE_URL=database_url_for(connection.settings_dict), REDIS_URL=url)
    with celery_worker(env, queue) as worker, Connection(url) as broker:
        record_probe.apply_async(args=[token], queue=queue, connection=broker)
        done = wait_until(lambda: TaskProbe.objects.filter(token=token).exists(), timeout=60)
        assert done, "worker never executed the task"
        assert worker.poll() is None, "worker exited early"
    probe = TaskProbe.objects.get(token=token)
    assert probe.worker  # the worker's host name, proving it ran outside this process


def test_task_runs_on_a_real_worker_over_the_embedded_broker(tmp_path: Path) -> None:
    env = child_env(CIVIC_VAR_DIR=str(tmp_path), DATABASE_URL=None, REDIS_URL=None, CELERY_QUEUE="embedded-test")
    migrated = run_manage("migrate", "--noinput", "-v0", env=env, timeout=300)
    assert migrated.returncode == 0, migrated.stderr
    with celery_worker(env, "embedded-test"):
        ping = run_manage("civic_ping", "--timeout", "60", env=env, timeout=90)
    assert ping.returncode == 0, ping.stdout + ping.stderr
    assert "task executed by worker" in ping.stdout
    assert any((tmp_path / "broker").rglob("*")), "the file-system broker folder was used"
    assert any((tmp_path / "broker" / "control").iterdir()), "kombu's control files stay under var/"
