"""DRF authentication for programs acting for an account: ``Authorization: Bearer <key_id>.<secret>``.

The credential (voting.services.api_credentials) authenticates the account only; each view's
permission classes (IsTrustee, IsOfficial) decide what it may do. A revoked, unknown or malformed
credential is refused with 401, never treated as anonymous. Requests without the header fall
through to the next class (the session, which enforces CSRF); a bearer request needs no CSRF
token, as the browser never sends the header by itself.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from civic.roles import Role, user_has_role
from voting.services.api_credentials import authenticate_token

MAX_HEADER = 512


class ApiTokenAuthentication(BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        header = get_authorization_header(request)
        if not header:
            return None
        if len(header) > MAX_HEADER:
            raise AuthenticationFailed("the Authorization header is too long")
        parts = header.split()
        if parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) != 2:
            raise AuthenticationFailed("expected Authorization: Bearer <key id>.<secret>")
        try:
            token = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise AuthenticationFailed("the credential must be ASCII") from None
        credential, why = authenticate_token(token)
        if credential is None:
            raise AuthenticationFailed(why)
        return credential.user, credential

    def authenticate_header(self, request: Request) -> str:
        return f'{self.keyword} realm="civic"'


class IsTrustee(BasePermission):
    message = "This endpoint is for trustees."

    def has_permission(self, request: Any, view: Any) -> bool:
        return user_has_role(request.user, Role.TRUSTEE)


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """The credential in the OpenAPI document (registered when this module is imported)."""

    target_class = "voting.authentication.ApiTokenAuthentication"
    name = "apiCredential"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "<key id>.<secret> (an API credential of a trustee or official account)",
            "description": "Made on the account's own page (/trustee/credentials/ or "
            "/voting/official/credentials/), shown once. It authenticates the account; each "
            "endpoint's role (trustee or official) still applies. No CSRF token is needed.",
        }
