"""The API-credential pages of trustees (/trustee/credentials/) and officials
(/voting/official/credentials/): one view, one form, one template, one service
(voting.services.api_credentials), a parameter for what differs (the role, the program the
credential is for, the trustee's ceremonies). The token is shown in one answer only."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from civic.errors import DomainError
from civic.roles import Role, role_required
from voting.forms_trustees import CredentialForm
from voting.models import Election, ElectionTrustee
from voting.services import api_credentials as credentials


def _credentials_page(request: HttpRequest, *, page: str, url_name: str, extra: dict[str, Any]) -> HttpResponse:
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
            return redirect(url_name)
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
    response = render(
        request,
        "voting/api_credentials.html",
        {
            "page": page,
            "form": form,
            "credentials": credentials.credentials_of(request.user),
            "new_token": new_token,
            "server": request.build_absolute_uri("/").rstrip("/"),
            **extra,
        },
        status=status,
    )
    response["Cache-Control"] = "no-store"  # the token must not stay in a cache
    return response


@role_required(Role.TRUSTEE)
@require_http_methods(["GET", "POST"])
def trustee_credentials(request: HttpRequest) -> HttpResponse:
    """The trustee's page: their ceremonies and the trustee program's credentials."""
    seats = (
        ElectionTrustee.objects.filter(user=request.user)
        .exclude(election__state=Election.State.DRAFT)
        .select_related("election")
        .order_by("-election__created_at")
    )
    return _credentials_page(
        request, page="trustee", url_name="voting:trustee-credentials", extra={"seats": list(seats)}
    )


@role_required(Role.OFFICIAL)
@require_http_methods(["GET", "POST"])
def official_credentials(request: HttpRequest) -> HttpResponse:
    """The official's credentials for scripts against the officials' JSON API."""
    return _credentials_page(request, page="official", url_name="voting:official-credentials", extra={})
