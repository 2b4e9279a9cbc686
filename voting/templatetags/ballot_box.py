"""Live turnout on the public pages: ballots that count, read from the box, in all and per
district (a city-wide election with one eligibility key per district), and over time (a chart
with its table)."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from django import template
from django.conf import settings

from civic import charts
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


@register.inclusion_tag("voting/_turnout_timeline.html")
def turnout_timeline(election: Election, chart_id: str = "turnout-timeline") -> dict[str, Any]:
    """Turnout over time (voting.selectors.ballot_box.turnout_timeline) as an SVG line of the
    ballots that count, with the same numbers in a table; nothing before the election opens."""
    timeline = ballot_box.cached_turnout_timeline(election)
    if timeline is None:
        return {"timeline": None}
    points = [charts.Point(timeline.start, 0)] + [
        charts.Point(bucket.end, bucket.counting) for bucket in timeline.buckets
    ]
    return {
        "election": election,
        "timeline": timeline,
        "chart": charts.time_chart(points, timeline.start, timeline.end, city_zone()),
        "chart_id": chart_id,
        "zone": city_zone(),
        "row_format": charts.time_label_format(
            timeline.bucket_seconds, (timeline.end - timeline.start).total_seconds()
        ),
        "is_open": election.state == Election.State.OPEN,
    }


def city_zone() -> ZoneInfo:
    return ZoneInfo(settings.CIVIC_TIME_ZONE)
