"""Mounted at ``/ledger/``: the C2SP tlog-tiles read side of every log (the page: anchoring's)."""

from django.urls import path

from ledger import views_tiles

app_name = "ledger"

urlpatterns = [
    path("<slug:log>/checkpoint", views_tiles.checkpoint, name="checkpoint"),
    path("<slug:log>/tile/<path:tile_path>", views_tiles.tile, name="tile"),
]
