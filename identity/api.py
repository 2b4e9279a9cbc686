"""Identity JSON endpoints: thin DRF views over identity.services / identity.selectors.

Bodies are parsed by civic.http (size limit, strict I-JSON), so a malformed or oversized request
is a 4xx JSON error and never reaches a service; DomainErrors are answered by the one handler.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers as drf
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from civic.api import error_body
from civic.http import PublicRateThrottle, StrictJSONAPIView, body_schema, json_object
from civic.roles import IsCitizen, IsOfficial
from civic.schema import HAS_TEXT
from identity import keys, serializers
from identity.errors import InvalidInput, NotFound
from identity.models import Challenge
from identity.selectors import claims as claim_selectors
from identity.selectors import credentials as credential_selectors
from identity.selectors import dids as did_selectors
from identity.selectors import status_lists as status_list_selectors
from identity.selectors import verification
from identity.services import challenges, claims, credentials, dids, presentations

OBJ = OpenApiTypes.OBJECT


class PublicVerifierThrottle(PublicRateThrottle):
    """Per-address budget for the anonymous verifier endpoints (CIVIC_VC_API_RATE): verification
    costs CPU and challenges cost rows, so strangers get a budget."""

    scope = "identity-verifier"
    rate_setting = "CIVIC_VC_API_RATE"


# -- public ---------------------------------------------------------------------------------------


@never_cache
@require_GET
def city_did_document(request: HttpRequest) -> JsonResponse:
    """/.well-known/did.json: the city's did:web document."""
    response = JsonResponse(keys.city_did_document())
    response["Content-Type"] = "application/did+json"
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
def resolve_identifier(request: HttpRequest, did: str) -> JsonResponse:
    """Universal Resolver convention: GET /1.0/identifiers/<did> -> DID resolution result."""
    options = {
        name: request.GET[name]
        for name in ("publicKeyFormat", "enableEncryptionKeyDerivation")
        if name in request.GET
    }
    status, body = did_selectors.resolve(did_selectors.normalise_did_path(did), options)
    response = JsonResponse(body, status=status)
    response["Access-Control-Allow-Origin"] = "*"
    return response


@never_cache
@require_GET
def status_list_credential(request: HttpRequest, purpose: str, number: int) -> JsonResponse:
    """The current signed BitstringStatusListCredential (re-signed on every change)."""
    row = status_list_selectors.status_list_row(purpose, number)
    if row is None or not row.credential:
        return JsonResponse(error_body("not_found", "no such status list", 404), status=404)
    response = JsonResponse(row.credential)
    response["Access-Control-Allow-Origin"] = "*"
    return response


