"""Template filters for dates and numbers in the active language and the city's time zone."""

from __future__ import annotations

from datetime import datetime

from django import template

from civic import l10n

register = template.Library()


@register.filter
def city_datetime(value: datetime | None) -> str:
    """``{{ election.opens_at|city_datetime }}``: localized date and time in CIVIC_TIME_ZONE."""
    return l10n.city_datetime(value)


@register.filter
def grouped(value: int | float | None) -> str:
    """``{{ count|grouped }}``: digit grouping of the active language."""
    return l10n.grouped(value)
