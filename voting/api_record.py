"""The election record and the observers' reports over HTTP (docs/protocol-trustees.md §5, §9).
Thin: the record from voting.services.record_export, reports checked in voting.services.audit_reports.

GET  /api/voting/elections/<slug>/record            public once published (404 before): the
     sealed record, streamed (application/json)
GET  /api/voting/elections/<slug>/record.zip        the same as record.json in a zip with a README
POST /api/voting/elections/<slug>/audit-reports     an observer's signed civic-audit-report/1
     (no account: the signature under a registered observer key is the authorization)
GET  /api/voting/elections/<slug>/audit-reports     public: every stored report (summary)
GET  /api/voting/elections/<slug>/audit-reports/<id>  public: one report exactly as signed
"""

from __future__ import annotations

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from civic.errors import NotFound
from civic.http import StrictJSONAPIView, json_object
from voting.models import AuditReport, Election
from voting.selectors import tally as selectors
from voting.selectors.elections import election_by_slug
from voting.services import audit_reports, record_export

OBJ = OpenApiTypes.OBJECT
TAGS = ["voting: record"]


def published_election(slug: str) -> Election:
    election = election_by_slug(slug)
    if election is None or election.state != Election.State.PUBLISHED:
        raise NotFound("there is no published election with this slug")
    return election


def _server(request: Request) -> str:
    return request.build_absolute_uri("/").rstrip("/")


class RecordAPIView(StrictJSONAPIView):
    authentication_classes: list[type] = []  # public reads; a report authenticates by signature
    permission_classes = [AllowAny]
    renderer_classes = [JSONRenderer]  # the results page links here: the JSON itself, always


class RecordView(RecordAPIView):
    @extend_schema(
        tags=TAGS, responses={200: OBJ, 404: OBJ, 409: OBJ}, summary="The sealed election record"
    )
    def get(self, request: Request, slug: str) -> StreamingHttpResponse:
        election = published_election(slug)
        chunks = record_export.stream_record(election)
        tally = selectors.tally_of(election)
        response = StreamingHttpResponse(
            (c.encode("utf-8") for c in chunks), content_type="application/json"
        )
        response["Content-Disposition"] = f'inline; filename="{slug}-record.json"'
        if tally is not None:
            response["X-Record-SHA256"] = tally.record_sha256
        return response


class RecordZipView(RecordAPIView):
    @extend_schema(
        tags=TAGS,
        responses={(200, "application/zip"): OpenApiTypes.BINARY, 404: OBJ, 409: OBJ},
        summary="The sealed election record as record.json in a zip, with README.txt",
    )
    def get(self, request: Request, slug: str) -> StreamingHttpResponse:
        election = published_election(slug)
        response = StreamingHttpResponse(
            record_export.spooled_zip(election, _server(request)), content_type="application/zip"
        )
        response["Content-Disposition"] = f'attachment; filename="{slug}-record.zip"'
        return response


def report_summary(row: dict) -> dict:
    return {
        "id": row["id"],
        "observer": row["observer"],
        "observer_key": row["observer_key"],
        "result": row["verdict"],
        "received_at": row["received_at"].isoformat(),
        "sha256": row["sha256"],
        "failed_steps": row["failed_steps"],
    }


_STRING = {"type": "string", "minLength": 1, "maxLength": 256}
# civic-audit-report/1 (docs/protocol-trustees.md §9), the shape voting.services.audit_reports checks
AUDIT_REPORT_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": sorted(audit_reports.REPORT_KEYS),
    "properties": {
        "format": {"type": "string", "enum": [audit_reports.REPORT_FORMAT]},
        "election": _STRING,
        "record_sha256": _STRING,
        "created_at": _STRING,
        "tool": _STRING,
        "signature": {**_STRING, "description": "base64 Ed25519 signature by the observer's key"},
        "result": {"type": "string", "enum": ["pass", "fail"]},
        "log": {},
        "ballots": {},
        "observer": {
            "type": "object",
            "additionalProperties": False,
            "required": ["name", "verifier_key"],
            "properties": {"name": {"type": "string"}, "verifier_key": {"type": "string"}},
        },
        "steps": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": sorted(audit_reports.STEP_KEYS),
                "properties": {
                    "status": {"type": "string", "enum": ["PASS", "FAIL"]},
                    **{k: {} for k in sorted(audit_reports.STEP_KEYS - {"status"})},
                },
            },
        },
    },
}


class AuditReportsView(RecordAPIView):
    body_limit = audit_reports.MAX_REPORT_BYTES

    @extend_schema(
        tags=TAGS,
        operation_id="voting_audit_reports_list",
        responses={200: OBJ, 404: OBJ},
        summary="Every observer report",
    )
    def get(self, request: Request, slug: str) -> Response:
        election = election_by_slug(slug)
        if election is None:
            raise NotFound("there is no election with this slug")
        return Response(
            {
                "election": election.slug,
                "required": election.required_observer_reports,
                "verified": selectors.is_verified(election),
                "reports": [report_summary(r) for r in selectors.observer_reports(election)],
            }
        )

    @extend_schema(
        tags=TAGS,
        request={"application/json": AUDIT_REPORT_SCHEMA},
        operation_id="voting_audit_reports_send",
        responses={200: OBJ, 201: OBJ, 400: OBJ, 403: OBJ, 404: OBJ, 409: OBJ, 413: OBJ, 422: OBJ},
        summary="Send an observer's signed audit report on the election record",
    )
    def post(self, request: Request, slug: str) -> Response:
        submission = audit_reports.submit_report(slug=slug, document=json_object(request))
        row = submission.report
        return Response(
            {
                "election": slug,
                "id": row.pk,
                "observer": row.observer.name,
                "result": "pass" if row.passed else "fail",
                "sha256": row.sha256,
                "stored": submission.created,
            },
            status=201 if submission.created else 200,
        )


class AuditReportView(RecordAPIView):
    @extend_schema(
        tags=TAGS,
        operation_id="voting_audit_report",
        responses={200: OBJ, 404: OBJ},
        summary="One report, as signed",
    )
    def get(self, request: Request, slug: str, report_id: int) -> Response:
        row = AuditReport.objects.filter(election__slug=slug, pk=report_id).first()
        if row is None:
            raise NotFound("there is no such report on this election")
        return Response(row.report)
