"""``GET /api/ledger/anchors``: every anchor of the ledger on the chain, newest first."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ledger.anchoring import selectors
from ledger.anchoring.serializers import AnchorListSerializer, AnchorQuerySerializer


class AnchorListView(APIView):
    """Public: anyone may look the anchors up on the chain and re-hash the anchored notes."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

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
