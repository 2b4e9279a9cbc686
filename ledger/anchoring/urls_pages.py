"""Mounted at ``/ledger/`` (beside ``ledger.urls_tiles``): the public ledger page."""

from django.urls import path

from ledger.anchoring import views

app_name = "anchoring"

urlpatterns = [path("", views.ledger_page, name="ledger-page")]
