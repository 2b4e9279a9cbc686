"""Offline verification of a ballot receipt: the file the booth lets a voter download
(docs/protocol.md §7.7): ``{context, ballot, tracking_code, cast?, ledger_receipt?}``.

It chains three things a voter can check without trusting the city's server:

1. the ballot itself: well formed, bound to the election context, every proof holds
   (``civic_votecrypto.ballot.verify_receipt``, the same checks as the browser's twin), and, with
   ``cast``, the box's answer names this ballot (tracking code, SHA-256 of its RFC 8785 bytes);
2. the binding to the log: the entry the ledger receipt proves is the ``ballot.cast`` (or
   ``ballot.spoiled``) event of this election carrying that tracking code and hash;
3. the ledger receipt: inclusion proof, log-signed checkpoint, observer cosignatures
   (:mod:`civic_observer.receipt`), and the blockchain anchor if any (:mod:`civic_observer.anchors`).

Without ``ledger_receipt`` (no witnessed checkpoint covered the ballot when it was saved), part 2
and 3 cannot be checked offline: the report says so and fails; ``--server`` fetches it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from civic_observer.receipt import (
    Receipt,
    ReceiptFormatError,
    ReceiptReport,
    parse_receipt,
    verify_receipt,
)
from civic_votecrypto import ballot as ballots
from civic_votecrypto.errors import CryptoError

BALLOT_EVENTS = {
    "counting": "ballot.cast",
    "superseded": "ballot.cast",
    "spoiled": "ballot.spoiled",
}
NO_LEDGER_RECEIPT = (
    "the receipt holds no ledger receipt: its inclusion in the log cannot be checked offline yet "
    "(no witnessed checkpoint covered the ballot when it was saved); run again with --server URL "
    "to fetch it, or download the receipt again from the booth later"
)


@dataclass(frozen=True)
class BallotReceiptResult:
    report: ReceiptReport
    tracking_code: str | None
    election: str | None
    ledger: Receipt | None  # the parsed ledger receipt, when the file holds one


def is_ballot_receipt(raw: Any) -> bool:
    """A ballot receipt (not a bare ledger receipt): it carries the context and the ballot."""
    return isinstance(raw, Mapping) and "context" in raw and "ballot" in raw


def election_of(raw: Mapping[str, Any]) -> str | None:
    """The election's slug: the box's answer names it; else the manifest's election id."""
    cast = raw.get("cast")
    if isinstance(cast, Mapping) and isinstance(cast.get("election"), str):
        return cast["election"]
    context = raw.get("context")
    manifest = context.get("manifest") if isinstance(context, Mapping) else None
    slug = manifest.get("election_id") if isinstance(manifest, Mapping) else None
    return slug if isinstance(slug, str) else None


def _tracking_code(raw: Mapping[str, Any]) -> str | None:
    try:
        return ballots.decode_ballot(raw["ballot"]).tracking_code
    except CryptoError:
        return None


def _entry_check(
    report: ReceiptReport, raw: Mapping[str, Any], ledger: Receipt, code: str | None
) -> None:
    """The ledger entry is this ballot's event: kind, election, tracking code, hash, position."""
    try:
        event = json.loads(ledger.entry)
        kind, payload = event["kind"], event["payload"]
        if not isinstance(payload, Mapping):
            raise TypeError("payload is not an object")
    except (ValueError, KeyError, TypeError) as exc:
        report.add("ledger entry", False, f"the entry is not a Civic event: {exc}")
        return
    cast = raw.get("cast") if isinstance(raw.get("cast"), Mapping) else {}
    expected = BALLOT_EVENTS.get(str(cast.get("status")))
    kinds = {expected} if expected else set(BALLOT_EVENTS.values())
    problems: list[str] = []
    if kind not in kinds:
        problems.append(f"the entry is a {kind!r} event, not {' or '.join(sorted(kinds))}")
    try:
        digest = ballots.ballot_sha256(raw["ballot"])
    except CryptoError as exc:
        digest = f"? ({exc})"
    if payload.get("tracking_code") != code:
        problems.append(
            f"the entry is for tracking code {payload.get('tracking_code')!r}, the ballot's is {code}"
        )
    if payload.get("ballot_sha256") != digest:
        problems.append(
            f"the entry logs ballot_sha256 {payload.get('ballot_sha256')!r}, the ballot's is {digest}"
        )
    slug = election_of(raw)
    if payload.get("election") != slug:
        problems.append(
            f"the entry is of election {payload.get('election')!r}, the receipt's is {slug!r}"
        )
    if cast.get("log") not in (None, ledger.log):
        problems.append(
            f"the box logged it in {cast.get('log')!r}, the ledger receipt is of {ledger.log!r}"
        )
    position = cast.get("position")
    if isinstance(position, Mapping) and position.get("index") not in (None, ledger.index):
        problems.append(
            f"the box gave position {position.get('index')}, the ledger receipt proves {ledger.index}"
        )
    report.add(
        "ledger entry",
        not problems,
        "; ".join(problems)
        or f"entry {ledger.index} of {ledger.log} is the {kind} event of this ballot",
    )


def check_ballot_receipt(
    raw: Mapping[str, Any],
    *,
    trusted_log_key: str | None = None,
    trusted_observer_keys: list[str] | None = None,
) -> BallotReceiptResult:
    """Every check of a ballot receipt but the anchor's (the caller adds those, it holds the
    chain options). Raises ReceiptFormatError when ``ledger_receipt`` is not a ledger receipt."""
    report = ReceiptReport()
    for name, ok, detail in ballots.verify_receipt(raw):
        report.add(name, ok, detail)
    code = _tracking_code(raw)
    ledger_raw = raw.get("ledger_receipt")
    if ledger_raw is None:
        report.add("ledger receipt", False, NO_LEDGER_RECEIPT)
        return BallotReceiptResult(report, code, election_of(raw), None)
    try:
        ledger = parse_receipt(ledger_raw)
    except ReceiptFormatError as exc:
        raise ReceiptFormatError(f"ledger_receipt: {exc}") from exc
    _entry_check(report, raw, ledger, code)
    ledger_report = verify_receipt(
        ledger, trusted_log_key=trusted_log_key, trusted_observer_keys=trusted_observer_keys
    )
    report.checks.extend(ledger_report.checks)
    return BallotReceiptResult(report, code, election_of(raw), ledger)
