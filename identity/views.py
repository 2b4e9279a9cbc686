"""Identity pages: the citizen's wallet and claim form, officials' queue and credential desk,
and the public page of the city's DID and status lists. Thin: all rules live in services."""

from __future__ import annotations

import json

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET, require_http_methods

from civic.errors import DomainError
from civic.roles import Role, role_required
from identity import forms, keys
from identity.selectors import claims as claim_selectors
from identity.selectors import credentials as credential_selectors
from identity.selectors import dids as did_selectors
from identity.selectors import status_lists as status_list_selectors
from identity.services import claims, credentials


def _error_text(exc: DomainError) -> str:
    """A translated sentence for the errors a page can meet; field details otherwise."""
    known = {
        "did_required": _("You need a DID first: create one in your wallet, then come back."),
        "conflict": _(
            "This cannot be done in the record's current state (it may already have been decided)."
        ),
        "not_found": _("This record does not exist."),
    }
    if exc.code in known:
        return f"{known[exc.code]} ({exc.detail})" if exc.code == "conflict" else known[exc.code]
    if isinstance(exc.detail, dict):
        return "; ".join(f"{field}: {message}" for field, message in exc.detail.items())
    return str(exc.detail)


@require_GET
def city_page(request: HttpRequest) -> HttpResponse:
    """Public: the city's DID, its document, and the status lists anyone can download."""
    document = keys.city_did_document()
    lists = [
        (row, status_list_selectors.status_list_url(row))
        for row in status_list_selectors.status_lists()
    ]
    return render(
        request,
        "identity/city.html",
        {
            "city_did": document["id"],
            "did_document": json.dumps(document, indent=2),
            "status_lists": lists,
        },
    )


def wallet_messages() -> dict[str, str]:
    """Translated texts the wallet script shows (it has no gettext of its own)."""
    return {
        "noLocalKey": _("This device holds no DID key. Create a DID or restore a backup."),
        "mismatch": _(
            "This device's DID is not the one bound to your account. Restore your backup or replace your DID."
        ),
        "confirmReplace": _(
            "Replace your DID? Credentials issued to the old DID will no longer work for voting."
        ),
        "bound": _("Your DID was created and bound to your account."),
        "exported": _("The encrypted backup was downloaded."),
        "restored": _("Your wallet was restored from the backup."),
        "working": _("Working…"),
        "tokenDone": _("Your voting token is stored in this browser."),
        "noCredential": _("You need an active residency credential for your current DID."),
        "noDistrictKey": _(
            "This election has no voting key for the district of your residency credential."
        ),
        "alreadyIssued": _(
            "You already received a voting token for this election, perhaps on another device. "
            "Restore that device's backup here to vote from this browser."
        ),
        "badBackup": _("The backup could not be opened: wrong passphrase, or not a wallet backup."),
        "error": _("Something went wrong:"),
        "none": _("none"),
    }


@ensure_csrf_cookie
@role_required(Role.CITIZEN)
@require_GET
def wallet(request: HttpRequest) -> HttpResponse:
    current = did_selectors.current_did(request.user)
    return render(
        request,
        "identity/wallet.html",
        {
            "current_did": current,
            "did_history": did_selectors.did_history(request.user),
            "claims": claim_selectors.claims_of(request.user),
            "credentials": credential_selectors.credentials_of(request.user),
            "usable_credential": credential_selectors.usable_credential(request.user),
            "messages_for_js": wallet_messages(),
            "verifier_domain": keys.verifier_domain(),
        },
    )


@role_required(Role.CITIZEN)
@require_GET
def download_credential(request: HttpRequest, pk: int) -> HttpResponse:
    issued = credential_selectors.credential_of(request.user, pk)
    if issued is None:
        raise Http404("no such credential")
    response = HttpResponse(
        json.dumps(issued.document, indent=2), content_type="application/vc+ld+json"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="residency-credential-{issued.pk}.json"'
    )
    return response


@role_required(Role.CITIZEN)
@require_http_methods(["GET", "POST"])
def claim_form(request: HttpRequest) -> HttpResponse:
    form = forms.ClaimForm(request.POST or None, request.FILES or None)
    current = did_selectors.current_did(request.user)
    if request.method == "POST" and form.is_valid():
        try:
            claims.submit_claim(
                request.user,
                legal_name=form.cleaned_data["legal_name"],
                address=form.cleaned_data["address"],
                district=form.cleaned_data["district"],
                document=form.cleaned_data.get("document"),
            )
        except DomainError as exc:
            form.add_error(None, _error_text(exc))
        else:
            messages.success(request, _("Your claim was sent. An official will review it."))
            return redirect("identity:wallet")
    status = 400 if form.errors else 200
    return render(
        request, "identity/claim.html", {"form": form, "current_did": current}, status=status
    )


@role_required(Role.OFFICIAL)
@require_GET
def review_queue(request: HttpRequest) -> HttpResponse:
    return render(request, "identity/review_queue.html", {"claims": claim_selectors.pending_claims()})


@role_required(Role.OFFICIAL)
@require_http_methods(["GET", "POST"])
def review_claim(request: HttpRequest, pk: int) -> HttpResponse:
    claim = claim_selectors.claim(pk)
    if claim is None:
        raise Http404("no such claim")
    form = forms.DecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            if form.cleaned_data["decision"] == "approve":
                credentials.approve_claim(pk, request.user, form.cleaned_data["reason"])
                messages.success(request, _("Claim approved; the credential was issued."))
            else:
                claims.reject_claim(pk, request.user, form.cleaned_data["reason"])
                messages.success(request, _("Claim rejected."))
        except DomainError as exc:
            form.add_error(None, _error_text(exc))
        else:
            return redirect("identity:review-queue")
    return render(
        request,
        "identity/review_claim.html",
        {"claim": claim, "form": form, "decisions": claim_selectors.decisions_for(claim)},
        status=400 if form.errors else 200,
    )


@role_required(Role.OFFICIAL)
@require_GET
def claim_document(request: HttpRequest, pk: int) -> HttpResponse:
    claim = claim_selectors.claim(pk)
    if claim is None or not claim.document:
        raise Http404("no document")
    response = FileResponse(claim.document.open("rb"), content_type=claim.document_content_type)
    response["Content-Disposition"] = f'attachment; filename="claim-{claim.pk}-document"'
    return response


@role_required(Role.OFFICIAL)
@require_http_methods(["GET", "POST"])
def manage_credentials(request: HttpRequest) -> HttpResponse:
    form = forms.StatusChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            credentials.change_credential_status(
                form.cleaned_data["credential"],
                request.user,
                form.cleaned_data["action"],
                form.cleaned_data["reason"],
            )
        except DomainError as exc:
            messages.error(request, _error_text(exc))
        else:
            messages.success(
                request, _("The credential's status was changed and the status list re-published.")
            )
        return redirect("identity:manage-credentials")
    if request.method == "POST":
        messages.error(request, _("Choose an action and give a reason."))
    return render(
        request,
        "identity/manage_credentials.html",
        {
            "credentials": credential_selectors.all_credentials()[:500],
            "actions": forms.StatusChangeForm.ACTIONS,
        },
        status=400 if request.method == "POST" else 200,
    )
