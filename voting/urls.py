from django.urls import path

from voting import (
    api,
    api_officials,
    urls_ballot_box,
    urls_tally,
    urls_trustees,
    views,
    views_credentials,
    views_officials,
)

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
    # Officials (issue 10): proposals and the lifecycle, pages and JSON API.
    path("voting/official/", views_officials.official_elections, name="official-elections"),
    path("voting/official/new/", views_officials.official_create, name="official-create"),
    path("voting/official/credentials/", views_credentials.official_credentials, name="official-credentials"),
    path("voting/official/<slug:slug>/", views_officials.official_election, name="official-election"),
    path("voting/official/<slug:slug>/edit/", views_officials.official_edit, name="official-edit"),
    path("voting/official/<slug:slug>/delete/", views_officials.official_delete, name="official-delete"),
    path("voting/official/<slug:slug>/ceremony/", views_officials.official_start_ceremony, name="official-ceremony"),
    path("voting/official/<slug:slug>/cancel/", views_officials.official_cancel, name="official-cancel"),
    path("voting/official/<slug:slug>/close/", views_officials.official_close, name="official-close"),
    path("api/voting/official/elections", api_officials.OfficialElectionsView.as_view(), name="api-official-elections"),
    path("api/voting/official/elections/<slug:slug>", api_officials.OfficialElectionView.as_view(), name="api-official-election"),
    path(
        "api/voting/official/elections/<slug:slug>/<str:step>",
        api_officials.OfficialStepView.as_view(),
        name="api-official-step",
    ),
]

# Trustees: credentials, the ceremony page and the ceremony API (voting/urls_trustees.py).
urlpatterns += urls_trustees.urlpatterns

# Ballot box (issue 11): casting, spoiling, tracking, turnout (voting/urls_ballot_box.py).
urlpatterns += urls_ballot_box.urlpatterns

# The tally (issue 12): decryption page and API, results page (voting/urls_tally.py).
urlpatterns += urls_tally.urlpatterns
