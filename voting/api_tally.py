"""The tally's JSON API (docs/protocol-trustees.md § Decryption API). Thin: checks in
voting.services.decryption_shares, reads in voting.selectors.tally.

GET  /api/voting/elections/<slug>/tally          public: the encrypted tally (record layout) + state
GET  /api/voting/elections/<slug>/ballots        public once closed: every ballot, paginated
     (?after=<id>&limit=<n>); served by the cast view (same path), see voting.api_ballot_box
POST /api/voting/elections/<slug>/tally-shares   a trustee of THIS election (Bearer credential,
     or the trustee's session with CSRF): one tally-share envelope, checked before it is stored
GET  /api/voting/elections/<slug>/tally-shares   public: every stored (valid) share
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from civic.errors import InvalidInput, NotFound
from civic.http import StrictJSONAPIView, json_object
from voting.api_ceremony import envelope_schema, judged
from voting.authentication import ApiTokenAuthentication, IsTrustee
from voting.errors import MalformedTallyShare, TallyNotReady
from voting.models import DecryptionShare, Election
from voting.selectors import tally as selectors
from voting.selectors.elections import election_by_slug, is_public
from voting.services import decryption_shares as services
from voting.services.decryption_shares import SHARE_KIND

OBJ = OpenApiTypes.OBJECT
TAGS = ["voting: tally"]
ENVELOPE_BYTES = 4096
PER_SELECTION_BYTES = 1024  # a share (66 hex), a proof (two points, one scalar) and the ids


def public_election(slug: str) -> Election:
    election = election_by_slug(slug)
    if election is None or not is_public(election):
        raise NotFound("there is no election with this slug past its key ceremony")
    return election


def _int_param(request: Request, name: str, default: int, lo: int, hi: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not lo <= int(raw) <= hi:
        raise InvalidInput(f"{name} must be an integer in [{lo}, {hi}]")
    return int(raw)


def ballots_page(request: Request, slug: str) -> Response:
    """GET /ballots: every ballot in id order with its status (counting / superseded / spoiled)."""
    election = public_election(slug)
    if election.state not in selectors.LISTED_STATES:
        raise TallyNotReady("the list of ballots is published once the election has closed")
    limit = _int_param(request, "limit", 100, 1, settings.CIVIC_BALLOTS_PAGE_MAX)
    after = _int_param(request, "after", 0, 0, 2**63 - 1)
    return Response(selectors.ballots_page(election, after, limit))


class TallyAPIView(StrictJSONAPIView):
    authentication_classes = [ApiTokenAuthentication, SessionAuthentication]
    permission_classes = [AllowAny]


class TallyView(TallyAPIView):
    @extend_schema(
        tags=TAGS,
        responses={200: OBJ, 404: OBJ, 409: OBJ},
        summary="The encrypted tally, its hashes and progress",
    )
    def get(self, request: Request, slug: str) -> Response:
        election = public_election(slug)
        tally = selectors.tally_of(election)
        if tally is None:
            raise TallyNotReady(
                f"the box of this election is not frozen yet (it is {election.state})"
            )
        return Response(selectors.tally_document(election, tally))


class TallySharesView(TallyAPIView):
    def get_permissions(self) -> list[Any]:
        return [IsTrustee()] if self.request.method == "POST" else [AllowAny()]

    @property
    def body_limit(self) -> int:  # type: ignore[override]
        election = election_by_slug(str(self.kwargs.get("slug")))
        cap = settings.CIVIC_TALLY_MAX_SHARE_BYTES
        if election is None or election.context is None:
            return min(cap, ENVELOPE_BYTES)
        selections = sum(len(c["options"]) for c in election.context["manifest"]["contests"])
        return min(cap, ENVELOPE_BYTES + selections * PER_SELECTION_BYTES)

    @extend_schema(
        tags=TAGS,
        operation_id="voting_tally_shares",
        parameters=[OpenApiParameter("slug", str, OpenApiParameter.PATH)],
        responses={200: OBJ, 404: OBJ},
        summary="Every stored tally share (each verified when it arrived)",
    )
    def get(self, request: Request, slug: str) -> Response:
        election = public_election(slug)
        rows = DecryptionShare.objects.filter(election=election).order_by("trustee__index")
        return Response({"election": election.slug, "shares": [row.document for row in rows]})

    @extend_schema(
        tags=TAGS,
        request={"application/json": envelope_schema([SHARE_KIND])},
        responses={
            201: OBJ,
            200: OBJ,
            400: OBJ,
            401: OBJ,
            403: OBJ,
            404: OBJ,
            409: OBJ,
            413: OBJ,
            422: OBJ,
        },
        summary="Send your partial decryption of the tally with its proofs (checked before it is stored)",
    )
    def post(self, request: Request, slug: str) -> Response:
        document = json_object(request)
        submission = judged(
            lambda: services.submit_share(slug=slug, user=request.user, document=document),
            document, [SHARE_KIND], MalformedTallyShare,
        )  # fmt: skip
        body = {
            "trustee": submission.share.trustee.index,
            "sha256": submission.share.sha256,
            "stored": submission.created,
            "received": submission.received,
            "threshold": submission.threshold,
        }
        return Response(body, status=201 if submission.created else 200)
