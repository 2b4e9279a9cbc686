"""The public ceremony page with the trustee's air-gap upload of each round's JSON file (the
trustee's credentials page is voting.views_credentials). HTTP only: use cases in services."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from civic.errors import DomainError
from civic.roles import Role, role_required
from voting.forms_trustees import CeremonyUploadForm
from voting.models import CeremonyMessage, Election
from voting.selectors import ceremony as selectors
from voting.selectors.elections import election_by_slug
from voting.services import ceremony as ceremony_services


def _ceremony_page(
    request: HttpRequest, election: Election, form: CeremonyUploadForm | None, status: int = 200
) -> HttpResponse:
    index = selectors.trustee_index_of(election, request.user)
    status_ = selectors.ceremony_status(election)
    return render(
        request,
        "voting/ceremony.html",
        {
            "election": election,
            "status": status_,
            # The round's name in the reader's language, not its protocol code.
            "round_label": CeremonyMessage.Kind(status_["round"]).label if status_["round"] else "",
            "your_index": index,
            "form": form or (CeremonyUploadForm() if index is not None else None),
            "server": request.build_absolute_uri("/").rstrip("/"),
        },
        status=status,
    )


def _public_election(slug: str) -> Election:
    election = election_by_slug(slug)
    if election is None or election.state == Election.State.DRAFT:
        raise Http404("no such ceremony")
    return election


@require_GET
def ceremony(request: HttpRequest, slug: str) -> HttpResponse:
    """For everyone: who has done which round, the complaints and verdicts, the joint key."""
    return _ceremony_page(request, _public_election(slug), None)


@role_required(Role.TRUSTEE)
@require_POST
def ceremony_upload(request: HttpRequest, slug: str) -> HttpResponse:
    """The air gap: a message made offline by the file commands, uploaded by its trustee."""
    election = _public_election(slug)
    form = CeremonyUploadForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            submission = ceremony_services.submit_message(
                slug=election.slug, user=request.user, document=form.cleaned_data["message"]
            )
        except DomainError as exc:
            form.add_error("message", str(exc.detail))
        else:
            if submission.created:
                messages.success(request, _("Your %(kind)s message was checked and stored.") % {"kind": submission.message.get_kind_display()})
            else:
                messages.info(request, _("The server already holds exactly this message."))
            return redirect("voting:ceremony", slug=election.slug)
    election.refresh_from_db()
    return _ceremony_page(request, election, form, status=400)
