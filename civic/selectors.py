"""Read use cases of the platform layer: the health of the services Civic depends on."""

from __future__ import annotations

import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import redis
from django.conf import settings
from django.db import connection


@dataclass(frozen=True)
class ComponentHealth:
    ok: bool
    detail: str

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def database_health() -> ComponentHealth:
    """One round trip to the database (SELECT 1)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "unreachable" to an operator
        return ComponentHealth(False, f"{connection.vendor}: {type(exc).__name__}: {exc}".strip())
    return ComponentHealth(True, connection.vendor)


def broker_health() -> ComponentHealth:
    """Reach the Celery broker: PING Redis, or write to the file-system broker's folder."""
    url: str = settings.CELERY_BROKER_URL
    if url.startswith(("redis://", "rediss://", "unix://")):
        try:
            client = redis.Redis.from_url(url, socket_connect_timeout=1.5, socket_timeout=1.5)
            client.ping()
        except redis.RedisError as exc:
            return ComponentHealth(False, f"redis: {type(exc).__name__}: {exc}")
        return ComponentHealth(True, "redis")
    if url.startswith("filesystem://"):
        folder = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"])
        try:
            fd, name = tempfile.mkstemp(dir=folder, prefix=".health-")
            os.close(fd)
            os.unlink(name)
        except OSError as exc:
            return ComponentHealth(False, f"filesystem broker at {folder}: {exc.strerror or exc}")
        return ComponentHealth(True, "filesystem")
    return ComponentHealth(False, f"unsupported broker URL scheme in {url.split(':', 1)[0]!r}")


def platform_health() -> dict[str, ComponentHealth]:
    return {"database": database_health(), "broker": broker_health()}
