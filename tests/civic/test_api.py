"""The API: OpenAPI schema, docs page, and one JSON shape for every 4xx."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_openapi_schema_is_openapi_3(client: Client) -> None:
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "Civic API"


def test_docs_page_uses_local_assets_only(client: Client) -> None:
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "cdn.jsdelivr" not in html and "unpkg.com" not in html
    # the start-up script is a file of its own (script-src 'self', no inline script)
    assert "<script>" not in html and 'src="/api/docs/?script="' in html
    script = client.get("/api/docs/?script=").content.decode()
    assert "/api/schema/" in script


def test_unknown_api_path_is_json_404(client: Client) -> None:
    response = client.get("/api/no/such/thing")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {"error": "not_found", "detail": "Not Found", "status": 404}


def test_wrong_method_is_json_405_with_allow(client: Client) -> None:
    response = client.post("/healthz")
    assert response.status_code == 405
    assert response.json()["error"] == "method_not_allowed"
    assert "GET" in response["Allow"]


def test_csrf_failure_on_api_is_json_403() -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post("/api/schema/", data="{}", content_type="application/json")
    assert response.status_code in (403, 405)
    assert response["Content-Type"].startswith("application/json")
    assert "error" in response.json()


def test_oversized_body_is_rejected_with_json(client: Client, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    response = client.post("/api/schema/", data="x" * 5000, content_type="application/json")
    assert 400 <= response.status_code < 500
    assert response["Content-Type"].startswith("application/json")


def test_https_redirect_applies_when_enabled(client: Client, settings: Any) -> None:
    settings.SECURE_SSL_REDIRECT = True
    response = client.get("/")
    assert response.status_code == 301
    assert response["Location"].startswith("https://")
