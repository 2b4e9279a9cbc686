"""Observers' signed audit reports (``civic-audit-report/1``, docs/protocol-trustees.md §9).

An observer runs ``civic-observer audit-election`` on the published record and POSTs the signed
report. It is stored only if it is well-formed, names this election and the record hash the city
sealed, comes from a registered, active observer (``ledger.selectors.active_observers``, matched
by the report's ``observer.verifier_key``) and its Ed25519 signature verifies:

    signature = Ed25519("civic/audit-report/v1" || 0x00 || RFC8785(report without "signature"))

The same report sent again is answered with the stored one (idempotent). Each refusal stores
nothing and says why (400 malformed, 403 unknown observer, 409 no record yet, 422 bad signature
or another election's / record's report, 413 oversize at the HTTP layer).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from civic.errors import DomainError, InvalidInput, NotFound
from civic_tlog import note
from civic_votecrypto import strict_json
from civic_votecrypto.errors import EncodingError
from ledger import selectors as ledger_selectors
from ledger.models import Observer
from voting.errors import TallyNotReady
from voting.models import AuditReport, Election
from voting.selectors import tally as selectors
from voting.selectors.elections import election_by_slug

REPORT_FORMAT = "civic-audit-report/1"
SIGNATURE_CONTEXT = b"civic/audit-report/v1"
MAX_REPORT_BYTES = 1024 * 1024  # a failing audit lists at most 100 objects per step
REPORT_KEYS = {
    "format", "election", "record_sha256", "log", "ballots", "result", "steps", "created_at",
    "tool", "observer", "signature",
}  # fmt: skip
STEP_KEYS = {"id", "title", "status", "detail", "failures", "failure_count"}


class MalformedReport(InvalidInput):
    code = "malformed_report"


class UnknownObserver(DomainError):
    code, status = "unknown_observer", 403


class ReportSignatureInvalid(DomainError):
    code, status = "bad_report_signature", 422


class WrongReportRecord(DomainError):
    code, status = "wrong_record", 422


class InconsistentReport(DomainError):
    """Well-formed, but its verdict disagrees with its own steps."""

    code, status = "inconsistent_report", 422


@dataclass(frozen=True)
class Submission:
    report: AuditReport
    created: bool


def report_message(unsigned: dict[str, Any]) -> bytes:
    return SIGNATURE_CONTEXT + b"\x00" + strict_json.canonical(unsigned)


def _check_shape(document: dict[str, Any]) -> None:
    if set(document) != REPORT_KEYS:
        missing, extra = sorted(REPORT_KEYS - set(document)), sorted(set(document) - REPORT_KEYS)
        raise MalformedReport(
            _("wrong keys (missing %(missing)s, unexpected %(extra)s)")
            % {"missing": missing, "extra": extra}
        )
    if document["format"] != REPORT_FORMAT:
        raise MalformedReport(_("format must be %(format)r") % {"format": REPORT_FORMAT})
    for name in ("election", "record_sha256", "created_at", "tool", "signature"):
        if not isinstance(document[name], str) or not 0 < len(document[name]) <= 256:
            raise MalformedReport(
                _("%(name)s must be a string of 1..256 characters") % {"name": name}
            )
    if document["result"] not in ("pass", "fail"):
        raise MalformedReport(_("result must be 'pass' or 'fail'"))
    observer = document["observer"]
    if (
        not isinstance(observer, dict)
        or set(observer) != {"name", "verifier_key"}
        or not all(isinstance(v, str) for v in observer.values())
    ):
        raise MalformedReport(_("observer must be {name, verifier_key} (strings)"))
    steps = document["steps"]
    if not isinstance(steps, list) or not steps:
        raise MalformedReport(_("steps must be a non-empty list"))
    for i, step in enumerate(steps):
        if not isinstance(step, dict) or set(step) != STEP_KEYS:
            raise MalformedReport(
                _("steps[%(i)d] must have exactly the keys %(keys)s")
                % {"i": i, "keys": sorted(STEP_KEYS)}
            )
        if step["status"] not in ("PASS", "FAIL"):
            raise MalformedReport(_("steps[%(i)d].status must be PASS or FAIL") % {"i": i})
    verdict = all(step["status"] == "PASS" for step in steps)
    if verdict != (document["result"] == "pass"):
        raise InconsistentReport(_("result does not agree with the steps' statuses"))


def _observer(document: dict[str, Any]) -> Observer:
    claimed = document["observer"]["verifier_key"]
    for observer in ledger_selectors.active_observers():
        if hmac.compare_digest(observer.verifier_key.encode(), claimed.encode()):
            return observer
    raise UnknownObserver(_("the report's observer key is not a registered, active observer"))


def _verify_signature(document: dict[str, Any], observer: Observer) -> None:
    try:
        vkey = note.parse_verifier_key(observer.verifier_key)
        signature = base64.b64decode(document["signature"], validate=True)
        unsigned = {k: v for k, v in document.items() if k != "signature"}
        ok = vkey.verify_raw(report_message(unsigned), signature)
    except (ValueError, TypeError, EncodingError, note.NoteError):
        ok = False
    if not ok:
        raise ReportSignatureInvalid(
            _("the report's signature does not verify under observer %(name)s's key")
            % {"name": observer.name}
        )


def submit_report(*, slug: str, document: dict[str, Any]) -> Submission:
    """Verify and store one report (or find it already stored)."""
    election = election_by_slug(slug)
    if election is None:
        raise NotFound(_("there is no election with this slug"))
    _check_shape(document)
    observer = _observer(document)
    _verify_signature(document, observer)
    tally = selectors.tally_of(election)
    if election.state != Election.State.PUBLISHED or tally is None or not tally.record_sha256:
        raise TallyNotReady(_("this election has no published record to report on yet"))
    if document["election"] != election.slug:
        raise WrongReportRecord(
            _("the report is on election %(other)r, not %(slug)r")
            % {"other": document["election"], "slug": slug}
        )
    if not hmac.compare_digest(document["record_sha256"].encode(), tally.record_sha256.encode()):
        raise WrongReportRecord(_("the report's record_sha256 is not this election's record hash"))
    sha256 = hashlib.sha256(strict_json.canonical(document)).hexdigest()
    found = AuditReport.objects.filter(election=election, observer=observer, sha256=sha256).first()
    if found is not None:
        return Submission(found, False)
    try:
        with transaction.atomic():
            row = AuditReport.objects.create(
                election=election,
                observer=observer,
                passed=document["result"] == "pass",
                report=document,
                sha256=sha256,
            )
    except IntegrityError:  # the same report, sent twice at once
        return Submission(
            AuditReport.objects.get(election=election, observer=observer, sha256=sha256), False
        )
    return Submission(row, True)
