"""What every JSON API needs, in one place: strict JSON bodies with a size limit, a throttle that
survives a lost cache, and the API view base that answers domain errors in the one JSON shape.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from drf_spectacular.utils import inline_serializer
from redis.exceptions import RedisError
from rest_framework.parsers import BaseParser
from rest_framework.request import Request
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from civic.errors import InvalidInput, PayloadTooLarge
from identity.core.jcs import JCSError, parse_json

logger = logging.getLogger(__name__)


def parse_strict_json(raw: bytes | str) -> Any:
    """I-JSON (RFC 7493): no duplicate keys, no NaN or Infinity, valid UTF-8, bounded depth.

    A repeated key would let two readers of the same bytes see different values (the last one
    wins in Python, the first in some other parsers), so it is refused everywhere. The parsing
    itself is the pure one identity's RFC 8785 code uses (``identity.core.jcs.parse_json``).
    """
    try:
        value = parse_json(raw)
    except JCSError as exc:
        raise InvalidInput(f"malformed JSON: {exc}") from exc
    _check_depth(value, settings.CIVIC_API_MAX_JSON_DEPTH)
    return value


def _check_depth(value: Any, limit: int) -> None:
    """Refuse arrays and objects nested deeper than ``limit`` (iteratively: no recursion). The
    parser itself stops far deeper nesting (Python's recursion limit); this bound keeps every
    later recursive walk (canonicalization, decoding) well inside it."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = (
            node.values() if isinstance(node, dict) else node if isinstance(node, list) else None
        )
        if children is None:
            continue
        if depth > limit:
            raise InvalidInput(f"malformed JSON: nested deeper than {limit} levels")
        stack.extend((child, depth + 1) for child in children)


def parse_limited_json(request: HttpRequest, limit: int) -> Any:
    """The body as strict JSON, refusing an oversized body before reading it."""
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if not declared.isdigit():
        raise InvalidInput("invalid Content-Length")
    if int(declared) > limit:
        raise PayloadTooLarge(f"the body must be at most {limit} bytes")
    raw = request.body
    if len(raw) > limit:
        raise PayloadTooLarge(f"the body must be at most {limit} bytes")
    return parse_strict_json(raw)


class StrictJSONParser(BaseParser):
    """DRF parser with the view's ``body_limit`` (else CIVIC_API_MAX_BODY_BYTES) and strict JSON.

    It is also what runs when DRF's CSRF check looks at ``request.POST``, so a bad body fails
    the same way whether or not the caller is logged in.
    """

    media_type = "application/json"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        context = parser_context or {}
        view = context.get("view")
        limit = getattr(view, "body_limit", None) or settings.CIVIC_API_MAX_BODY_BYTES
        return parse_limited_json(context["request"]._request, limit)  # noqa: SLF001


class StrictJSONLDParser(StrictJSONParser):
    media_type = "application/ld+json"


class PublicRateThrottle(AnonRateThrottle):
    """Per-address budget for costly anonymous endpoints (``rate_setting`` names the setting,
    e.g. "300/minute"; empty disables).

    Counts live in the cache (Redis), which may be lost at any moment: then requests go on
    unthrottled (logged), rather than every caller getting a 500.
    """

    rate_setting = "CIVIC_VC_API_RATE"

    def get_rate(self) -> str | None:
        return getattr(settings, self.rate_setting) or None

    def allow_request(self, request: Any, view: Any) -> bool:
        try:
            return super().allow_request(request, view)
        except (RedisError, OSError) as exc:
            logger.warning("rate limit %s skipped, cache unavailable: %s", self.scope, exc)
            return True


def json_object(request: Request) -> dict[str, Any]:
    """The parsed body, which must be a JSON object."""
    body = request.data
    if not isinstance(body, dict):
        raise InvalidInput("the body must be a JSON object")
    return body


def body_schema(name: str, *, closed: bool = False, **fields: Any) -> Any:
    """An OpenAPI request body for the docs (bodies are still parsed by StrictJSONParser).

    ``closed``: the endpoint refuses any other key, so the schema says
    ``additionalProperties: false`` (civic.schema.CivicAutoSchema reads ``closed_body``)."""
    serializer = inline_serializer(name=name, fields=fields)
    type(serializer).closed_body = closed  # on the class: a nested field is a deep copy
    return serializer


class StrictJSONAPIView(APIView):
    """Base of every JSON API view: strict JSON bodies; DomainError answered by the one handler."""

    parser_classes = [StrictJSONParser, StrictJSONLDParser]
    body_limit: int | None = None
