"""Make every 4xx/5xx under /api/ (and other machine endpoints) a JSON body.

DRF views already answer in JSON; this catches what happens outside them: URL not found, CSRF
failure, method not allowed, a request body over the size limit.
"""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus

from django.http import HttpRequest, HttpResponse

from civic.api import domain_error_response, json_error
from civic.errors import DomainError

JSON_PATH_PREFIXES = ("/api/", "/healthz", "/1.0/")


def wants_json(request: HttpRequest) -> bool:
    return request.path.startswith(JSON_PATH_PREFIXES)


class JsonApiErrorMiddleware:
    """JSON errors for machine paths, and every DomainError a plain Django view lets escape."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            wants_json(request)
            and response.status_code >= 400
            and not response.get("Content-Type", "").startswith(("application/json", "application/problem+json"))
        ):
            try:
                phrase = HTTPStatus(response.status_code).phrase
            except ValueError:
                phrase = "Error"
            code = phrase.lower().replace(" ", "_").replace("-", "_")
            replacement = json_error(code, phrase, response.status_code)
            for header in ("Allow", "WWW-Authenticate", "Retry-After"):
                if header in response:
                    replacement[header] = response[header]
            return replacement
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """A use case's DomainError, escaping any view, becomes the JSON error shape."""
        if isinstance(exception, DomainError):
            return domain_error_response(exception)
        return None
