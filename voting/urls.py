from django.urls import path

from voting import api, urls_trustees, views

app_name = "voting"

urlpatterns = [
    path("voting/", views.election_list, name="elections"),
    path("voting/verify/", views.verify_receipt, name="verify-receipt"),
    path("voting/<slug:slug>/booth/", views.booth, name="booth"),
    path("api/voting/elections/<slug:slug>/context", api.ElectionContextView.as_view(), name="api-context"),
    path(
        "api/voting/elections/<slug:slug>/eligibility-key",
        api.EligibilityKeyView.as_view(),
        name="api-eligibility-key",
    ),
    path(
        "api/voting/elections/<slug:slug>/token-challenge",
        api.EligibilityChallengeView.as_view(),
        name="api-eligibility-challenge",
    ),
    path("api/voting/elections/<slug:slug>/tokens", api.EligibilityTokenView.as_view(), name="api-eligibility-tokens"),
]

# Trustees: credentials, the ceremony page and the ceremony API (voting/urls_trustees.py).
urlpatterns += urls_trustees.urlpatterns
