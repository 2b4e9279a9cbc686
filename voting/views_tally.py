"""The tally's pages: the decryption page (progress, trustees' shares, the trustee's command) and
the public results page. HTTP only: reads in voting.selectors.tally."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from civic.charts import bar_chart
from voting.models import Election
from voting.selectors import tally as selectors
from voting.selectors.elections import election_by_slug, is_public


def _public(slug: str) -> Election:
    election = election_by_slug(slug)
    if election is None or not is_public(election):
        raise Http404("no such election")
    return election


@require_GET
def decryption(request: HttpRequest, slug: str) -> HttpResponse:
    """For everyone: the frozen box, the aggregation's progress, which trustees have decrypted;
    for the election's trustee, the command that decrypts their share."""
    election = _public(slug)
    status = selectors.decryption_status(election)
    trustee = selectors.trustee_of(election, request.user)
    return render(
        request,
        "voting/decryption.html",
        {
            "election": election,
            "status": status,
            "tally": status.tally,
            "your_index": trustee.index if trustee else None,
            "your_share_sent": any(
                r["sent"] and trustee and r["index"] == trustee.index for r in status.roster
            ),
            "server": request.build_absolute_uri("/").rstrip("/"),
        },
    )


@require_GET
def results(request: HttpRequest, slug: str) -> HttpResponse:
    """Public once published (404 before): totals, turnout, charts with tables, the anchor, reports."""
    election = election_by_slug(slug)
    tally = selectors.tally_of(election) if election is not None else None
    if (
        election is None
        or election.state != Election.State.PUBLISHED
        or tally is None
        or tally.results is None
    ):
        raise Http404("no published results")
    questions = [
        {**q, "chart": bar_chart(q["options"], q["top"])}
        for q in selectors.results_view(election, tally)
    ]
    return render(
        request,
        "voting/results.html",
        {
            "election": election,
            "tally": tally,
            "questions": questions,
            "turnout": selectors.turnout_view(election, tally),
            "anchor": selectors.results_anchor(election, tally),
            "results_position": selectors.results_position(tally),
            "reports": selectors.observer_reports(election),
            "passing_observers": selectors.passing_observers(election),
            "verified": selectors.is_verified(election),
        },
    )
