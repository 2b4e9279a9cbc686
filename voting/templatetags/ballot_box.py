"""Live turnout on the public pages: ballots that count, read from the box."""

from __future__ import annotations

from django import template

from voting.models import Election
from voting.selectors import ballot_box

register = template.Library()


@register.filter
def counting_ballots(election: Election) -> int:
    """Ballot keys with a current ballot in this election (one query on a partial index)."""
    return ballot_box.turnout(election)["counting"]
