"""JSON API of the ledger (``/api/ledger/...``): thin views over selectors and services.

Views raise the ledger's errors (``ledger.errors``); the platform's one handler answers them.
Entries with their receipts are served by ``ledger.anchoring.views`` (a receipt names an anchor).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from civic.roles import IsOfficial
from ledger import selectors, services
from ledger.models import Observer
from ledger.serializers import (
    ConsistencyQuerySerializer,
    ConsistencySerializer,
    CosignatureRequestSerializer,
    CosignatureResultSerializer,
    ErrorSerializer,
    LogListSerializer,
    ObserverRegistrationSerializer,
    ObserverSerializer,
)

ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="Malformed request."),
    404: OpenApiResponse(ErrorSerializer, description="Unknown log, entry or size."),
}


class LedgerAPIView(APIView):
    """Public, session-free reads: anyone may verify the ledger."""

    permission_classes = [AllowAny]
    authentication_classes: list = []


class LogListView(LedgerAPIView):
    @extend_schema(
        operation_id="ledger_logs",
        summary="Every log with its size, root, verifier key and observers",
        responses={200: LogListSerializer},
    )
    def get(self, request: Request) -> Response:
        return Response({"logs": [summary.as_dict() for summary in selectors.log_summaries()]})


class ConsistencyView(LedgerAPIView):
    @extend_schema(
        operation_id="ledger_consistency",
        summary="RFC 9162 consistency proof between two tree sizes",
        parameters=[
            OpenApiParameter("old", int, required=True, description="Older tree size."),
            OpenApiParameter("new", int, required=True, description="Newer tree size."),
        ],
        responses={200: ConsistencySerializer, **ERRORS, 422: OpenApiResponse(ErrorSerializer, description="old > new.")},
    )
    def get(self, request: Request, log: str) -> Response:
        ledger_log = selectors.get_log(log)
        query = ConsistencyQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        old, new = query.validated_data["old"], query.validated_data["new"]
        proof = selectors.consistency_proof(ledger_log, old, new)
        return Response({"old": old, "new": new, "proof": [node.hex() for node in proof]})


class CosignatureView(LedgerAPIView):
    """Observers post cosignatures; the signature itself is the authentication (no session)."""

    @extend_schema(
        operation_id="ledger_cosign",
        summary="Submit an observer's tlog-cosignature/v1 over a checkpoint this log signed",
        request=CosignatureRequestSerializer,
        responses={
            201: CosignatureResultSerializer,
            **ERRORS,
            403: OpenApiResponse(
                ErrorSerializer, description="Not a registered observer's valid cosignature."
            ),
            409: OpenApiResponse(ErrorSerializer, description="A different checkpoint."),
            422: OpenApiResponse(ErrorSerializer, description="A checkpoint of another log."),
        },
    )
    def post(self, request: Request, log: str) -> Response:
        body = CosignatureRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        result = services.add_cosignature(
            log, body.validated_data["checkpoint"], body.validated_data["cosignature"]
        )
        return Response(
            {
                "accepted": True,
                "witnessed": result.witnessed,
                "cosignatures": result.cosignatures,
            },
            status=status.HTTP_201_CREATED,
        )


def observer_dict(observer: Observer) -> dict[str, Any]:
    return {
        "name": observer.name,
        "verifier_key": observer.verifier_key,
        "active": observer.active,
        "created_at": observer.created_at.isoformat(),
    }


class ObserverListView(LedgerAPIView):
    def get_permissions(self) -> list[Any]:
        return [IsOfficial()] if self.request.method == "POST" else [AllowAny()]

    def get_authenticators(self) -> list[Any]:
        return [SessionAuthentication()]

    @extend_schema(
        operation_id="ledger_observers",
        summary="Registered observers",
        responses={200: ObserverSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        return Response([observer_dict(observer) for observer in Observer.objects.order_by("name")])

    @extend_schema(
        operation_id="ledger_register_observer",
        summary="Register an observer's verifier key (officials only)",
        request=ObserverRegistrationSerializer,
        responses={
            201: ObserverSerializer,
            **ERRORS,
            409: OpenApiResponse(ErrorSerializer),
            422: OpenApiResponse(ErrorSerializer, description="Not a valid cosignature/v1 key."),
        },
    )
    def post(self, request: Request) -> Response:
        body = ObserverRegistrationSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        observer = services.register_observer(
            body.validated_data["verifier_key"], registered_by=request.user
        )
        return Response(observer_dict(observer), status=status.HTTP_201_CREATED)
