"""The C2SP tlog-tiles read side (``/ledger/<log>/checkpoint``, ``/ledger/<log>/tile/...``) and
the public ledger page. Plain Django views: generic transparency-log clients fetch raw bytes."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from civic.api import json_error
from civic_tlog import tiles
from ledger import selectors
from ledger.services import LedgerError

IMMUTABLE = "public, max-age=31536000, immutable"
FRESH = "no-cache"


def ledger_error(error: LedgerError) -> JsonResponse:
    return json_error(error.code, error.detail, error.status)


@require_GET
def checkpoint(request: HttpRequest, log: str) -> HttpResponse:
    """The latest signed checkpoint with every cosignature collected so far."""
    try:
        ledger_log = selectors.get_log(log)
    except LedgerError as error:
        return ledger_error(error)
    latest = selectors.latest_checkpoint(ledger_log)
    if latest is None:
        return json_error("no_checkpoint", f"log {log!r} has not signed a checkpoint yet", 404)
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
        return json_error("malformed_tile_path", str(error), 400)
    try:
        ledger_log = selectors.get_log(log)
        width = wanted.width if wanted.is_partial else None
        if wanted.is_entries:
            data = selectors.entry_bundle(ledger_log, wanted.index, width)
        else:
            data = selectors.hash_tile(ledger_log, wanted.level or 0, wanted.index, width)
    except LedgerError as error:
        return ledger_error(error)
    response = HttpResponse(data, content_type="application/octet-stream")
    response["Cache-Control"] = FRESH if wanted.is_partial else IMMUTABLE
    return response


@require_GET
def ledger_index(request: HttpRequest) -> HttpResponse:
    """Each log with its size, latest witnessed checkpoint and blockchain anchors."""
    from ledger.anchoring.selectors import anchor_as_dict, anchors

    recent_anchors = [anchor_as_dict(item) for item in anchors()[:20]]
    return render(
        request,
        "ledger/index.html",
        {
            "summaries": selectors.log_summaries(),
            "observers": selectors.active_observers(),
            "anchors": recent_anchors,
        },
    )
