"""Identity JSON endpoints: thin DRF views over identity.services / identity.selectors.

Bodies are read here with a size limit and parsed strictly (no duplicate keys, no NaN), so a
malformed or oversized request is a 4xx JSON error and never reaches a service.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from redis.exceptions import RedisError
from rest_framework import serializers as drf
from rest_framework.parsers import BaseParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from civic.api import error_body
from civic.roles import IsCitizen, IsOfficial
from identity import keys, selectors, serializers, services
from identity.core.jcs import JCSError, parse_json
from identity.models import Challenge
from identity.services import IdentityError, InvalidInput, NotFound

logger = logging.getLogger(__name__)

DEFAULT_BODY_LIMIT = 64 * 1024


class PayloadTooLarge(IdentityError):
    code, status = "payload_too_large", 413


class UnsupportedMediaType(IdentityError):
    code, status = "unsupported_media_type", 415


class PublicVerifierThrottle(AnonRateThrottle):
    """Per-address rate for the anonymous verifier endpoints (CIVIC_VC_API_RATE, e.g. "300/minute";
    empty disables). Verification costs CPU and challenges cost rows, so strangers get a budget."""

    scope = "identity-verifier"

    def get_rate(self) -> str | None:
        return getattr(settings, "CIVIC_VC_API_RATE", "300/minute") or None

    def allow_request(self, request: Any, view: Any) -> bool:
        """Counts live in the cache (Redis), which may be lost at any moment: then verification
        goes on unthrottled (logged), rather than every verifier getting a 500."""
        try:
            return super().allow_request(request, view)
        except (RedisError, OSError) as exc:
            logger.warning("verifier rate limit skipped, cache unavailable: %s", exc)
            return True


def default_body_limit() -> int:
    return int(getattr(settings, "CIVIC_VC_MAX_BODY_BYTES", DEFAULT_BODY_LIMIT))


def parse_limited_json(request: HttpRequest, limit: int) -> Any:
    """The body as strict JSON, refusing oversized bodies before reading them."""
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if not declared.isdigit():
        raise InvalidInput("invalid Content-Length")
    if int(declared) > limit:
        raise PayloadTooLarge(f"the body must be at most {limit} bytes")
    raw = request.body
    if len(raw) > limit:
        raise PayloadTooLarge(f"the body must be at most {limit} bytes")
    try:
        return parse_json(raw)
    except JCSError as exc:
        raise InvalidInput(f"malformed JSON: {exc}") from exc


class StrictJSONParser(BaseParser):
    """DRF parser with the view's size limit and strict I-JSON parsing (no duplicate keys, no NaN).

    It is also what runs when DRF's CSRF check looks at ``request.POST``, so a bad body fails
    the same way whether or not the caller is logged in.
    """

    media_type = "application/json"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        context = parser_context or {}
        view = context.get("view")
        limit = getattr(view, "body_limit", None) or default_body_limit()
        return parse_limited_json(context["request"]._request, limit)  # noqa: SLF001


class StrictJSONLDParser(StrictJSONParser):
    media_type = "application/ld+json"


def json_object(request: Request) -> dict[str, Any]:
    body = request.data
    if not isinstance(body, dict):
        raise InvalidInput("the body must be a JSON object")
    return body


def body(name: str, **fields: Any) -> Any:
    """An OpenAPI request body for the docs (bodies are still parsed by StrictJSONParser)."""
    return inline_serializer(name=name, fields=fields)


OBJ = OpenApiTypes.OBJECT


class IdentityAPIView(APIView):
    """Answers IdentityError as the platform's JSON error shape."""

    parser_classes = [StrictJSONParser, StrictJSONLDParser]
    body_limit: int | None = None

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, IdentityError):
            return Response(error_body(exc.code, exc.detail, exc.status), status=exc.status)
        return super().handle_exception(exc)


