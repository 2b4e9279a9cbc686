"""Mounted at ``/api/ledger/``: the JSON API of the ledger (entries and anchors: anchoring's)."""

from django.urls import path

from ledger import views_api

app_name = "ledger-api"

urlpatterns = [
    path("logs", views_api.LogListView.as_view(), name="logs"),
    path("observers", views_api.ObserverListView.as_view(), name="observers"),
    path("<slug:log>/consistency", views_api.ConsistencyView.as_view(), name="consistency"),
    path("<slug:log>/cosignatures", views_api.CosignatureView.as_view(), name="cosignatures"),
]
