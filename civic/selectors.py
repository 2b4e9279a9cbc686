"""Read use cases of the platform layer: the health of the services Civic depends on."""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import redis
from django.conf import settings
from django.db import connection


@dataclass(frozen=True)
class ComponentHealth:
    ok: bool
    detail: str
    # A critical component down makes /healthz 503; others (the anchoring chain) only report,
    # because their outage delays work and must never take the site out of a load balancer.
    critical: bool = True

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _select_one() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def database_health() -> ComponentHealth:
    """One round trip to the database (SELECT 1), on a fresh connection if the kept one broke.

    A process keeps its connection between requests (CONN_MAX_AGE) without checking it first;
    after a database restart that connection is dead although the database answers again, so a
    failure is tried once more on a new connection before it is reported (else /healthz would
    say "down" once per process after every restart).
    """
    try:
        _select_one()
    except Exception:  # noqa: BLE001 - any driver error: try once on a new connection
        if connection.in_atomic_block:  # a caller's transaction (tests): not ours to drop
            return ComponentHealth(False, f"{connection.vendor}: unreachable")
        connection.close()
        try:
            _select_one()
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


_ANCHORING_HEALTH_TTL_S = 15.0
_anchoring_health_memo: tuple[float, ComponentHealth] | None = None


def anchoring_component_health() -> ComponentHealth:
    """The chain's health, remembered for a few seconds per process.

    Asking the chain can take up to the RPC timeout; health probes arrive every few seconds and
    must stay fast. A process-local memo (not the cache) because the cache is Redis, which may be
    the very thing that is down.
    """
    global _anchoring_health_memo
    from ledger.anchoring.selectors import anchoring_health

    now = time.monotonic()
    if _anchoring_health_memo is not None and now - _anchoring_health_memo[0] < _ANCHORING_HEALTH_TTL_S:
        return _anchoring_health_memo[1]
    status = anchoring_health()
    health = ComponentHealth(bool(status["ok"]), str(status["detail"]), critical=False)
    _anchoring_health_memo = (now, health)
    return health


def sequencing_health(database: ComponentHealth) -> ComponentHealth:
    """Whether the Celery workers keep the ledger sequenced: degraded (never critical) once the
    oldest entry waiting for the sequencer is older than CIVIC_HEALTH_SEQUENCING_LAG_S.

    A dead or stuck worker, or a lost broker, shows here while casting still works: the entries
    wait in PostgreSQL and are sequenced once a worker runs again (docs/operations.md, Health).
    """
    from django.utils import timezone

    from ledger.selectors import sequencing_backlog

    if not database.ok:
        return ComponentHealth(False, "unknown: the database is unreachable", critical=False)
    try:
        backlog = sequencing_backlog()
    except Exception as exc:  # noqa: BLE001 - the database went away between the two checks
        return ComponentHealth(False, f"unknown: {type(exc).__name__}", critical=False)
    if backlog.oldest is None:
        return ComponentHealth(True, "no entry waiting", critical=False)
    lag = (timezone.now() - backlog.oldest).total_seconds()
    detail = f"{backlog.pending} entries waiting, the oldest for {lag:.1f} s"
    return ComponentHealth(lag <= settings.CIVIC_HEALTH_SEQUENCING_LAG_S, detail, critical=False)


def platform_health() -> dict[str, ComponentHealth]:
    database = database_health()
    return {
        "database": database,
        "broker": broker_health(),
        "sequencing": sequencing_health(database),
        "anchoring": anchoring_component_health(),
    }
