"""Only the anchoring API, mounted where civic/urls.py mounts it (``api/ledger/``); keeps the
anchoring tests independent of the other apps' URL modules."""

from django.urls import include, path

urlpatterns = [path("api/ledger/", include("ledger.anchoring.urls_api"))]
