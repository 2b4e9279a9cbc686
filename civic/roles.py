"""The four roles of the platform, as Django groups, and the checks views use.

A user may hold several roles. Roles are groups (not flags on the user) so a city can see and
change them in the admin, and each group carries the permission that names the role.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from rest_framework.permissions import BasePermission


class Role(StrEnum):
    CITIZEN = "citizen"
    OFFICIAL = "official"
    TRUSTEE = "trustee"
    OBSERVER = "observer"


# Role -> permission codename (declared on civic.models.RoleGrant).
ROLE_PERMISSIONS: dict[Role, str] = {
    Role.CITIZEN: "act_as_citizen",
    Role.OFFICIAL: "act_as_official",
    Role.TRUSTEE: "act_as_trustee",
    Role.OBSERVER: "act_as_observer",
}


def user_has_role(user: Any, role: Role | str) -> bool:
    """True when the (authenticated, active) user holds the role's permission."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return user.has_perm(f"civic.{ROLE_PERMISSIONS[Role(role)]}")


def role_required(role: Role) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """View decorator: anonymous users go to log-in, users without the role get 403."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not user_has_role(request.user, role):
                raise PermissionDenied(f"This page is for the {role.value} role.")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


class _HasRole(BasePermission):
    role: Role
    message = "This endpoint requires a role you do not hold."

    def has_permission(self, request: Any, view: Any) -> bool:
        return user_has_role(request.user, self.role)


class IsCitizen(_HasRole):
    role = Role.CITIZEN
    message = "This endpoint is for citizens."


class IsOfficial(_HasRole):
    role = Role.OFFICIAL
    message = "This endpoint is for city officials."

