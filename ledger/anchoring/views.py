"""Views that need both the ledger and its anchors: the anchors list, entries with receipts (a
receipt names an anchor) and the public ledger page. Thin: selectors do the work, errors are
raised and answered by the platform's one handler."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from civic import charts
from ledger import selectors as ledger_selectors
from ledger.anchoring import receipts, selectors
from ledger.anchoring.serializers import AnchorListSerializer, AnchorQuerySerializer
from ledger.serializers import EntrySerializer
from ledger.views_api import ERRORS, LedgerAPIView

LEDGER_PAGE_ANCHORS = 20
GROWTH_TIME_FORMAT = "j M Y H:i:s"  # the growth tables: checkpoints come seconds apart


class AnchorListView(LedgerAPIView):
    """Public: anyone may look the anchors up on the chain and re-hash the anchored notes."""

    @extend_schema(
        operation_id="ledger_anchors",
        summary="Blockchain anchors of the ledger's witnessed checkpoints",
        parameters=[AnchorQuerySerializer],
        responses={200: AnchorListSerializer},
    )
    def get(self, request: Request) -> Response:
        query = AnchorQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        rows = selectors.anchors(log_name=params.get("log"), state=params.get("state"))
        page = rows[params["offset"] : params["offset"] + params["limit"]]
        return Response(
            {"count": rows.count(), "anchors": [selectors.anchor_as_dict(item) for item in page]}
        )


class EntryByIndexView(LedgerAPIView):
    @extend_schema(
        operation_id="ledger_entry_by_index",
        summary="One entry with an inclusion-proof receipt to the latest (witnessed) checkpoint",
        responses={200: EntrySerializer, **ERRORS},
    )
    def get(self, request: Request, log: str, index: int) -> Response:
        ledger_log = ledger_selectors.get_log(log)
        entry = ledger_selectors.entry_at(ledger_log, index)
        return Response(receipts.entry_with_receipt(ledger_log, entry))


class EntryByHashView(LedgerAPIView):
    @extend_schema(
        operation_id="ledger_entry_by_hash",
        summary="Find an entry by its leaf hash (hex)",
        responses={200: EntrySerializer, **ERRORS},
    )
    def get(self, request: Request, log: str, leaf_hash: str) -> Response:
        ledger_log = ledger_selectors.get_log(log)
        entry = ledger_selectors.entry_by_hash(ledger_log, leaf_hash)
        return Response(receipts.entry_with_receipt(ledger_log, entry))


def growth_chart(growth: ledger_selectors.LogGrowth, zone: ZoneInfo) -> dict[str, Any]:
    """A log's size over time as a step line from 0 at its creation, a circle on each witnessed
    checkpoint and a square on each anchored one (the table beside it lists the same points)."""
    points = [charts.Point(growth.start, 0)] + [
        charts.Point(
            point.at,
            point.size,
            frozenset(
                name
                for name, on in (("witnessed", point.witnessed), ("anchored", point.anchored))
                if on
            ),
        )
        for point in growth.points
    ]
    return {
        "growth": growth,
        "chart": charts.time_chart(points, growth.start, growth.end, zone, step=True),
        "chart_id": f"growth-{growth.log.name}",
    }


@require_GET
def ledger_page(request: HttpRequest) -> HttpResponse:
    """Each log with its size, latest witnessed checkpoint and its anchors on the current chain,
    and each log's growth over time with its witnessed and anchored checkpoints."""
    recent = selectors.anchors_of_current_chain(LEDGER_PAGE_ANCHORS)
    zone = ZoneInfo(settings.CIVIC_TIME_ZONE)
    return render(
        request,
        "ledger/index.html",
        {
            "growth": [growth_chart(item, zone) for item in selectors.ledger_growth()],
            "zone": zone,
            "growth_time_format": GROWTH_TIME_FORMAT,
            "summaries": ledger_selectors.log_summaries(),
            "observers": ledger_selectors.active_observers(),
            "anchors": [selectors.anchor_as_dict(item) for item in recent],
        },
    )
