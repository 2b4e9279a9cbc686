"""Site pages of the platform layer: home, sign-up, role dashboards, health."""

from __future__ import annotations

from django.contrib.auth import login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from civic.forms import SignUpForm
from civic.roles import Role, role_required
from civic.selectors import platform_health
from civic.services import create_user_with_role


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "civic/home.html")


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("home")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = create_user_with_role(
            username=form.cleaned_data["username"],
            email=form.cleaned_data["email"],
            password=form.cleaned_data["password1"],
            role=Role.CITIZEN,
        )
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("citizen-home")
    return render(request, "registration/signup.html", {"form": form}, status=400 if form.errors else 200)


@role_required(Role.CITIZEN)
def citizen_home(request: HttpRequest) -> HttpResponse:
    return render(request, "civic/role_home.html", {"role": Role.CITIZEN})


@role_required(Role.OFFICIAL)
def official_home(request: HttpRequest) -> HttpResponse:
    return render(request, "civic/role_home.html", {"role": Role.OFFICIAL})


@role_required(Role.TRUSTEE)
def trustee_home(request: HttpRequest) -> HttpResponse:
    return render(request, "civic/role_home.html", {"role": Role.TRUSTEE})


@role_required(Role.OBSERVER)
def observer_home(request: HttpRequest) -> HttpResponse:
    return render(request, "civic/role_home.html", {"role": Role.OBSERVER})


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when every critical dependency answers, else 503 naming the ones that failed.

    Non-critical components (the anchoring chain) are reported under "degraded" only.
    """
    components = platform_health()
    failing = sorted(name for name, health in components.items() if not health.ok and health.critical)
    degraded = sorted(name for name, health in components.items() if not health.ok and not health.critical)
    body = {
        "status": "ok" if not failing else "unavailable",
        "failing": failing,
        "degraded": degraded,
        "components": {name: health.as_dict() for name, health in components.items()},
    }
    return JsonResponse(body, status=503 if failing else 200)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "403.html", {"reason": str(exception or "")}, status=403)
