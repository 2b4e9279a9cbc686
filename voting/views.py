"""Voting pages: the list of elections, the booth, and the receipt check. HTTP only."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from civic.roles import Role, user_has_role
from identity.services import presentations
from voting.markdown import render_markdown
from voting.selectors import elections as selectors
from voting.services.authoring import city_zone


def booth_messages() -> dict[str, str]:
    """Texts the booth's JavaScript shows, translated on the server."""
    return {
        "encrypting": _("Encrypting your ballot on this device…"),
        "encrypted": _("Your ballot is encrypted."),
        "not_encrypted": _("Your ballot could not be encrypted:"),
        "whole_number": _("Points must be whole numbers of 0 or more."),
        "auditing": _("Opening the audited ballot…"),
        "audited": _("Audit finished."),
        "audit_ok": _("The device encrypted exactly the choices shown below."),
        "audit_bad": _("Warning: the device did not encrypt your choices. Do not use it to vote."),
    }


def receipt_messages() -> dict[str, str]:
    return {
        "not_json": _("This is not a JSON receipt:"),
        "published_check": _("published by this city"),
        "not_published": _("this election context was not published here"),
        "valid": _("The receipt is valid. Tracking code:"),
        "invalid": _("The receipt is NOT valid: see the failed checks."),
    }


@require_GET
def election_list(request: HttpRequest) -> HttpResponse:
    """Elections past their key ceremony, windows in the city's time zone. A citizen with a
    residency credential sees their district's and the city-wide ones (``?all=1``: every one)."""
    district = presentations.residency_district(request.user) if user_has_role(request.user, Role.CITIZEN) else None
    show_all = request.GET.get("all") == "1"
    elections = selectors.elections_for_district(None if show_all else district)
    zone = city_zone()
    with timezone.override(zone):
        return render(
            request,
            "voting/elections.html",
            {"elections": elections, "district": district, "show_all": show_all, "zone": zone.key},
        )


@require_GET
def booth(request: HttpRequest, slug: str) -> HttpResponse:
    """The booth: choices are encrypted in a Web Worker on the voter's device, never sent in clear."""
    election = selectors.election_by_slug(slug)
    if election is None or not selectors.is_public(election):
        raise Http404("no such election")
    return render(
        request,
        "voting/booth.html",
        {
            "election": election,
            "description_html": render_markdown(election.description),
            "contests": election.context["manifest"]["contests"],
            "booth_messages": booth_messages(),
        },
    )


@require_GET
def verify_receipt(request: HttpRequest) -> HttpResponse:
    """Check a ballot receipt's proofs in the browser, against the contexts this city published."""
    contexts = {e.context["extended_hash"]: e.title for e in selectors.public_elections()}
    return render(
        request,
        "voting/verify_receipt.html",
        {"published_contexts": contexts, "receipt_messages": receipt_messages()},
    )
