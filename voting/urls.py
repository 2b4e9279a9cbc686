from django.urls import path

from voting import api, views

app_name = "voting"

urlpatterns = [
    path("voting/", views.election_list, name="elections"),
    path("voting/verify/", views.verify_receipt, name="verify-receipt"),
    path("voting/<slug:slug>/booth/", views.booth, name="booth"),
    path("api/voting/elections/<slug:slug>/context", api.ElectionContextView.as_view(), name="api-context"),
]
