"""Fetching other hosts' did:web documents for the resolution endpoint (off by default).

A resolver that fetches URLs chosen by strangers is a server-side request forgery risk, so:
https only, no redirects, only hosts whose every address is public, 5-second timeout, 100 KiB
cap, and the document must name the DID that was asked for. Enabled with
``CIVIC_DID_WEB_RESOLVE_REMOTE = True``; results are cached for five minutes.
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import socket
from typing import Any
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.core.cache import cache
from redis.exceptions import RedisError

from identity.core import did_web
from identity.core.data_integrity import ResolutionError
from identity.core.jcs import JCSError, parse_json

MAX_DOCUMENT_BYTES = 100 * 1024
TIMEOUT_SECONDS = 5.0
CACHE_SECONDS = 300


def remote_resolution_enabled() -> bool:
    return bool(settings.CIVIC_DID_WEB_RESOLVE_REMOTE)


def check_public_host(host: str, port: int) -> None:
    """Refuse hosts that resolve to loopback, private, link-local or otherwise non-global addresses."""
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except OSError as exc:
        raise ResolutionError("notFound", f"cannot resolve host {host}") from exc
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise ResolutionError("notFound", f"{host} is not a public host")


def fetch_document(did: str, *, transport: httpx.BaseTransport | None = None) -> dict[str, Any]:
    """The DID document of a did:web on another host, checked to be for that DID."""
    cache_key = "identity:didweb:" + hashlib.sha256(did.encode()).hexdigest()
    cached = _cache_get(cache_key)
    if isinstance(cached, dict):
        return cached
    try:
        url = did_web.did_to_url(did)
    except did_web.DIDWebError as exc:
        raise ResolutionError("invalidDid", str(exc)) from exc
    parts = urlsplit(url)
    check_public_host(parts.hostname or "", parts.port or 443)
    try:
        with (
            httpx.Client(
                timeout=TIMEOUT_SECONDS, follow_redirects=False, transport=transport
            ) as client,
            client.stream(
                "GET", url, headers={"Accept": "application/did+json, application/json"}
            ) as response,
        ):
            if response.status_code != 200:
                raise ResolutionError("notFound", f"{url} answered HTTP {response.status_code}")
            body = b""
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > MAX_DOCUMENT_BYTES:
                    raise ResolutionError("invalidDidDocument", "DID document is too large")
    except httpx.HTTPError as exc:
        raise ResolutionError("notFound", f"cannot fetch {url}: {exc.__class__.__name__}") from exc
    try:
        document = parse_json(body)
    except JCSError as exc:
        raise ResolutionError("invalidDidDocument", f"not JSON: {exc}") from exc
    if not isinstance(document, dict) or document.get("id") != did:
        raise ResolutionError("invalidDidDocument", "the document does not describe this DID")
    _cache_set(cache_key, document)
    return document


def _cache_get(key: str) -> Any:
    """The cache is Redis in production and may be lost: resolving then just fetches again."""
    try:
        return cache.get(key)
    except (RedisError, OSError):
        return None


def _cache_set(key: str, document: dict[str, Any]) -> None:
    with contextlib.suppress(RedisError, OSError):
        cache.set(key, document, CACHE_SECONDS)
