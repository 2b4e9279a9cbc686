from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

from civic.l10n import city_zone
from civic.roles import Role, user_has_role


def site(request: HttpRequest) -> dict[str, object]:
    """City name, its time zone (pages show times in it) and the current user's roles."""
    user = getattr(request, "user", None)
    return {
        "city_name": settings.CIVIC_CITY_NAME,
        "city_time_zone": city_zone(),
        "user_roles": [role.value for role in Role if user_has_role(user, role)],
    }