def _election(slug: str) -> Any:
    from voting.selectors import election_by_slug

    election = election_by_slug(slug)
    if election is None:
        raise NotFound("no such election")
    return election


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
    status, body = selectors.resolve(selectors.normalise_did_path(did), options)
    response = JsonResponse(body, status=status)
    response["Access-Control-Allow-Origin"] = "*"
    return response


@never_cache
@require_GET
def status_list_credential(request: HttpRequest, purpose: str, number: int) -> JsonResponse:
    """The current signed BitstringStatusListCredential (re-signed on every change)."""
    row = selectors.status_list_row(purpose, number)
    if row is None or not row.credential:
        return JsonResponse(error_body("not_found", "no such status list", 404), status=404)
    response = JsonResponse(row.credential)
    response["Access-Control-Allow-Origin"] = "*"
    return response


class VerifyCredentialView(IdentityAPIView):
    """POST /api/vc/credentials/verify {"verifiableCredential": {...}} (W3C VC-API style)."""

    permission_classes = [AllowAny]
    throttle_classes = [PublicVerifierThrottle]

    @extend_schema(
        request=body(
            "VerifyCredentialRequest",
            verifiableCredential=drf.JSONField(),
            options=drf.JSONField(required=False),
        ),
        responses={200: OBJ},
        summary="Verify a credential (W3C VC-API)",
    )
    def post(self, request: Request) -> Response:
        body = json_object(request)
        credential = body.get("verifiableCredential")
        if not isinstance(credential, dict):
            raise InvalidInput({"verifiableCredential": "must be a credential object"})
        return Response(selectors.verification_body(selectors.verify_credential(credential)))


class ChallengeView(IdentityAPIView):
    """POST /api/vc/challenges: a single-use challenge for one presentation to this verifier."""

    permission_classes = [AllowAny]
    throttle_classes = [PublicVerifierThrottle]

    @extend_schema(
        request=None, responses={201: OBJ}, summary="Get a single-use presentation challenge"
    )
    def post(self, request: Request) -> Response:
        challenge = services.issue_challenge(
            Challenge.Purpose.PRESENTATION, scope=keys.verifier_domain()
        )
        return Response(
            {
                "challenge": challenge.nonce,
                "domain": challenge.scope,
                "expires": challenge.expires_at.isoformat(),
            },
            status=201,
        )


