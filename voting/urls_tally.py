"""The tally's pages and API (mounted by voting.urls); GET /ballots is on the cast view's path."""

from django.urls import path

from voting import api_record, api_tally, views_tally

ELECTION_API = "api/voting/elections/<slug:slug>"

urlpatterns = [
    path("voting/<slug:slug>/decryption/", views_tally.decryption, name="decryption"),
    path("voting/<slug:slug>/results/", views_tally.results, name="results"),
    path(f"{ELECTION_API}/tally", api_tally.TallyView.as_view(), name="api-tally"),
    path(
        f"{ELECTION_API}/tally-shares", api_tally.TallySharesView.as_view(), name="api-tally-shares"
    ),
    path(f"{ELECTION_API}/record", api_record.RecordView.as_view(), name="api-record"),
    path(f"{ELECTION_API}/record.zip", api_record.RecordZipView.as_view(), name="api-record-zip"),
    path(
        f"{ELECTION_API}/audit-reports",
        api_record.AuditReportsView.as_view(),
        name="api-audit-reports",
    ),
    path(
        f"{ELECTION_API}/audit-reports/<int:report_id>",
        api_record.AuditReportView.as_view(),
        name="api-audit-report",
    ),
]
