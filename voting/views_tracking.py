"""The public tracking page: anyone enters a tracking code and sees what became of that ballot.
HTTP only: the reads are voting.selectors.ballot_box."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from voting.selectors import ballot_box as box
from voting.selectors import elections as selectors

MAX_CODE_CHARS = 64


def status_text(status: str) -> str:
    return {
        "counting": _("Cast and counting: this is the ballot that counts for its ballot key."),
        "superseded": _("Cast, then superseded by a later ballot under the same ballot key: it is not counted."),
        "spoiled": _("Challenged (spoiled): it was opened for an audit and is never counted."),
    }[status]


@require_GET
def track(request: HttpRequest, slug: str) -> HttpResponse:
    """GET ?code=<tracking code>: the ballot's status, log position, witnessed checkpoint and anchor."""
    election = selectors.election_by_slug(slug)
    if election is None or not selectors.is_public(election):
        raise Http404("no such election")
    code = request.GET.get("code", "")[:MAX_CODE_CHARS].strip()
    context: dict[str, Any] = {"election": election, "code": code, "turnout": box.turnout(election)}
    if code:
        if box.normalize_tracking_code(code) is None:
            context["error"] = _("A tracking code is 24 letters A–Z and digits 2–7, in groups of four.")
        else:
            ballot = box.ballot_by_tracking_code(election, code)
            if ballot is None:
                context["error"] = _("No ballot with this tracking code is in this election's box.")
            else:
                view = box.tracking_view(ballot)
                context["ballot"] = view
                context["status_text"] = status_text(view["status"])
    return render(request, "voting/track.html", context)
