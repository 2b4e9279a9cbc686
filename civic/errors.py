"""The platform's one domain error: every app's errors extend it, one handler answers them.

A use case raises a :class:`DomainError` subclass; the DRF exception handler
(``civic.api.json_exception_handler``) and, for plain Django views, ``JsonApiErrorMiddleware``
turn it into the JSON error shape ``{"error": code, "detail": detail, "status": status}``.
Pages catch it and show ``detail`` next to the form instead.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A request a use case cannot honour. ``code`` is the machine code, ``status`` the HTTP one.

    ``detail`` is a human sentence, or a mapping of field name to message for form-like input.
    """

    code = "invalid"
    status = 400

    def __init__(self, detail: Any) -> None:
        super().__init__(str(detail))
        self.detail = detail

    @property
    def headers(self) -> dict[str, str]:
        """HTTP headers the answer carries (e.g. ``Retry-After`` of a rate limit)."""
        return {}


class InvalidInput(DomainError):
    code = "invalid"


class NotFound(DomainError):
    code, status = "not_found", 404


class Conflict(DomainError):
    code, status = "conflict", 409


class PayloadTooLarge(DomainError):
    code, status = "payload_too_large", 413
