"""Only the anchors API, mounted where the lead mounts it (``api/ledger/anchors``); keeps the
anchoring tests independent of the other apps' URL modules."""

from django.urls import include, path

urlpatterns = [path("api/ledger/anchors", include("ledger.anchoring.urls"))]
