"""The officials' pages: the list of elections, writing and editing a draft, its preview as the
booth will show it, deleting it, and the lifecycle buttons (start the ceremony, cancel with a
reason, close early with a reason). HTTP only: every rule is in voting.services."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from civic.errors import DomainError
from civic.roles import Role, role_required
from voting.forms import (
    ProposalForm,
    QuestionForm,
    QuestionFormSet,
    ReasonForm,
    apply_errors,
    proposal_from_forms,
    question_initial,
)
from voting.markdown import render_markdown
from voting.models import Election
from voting.selectors import elections as selectors
from voting.selectors import tally as tally_selectors
from voting.services import authoring, lifecycle

PREFIX = "q"


def _election(slug: str) -> Election:
    election = selectors.election_by_slug(slug)
    if election is None:
        raise Http404("no such election")
    return election


@role_required(Role.OFFICIAL)
@require_GET
def official_elections(request: HttpRequest) -> HttpResponse:
    with timezone.override(authoring.city_zone()):
        return render(
            request,
            "voting/official_list.html",
            {
                "elections": selectors.official_elections(),
                "my_drafts": selectors.drafts_of(request.user),
                "zone": authoring.city_zone().key,
            },
        )


def _with_added_question(data: Any) -> Any:
    """The POSTed data with one more (blank) question form: the no-script "Add a question"."""
    data = data.copy()
    total = f"{PREFIX}-TOTAL_FORMS"
    count = int(data.get(total, "0")) if str(data.get(total, "0")).isdigit() else 0
    data[total] = str(min(count + 1, 64))
    # The new question starts as the form's initial type, so it shows no "required" refusal.
    data.setdefault(f"{PREFIX}-{count}-type", QuestionForm.base_fields["type"].initial)
    return data


def _editor(request: HttpRequest, election: Election | None) -> HttpResponse:
    """Create (election None) or edit a draft; the page shows every refusal next to its field."""
    editing = election is not None
    status = 200
    general: list[str] = []
    if request.method == "POST":
        adding = "add_question" in request.POST
        data = _with_added_question(request.POST) if adding else request.POST
        form = ProposalForm(data, editing=editing)
        formset = QuestionFormSet(data, prefix=PREFIX)
        if not adding and form.is_valid() and formset.is_valid():
            proposal = proposal_from_forms(form, formset, slug=election.slug if election else "")
            try:
                if election is None:
                    election = authoring.create_draft(request.user, proposal)
                    messages.success(request, _("The draft was saved. Nobody but officials can see it."))
                else:
                    authoring.update_draft(request.user, election, proposal)
                    messages.success(request, _("The draft was updated."))
                return redirect("voting:official-election", slug=election.slug)
            except DomainError as exc:
                general = apply_errors(form, formset, exc.detail)
                status = exc.status
        elif not adding:
            status = 400
    elif election is not None:
        proposal = authoring.proposal_of(election)
        form = ProposalForm(
            editing=True,
            initial={
                "title": proposal.title,
                "description": proposal.description,
                "district": proposal.district,
                "opens_at": proposal.opens_at,
                "closes_at": proposal.closes_at,
                "trustees": proposal.trustees,
                "threshold": proposal.threshold,
                "required_observer_reports": proposal.required_observer_reports,
            },
        )
        formset = QuestionFormSet(prefix=PREFIX, initial=[question_initial(q) for q in proposal.questions])
    else:
        form = ProposalForm()
        formset = QuestionFormSet(prefix=PREFIX, initial=[{"type": "yes_no_abstain"}])
    context = {"form": form, "formset": formset, "election": election, "question_errors": general}
    return render(request, "voting/official_form.html", context, status=status)


@role_required(Role.OFFICIAL)
@require_http_methods(["GET", "POST"])
def official_create(request: HttpRequest) -> HttpResponse:
    with timezone.override(authoring.city_zone()):
        return _editor(request, None)


@role_required(Role.OFFICIAL)
@require_http_methods(["GET", "POST"])
def official_edit(request: HttpRequest, slug: str) -> HttpResponse:
    election = _election(slug)
    if election.state != Election.State.DRAFT:
        messages.error(request, _("The manifest, the window and the trustees are fixed once the key ceremony has started."))
        return redirect("voting:official-election", slug=slug)
    with timezone.override(authoring.city_zone()):
        return _editor(request, election)


def _detail(request: HttpRequest, election: Election, *, errors: dict[str, str] | None = None, status: int = 200) -> HttpResponse:
    with timezone.override(authoring.city_zone()):
        manifest = election.manifest or {"contests": []}
        context = {
            "election": election,
            "description_html": render_markdown(election.description),
            "contests": manifest.get("contests", []),
            "trustees": selectors.trustee_list_json(election),
            "zone": authoring.city_zone().key,
            "errors": errors or {},
            "cancel_form": ReasonForm(prefix="cancel"),
            "close_form": ReasonForm(prefix="close"),
            "can_cancel": election.state in (Election.State.DRAFT, Election.State.CEREMONY, Election.State.SCHEDULED),
            "preview": True,
            "tally": tally_selectors.tally_of(election),
            "tally_shares": len(tally_selectors.shares_received(election)),
        }
        return render(request, "voting/official_detail.html", context, status=status)


@role_required(Role.OFFICIAL)
@require_GET
def official_election(request: HttpRequest, slug: str) -> HttpResponse:
    """The draft (or election) as the booth will show it, with the lifecycle buttons."""
    return _detail(request, _election(slug))


def _step(request: HttpRequest, slug: str, action: str, run: Any, done: str) -> HttpResponse:
    election = _election(slug)
    try:
        run(election)
    except DomainError as exc:
        detail = exc.detail
        message = " ".join(str(v) for v in detail.values()) if isinstance(detail, dict) else str(detail)
        election.refresh_from_db()
        return _detail(request, election, errors={action: str(message)}, status=exc.status)
    messages.success(request, done)
    return redirect("voting:official-election", slug=slug)


@role_required(Role.OFFICIAL)
@require_POST
def official_start_ceremony(request: HttpRequest, slug: str) -> HttpResponse:
    return _step(
        request, slug, "ceremony", lambda e: lifecycle.start_ceremony(request.user, e),
        _("The key ceremony has started: the manifest, the window and the trustees are now fixed."),
    )


@role_required(Role.OFFICIAL)
@require_POST
def official_cancel(request: HttpRequest, slug: str) -> HttpResponse:
    reason = request.POST.get("cancel-reason", "")
    return _step(request, slug, "cancel", lambda e: lifecycle.cancel(request.user, e, reason), _("The election was cancelled."))


@role_required(Role.OFFICIAL)
@require_POST
def official_close(request: HttpRequest, slug: str) -> HttpResponse:
    reason = request.POST.get("close-reason", "")
    return _step(request, slug, "close", lambda e: lifecycle.close_early(request.user, e, reason), _("The election was closed early."))


@role_required(Role.OFFICIAL)
@require_POST
def official_delete(request: HttpRequest, slug: str) -> HttpResponse:
    election = _election(slug)
    try:
        authoring.delete_draft(request.user, election)
    except DomainError as exc:
        return _detail(request, election, errors={"delete": str(exc.detail)}, status=exc.status)
    messages.success(request, _("The draft was deleted."))
    return redirect("voting:official-elections")
