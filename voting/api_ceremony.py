"""The key ceremony's JSON API (docs/protocol-trustees.md § Ceremony API). Thin: the checks live
in voting.services.ceremony, the reads in voting.selectors.ceremony.

GET  /api/voting/elections/<slug>/ceremony                      public state (+ your_index)
GET  /api/voting/elections/<slug>/ceremony/manifest             the manifest the ceremony binds
GET  /api/voting/elections/<slug>/ceremony/messages[?kind=...]  every stored message (public)
GET  /api/voting/elections/<slug>/ceremony/messages/<kind>/<i>  one stored message (public)
POST /api/voting/elections/<slug>/ceremony/messages             a trustee's message: a trustee
     credential (Authorization: Bearer) or the trustee's session (with CSRF) for the page's upload
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from civic.errors import DomainError, InvalidInput, NotFound
from civic.http import StrictJSONAPIView, json_object
from civic_votecrypto import trustee as trustee_messages
from civic_votecrypto.limits import MAX_TRUSTEES
from voting.authentication import ApiTokenAuthentication, IsTrustee
from voting.errors import MalformedCeremonyMessage, MalformedMessageContent
from voting.models import CeremonyMessage, Election
from voting.selectors import ceremony as selectors
from voting.selectors.elections import election_by_slug
from voting.services import ceremony as services

OBJ = OpenApiTypes.OBJECT
TAGS = ["voting: key ceremony"]
ENVELOPE_KEYS = ("format", "kind", "election_id", "base_hash", "trustees", "threshold", "body")


def envelope_schema(kinds: list[str]) -> dict[str, Any]:
    """The civic-trustee-message/1 envelope (docs/schemas/trustee-message.json), to its body: a
    message of this form is judged (its body decoded, its proofs checked: 409, 422), one of
    another form is malformed (400)."""
    index = {"type": "integer", "minimum": 1, "maximum": MAX_TRUSTEES}
    return {
        "type": "object",
        "additionalProperties": False,
        "required": list(ENVELOPE_KEYS),
        "properties": {
            "format": {"type": "string", "enum": [trustee_messages.MESSAGE_FORMAT]},
            "kind": {"type": "string", "enum": kinds},
            "election_id": {"type": "string"},
            "base_hash": {"type": "string", "pattern": "^[0-9a-fA-F]{64}$"},
            "trustees": index,
            "threshold": index,
            "body": {"type": "object", "description": "the kind's body (docs/schemas/trustee-public.json)"},
        },
    }


def is_envelope(document: Any, kinds: list[str]) -> bool:
    """Whether ``document`` has the form envelope_schema(kinds) documents."""
    if not isinstance(document, dict) or set(document) != set(ENVELOPE_KEYS):
        return False

    def index(value: Any) -> bool:
        return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_TRUSTEES

    base_hash = document["base_hash"]
    return (
        document["format"] == trustee_messages.MESSAGE_FORMAT
        and document["kind"] in kinds
        and isinstance(document["election_id"], str)
        and isinstance(base_hash, str)
        and re.fullmatch("[0-9a-fA-F]{64}", base_hash) is not None
        and index(document["trustees"])
        and index(document["threshold"])
        and isinstance(document["body"], dict)
    )


def judged(call: Callable[[], Any], document: Any, kinds: list[str], malformed: type[DomainError]) -> Any:
    """``call()``; a message of the documented form that its decoder refuses is 422, not 400."""
    try:
        return call()
    except malformed as exc:
        if is_envelope(document, kinds):
            raise MalformedMessageContent(exc.detail) from exc
        raise


def public_election(slug: str) -> Election:
    """Drafts are not public: their ceremony does not exist yet."""
    election = election_by_slug(slug)
    if election is None or election.state == Election.State.DRAFT:
        raise NotFound("no election with this slug has a key ceremony")
    return election


CEREMONY_KINDS = list(CeremonyMessage.Kind.values)


class CeremonyAPIView(StrictJSONAPIView):
    authentication_classes = [ApiTokenAuthentication, SessionAuthentication]
    permission_classes = [AllowAny]


class CeremonyStateView(CeremonyAPIView):
    @extend_schema(
        tags=TAGS,
        responses={200: OBJ, 404: OBJ},
        summary="The ceremony's public state: rounds, whom it waits for, verdicts, joint key",
    )
    def get(self, request: Request, slug: str) -> Response:
        election = public_election(slug)
        body = selectors.ceremony_status(election)
        body["your_index"] = selectors.trustee_index_of(election, request.user)
        return Response(body)


class CeremonyManifestView(CeremonyAPIView):
    @extend_schema(tags=TAGS, responses={200: OBJ, 404: OBJ}, summary="The manifest the ceremony is bound to")
    def get(self, request: Request, slug: str) -> Response:
        election = public_election(slug)
        if election.manifest is None:
            raise NotFound("this election has no manifest")
        return Response(election.manifest, headers={"Content-Disposition": f'attachment; filename="manifest-{slug}.json"'})


class CeremonyMessagesView(CeremonyAPIView):
    def get_permissions(self) -> list:
        return [IsTrustee()] if self.request.method == "POST" else [AllowAny()]

    @property
    def body_limit(self) -> int:  # type: ignore[override]
        return settings.CIVIC_CEREMONY_MAX_MESSAGE_BYTES

    @extend_schema(
        tags=TAGS,
        operation_id="voting_ceremony_messages",
        parameters=[OpenApiParameter("kind", str, enum=CeremonyMessage.Kind.values, required=False)],
        responses={200: OBJ, 404: OBJ},
        summary="Every stored ceremony message (civic-trustee-message/1 envelopes)",
    )
    def get(self, request: Request, slug: str) -> Response:
        election = public_election(slug)
        kind = request.query_params.get("kind")
        if kind is not None and kind not in CeremonyMessage.Kind.values:
            raise InvalidInput(f"kind must be one of {', '.join(CeremonyMessage.Kind.values)}")
        return Response({"election": election.slug, "messages": selectors.message_documents(election, kind)})

    @extend_schema(
        tags=TAGS,
        request={"application/json": envelope_schema(CEREMONY_KINDS)},
        responses={201: OBJ, 200: OBJ, 400: OBJ, 401: OBJ, 403: OBJ, 409: OBJ, 413: OBJ, 422: OBJ},
        summary="Send your message of the current round (checked before it is stored)",
    )
    def post(self, request: Request, slug: str) -> Response:
        document = json_object(request)
        submission = judged(
            lambda: services.submit_message(slug=slug, user=request.user, document=document),
            document, CEREMONY_KINDS, MalformedCeremonyMessage,
        )  # fmt: skip
        message = submission.message
        body = {
            "kind": message.kind,
            "trustee": message.trustee.index,
            "sha256": message.sha256,
            "stored": submission.created,
            "ceremony_completed": submission.completed,
        }
        return Response(body, status=201 if submission.created else 200)


class CeremonyMessageView(CeremonyAPIView):
    @extend_schema(
        tags=TAGS, operation_id="voting_ceremony_message", responses={200: OBJ, 404: OBJ}, summary="One stored ceremony message"
    )
    def get(self, request: Request, slug: str, kind: str, index: int) -> Response:
        election = public_election(slug)
        document = selectors.message_document(election, kind, index)
        if document is None:
            raise NotFound(f"trustee {index} has not sent its {kind} message")
        filename = f"{kind}-{index}.json"
        return Response(document, headers={"Content-Disposition": f'attachment; filename="{filename}"'})
