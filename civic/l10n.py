"""Language and time zone of the pages: the city's zone (settings.CIVIC_TIME_ZONE) and dates and
numbers formatted for the active language (Django's locale formats for en, nb and es).

Pages show times in the city's zone whatever the server's TIME_ZONE (UTC, which the JSON API and
the stored values keep); the language comes from LocaleMiddleware (the session's choice made on
the switcher, else the browser's Accept-Language, else settings.LANGUAGE_CODE).
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import formats, timezone


@lru_cache(maxsize=8)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def city_zone() -> ZoneInfo:
    """The city's IANA time zone (settings.CIVIC_TIME_ZONE)."""
    return _zone(settings.CIVIC_TIME_ZONE)


def city_datetime(value: datetime | None) -> str:
    """An aware datetime in the city's zone, in the active language's DATETIME_FORMAT, followed by
    the zone's abbreviation (CET, CEST…): "7. desember 2026 16:40 CET" in Norwegian."""
    if value is None:
        return ""
    local = timezone.localtime(value, city_zone())
    return f"{formats.date_format(local, 'DATETIME_FORMAT')} {local.tzname()}"


def grouped(value: int | float | None) -> str:
    """A number with the active language's digit grouping: 12,345 (en), 12 345 (nb and es, a no-break space)."""
    if value is None:
        return ""
    return formats.number_format(value, force_grouping=True)
