"""Trustee pages and the key ceremony API (mounted by voting.urls)."""

from django.urls import path

from voting import api_ceremony, views_credentials, views_trustees

CEREMONY_API = "api/voting/elections/<slug:slug>/ceremony"

urlpatterns = [
    path("trustee/credentials/", views_credentials.trustee_credentials, name="trustee-credentials"),
    path("voting/<slug:slug>/ceremony/", views_trustees.ceremony, name="ceremony"),
    path("voting/<slug:slug>/ceremony/upload/", views_trustees.ceremony_upload, name="ceremony-upload"),
    path(CEREMONY_API, api_ceremony.CeremonyStateView.as_view(), name="api-ceremony"),
    path(f"{CEREMONY_API}/manifest", api_ceremony.CeremonyManifestView.as_view(), name="api-ceremony-manifest"),
    path(f"{CEREMONY_API}/messages", api_ceremony.CeremonyMessagesView.as_view(), name="api-ceremony-messages"),
    path(
        f"{CEREMONY_API}/messages/<str:kind>/<int:index>",
        api_ceremony.CeremonyMessageView.as_view(),
        name="api-ceremony-message",
    ),
]
