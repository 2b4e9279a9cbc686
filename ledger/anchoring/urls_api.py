"""Mounted at ``/api/ledger/`` (before ``ledger.urls_api``): anchors, and entries with receipts."""

from django.urls import path

from ledger.anchoring import views

app_name = "anchoring-api"

urlpatterns = [
    path("anchors", views.AnchorListView.as_view(), name="anchors"),
    path("<slug:log>/entries/<int:index>", views.EntryByIndexView.as_view(), name="entry"),
    path(
        "<slug:log>/entries/by-hash/<str:leaf_hash>",
        views.EntryByHashView.as_view(),
        name="entry-by-hash",
    ),
]
