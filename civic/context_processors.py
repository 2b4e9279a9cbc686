from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

from civic.roles import Role, user_has_role


def site(request: HttpRequest) -> dict[str, object]:
    """City name and the current user's roles, for the navigation."""
    user = getattr(request, "user", None)
    return {
        "city_name": settings.CIVIC_CITY_NAME,
        "user_roles": [role.value for role in Role if user_has_role(user, role)],
    }
