"""The tally's pages and API (mounted by voting.urls); GET /ballots is on the cast view's path."""

from django.urls import path

from voting import api_tally, views_tally

ELECTION_API = "api/voting/elections/<slug:slug>"

urlpatterns = [
    path("voting/<slug:slug>/decryption/", views_tally.decryption, name="decryption"),
    path("voting/<slug:slug>/results/", views_tally.results, name="results"),
    path(f"{ELECTION_API}/tally", api_tally.TallyView.as_view(), name="api-tally"),
    path(
        f"{ELECTION_API}/tally-shares", api_tally.TallySharesView.as_view(), name="api-tally-shares"
    ),
]