class PublicVerifierView(StrictJSONAPIView):
    """The anonymous VC-API verifier: no session is looked at (so no CSRF check, and a cookie sent
    along grants nothing); a per-address budget."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes = [PublicVerifierThrottle]

class VerifyCredentialView(PublicVerifierView):
    """POST /api/vc/credentials/verify {"verifiableCredential": {...}} (W3C VC-API style)."""

    @extend_schema(
        request={"application/json": {
            "type": "object",
            "required": ["verifiableCredential"],
            "properties": {
                "verifiableCredential": {"type": "object", "description": "A W3C VC 2.0 credential"},
                "options": {"type": "object"},
            },
        }},
        responses={200: OBJ},
        summary="Verify a credential (W3C VC-API)",
    )
    def post(self, request: Request) -> Response:
        body = json_object(request)
        credential = body.get("verifiableCredential")
        if not isinstance(credential, dict):
            raise InvalidInput({"verifiableCredential": "must be a credential object"})
        if not isinstance(body.get("options", {}), dict):
            raise InvalidInput({"options": "must be an object"})
        return Response(verification.verification_body(verification.verify_credential(credential)))


class ChallengeView(PublicVerifierView):
    """POST /api/vc/challenges: a single-use challenge for one presentation to this verifier."""

    @extend_schema(
        request=None, responses={201: OBJ}, summary="Get a single-use presentation challenge"
    )
    def post(self, request: Request) -> Response:
        challenge = presentations.issue_presentation_challenge()
        return Response(
            {
                "challenge": challenge.nonce,
                "domain": challenge.scope,
                "expires": challenge.expires_at.isoformat(),
            },
            status=201,
        )


class VerifyPresentationView(PublicVerifierView):
    """POST /api/vc/presentations/verify {"verifiablePresentation", "options": {challenge, domain}}.

    The challenge must be one this server issued, unexpired and never used: a presentation that
    verified once cannot be replayed.
    """

    @extend_schema(
        request={"application/json": {
            "type": "object",
            "required": ["verifiablePresentation", "options"],
            "properties": {
                "verifiablePresentation": {"type": "object"},
                "options": {
                    "type": "object",
                    "required": ["challenge", "domain"],
                    "properties": {
                        "challenge": {"type": "string", "minLength": 1, "description": "from POST /api/vc/challenges"},
                        "domain": {"type": "string", "minLength": 1},
                    },
                },
            },
        }},
        responses={200: OBJ},
        summary="Verify a presentation (W3C VC-API)",
    )
    def post(self, request: Request) -> Response:
        body = json_object(request)
        vp = body.get("verifiablePresentation")
        options = body.get("options")
        if not isinstance(vp, dict):
            raise InvalidInput({"verifiablePresentation": "must be a presentation object"})
        if not isinstance(options, dict):
            raise InvalidInput({"options": "must be an object with challenge and domain"})
        challenge, domain = options.get("challenge"), options.get("domain")
        if (
            not isinstance(challenge, str)
            or not challenge
            or not isinstance(domain, str)
            or not domain
        ):
            raise InvalidInput({"options": "challenge and domain are required strings"})
        result = presentations.verify_presentation_once(vp, challenge=challenge, domain=domain)
        return Response(verification.verification_body(result))


# -- citizens -------------------------------------------------------------------------------------


class MeView(StrictJSONAPIView):
    permission_classes = [IsCitizen]

    @extend_schema(responses={200: OBJ}, summary="My DIDs, claims and credentials")
    def get(self, request: Request) -> Response:
        user = request.user
        current = did_selectors.current_did(user)
        return Response(
            {
                "did": current.did if current else None,
                "did_history": [serializers.did_dict(d) for d in did_selectors.did_history(user)],
                "claims": [serializers.claim_dict(c) for c in claim_selectors.claims_of(user)],
                "credentials": [
                    serializers.credential_summary(c) for c in credential_selectors.credentials_of(user)
                ],
            }
        )


class BindChallengeView(StrictJSONAPIView):
    """POST /api/identity/did/challenge: the nonce to sign (see services.dids.binding_message)."""

    permission_classes = [IsCitizen]

    @extend_schema(request=None, responses={201: OBJ}, summary="Get a DID-binding challenge")
    def post(self, request: Request) -> Response:
        challenge = challenges.issue_challenge(Challenge.Purpose.BIND_DID, user=request.user)
        return Response(
            {
                "challenge": challenge.nonce,
                "domain": keys.verifier_domain(),
                "context": dids.BIND_CONTEXT,
                "expires": challenge.expires_at.isoformat(),
                "message": "UTF-8 of context + '\\n' + domain + '\\n' + did + '\\n' + challenge",
            },
            status=201,
        )


class BindView(StrictJSONAPIView):
    """POST /api/identity/did/bind {"did", "challenge", "signature" (base64url)}."""

    body_limit = 4096

    permission_classes = [IsCitizen]

    @extend_schema(
        request=body_schema(
            "BindRequest",
            did=drf.RegexField(dids.DID_KEY_PATTERN, help_text="an Ed25519 did:key"),
            challenge=drf.CharField(),
            signature=drf.RegexField(dids.SIGNATURE_PATTERN, help_text="base64url, 64 bytes"),
        ),
        responses={201: OBJ, 409: OBJ, 422: OBJ},
        summary="Bind (or rotate to) a did:key",
    )
    def post(self, request: Request) -> Response:
        body = json_object(request)
        row = dids.bind_did(
            request.user, body.get("did"), body.get("challenge"), body.get("signature")
        )
        return Response(serializers.did_dict(row), status=201)


class ClaimsView(StrictJSONAPIView):
    """GET (officials): the review queue. POST (citizens): submit a residency claim."""

    body_limit = 8192

    def get_permissions(self) -> list[Any]:
        return [IsOfficial()] if self.request.method == "GET" else [IsCitizen()]

    @extend_schema(responses={200: OBJ}, summary="Residency claims by state (officials)")
    def get(self, request: Request) -> Response:
        rows = claim_selectors.claims_in_state(request.query_params.get("state", "pending"))
        return Response({"claims": [serializers.claim_dict(c, for_official=True) for c in rows]})

    @extend_schema(
        request=body_schema(
            "ClaimRequest",
            legal_name=drf.RegexField(HAS_TEXT, max_length=claims.MAX_NAME),
            address=drf.RegexField(HAS_TEXT, max_length=claims.MAX_ADDRESS),
            district=drf.RegexField(HAS_TEXT, max_length=claims.MAX_DISTRICT),
        ),
        responses={201: OBJ, 409: OBJ},
        summary="Submit a residency claim",
    )
    def post(self, request: Request) -> Response:
        body = json_object(request)
        claim = claims.submit_claim(
            request.user,
            legal_name=body.get("legal_name"),
            address=body.get("address"),
            district=body.get("district"),
        )
        return Response(serializers.claim_dict(claim), status=201)


class ClaimDecisionView(StrictJSONAPIView):
    """POST /api/identity/claims/<pk>/approve|reject {"reason"} (required to reject)."""

    body_limit = 16384  # a reason of MAX_REASON characters, each one JSON-escaped (6 bytes)

    permission_classes = [IsOfficial]


class ClaimApproveView(ClaimDecisionView):
    @extend_schema(
        request=body_schema(
            "ApproveRequest", reason=drf.CharField(required=False, allow_blank=True, max_length=claims.MAX_REASON)
        ),
        responses={201: OBJ, 409: OBJ},
        summary="Approve a claim: the credential is issued (officials)",
    )
    def post(self, request: Request, pk: int) -> Response:
        body = json_object(request)
        issued = credentials.approve_claim(pk, request.user, body.get("reason", ""))
        return Response(serializers.credential_summary(issued), status=201)


class ClaimRejectView(ClaimDecisionView):
    @extend_schema(
        request=body_schema(
            "RejectRequest",
            reason=drf.RegexField(HAS_TEXT, max_length=claims.MAX_REASON, help_text="Shown to the citizen."),
        ),
        responses={200: OBJ, 409: OBJ},
        summary="Reject a claim with the reason the citizen reads (officials)",
    )
    def post(self, request: Request, pk: int) -> Response:
        body = json_object(request)
        claim = claims.reject_claim(pk, request.user, body.get("reason"))
        return Response(serializers.claim_dict(claim, for_official=True))


class CredentialsView(StrictJSONAPIView):
    """GET /api/identity/credentials (officials): every issued credential and its status."""

    permission_classes = [IsOfficial]

    @extend_schema(
        responses={200: OBJ},
        summary="Issued credentials (officials)",
        operation_id="identity_credentials_list",
    )
    def get(self, request: Request) -> Response:
        rows = credential_selectors.all_credentials()[:1000]
        return Response({"credentials": [serializers.credential_summary(c) for c in rows]})


class CredentialDocumentView(StrictJSONAPIView):
    """GET /api/identity/credentials/<pk>: the signed credential, to its holder only."""

    permission_classes = [IsCitizen]

    @extend_schema(responses={200: OBJ}, summary="One of my signed credentials")
    def get(self, request: Request, pk: int) -> Response:
        issued = credential_selectors.credential_of(request.user, pk)
        if issued is None:
            raise NotFound("no such credential of yours")
        return Response(issued.document)


class CredentialStatusView(StrictJSONAPIView):
    """POST /api/identity/credentials/<pk>/status {"action": revoke|suspend|reinstate, "reason"}."""

    body_limit = 16384  # as ClaimDecisionView

    permission_classes = [IsOfficial]

    @extend_schema(
        request=body_schema(
            "StatusChangeRequest",
            action=drf.ChoiceField(choices=["revoke", "suspend", "reinstate"]),
            reason=drf.RegexField(HAS_TEXT, max_length=claims.MAX_REASON),
        ),
        responses={200: OBJ, 409: OBJ},
        summary="Revoke, suspend or reinstate a credential (officials)",
    )
    def post(self, request: Request, pk: int) -> Response:
        body = json_object(request)
        issued = credentials.change_credential_status(
            pk, request.user, body.get("action"), body.get("reason")
        )
        return Response(serializers.credential_summary(issued))
