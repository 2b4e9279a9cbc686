"""Voting JSON API: public election contexts, and eligibility (the election's blind-signature
key, the presentation challenge, the blindly signed token). Thin: use cases live in services."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from civic.errors import NotFound
from civic.http import StrictJSONAPIView, json_object
from civic.roles import IsCitizen
from identity.core import blind_rsa
from voting.models import EligibilityKey
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


def _key_json(row: EligibilityKey) -> dict[str, Any]:
    return {
        "district": row.district or None,
        "key_id": row.key_id,
        "variant": row.variant,
        "public_key_pem": row.public_key_pem,
        "jwk": blind_rsa.public_key_jwk(blind_rsa.public_key_from_pem(row.public_key_pem)),
    }


class EligibilityKeyView(StrictJSONAPIView):
    """GET /api/voting/elections/<slug>/eligibility-key: the election's RFC 9474 public keys,
    one per district for a city-wide election of a city with configured districts (a wallet
    blinds under its credential's district's key), else one (``district: null``), whose fields
    also stand at the top level as before."""

    permission_classes = [AllowAny]

    @extend_schema(tags=VOTING_TAG, responses={200: OBJ}, summary="An election's RFC 9474 blind-signature public keys")
    def get(self, request: Request, slug: str) -> Response:
        election, rows = eligibility.election_keys_by_slug(slug)
        keys = [_key_json(row) for row in rows]
        body: dict[str, Any] = {
            "election": election.slug,
            "district": election.district or None,
            "token_message": "SHA-256('civic/eligibility-token/v1' || 0x00 || slug || 0x00 || ballot public key)",
            "keys": keys,
        }
        if len(keys) == 1:
            body |= {name: keys[0][name] for name in ("variant", "key_id", "public_key_pem", "jwk")}
        return Response(body)


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
        request={"application/json": {
            "type": "object",
            "required": ["blinded_message", "presentation"],
            "properties": {
                "blinded_message": {"type": "string", "pattern": "^(?=.)(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-][AQgw]|[A-Za-z0-9_-]{2}[AEIMQUYcgkosw048])?$", "description": "base64url of the RFC 9474 blinded message"},
                "presentation": {"type": "object", "description": "a W3C Verifiable Presentation of the residency credential"},
                "key_id": {"type": "string", "description": "the key blinded under; required with several keys"},
            },
        }},
        responses={201: OBJ, 409: OBJ, 422: OBJ},
        summary="Get a blindly signed eligibility token",
    )
    def post(self, request: Request, slug: str) -> Response:
        body = json_object(request)
        result = eligibility.issue_eligibility_token(
            request.user, slug, body.get("blinded_message"), body.get("presentation"), body.get("key_id")
        )
        return Response(result, status=201)
