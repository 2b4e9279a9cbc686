"""Make every 4xx/5xx under /api/ (and other machine endpoints) a JSON body.

DRF views already answer in JSON; this catches what happens outside them: URL not found, CSRF
failure, method not allowed, a request body over the size limit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from http import HTTPStatus

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from civic.api import domain_error_response, json_error
from civic.errors import DomainError

logger = logging.getLogger(__name__)
# A client should wait this long before sending again when the database is unreachable.
UNAVAILABLE_RETRY_AFTER_S = 2

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
        if isinstance(exception, (OperationalError, InterfaceError)):
            return self.unavailable(request, exception)
        return None

    @staticmethod
    def unavailable(request: HttpRequest, exception: Exception) -> HttpResponse:
        """The database is unreachable (restarting, failing over): 503 with Retry-After, which
        is the truth, instead of a 500. The request stored nothing it could not roll back: each
        write is one transaction, and a cast sent again is answered with its receipt (§13)."""
        logger.warning("database unavailable for %s %s: %s", request.method, request.path,
                       type(exception).__name__)  # fmt: skip
        detail = _("The service is briefly unavailable (database unreachable); please try again.")
        if wants_json(request):
            response: HttpResponse = json_error("unavailable", detail, 503)
        else:
            response = HttpResponse(detail, status=503, content_type="text/plain; charset=utf-8")
        response["Retry-After"] = str(UNAVAILABLE_RETRY_AFTER_S)
        return response
