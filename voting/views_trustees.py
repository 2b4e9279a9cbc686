"""Trustee pages: API credentials (create, shown once; revoke), and the public ceremony page with
the trustee's air-gap upload of each round's JSON file. HTTP only: use cases in services."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from civic.errors import DomainError
from civic.roles import Role, role_required
from voting.forms_trustees import CeremonyUploadForm, CredentialForm
from voting.models import CeremonyMessage, Election, ElectionTrustee
from voting.selectors import ceremony as selectors
from voting.selectors.elections import election_by_slug
from voting.services import ceremony as ceremony_services
from voting.services import trustee_credentials as credentials


@role_required(Role.TRUSTEE)
@require_http_methods(["GET", "POST"])
def trustee_credentials(request: HttpRequest) -> HttpResponse:
    """Create (the token is shown in this one answer, never again) or revoke a credential."""
    form = CredentialForm()
    new_token = ""
    status = 200
    if request.method == "POST":
        if request.POST.get("action") == "revoke":
            try:
                credentials.revoke_credential(request.user, request.POST.get("key_id", "")[:32])
                messages.success(request, _("The credential was revoked."))
            except DomainError as exc:
                messages.error(request, str(exc.detail))
            return redirect("voting:trustee-credentials")
        form = CredentialForm(request.POST)
        if form.is_valid():
            try:
                created = credentials.create_credential(request.user, form.cleaned_data["label"])
                new_token = created.token
                form = CredentialForm()
            except DomainError as exc:
                form.add_error("label", str(exc.detail))
        if form.errors:
            status = 400
    elections = (
        ElectionTrustee.objects.filter(user=request.user)
        .exclude(election__state=Election.State.DRAFT)
        .select_related("election")
        .order_by("-election__created_at")
    )
    response = render(
        request,
        "voting/trustee_credentials.html",
        {
            "form": form,
            "credentials": credentials.credentials_of(request.user),
            "new_token": new_token,
            "seats": list(elections),
            "server": request.build_absolute_uri("/").rstrip("/"),
        },
        status=status,
    )
    response["Cache-Control"] = "no-store"  # the token must not stay in a cache
    return response


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
