"""The ballot box's JSON API (docs/protocol.md §13). Thin: checks in voting.services.ballot_box,
reads in voting.selectors.ballot_box.

POST /api/voting/elections/<slug>/ballots                   cast (201 new, 200 the same again)
POST /api/voting/elections/<slug>/ballots/spoiled           a challenged ballot (Benaloh, §8)
GET  /api/voting/elections/<slug>/ballots                   every ballot once closed (api_tally)
GET  /api/voting/elections/<slug>/ballots/<tracking_code>   status, position, ledger receipt
GET  /api/voting/elections/<slug>/turnout                   ballots that count, from the box

No session, no CSRF: ``authentication_classes = []`` means a cookie sent along is never looked
at, so a cross-site page cannot make the browser act with ambient authority; the credential is
the signed token in the body itself.

The two writes (cast, spoil) take a lean path for what a booth sends, a POST with a JSON body
(:func:`lean_write`): a plain Django view with the same strict parsing, limit and error JSON,
without DRF's request, negotiation and rendering machinery (a measured part of each cast).
Anything else (another method or media type, an empty body) goes to the DRF view, which also
documents the endpoint in the OpenAPI schema.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers as drf
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from civic import ratelimit
from civic.api import error_body
from civic.errors import DomainError, InvalidInput, NotFound
from civic.http import StrictJSONAPIView, body_schema, parse_limited_json
from civic.ratelimit import RateLimited
from voting import api_tally
from voting.errors import MalformedCast, UnknownTrackingCode
from voting.selectors import ballot_box as selectors
from voting.selectors.elections import election_by_slug, is_public
from voting.services import ballot_box as services

OBJ = OpenApiTypes.OBJECT
TAGS = ["voting: ballot box"]
# The bodies' documented forms (docs/protocol.md §13). A body in these forms is judged: the token
# and the ballot key's signature are checked first (403), then the ballot itself (400 when it is
# not civic-ballot-v1, docs/schemas/ballot.json; 422 when its proofs or context fail).
B64URL_32 = "^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$"  # canonical: the unused bits are zero
B64URL_64 = "^[A-Za-z0-9_-]{85}[AQgw]$"
TOKEN = body_schema(
    "EligibilityToken",
    closed=True,
    key_id=drf.CharField(allow_blank=True),
    prefix=drf.CharField(allow_blank=True),
    signature=drf.CharField(allow_blank=True),
    help_text="{key_id, prefix, signature}: the RFC 9474 token",
)
ERRORS = {400: OBJ, 403: OBJ, 404: OBJ, 409: OBJ, 413: OBJ, 422: OBJ, 429: OBJ}


class BallotBoxView(StrictJSONAPIView):
    """Anonymous by design: no authentication class, so no session and no CSRF check."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    def _body(self, request: Request, election: Any) -> Any:
        self.body_limit = services.cast_body_limit(election)
        try:
            return request.data
        except InvalidInput as exc:
            raise MalformedCast(
                _("The body is not strict JSON: %(reason)s") % {"reason": exc.detail}
            ) from exc

    def _answer(self, received: services.Received) -> Response:
        return Response(received.receipt, status=201 if received.created else 200)


JSON_MEDIA_TYPES = frozenset({"application/json", "application/ld+json"})
Write = Callable[[Any, Any], services.Received]


def _json_response(data: Any, status: int, headers: dict[str, str] | None = None) -> HttpResponse:
    """What DRF's JSONRenderer would send: compact UTF-8 JSON, ``Vary: Accept``."""
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    response = HttpResponse(body, status=status, content_type="application/json", headers=headers)
    response["Vary"] = "Accept"
    response["Allow"] = "POST, OPTIONS"
    return response


def _error_response(exc: DomainError) -> HttpResponse:
    return _json_response(error_body(exc.code, exc.detail, exc.status), exc.status, exc.headers)


def _lean_answer(request: HttpRequest, slug: str, write: Write) -> HttpResponse:
    try:
        election = services.box_election(slug)
        try:
            body = parse_limited_json(request, services.cast_body_limit(election))
        except InvalidInput as exc:
            raise MalformedCast(
                _("The body is not strict JSON: %(reason)s") % {"reason": exc.detail}
            ) from exc
        received = write(election, body)
    except DomainError as exc:
        return _error_response(exc)
    return _json_response(received.receipt, 201 if received.created else 200)


