"""API plumbing shared by every app: one JSON shape for every error, domain errors included."""

from __future__ import annotations

from typing import Any

from django.http import JsonResponse
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler

from civic.errors import DomainError


def error_body(code: str, detail: Any, status: int) -> dict[str, Any]:
    """The one error shape: {"error": <machine code>, "detail": <human text or field errors>, "status": n}."""
    return {"error": code, "detail": detail, "status": status}


def json_error(code: str, detail: Any, status: int) -> JsonResponse:
    return JsonResponse(error_body(code, detail, status), status=status)


def domain_error_response(exc: DomainError) -> JsonResponse:
    """A domain error as the JSON error shape (plain Django views, through the middleware)."""
    response = json_error(exc.code, exc.detail, exc.status)
    for name, value in exc.headers.items():
        response[name] = value
    return response


def json_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF exception handler: domain errors and DRF's own, re-shaped into error_body."""
    if isinstance(exc, DomainError):
        return Response(
            error_body(exc.code, exc.detail, exc.status), status=exc.status, headers=exc.headers
        )
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.APIException):
        code = exc.get_codes()
        code = code if isinstance(code, str) else "invalid"
        detail = exc.detail
    else:
        code, detail = "error", response.data
    if isinstance(detail, dict) and set(detail) == {"detail"}:
        detail = detail["detail"]
    response.data = error_body(str(code), detail, response.status_code)
    return response
