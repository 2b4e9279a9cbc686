"""Mounted by the lead at ``api/ledger/anchors``."""

from django.urls import path

from ledger.anchoring.views import AnchorListView

urlpatterns = [path("", AnchorListView.as_view(), name="ledger-anchors")]
