"""The ballot box's API and the public tracking page (mounted by voting.urls)."""

from django.urls import path

from voting import api_ballot_box, views_tracking

BALLOTS = "api/voting/elections/<slug:slug>/ballots"

urlpatterns = [
    path(BALLOTS, api_ballot_box.cast_view, name="api-ballots"),
    path(f"{BALLOTS}/spoiled", api_ballot_box.spoil_view, name="api-ballots-spoiled"),
    path(f"{BALLOTS}/<str:tracking_code>", api_ballot_box.TrackView.as_view(), name="api-ballot"),
    path(
        "api/voting/elections/<slug:slug>/turnout",
        api_ballot_box.TurnoutView.as_view(),
        name="api-turnout",
    ),
    path("voting/<slug:slug>/track/", views_tracking.track, name="track"),
]
