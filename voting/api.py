"""Voting JSON API: public election contexts (what every booth and verifier encrypts under)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from voting import selectors


class ElectionContextView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        responses={200: OpenApiTypes.OBJECT},
        description="The election's public context: manifest, joint key, trustees, threshold, "
        "trustee commitments and extended base hash (docs/protocol.md).",
    )
    def get(self, request: Request, slug: str) -> Response:
        election = selectors.election_by_slug(slug)
        if election is None or election.context is None or election.state == election.State.DRAFT:
            raise NotFound("no published election with this slug")
        return Response({"election": election.slug, "title": election.title, "state": election.state, "context": election.context})
