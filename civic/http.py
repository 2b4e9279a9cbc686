"""What every JSON API needs, in one place: strict JSON bodies with a size limit, a throttle that
survives a lost cache, and the API view base that answers domain errors in the one JSON shape.
"""

from __future__ import annotations

import json
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

logger = logging.getLogger(__name__)


class _Refused(ValueError):
    pass


def _reject_constant(name: str) -> None:
    raise _Refused(f"{name} is not a JSON number")


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise _Refused(f"duplicate object key {key!r}")
        obj[key] = value
    return obj


def parse_strict_json(raw: bytes | str) -> Any:
    """I-JSON (RFC 7493): no duplicate keys, no NaN or Infinity, no invalid UTF-8, bounded depth.

    A repeated key would let two readers of the same bytes see different values (the last one
    wins in Python, the first in some other parsers), so it is refused everywhere.
    """
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        return json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_no_duplicate_keys)
    except UnicodeDecodeError as exc:
        raise InvalidInput("malformed JSON: the body is not UTF-8") from exc
    except RecursionError as exc:
        raise InvalidInput("malformed JSON: nested too deeply") from exc
    except ValueError as exc:  # json.JSONDecodeError and _Refused
        raise InvalidInput(f"malformed JSON: {exc}") from exc


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


def body_schema(name: str, **fields: Any) -> Any:
    """An OpenAPI request body for the docs (bodies are still parsed by StrictJSONParser)."""
    return inline_serializer(name=name, fields=fields)


class StrictJSONAPIView(APIView):
    """Base of every JSON API view: strict JSON bodies; DomainError answered by the one handler."""

    parser_classes = [StrictJSONParser, StrictJSONLDParser]
    body_limit: int | None = None
