"""Read use cases of voting."""

from __future__ import annotations

from django.db.models import QuerySet

from voting.models import Election


def open_elections() -> QuerySet[Election]:
    return Election.objects.filter(state=Election.State.OPEN)


def election_by_slug(slug: str) -> Election | None:
    return Election.objects.filter(slug=slug).first()
