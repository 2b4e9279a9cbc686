"""Rate limits on the platform's costly anonymous writes, through the ``limits`` library.

A rule is a settings string in ``limits``' notation, e.g. ``"20/minute;200/hour"`` (every part
must hold; empty turns the rule off). Counters are fixed windows in
``CIVIC_RATE_LIMIT_STORAGE``: Redis when ``REDIS_URL`` is set, so every web process shares
them, else the process's memory (the embedded default runs one machine). Redis may be lost at any
moment (docs/operations.md): then the limits are skipped, logged, and the request goes on; a
rate limit never turns a ballot away because its counter is gone.

Identities are never stored as given: a counter's key is an HMAC (under a key derived from
``SECRET_KEY``) of the scope and the identity, so the counters hold no client address and no
ballot key, and they expire with their window.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import math
import threading
import time
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.utils.translation import ngettext
from django.views.decorators.debug import sensitive_variables
from limits import RateLimitItem, parse_many
from limits.errors import StorageError
from limits.storage import Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter
from rest_framework.throttling import BaseThrottle

from civic.errors import DomainError

logger = logging.getLogger(__name__)
KEY_PREFIX = "civic-rl"
# Redis answers in well under a millisecond; a lost one must not hold a cast for long.
STORAGE_OPTIONS = {"socket_connect_timeout": 0.25, "socket_timeout": 0.25}


class RateLimited(DomainError):
    """429 with ``Retry-After`` (whole seconds until the window that refused resets)."""

    code, status = "rate_limited", 429

    def __init__(self, detail: Any, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = max(1, retry_after)

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


_lock = threading.Lock()
_limiters: dict[str, FixedWindowRateLimiter] = {}


def storage_url() -> str:
    return settings.CIVIC_RATE_LIMIT_STORAGE or (settings.REDIS_URL or "memory://")


def _limiter() -> FixedWindowRateLimiter:
    url = storage_url()
    with _lock:
        limiter = _limiters.get(url)
        if limiter is None:
            options: dict[str, Any] = {"wrap_exceptions": True}
            if url.startswith(("redis://", "rediss://")):
                options.update(STORAGE_OPTIONS, key_prefix=KEY_PREFIX)
            limiter = FixedWindowRateLimiter(storage_from_string(url, **options))
            _limiters[url] = limiter
        return limiter


def storage() -> Storage:
    return _limiter().storage  # type: ignore[return-value]


@lru_cache(maxsize=64)
def parse_rule(rule: str) -> tuple[RateLimitItem, ...]:
    """``"20/minute;200/hour"`` → its items; empty → none (the rule is off)."""
    return tuple(parse_many(rule)) if rule.strip() else ()


def _pseudonym(scope: str, identity: str) -> str:
    key = hashlib.sha256(b"civic-rate-limit\x00" + settings.SECRET_KEY.encode()).digest()
    return hmac.new(key, f"{scope}\x00{identity}".encode(), hashlib.sha256).hexdigest()[:32]


@sensitive_variables("identity")
def hit(scope: str, identity: str, rule: str, detail: Callable[[int], str]) -> None:
    """Count one request of ``identity`` against every item of ``rule``; raise RateLimited
    (with the longest wait among the items that refused, and ``detail(wait)`` as its sentence)
    if any is exhausted."""
    items = parse_rule(rule)
    if not items:
        return
    name = _pseudonym(scope, identity)
    try:
        limiter = _limiter()
        refused = [item for item in items if not limiter.hit(item, scope, name)]
        if not refused:
            return
        reset = max(limiter.get_window_stats(item, scope, name).reset_time for item in refused)
    except StorageError as exc:
        logger.warning("rate limit %s skipped, its storage is unavailable: %s", scope, exc)
        return
    wait = max(1, math.ceil(reset - time.time()))
    raise RateLimited(detail(wait), wait)


@lru_cache(maxsize=16)
def _networks(spec: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(item, strict=False) for item in spec)


def client_address(request: Any) -> str:
    """The client's address as DRF's throttles see it: ``REMOTE_ADDR``, or with
    ``CIVIC_NUM_PROXIES`` = n > 0 the n-th address from the right of ``X-Forwarded-For`` (the one
    the outermost trusted proxy saw)."""
    return BaseThrottle().get_ident(request)


@sensitive_variables("address", "parsed")
def is_exempt(address: str) -> bool:
    """Whether the address lies in ``CIVIC_CAST_RATE_EXEMPT_NETWORKS`` (polling stations)."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(parsed in net for net in _networks(tuple(settings.CIVIC_CAST_RATE_EXEMPT_NETWORKS)))


@sensitive_variables("address")
def hit_cast_address(request: Any) -> None:
    """The generous per-address bucket of the ballot box (cast and spoil together)."""
    address = client_address(request)
    if is_exempt(address):
        return
    hit(
        "cast-address",
        address,
        settings.CIVIC_CAST_RATE_PER_ADDRESS,
        lambda wait: (
            ngettext(
                "Too many ballots from this network address; try again in %(seconds)d second.",
                "Too many ballots from this network address; try again in %(seconds)d seconds.",
                wait,
            )
            % {"seconds": wait}
        ),
    )


def hit_ballot_key(election_slug: str, ballot_key: bytes) -> None:
    """The per-voter bucket: casts and challenges under one (authorized) ballot key."""
    hit(
        "cast-key",
        f"{election_slug}\x00{ballot_key.hex()}",
        settings.CIVIC_CAST_RATE_PER_KEY,
        lambda wait: (
            ngettext(
                "Too many ballots under this ballot key; try again in %(seconds)d second.",
                "Too many ballots under this ballot key; try again in %(seconds)d seconds.",
                wait,
            )
            % {"seconds": wait}
        ),
    )
