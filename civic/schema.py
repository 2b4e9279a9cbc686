"""The OpenAPI schema's platform part: the one error shape, and the error answers every operation
can give, documented from what the view is configured with.

drf-spectacular documents the answers a view declares (``@extend_schema(responses=...)``); the
errors that come from the platform itself are added here, so no operation can answer a status code
its schema does not name (tests/fuzz checks it with schemathesis):

- 400 ``invalid``: the operation reads a body or query parameters;
- 401: an authentication class that challenges (the Bearer API credential) is configured, so a
  missing or bad credential is refused with ``WWW-Authenticate``;
- 403: a permission class other than AllowAny, or a session write without its CSRF token;
- 404: the path names an object (the slug, id ... may name none);
- 413, 415: the operation reads a body (over its limit; not JSON);
- 429: the operation is throttled.

Every documented 4xx answer is the one error shape, :class:`ErrorSerializer`
(``civic.api.error_body``).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import AllowAny

ERROR_DESCRIPTIONS = {
    400: "Malformed request: the body or a parameter is refused (detail names it).",
    401: "Missing, malformed or revoked API credential (WWW-Authenticate: Bearer).",
    403: "Not allowed for this account or role, or a session write without its CSRF token.",
    404: "No such object (or not public yet).",
    409: "Not possible in the object's current state.",
    413: "The body is larger than this operation accepts.",
    415: "The body is not JSON.",
    422: "Well-formed, but refused by the protocol's checks (detail names the check).",
    429: "Too many requests from this address; retry after Retry-After seconds.",
}
BODY_METHODS = {"POST", "PUT", "PATCH"}
# What Python's str.isspace() calls a space, written out so that a pattern reads the same in
# Python (the server) and in ECMAScript (JSON Schema): "\\s" differs between the two.
SPACE_CHARS = r"\t\n\v\f\r \u001c-\u001f\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
HAS_TEXT = f"[^{SPACE_CHARS}]"  # a pattern: at least one character that is not a space


class ErrorSerializer(serializers.Serializer):
    """The one error shape of every 4xx/5xx JSON answer."""

    error = serializers.CharField(help_text="Machine code, e.g. invalid, not_found, conflict.")
    detail = serializers.JSONField(
        help_text="A sentence, or an object naming each refused field."
    )
    status = serializers.IntegerField(help_text="The HTTP status, repeated.")


def _challenges(view: Any) -> bool:
    return any(not issubclass(cls, SessionAuthentication) for cls in _auth_classes(view))


def _auth_classes(view: Any) -> list[type]:
    try:
        return [type(a) for a in view.get_authenticators()]
    except Exception:  # noqa: BLE001 (a view whose authenticators need a request)
        return list(getattr(view, "authentication_classes", []))


def _permission_classes(view: Any) -> list[type]:
    try:
        return [type(p) for p in view.get_permissions()]
    except Exception:  # noqa: BLE001 (get_permissions reading self.request.method)
        return list(getattr(view, "permission_classes", []))


class CivicAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema plus the platform's error answers (see the module doc)."""

    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        method = self.method.upper()
        codes: set[int] = set()
        has_body = method in BODY_METHODS and "requestBody" in operation
        parameters = operation.get("parameters", [])
        if has_body or any(p.get("in") == "query" for p in parameters):
            codes.add(400)
        if has_body:
            codes |= {413, 415}
        if _challenges(self.view):
            codes.add(401)
        session = any(issubclass(cls, SessionAuthentication) for cls in _auth_classes(self.view))
        if any(cls is not AllowAny for cls in _permission_classes(self.view)) or (
            session and method in BODY_METHODS | {"DELETE"}
        ):
            codes.add(403)
        if any(p.get("in") == "path" for p in parameters):
            codes.add(404)
        if getattr(self.view, "throttle_classes", None):
            codes.add(429)
        body = operation.get("requestBody")
        if body and self._requires_body(body):
            body["required"] = True
        responses = operation.setdefault("responses", {})
        error = self._error_response_schema()
        for code in sorted(codes | {int(c) for c in responses if str(c).startswith("4")}):
            entry = responses.get(str(code)) or {}
            responses[str(code)] = {
                "description": entry.get("description") or ERROR_DESCRIPTIONS.get(code, "Error"),
                "content": {"application/json": {"schema": error}},
            }
        return operation

    def _requires_body(self, body: dict[str, Any]) -> bool:
        """A body whose schema names required keys is itself required (an empty one is refused)."""
        for media in body.get("content", {}).values():
            schema = media.get("schema", {})
            ref = schema.get("$ref", "")
            if ref:
                component = self.registry._components.get((ref.rsplit("/", 1)[-1], "schemas"))  # noqa: SLF001
                schema = component.schema if component is not None else {}
            if schema.get("required"):
                return True
        return False

    def _map_serializer(self, serializer: Any, direction: str, *args: Any, **kwargs: Any) -> Any:
        schema = super()._map_serializer(serializer, direction, *args, **kwargs)
        if getattr(serializer, "closed_body", False):
            schema["additionalProperties"] = False
        return schema

    def _error_response_schema(self) -> dict[str, Any]:
        component = self.resolve_serializer(ErrorSerializer, "response")
        return component.ref
