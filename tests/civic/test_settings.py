"""Settings come from the environment; the embedded default needs no server."""

from __future__ import annotations

import json
import os
import secrets
import stat
import sys
from pathlib import Path

import pytest
from django.db import connection

from civic.models import TaskProbe
from tests.support import REPO_ROOT, child_env, require_service, run_manage

PROBE = (
    "import json, django; from django.conf import settings; django.setup();"
    "db = settings.DATABASES['default'];"
    "print(json.dumps({'engine': db['ENGINE'], 'name': str(db['NAME']), 'broker': settings.CELERY_BROKER_URL,"
    " 'cache': settings.CACHES['default']['BACKEND'], 'debug': settings.DEBUG,"
    " 'secret': settings.SECRET_KEY, 'ssl_redirect': getattr(settings, 'SECURE_SSL_REDIRECT', False)}))"
)


def read_settings(tmp_path: Path, **env: str | None) -> dict:
    import subprocess

    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=REPO_ROOT, capture_output=True, text=True, check=False,
        env=child_env(CIVIC_VAR_DIR=str(tmp_path), **env),
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_embedded_default_is_sqlite_and_filesystem_broker(tmp_path: Path) -> None:
    found = read_settings(tmp_path, DATABASE_URL=None, REDIS_URL=None, SECRET_KEY=None, DEBUG=None)
    assert found["engine"] == "django.db.backends.sqlite3"
    assert found["name"] == str(tmp_path / "civic.sqlite3")
    assert found["broker"] == "filesystem://"
    assert found["cache"].endswith("LocMemCache")
    assert found["debug"] is True
    assert (tmp_path / "broker" / "in").is_dir()


def test_generated_secret_key_is_kept_private_and_stable(tmp_path: Path) -> None:
    first = read_settings(tmp_path, DATABASE_URL=None, REDIS_URL=None, SECRET_KEY=None)
    second = read_settings(tmp_path, DATABASE_URL=None, REDIS_URL=None, SECRET_KEY=None)
    key_file = tmp_path / "secret_key"
    assert first["secret"] == second["secret"] == key_file.read_text().strip()
    assert len(first["secret"]) >= 50
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_database_and_redis_urls_switch_to_postgresql_and_redis(tmp_path: Path) -> None:
    found = read_settings(
        tmp_path,
        DATABASE_URL="postgres://civic:pw@db.internal:5433/civic",
        REDIS_URL="redis://cache.internal:6380/2",
        SECRET_KEY="x" * 60,
        DEBUG=None,
    )
    assert found["engine"] == "django.db.backends.postgresql"
    assert found["name"] == "civic"
    assert found["broker"] == "redis://cache.internal:6380/2"
    assert found["cache"].endswith("RedisCache")
    assert found["debug"] is False  # a configured deployment is production unless DEBUG says otherwise
    assert found["ssl_redirect"] is True


def test_bad_boolean_is_a_clear_error(tmp_path: Path) -> None:
    import subprocess

    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=REPO_ROOT, capture_output=True, text=True, check=False,
        env=child_env(CIVIC_VAR_DIR=str(tmp_path), DEBUG="maybe"),
    )
    assert result.returncode != 0
    assert "DEBUG must be a boolean" in result.stderr


def test_check_deploy_passes_with_documented_production_variables(tmp_path: Path) -> None:
    result = run_manage(
        "check", "--deploy", "--fail-level", "WARNING",
        env=child_env(
            CIVIC_VAR_DIR=str(tmp_path),
            DEBUG="0",
            SECRET_KEY=secrets.token_urlsafe(64),
            ALLOWED_HOSTS="vote.example.org",
            DATABASE_URL="postgres://civic@127.0.0.1:5432/civic",
            REDIS_URL="redis://127.0.0.1:6379/0",
        ),
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.django_db
def test_the_configured_database_is_the_one_in_use() -> None:
    expected = "postgresql" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "sqlite"
    assert connection.vendor == expected


@pytest.mark.django_db
def test_postgresql_round_trip() -> None:
    require_service(connection.vendor == "postgresql", "PostgreSQL (DATABASE_URL)")
    TaskProbe.objects.create(token="round-trip", worker="test")
    with connection.cursor() as cursor:
        cursor.execute("SELECT token, worker FROM civic_taskprobe WHERE token = %s", ["round-trip"])
        assert cursor.fetchone() == ("round-trip", "test")
        cursor.execute("SHOW server_version")
        assert cursor.fetchone()[0]
    assert TaskProbe.objects.get(token="round-trip").worker == "test"
