"""Mounted at ``/ledger/``: the public page and the C2SP tlog-tiles read side of every log."""

from django.urls import path

from ledger import views_tiles

app_name = "ledger"

urlpatterns = [
    path("", views_tiles.ledger_index, name="index"),
    path("<slug:log>/checkpoint", views_tiles.checkpoint, name="checkpoint"),
    path("<slug:log>/tile/<path:tile_path>", views_tiles.tile, name="tile"),
]
