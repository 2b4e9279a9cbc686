"""The officials' JSON API: the same operations as their pages, for cities that script elections.

``/api/voting/official/elections`` (GET list, POST create), ``.../<slug>`` (GET, PUT a draft,
DELETE a draft), ``.../<slug>/ceremony|cancel|close`` (POST the lifecycle steps; cancel and close
take ``{"reason"}``). Permission IsOfficial. Authentication: an official's API credential
(``Authorization: Bearer <key id>.<secret>``, made on /voting/official/credentials/; for scripts,
no CSRF token) or the session (whose writes need the CSRF token); bodies are strict JSON; every refusal is the one error shape, field errors keyed like
``questions.0.options``. Thin: the rules are in voting.services.authoring and lifecycle.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers as drf
from rest_framework.authentication import SessionAuthentication
from rest_framework.request import Request
from rest_framework.response import Response

from civic.errors import NotFound
from civic.http import StrictJSONAPIView, body_schema, json_object
from civic.roles import IsOfficial
from voting.authentication import ApiTokenAuthentication
from voting.errors import ProposalInvalid, ProposalRefused, SlugTaken
from voting.markdown import render_markdown
from voting.models import Election
from voting.selectors import elections as selectors
from voting.services import authoring, lifecycle

OBJ = OpenApiTypes.OBJECT
TAG = ["voting: officials"]
PROPOSAL_FIELDS = {
    "title", "slug", "description", "district", "questions", "opens_at", "closes_at", "trustees",
    "threshold", "required_observer_reports",
}
PROPOSAL_BODY = body_schema(
    "ProposalRequest",
    closed=True,
    title=drf.CharField(max_length=200),
    slug=drf.CharField(required=False, help_text="Default: made from the title. Refused if taken. Ignored by PUT."),
    description=drf.CharField(required=False, help_text="Markdown; rendered sanitized (no raw HTML)."),
    district=drf.CharField(required=False, help_text="Empty: the whole city."),
    questions=drf.ListField(
        child=drf.JSONField(),
        help_text="Contests in the civic_votecrypto manifest form (docs/protocol.md §6): id, type "
        "(yes_no_abstain, one_of_n, approval, score, budget), title, options [{id, title[, cost]}] "
        "and the type's parameters.",
    ),
    opens_at=drf.DateTimeField(help_text="ISO 8601; without an offset it is read in CIVIC_TIME_ZONE."),
    closes_at=drf.DateTimeField(),
    trustees=drf.ListField(child=drf.CharField(), help_text="Usernames of trustee accounts, index order 1..n."),
    threshold=drf.IntegerField(help_text="t, 1 <= t <= n."),
    required_observer_reports=drf.IntegerField(required=False, default=1),
)
REASON_BODY = body_schema(
    "StepRequest",
    reason=drf.CharField(
        required=False, max_length=lifecycle.REASON_MAX_CHARS, help_text="Required by cancel and close."
    ),
)


def _judged(step: Callable[[], Election]) -> Election:
    """Run an authoring or lifecycle step; its rule refusals of a well-formed body are 422."""
    try:
        return step()
    except SlugTaken:
        raise
    except ProposalInvalid as exc:
        raise ProposalRefused(exc.detail) from exc


def _instant(value: Any, name: str, errors: dict[str, str]) -> datetime | None:
    if not isinstance(value, str) or len(value) > 40:
        errors[name] = _("An ISO 8601 date and time, e.g. 2026-05-01T09:00:00+02:00.")
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        errors[name] = _("An ISO 8601 date and time, e.g. 2026-05-01T09:00:00+02:00.")
        return None
    return parsed.replace(tzinfo=authoring.city_zone()) if parsed.tzinfo is None else parsed


def proposal_from_json(body: dict[str, Any]) -> authoring.Proposal:
    """The body as a Proposal; unknown keys and malformed times are refused by field."""
    errors: dict[str, str] = {}
    unknown = sorted(set(body) - PROPOSAL_FIELDS)
    if unknown:
        errors["body"] = _("Unknown fields: %(names)s.") % {"names": ", ".join(unknown)}
    if not isinstance(body.get("slug", ""), str):
        errors["slug"] = _("The address (slug) is a string.")
    opens_at = _instant(body.get("opens_at"), "opens_at", errors)
    closes_at = _instant(body.get("closes_at"), "closes_at", errors)
    if errors:
        raise ProposalInvalid(errors)
    return authoring.Proposal(
        title=body.get("title", ""),
        slug=body.get("slug", ""),
        description=body.get("description", ""),
        district=body.get("district", ""),
        questions=body.get("questions", []),
        opens_at=opens_at,
        closes_at=closes_at,
        trustees=body.get("trustees", []),
        threshold=body.get("threshold"),
        required_observer_reports=body.get("required_observer_reports", 1),
    )


def _utc(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value else None


def election_json(election: Election) -> dict[str, Any]:
    return {
        "slug": election.slug,
        "title": election.title,
        "state": election.state,
        "state_reason": election.state_reason,
        "description": election.description,
        "description_html": render_markdown(election.description),
        "district": election.district,
        "questions": (election.manifest or {}).get("contests", []),
        "manifest": election.manifest,
        "opens_at": _utc(election.opens_at),
        "closes_at": _utc(election.closes_at),
        "time_zone": authoring.city_zone().key,
        "trustees": selectors.trustee_list_json(election),
        "threshold": election.threshold,
        "required_observer_reports": election.required_observer_reports,
        "log_name": election.log_name,
        "context_published": election.context is not None,
    }


def _election(slug: str) -> Election:
    election = selectors.election_by_slug(slug)
    if election is None:
        raise NotFound("no election with this slug")
    return election


class OfficialAPIView(StrictJSONAPIView):
    """A script's credential first (401 with the Bearer challenge when missing or bad), then the
    session; either way only official accounts pass."""

    authentication_classes = [ApiTokenAuthentication, SessionAuthentication]
    permission_classes = [IsOfficial]


class OfficialElectionsView(OfficialAPIView):

    @extend_schema(tags=TAG, operation_id="official_elections_list", responses={200: OBJ}, summary="Every election, drafts included")
    def get(self, request: Request) -> Response:
        return Response({"elections": [election_json(e) for e in selectors.official_elections()]})

    @extend_schema(tags=TAG, operation_id="official_elections_create", request=PROPOSAL_BODY, responses={201: OBJ, 400: OBJ, 409: OBJ, 422: OBJ}, summary="Create a draft")
    def post(self, request: Request) -> Response:
        proposal = proposal_from_json(json_object(request))
        election = _judged(lambda: authoring.create_draft(request.user, proposal))
        return Response(election_json(election), status=201)


class OfficialElectionView(OfficialAPIView):

    @extend_schema(tags=TAG, operation_id="official_election_retrieve", responses={200: OBJ, 404: OBJ}, summary="One election, drafts included")
    def get(self, request: Request, slug: str) -> Response:
        return Response(election_json(_election(slug)))

    @extend_schema(tags=TAG, operation_id="official_election_update", request=PROPOSAL_BODY, responses={200: OBJ, 400: OBJ, 409: OBJ, 422: OBJ}, summary="Replace a draft")
    def put(self, request: Request, slug: str) -> Response:
        election = _election(slug)
        proposal = proposal_from_json(json_object(request))
        election = _judged(lambda: authoring.update_draft(request.user, election, proposal))
        return Response(election_json(election))

    @extend_schema(tags=TAG, operation_id="official_election_delete", request=None, responses={204: None, 409: OBJ}, summary="Delete a draft")
    def delete(self, request: Request, slug: str) -> Response:
        authoring.delete_draft(request.user, _election(slug))
        return Response(status=204)


class OfficialStepView(OfficialAPIView):

    @extend_schema(
        tags=TAG,
        operation_id="official_election_step",
        request=REASON_BODY,
        responses={200: OBJ, 400: OBJ, 409: OBJ, 422: OBJ},
        parameters=[OpenApiParameter("step", str, OpenApiParameter.PATH, enum=["ceremony", "cancel", "close"])],
        summary="A lifecycle step: start the key ceremony, cancel (reason), close early (reason)",
    )
    def post(self, request: Request, slug: str, step: str) -> Response:
        if step not in ("ceremony", "cancel", "close"):
            raise NotFound("no such step: ceremony, cancel or close")
        election = _election(slug)
        has_body = (request.META.get("CONTENT_LENGTH") or "0") not in ("", "0")
        body = json_object(request) if has_body else {}
        if step == "ceremony":
            election = _judged(lambda: lifecycle.start_ceremony(request.user, election))
        elif step == "cancel":
            election = _judged(lambda: lifecycle.cancel(request.user, election, body.get("reason")))
        else:
            election = _judged(lambda: lifecycle.close_early(request.user, election, body.get("reason")))
        election.refresh_from_db()
        return Response(election_json(election))
