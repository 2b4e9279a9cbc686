"""Live turnout on the public pages: ballots that count, read from the box, in all and per
district (a city-wide election with one eligibility key per district)."""

from __future__ import annotations

from typing import Any

from django import template

from voting.models import Election
from voting.selectors import ballot_box

register = template.Library()


@register.filter
def counting_ballots(election: Election) -> int:
    """Ballot keys with a current ballot in this election (one query on a partial index)."""
    return ballot_box.counting_ballots(election)


@register.simple_tag
def turnout_of(election: Election) -> dict[str, Any]:
    """The election's turnout (voting.selectors.ballot_box.turnout), for ``{% turnout_of e as t %}``."""
    return ballot_box.turnout(election)


@register.filter
def district_rows(turnout: dict[str, Any]) -> list[dict[str, Any]]:
    """The per-district rows worth showing: none for a one-key election (its one row is the total)."""
    rows = turnout.get("districts") or []
    return rows if any(row["district"] is not None for row in rows) else []
