"""Voting JSON API: public election contexts, and eligibility (the election's blind-signature
key, the presentation challenge, the blindly signed token). Thin: use cases live in services."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers as drf
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from civic.errors import NotFound
from civic.http import StrictJSONAPIView, body_schema, json_object
from civic.roles import IsCitizen
from identity.core import blind_rsa
from voting.selectors import elections
from voting.services import eligibility

OBJ = OpenApiTypes.OBJECT
VOTING_TAG = ["voting"]  # the OpenAPI group of every voting endpoint, eligibility included


class ElectionContextView(StrictJSONAPIView):
    permission_classes = [AllowAny]

    @extend_schema(
        responses={200: OBJ},
        description="The election's public context: manifest, joint key, trustees, threshold, "
        "trustee commitments and extended base hash (docs/protocol.md).",
    )
    def get(self, request: Request, slug: str) -> Response:
        election = elections.election_by_slug(slug)
        if election is None or not elections.is_public(election):
            raise NotFound("no published election with this slug")
        return Response({"election": election.slug, "title": election.title, "state": election.state, "context": election.context})


class EligibilityKeyView(StrictJSONAPIView):
    """GET /api/voting/elections/<slug>/eligibility-key: the election's RFC 9474 public key."""

    permission_classes = [AllowAny]

    @extend_schema(tags=VOTING_TAG, responses={200: OBJ}, summary="An election's RFC 9474 blind-signature public key")
    def get(self, request: Request, slug: str) -> Response:
        row = eligibility.election_key_by_slug(slug)
        public_key = blind_rsa.public_key_from_pem(row.public_key_pem)
        return Response(
            {
                "election": row.election.slug,
                "variant": row.variant,
                "key_id": row.key_id,
                "public_key_pem": row.public_key_pem,
                "jwk": blind_rsa.public_key_jwk(public_key),
                "token_message": "SHA-256('civic/eligibility-token/v1' || 0x00 || slug || 0x00 || ballot public key)",
            }
        )


class EligibilityChallengeView(StrictJSONAPIView):
    """POST /api/voting/elections/<slug>/token-challenge: challenge + domain for the presentation."""

    permission_classes = [IsCitizen]

    @extend_schema(
        tags=VOTING_TAG,
        request=None,
        responses={201: OBJ},
        summary="Get the challenge for an eligibility presentation",
    )
    def post(self, request: Request, slug: str) -> Response:
        challenge = eligibility.issue_eligibility_challenge(request.user, slug)
        return Response(
            {
                "challenge": challenge.nonce,
                "domain": challenge.domain,
                "expires": challenge.expires_at.isoformat(),
            },
            status=201,
        )


class EligibilityTokenView(StrictJSONAPIView):
    """POST /api/voting/elections/<slug>/tokens {"blinded_message", "presentation"}."""

    permission_classes = [IsCitizen]

    @extend_schema(
        tags=VOTING_TAG,
        request=body_schema("TokenRequest", blinded_message=drf.CharField(), presentation=drf.JSONField()),
        responses={201: OBJ, 409: OBJ},
        summary="Get a blindly signed eligibility token",
    )
    def post(self, request: Request, slug: str) -> Response:
        body = json_object(request)
        result = eligibility.issue_eligibility_token(
            request.user, slug, body.get("blinded_message"), body.get("presentation")
        )
        return Response(result, status=201)
