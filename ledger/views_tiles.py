"""The C2SP tlog-tiles read side (``/ledger/<log>/checkpoint``, ``/ledger/<log>/tile/...``).

Plain Django views: generic transparency-log clients fetch raw bytes. Errors are raised and
answered by the platform's one handler (``civic.middleware``); the public ledger page, which
also lists blockchain anchors, is ``ledger.anchoring.views.ledger_page``.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from civic_tlog import tiles
from ledger import selectors
from ledger.errors import MalformedTilePath, NoCheckpoint

IMMUTABLE = "public, max-age=31536000, immutable"
FRESH = "no-cache"


@require_GET
def checkpoint(request: HttpRequest, log: str) -> HttpResponse:
    """The latest signed checkpoint with every cosignature collected so far."""
    ledger_log = selectors.get_log(log)
    latest = selectors.latest_checkpoint(ledger_log)
    if latest is None:
        raise NoCheckpoint(f"log {log!r} has not signed a checkpoint yet")
    response = HttpResponse(
        selectors.checkpoint_note(latest), content_type="text/plain; charset=utf-8"
    )
    response["Cache-Control"] = FRESH
    return response


@require_GET
def tile(request: HttpRequest, log: str, tile_path: str) -> HttpResponse:
    """A hash tile or entry bundle; malformed paths are 400, tiles past the tree are 404."""
    try:
        wanted = tiles.parse_tile_path(f"tile/{tile_path}")
    except tiles.TileError as error:
        raise MalformedTilePath(str(error)) from error
    ledger_log = selectors.get_log(log)
    width = wanted.width if wanted.is_partial else None
    if wanted.is_entries:
        data = selectors.entry_bundle(ledger_log, wanted.index, width)
    else:
        data = selectors.hash_tile(ledger_log, wanted.level or 0, wanted.index, width)
    response = HttpResponse(data, content_type="application/octet-stream")
    response["Cache-Control"] = FRESH if wanted.is_partial else IMMUTABLE
    return response
