"""Mounted at ``/api/ledger/``: the JSON API of the ledger."""

from django.urls import path

from ledger import views_api

app_name = "ledger-api"

urlpatterns = [
    path("logs", views_api.LogListView.as_view(), name="logs"),
    path("observers", views_api.ObserverListView.as_view(), name="observers"),
    path("<slug:log>/entries/<int:index>", views_api.EntryByIndexView.as_view(), name="entry"),
    path(
        "<slug:log>/entries/by-hash/<str:leaf_hash>",
        views_api.EntryByHashView.as_view(),
        name="entry-by-hash",
    ),
    path("<slug:log>/consistency", views_api.ConsistencyView.as_view(), name="consistency"),
    path("<slug:log>/cosignatures", views_api.CosignatureView.as_view(), name="cosignatures"),
]