def lean_write(drf_view: Callable[..., Any], write: Write) -> Callable[..., Any]:
    """The URL's view: a POST of a non-empty JSON body is answered here, the rest by ``drf_view``
    (whose attributes it keeps, so the schema generator still sees the DRF view).

    Every POST first counts against its address's rate limit (``civic.ratelimit``: generous, and
    polling stations' networks are exempt); the per-ballot-key limit is the service's."""

    @functools.wraps(drf_view)
    def view(request: HttpRequest, slug: str) -> Any:
        if request.method == "POST":
            try:
                ratelimit.hit_cast_address(request)
            except RateLimited as exc:
                return _error_response(exc)
        declared = request.META.get("CONTENT_LENGTH") or ""
        if (
            request.method != "POST"
            or request.content_type not in JSON_MEDIA_TYPES
            or not declared.isdigit()
            or int(declared) == 0
        ):
            return drf_view(request, slug=slug)
        return _lean_answer(request, slug, write)

    return csrf_exempt(view)


class CastView(BallotBoxView):
    @extend_schema(
        tags=TAGS,
        operation_id="voting_ballots_list",
        parameters=[
            OpenApiParameter(
                "after", {"type": "integer", "minimum": 0, "maximum": 2**63 - 1}, required=False,
                description="the last id of the previous page",
            ),
            OpenApiParameter(
                "limit", {"type": "integer", "minimum": 1, "maximum": settings.CIVIC_BALLOTS_PAGE_MAX},
                required=False, description="1..CIVIC_BALLOTS_PAGE_MAX",
            ),
        ],
        responses={200: OBJ, 400: OBJ, 404: OBJ, 409: OBJ},
        summary="Every ballot of a closed election (cast, superseded, spoiled), in id order",
    )
    def get(self, request: Request, slug: str) -> Response:
        return api_tally.ballots_page(request, slug)

    @extend_schema(
        tags=TAGS,
        operation_id="voting_ballot_cast",
        request=body_schema(
            "CastRequest",
            closed=True,
            ballot=drf.DictField(help_text="civic-ballot-v1 (docs/protocol.md §7.1, docs/schemas/ballot.json)"),
            ballot_key=drf.RegexField(B64URL_32, help_text="base64url of the 32-byte Ed25519 ballot key"),
            token=TOKEN,
            signature=drf.RegexField(B64URL_64, help_text="base64url Ed25519 signature over the cast message"),
        ),
        responses={201: OBJ, 200: OBJ, **ERRORS},
        summary="Cast a ballot (anonymous: the token and the ballot key's signature are the credential)",
    )
    def post(self, request: Request, slug: str) -> Response:
        election = services.box_election(slug)
        return self._answer(services.cast_ballot(election, self._body(request, election)))


class SpoilView(BallotBoxView):
    @extend_schema(
        tags=TAGS,
        operation_id="voting_ballot_spoil",
        request=body_schema(
            "SpoilRequest",
            closed=True,
            challenged=drf.DictField(help_text="{ballot, seed, choices} (docs/protocol.md §8, docs/schemas/ballot-challenged.json)"),
            ballot_key=drf.RegexField(B64URL_32),
            token=TOKEN,
            signature=drf.RegexField(B64URL_64, help_text="base64url Ed25519 signature over the spoil message"),
        ),
        responses={201: OBJ, 200: OBJ, **ERRORS},
        summary="Publish a challenged (spoiled) ballot with its revealed seed; never counted",
    )
    def post(self, request: Request, slug: str) -> Response:
        election = services.box_election(slug)
        return self._answer(services.spoil_ballot(election, self._body(request, election)))


def _public(slug: str) -> Any:
    election = election_by_slug(slug)
    if election is None or not is_public(election):
        raise NotFound(_("There is no election with this address."))
    return election


class TrackView(BallotBoxView):
    @extend_schema(
        tags=TAGS,
        operation_id="voting_ballot_track",
        parameters=[OpenApiParameter("tracking_code", str, OpenApiParameter.PATH)],
        responses={200: OBJ, 404: OBJ},
        summary="A ballot by its tracking code: counting, superseded or spoiled, position, receipt",
    )
    def get(self, request: Request, slug: str, tracking_code: str) -> Response:
        ballot = selectors.ballot_by_tracking_code(_public(slug), tracking_code)
        if ballot is None:
            raise UnknownTrackingCode(
                _("No ballot with this tracking code is in this election's box.")
            )
        return Response(selectors.tracking_view(ballot))


class TurnoutView(BallotBoxView):
    @extend_schema(
        tags=TAGS,
        operation_id="voting_turnout",
        responses={200: OBJ, 404: OBJ},
        summary="Ballots that count (one per ballot key), computed from the box",
    )
    def get(self, request: Request, slug: str) -> Response:
        return Response(selectors.turnout(_public(slug)))


cast_view = lean_write(CastView.as_view(), services.cast_ballot)
spoil_view = lean_write(SpoilView.as_view(), services.spoil_ballot)