class VerifyPresentationView(IdentityAPIView):
    """POST /api/vc/presentations/verify {"verifiablePresentation", "options": {challenge, domain}}.

    The challenge must be one this server issued, unexpired and never used: a presentation that
    verified once cannot be replayed.
    """

    permission_classes = [AllowAny]
    throttle_classes = [PublicVerifierThrottle]

    @extend_schema(
        request=body(
            "VerifyPresentationRequest",
            verifiablePresentation=drf.JSONField(),
            options=drf.JSONField(),
        ),
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
        known = selectors.presentation_challenge(challenge)
        result = selectors.verify_presentation(vp, challenge=challenge, domain=domain)
        result.checks.append("challenge")
        if known is None or known.scope != domain:
            result.problems.append(
                selectors.Problem(
                    selectors.REPLAYED_CHALLENGE,
                    "the challenge is unknown, expired or was already used",
                )
            )
        elif result.verified and not services.consume_challenge(
            challenge, Challenge.Purpose.PRESENTATION, user=None, scope=domain
        ):
            result.problems.append(
                selectors.Problem(selectors.REPLAYED_CHALLENGE, "the challenge was already used")
            )
        return Response(selectors.verification_body(result))


class EligibilityKeyView(IdentityAPIView):
    """GET /api/identity/elections/<slug>/eligibility-key: the election's RFC 9474 public key."""

    permission_classes = [AllowAny]

    @extend_schema(
        responses={200: OBJ}, summary="An election's RFC 9474 blind-signature public key"
    )
    def get(self, request: Request, slug: str) -> Response:
        election = _election(slug)
        row = services.ensure_election_key(election)
        from identity.core import blind_rsa

        public_key = blind_rsa.public_key_from_pem(row.public_key_pem)
        return Response(
            {
                "election": election.slug,
                "variant": row.variant,
                "key_id": row.key_id,
                "public_key_pem": row.public_key_pem,
                "jwk": blind_rsa.public_key_jwk(public_key),
                "token_message": "SHA-256('civic/eligibility-token/v1' || 0x00 || slug || 0x00 || ballot public key)",
            }
        )


# -- citizens -------------------------------------------------------------------------------------


class MeView(IdentityAPIView):
    permission_classes = [IsCitizen]

    @extend_schema(responses={200: OBJ}, summary="My DIDs, claims and credentials")
    def get(self, request: Request) -> Response:
        user = request.user
        current = selectors.current_did(user)
        return Response(
            {
                "did": current.did if current else None,
                "did_history": [serializers.did_dict(d) for d in selectors.did_history(user)],
                "claims": [serializers.claim_dict(c) for c in selectors.claims_of(user)],
                "credentials": [
                    serializers.credential_summary(c) for c in selectors.credentials_of(user)
                ],
            }
        )


class BindChallengeView(IdentityAPIView):
    """POST /api/identity/did/challenge: the nonce to sign (see services.binding_message)."""

    permission_classes = [IsCitizen]

    @extend_schema(request=None, responses={201: OBJ}, summary="Get a DID-binding challenge")
    def post(self, request: Request) -> Response:
        challenge = services.issue_challenge(Challenge.Purpose.BIND_DID, user=request.user)
        return Response(
            {
                "challenge": challenge.nonce,
                "domain": keys.verifier_domain(),
                "context": services.BIND_CONTEXT,
                "expires": challenge.expires_at.isoformat(),
                "message": "UTF-8 of context + '\\n' + domain + '\\n' + did + '\\n' + challenge",
            },
            status=201,
        )


class BindView(IdentityAPIView):
    """POST /api/identity/did/bind {"did", "challenge", "signature" (base64url)}."""

    body_limit = 4096

    permission_classes = [IsCitizen]

    @extend_schema(
        request=body(
            "BindRequest", did=drf.CharField(), challenge=drf.CharField(), signature=drf.CharField()
        ),
        responses={201: OBJ},
        summary="Bind (or rotate to) a did:key",
    )
    def post(self, request: Request) -> Response:
        body = json_object(request)
        row = services.bind_did(
            request.user, body.get("did"), body.get("challenge"), body.get("signature")
        )
        return Response(serializers.did_dict(row), status=201)


class ClaimsView(IdentityAPIView):
    """GET (officials): the review queue. POST (citizens): submit a residency claim."""

    body_limit = 8192

    def get_permissions(self) -> list[Any]:
        return [IsOfficial()] if self.request.method == "GET" else [IsCitizen()]

    @extend_schema(responses={200: OBJ}, summary="Residency claims by state (officials)")
    def get(self, request: Request) -> Response:
        state = request.query_params.get("state", "pending")
        from identity.models import ResidencyClaim

        if state not in ResidencyClaim.State.values:
            raise InvalidInput({"state": f"one of {', '.join(ResidencyClaim.State.values)}"})
        claims = ResidencyClaim.objects.filter(state=state).select_related("user", "decided_by")[
            :500
        ]
        return Response({"claims": [serializers.claim_dict(c, for_official=True) for c in claims]})

    @extend_schema(
        request=body(
            "ClaimRequest",
            legal_name=drf.CharField(),
            address=drf.CharField(),
            district=drf.CharField(),
        ),
        responses={201: OBJ},
        summary="Submit a residency claim",
    )
    def post(self, request: Request) -> Response:
        body = json_object(request)
        claim = services.submit_claim(
            request.user,
            legal_name=body.get("legal_name"),
            address=body.get("address"),
            district=body.get("district"),
        )
        return Response(serializers.claim_dict(claim), status=201)


class ClaimDecisionView(IdentityAPIView):
    """POST /api/identity/claims/<pk>/approve|reject {"reason"}."""

    body_limit = 8192

    permission_classes = [IsOfficial]
    action: str = ""

    @extend_schema(
        request=body("DecisionRequest", reason=drf.CharField(required=False)),
        responses={200: OBJ, 201: OBJ},
        summary="Approve or reject a claim (officials)",
    )
    def post(self, request: Request, pk: int) -> Response:
        body = json_object(request)
        if self.action == "approve":
            issued = services.approve_claim(pk, request.user, body.get("reason", ""))
            return Response(serializers.credential_summary(issued), status=201)
        claim = services.reject_claim(pk, request.user, body.get("reason"))
        return Response(serializers.claim_dict(claim, for_official=True))


class CredentialsView(IdentityAPIView):
    """GET /api/identity/credentials (officials): every issued credential and its status."""

    permission_classes = [IsOfficial]

    @extend_schema(
        responses={200: OBJ},
        summary="Issued credentials (officials)",
        operation_id="identity_credentials_list",
    )
    def get(self, request: Request) -> Response:
        rows = selectors.all_credentials()[:1000]
        return Response({"credentials": [serializers.credential_summary(c) for c in rows]})


class CredentialDocumentView(IdentityAPIView):
    """GET /api/identity/credentials/<pk>: the signed credential, to its holder only."""

    permission_classes = [IsCitizen]

    @extend_schema(responses={200: OBJ}, summary="One of my signed credentials")
    def get(self, request: Request, pk: int) -> Response:
        issued = selectors.credential_of(request.user, pk)
        if issued is None:
            raise NotFound("no such credential of yours")
        return Response(issued.document)


class CredentialStatusView(IdentityAPIView):
    """POST /api/identity/credentials/<pk>/status {"action": revoke|suspend|reinstate, "reason"}."""

    body_limit = 8192

    permission_classes = [IsOfficial]

    @extend_schema(
        request=body(
            "StatusChangeRequest",
            action=drf.ChoiceField(choices=["revoke", "suspend", "reinstate"]),
            reason=drf.CharField(),
        ),
        responses={200: OBJ},
        summary="Revoke, suspend or reinstate a credential (officials)",
    )
    def post(self, request: Request, pk: int) -> Response:
        body = json_object(request)
        issued = services.change_credential_status(
            pk, request.user, body.get("action"), body.get("reason")
        )
        return Response(serializers.credential_summary(issued))


class TokenChallengeView(IdentityAPIView):
    """POST /api/identity/elections/<slug>/token-challenge: challenge + domain for the presentation."""

    permission_classes = [IsCitizen]

    @extend_schema(
        request=None,
        responses={201: OBJ},
        summary="Get the challenge for an eligibility presentation",
    )
    def post(self, request: Request, slug: str) -> Response:
        election = _election(slug)
        challenge = services.issue_challenge(
            Challenge.Purpose.ELIGIBILITY, user=request.user, scope=election.slug
        )
        return Response(
            {
                "challenge": challenge.nonce,
                "domain": keys.verifier_domain(),
                "expires": challenge.expires_at.isoformat(),
            },
            status=201,
        )


class TokenView(IdentityAPIView):
    """POST /api/identity/elections/<slug>/tokens {"blinded_message", "presentation"}."""

    permission_classes = [IsCitizen]

    @extend_schema(
        request=body("TokenRequest", blinded_message=drf.CharField(), presentation=drf.JSONField()),
        responses={201: OBJ, 409: OBJ},
        summary="Get a blindly signed eligibility token",
    )
    def post(self, request: Request, slug: str) -> Response:
        body = json_object(request)
        result = services.issue_eligibility_token(
            request.user, slug, body.get("blinded_message"), body.get("presentation")
        )
        return Response(result, status=201)
