"""/healthz reports the database and the broker, and names what failed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_healthy_when_database_and_broker_answer(client: Client) -> None:
    response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ok"
    assert body["components"]["database"]["ok"] is True
    assert body["components"]["broker"]["ok"] is True


def test_503_names_the_broker_when_redis_is_down(client: Client, settings: Any) -> None:
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 503
    assert body["failing"] == ["broker"]
    assert body["components"]["broker"]["ok"] is False
    assert "redis" in body["components"]["broker"]["detail"]
    assert body["components"]["database"]["ok"] is True


def test_503_names_the_broker_when_the_file_broker_folder_is_gone(client: Client, settings: Any, tmp_path: Path) -> None:
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"data_folder_in": str(tmp_path / "missing")}
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["broker"]


def test_health_is_never_cached(client: Client) -> None:
    assert "no-cache" in client.get("/healthz")["Cache-Control"]


@pytest.fixture(autouse=True)
def _fresh_anchoring_health(monkeypatch: pytest.MonkeyPatch) -> None:
    import civic.selectors

    monkeypatch.setattr(civic.selectors, "_anchoring_health_memo", None)


def test_chain_outage_is_reported_but_keeps_the_site_in_service(client: Client, settings: Any) -> None:
    settings.ANCHOR_RPC_URL = "http://127.0.0.1:1"  # nothing listens there
    settings.ANCHOR_CHAIN_ID = "31337"
    settings.ANCHOR_CONTRACT = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
    settings.ANCHOR_PRIVATE_KEY = "0x" + "11" * 32
    settings.ANCHOR_RPC_TIMEOUT = "1"
    response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 200
    assert body["failing"] == []
    assert body["degraded"] == ["anchoring"]
    assert body["components"]["anchoring"]["ok"] is False


def test_public_verifier_keeps_answering_when_the_cache_is_lost(client: Client, settings: Any) -> None:
    """Redis may vanish at any moment: the throttled public endpoints answer (400 here), not 500."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
    }
    response = client.post("/api/vc/credentials/verify", data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]


def _pending_entry(age_s: float) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from ledger import services as ledger
    from ledger.models import OutboxEntry

    row = ledger.append(ledger.CREDENTIALS_LOG, "test.pending", {"n": 1})
    OutboxEntry.objects.filter(pk=row.pk).update(created_at=timezone.now() - timedelta(seconds=age_s))


def test_a_sequencing_backlog_past_the_threshold_is_degraded_not_down(client: Client, settings: Any) -> None:
    """A dead Celery worker: entries wait in the outbox; casting still works, so 200, but the
    backlog is reported once the oldest waits longer than CIVIC_HEALTH_SEQUENCING_LAG_S."""
    settings.CIVIC_HEALTH_SEQUENCING_LAG_S = 30
    _pending_entry(age_s=2)
    body = client.get("/healthz").json()
    assert body["components"]["sequencing"]["ok"] is True
    assert "1 entries waiting" in body["components"]["sequencing"]["detail"]
    _pending_entry(age_s=45)
    response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 200
    assert body["degraded"] == ["sequencing"] and body["failing"] == []
    assert "2 entries waiting" in body["components"]["sequencing"]["detail"]


def test_no_backlog_is_healthy(client: Client) -> None:
    body = client.get("/healthz").json()
    assert body["components"]["sequencing"] == {"ok": True, "detail": "no entry waiting", "critical": False}


def test_an_unreachable_database_answers_503_with_retry_after(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    """A database restart under a cast: 503 and Retry-After in the JSON error shape, not a 500."""
    from django.db import OperationalError

    from voting.services import ballot_box

    def down(_slug: str) -> None:
        raise OperationalError("the database system is shutting down")

    monkeypatch.setattr(ballot_box, "box_election", down)
    response = client.post("/api/voting/elections/any/ballots", data="{}", content_type="application/json")
    assert response.status_code == 503
    assert response["Retry-After"] == "2"
    assert response.json()["error"] == "unavailable"
