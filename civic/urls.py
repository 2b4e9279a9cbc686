"""Top-level URL map. Each app owns its own url modules; this file only mounts them."""

from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from civic import views

handler403 = "civic.views.permission_denied"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/signup/", views.signup, name="signup"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("citizen/", views.citizen_home, name="citizen-home"),
    path("official/", views.official_home, name="official-home"),
    path("trustee/", views.trustee_home, name="trustee-home"),
    path("observer/", views.observer_home, name="observer-home"),
    path("", include("identity.urls")),
    path("", include("voting.urls")),
    path("ledger/", include("ledger.anchoring.urls_pages")),
    path("ledger/", include("ledger.urls_tiles")),
    path("api/ledger/", include("ledger.anchoring.urls_api")),
    path("api/ledger/", include("ledger.urls_api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its start-up script as a file (script-src 'self'); Swagger UI's own
    # inline styles are allowed on this page only.
    path(
        "api/docs/",
        csp_update({"style-src": [UNSAFE_INLINE]})(
            SpectacularSwaggerSplitView.as_view(url_name="api-schema")
        ),
        name="api-docs",
    ),
    path("admin/", admin.site.urls),
]
