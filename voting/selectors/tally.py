"""Tally reads: the counting ballots in chunks, the published ballot list, the encrypted tally as the
trustee program fetches it, the trustees' verification keys, progress, results and reports."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from civic_votecrypto.decryption import EncryptedTally
from civic_votecrypto.dkg import (
    CeremonyParameters,
    CeremonyTranscript,
    Complaint,
    TrusteeAnnouncement,
    TrusteeCommitments,
)
from civic_votecrypto.election import Election as CryptoElection
from civic_votecrypto.election import election_from_manifest
from civic_votecrypto.errors import CryptoError
from civic_votecrypto.group import Point
from civic_votecrypto.manifest import Manifest
from ledger.anchoring.selectors import anchor_as_dict, current_chain, first_final_anchor_covering
from ledger.models import Checkpoint, Entry, Log, Observer, OutboxEntry
from voting.models import (
    AuditReport,
    CastBallot,
    DecryptionShare,
    Election,
    ElectionTrustee,
    EligibilityGrant,
    Tally,
)
from voting.selectors import ballot_box as box
from voting.selectors.elections import crypto_context

BALLOT_EVENTS = (box.BALLOT_CAST_EVENT, box.BALLOT_SPOILED_EVENT)
# Every counting ballot weighs 1: the record lists "weight": 1 for each (docs/protocol-trustees.md
# § Election record). A weighted election would take its weights from here, in one place.
BALLOT_WEIGHT = 1
# Where the box is public as a list: once it is closed (the tracking API answers per code before).
LISTED_STATES = frozenset(
    {Election.State.CLOSED, Election.State.TALLYING, Election.State.PUBLISHED}
)


def tally_of(election: Election) -> Tally | None:
    return Tally.objects.filter(election=election).first()


def manifest_of(election: Election) -> Manifest:
    return crypto_context(election).manifest


def crypto_identity(election: Election) -> CryptoElection:
    """(election id, H_B, n, t) as the published context fixes them: what envelopes must name."""
    raw = election.context or {}
    return election_from_manifest(
        Manifest.from_json(raw["manifest"]), raw["trustees"], raw["threshold"]
    )


# -- the box at closing -------------------------------------------------------------------------
def election_log(election: Election) -> Log | None:
    return Log.objects.filter(name=election.log_name).first() if election.log_name else None


def election_log_entries(election: Election) -> list[bytes]:
    """Every sequenced entry of the election's log, in log order (the bytes the leaves hash)."""
    log = election_log(election)
    if log is None:
        return []
    rows = Entry.objects.filter(log=log).order_by("index").values_list("entry", flat=True)
    return [bytes(entry) for entry in rows.iterator(chunk_size=2000)]


def unsequenced_ballot_entries(log: Log) -> int:
    return OutboxEntry.objects.filter(
        log=log, kind__in=BALLOT_EVENTS, entry_index__isnull=True
    ).count()


def ballot_entries(log: Log) -> tuple[int, int | None]:
    """(number of ballot.* outbox entries, largest log index among them)."""
    rows = OutboxEntry.objects.filter(log=log, kind__in=BALLOT_EVENTS)
    last = rows.order_by("-entry_index").values_list("entry_index", flat=True).first()
    return rows.count(), last


def covering_checkpoint(log: Log, size: int) -> Checkpoint | None:
    """The latest signed checkpoint of at least ``size`` entries."""
    return Checkpoint.objects.filter(log=log, size__gte=size).order_by("-size").first()


def box_counts(election: Election) -> dict[str, int]:
    turnout = box.turnout(election)
    return {"counting": turnout["counting"], "cast": turnout["cast"], "spoiled": turnout["spoiled"]}


def chunk_count(counting: int, chunk_size: int) -> int:
    return math.ceil(counting / chunk_size) if counting else 0


def chunk_starts(election: Election, chunk_size: int) -> list[int]:
    """The id of every chunk's first ballot: the counting ballots in id order, cut every
    ``chunk_size`` (one index-only query at the freeze; each chunk then reads an id range)."""
    rows = CastBallot.objects.filter(election=election, counting=True).order_by("id")
    return list(rows.values_list("id", flat=True))[::chunk_size]


def chunk_rows(tally: Tally, index: int) -> list[tuple[int, Any]]:
    """(id, document) of chunk ``index``: counting ballots with ids from its start to the next's."""
    rows = CastBallot.objects.filter(
        election_id=tally.election_id, counting=True, pk__gte=tally.chunk_starts[index]
    )
    if index + 1 < len(tally.chunk_starts):
        rows = rows.filter(pk__lt=tally.chunk_starts[index + 1])
    return list(rows.order_by("id").values_list("id", "document")[: tally.chunk_size])


# -- the published ballots ----------------------------------------------------------------------
def ballot_entry(row: CastBallot) -> dict[str, Any]:
    """One ballot as the list publishes it: the cast (or challenged) document and its status."""
    status = box.ballot_status(row)
    return {
        "id": row.pk,
        "kind": row.kind,
        "status": status,
        "tracking_code": row.tracking_code,
        "ballot_sha256": row.sha256,
        "position": box.position(row),
        "supersedes": row.supersedes.tracking_code if row.supersedes_id else None,
        "weight": BALLOT_WEIGHT if status == "counting" else None,
        "document": row.document,
    }


def ballots_page(election: Election, after: int, limit: int) -> dict[str, Any]:
    """Ballots with id > ``after`` in id order (log order per ballot key), ``limit`` of them."""
    rows = list(
        CastBallot.objects.filter(election=election, pk__gt=after)
        .select_related("outbox", "supersedes")
        .order_by("id")[: limit + 1]
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "election": election.slug,
        "ballots": [ballot_entry(row) for row in rows],
        "next_after": rows[-1].pk if more and rows else None,
    }


# -- what the trustee program fetches -----------------------------------------------------------
def hashes_json(election: Election) -> dict[str, str]:
    ctx = crypto_context(election)
    return {
        "parameter_hash": ctx.parameter_hash.hex(),
        "manifest_hash": ctx.manifest_hash.hex(),
        "base_hash": ctx.base_hash.hex(),
        "extended_hash": ctx.extended_hash.hex(),
    }


def shares_received(election: Election) -> list[int]:
    return list(
        DecryptionShare.objects.filter(election=election)
        .order_by("trustee__index")
        .values_list("trustee__index", flat=True)
    )


def tally_document(election: Election, tally: Tally) -> dict[str, Any]:
    """GET /tally: the encrypted tally in the record's layout (manifest, hashes, tally) and its state."""
    raw = election.context or {}
    return {
        "election": election.slug,
        "state": election.state,
        "parameters": {"trustees": raw.get("trustees"), "threshold": raw.get("threshold")},
        "manifest": raw.get("manifest"),
        "hashes": hashes_json(election),
        "box_frozen": tally.frozen,
        "tally": tally.encrypted,
        "tally_sha256": tally.tally_sha256 or None,
        "progress": {"chunks_done": tally.chunks_done, "chunks_total": tally.chunks_total},
        "shares_received": shares_received(election),
        "results": tally.results,
    }


def encrypted_tally(election: Election, tally: Tally) -> EncryptedTally:
    return EncryptedTally.from_json(tally.encrypted, manifest_of(election))


_transcripts: dict[tuple[int, str], CeremonyTranscript] = {}


def ceremony_transcript(election: Election) -> CeremonyTranscript:
    """The stored key ceremony as the crypto layer's object (parsed once per process)."""
    raw = election.context or {}
    key = (election.pk, str(raw.get("extended_hash")))
    found = _transcripts.get(key)
    if found is None:
        stored = election.ceremony_transcript or {}
        params = CeremonyParameters(
            raw["trustees"], raw["threshold"], crypto_context(election).base_hash
        )
        found = CeremonyTranscript(
            params,
            tuple(TrusteeAnnouncement.from_json(a) for a in stored.get("announcements", [])),
            tuple(TrusteeCommitments.from_json(c) for c in stored.get("commitments", [])),
            tuple(Complaint.from_json(c) for c in stored.get("complaints", [])),
        )
        _transcripts[key] = found
    return found


def verification_keys(election: Election) -> dict[int, Point]:
    """Y_j = s_j·G of every qualified trustee, from the public commitments."""
    return ceremony_transcript(election).verification_keys()


def trustee_of(election: Election, user: Any) -> ElectionTrustee | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return ElectionTrustee.objects.filter(election=election, user=user).first()


# -- pages --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DecryptionStatus:
    """What the decryption page and the official's page show."""

    tally: Tally | None
    roster: list[dict[str, Any]]
    threshold: int
    received: int


def decryption_status(election: Election) -> DecryptionStatus:
    tally = tally_of(election)
    received = set(shares_received(election))
    try:
        keys = verification_keys(election) if election.context else {}
    except (CryptoError, KeyError, TypeError, ValueError):  # no usable stored transcript
        keys = {}
    roster = [
        {
            "index": row.index,
            "name": row.user.get_full_name() or row.user.get_username(),
            "qualified": row.index in keys,
            "sent": row.index in received,
        }
        for row in election.trustees.select_related("user").order_by("index")
    ]
    threshold = int((election.context or {}).get("threshold") or election.threshold or 0)
    return DecryptionStatus(tally, roster, threshold, len(received))


def tokens_issued(election: Election) -> int:
    return EligibilityGrant.objects.filter(election=election).count()


def observer_reports(election: Election) -> list[dict[str, Any]]:
    """Every observer's signed audit report on the election's record, oldest first: observer,
    verdict, when, and its id (the results page links the report JSON)."""
    rows = AuditReport.objects.filter(election=election).select_related("observer")
    return [
        {
            "id": row.pk,
            "observer": row.observer.name,
            "observer_key": row.observer.verifier_key,
            "passed": row.passed,
            "verdict": "pass" if row.passed else "fail",
            "received_at": row.received_at,
            "sha256": row.sha256,
            "failed_steps": [
                s.get("id") for s in row.report.get("steps", []) if s.get("status") != "PASS"
            ],
        }
        for row in rows.order_by("received_at", "id")
    ]


def observer_report_of(election: Election, observer: Observer) -> AuditReport | None:
    """This observer's first report on the election, if it sent one."""
    return AuditReport.objects.filter(election=election, observer=observer).order_by("id").first()


def passing_observers(election: Election) -> int:
    """How many distinct observers sent a passing report."""
    return (
        AuditReport.objects.filter(election=election, passed=True)
        .values("observer")
        .distinct()
        .count()
    )


def is_verified(election: Election) -> bool:
    """Verified once passing reports of distinct observers reach the required number."""
    required = election.required_observer_reports
    return required > 0 and passing_observers(election) >= required


def results_view(election: Election, tally: Tally) -> list[dict[str, Any]]:
    """Per question: its options with totals and shares of the question's total, in manifest order."""
    counts = (tally.results or {}).get("contests", {})
    questions = []
    for contest in (election.context or {}).get("manifest", {}).get("contests", []):
        per_option = counts.get(contest["id"], {})
        total = sum(per_option.values()) or 0
        options = [
            {
                "id": option["id"],
                "title": option["title"],
                "count": per_option.get(option["id"], 0),
                "percent": (100.0 * per_option.get(option["id"], 0) / total) if total else 0.0,
            }
            for option in contest["options"]
        ]
        top = max((o["count"] for o in options), default=0)
        questions.append(
            {
                "id": contest["id"],
                "title": contest["title"],
                "type": contest["type"],
                "options": options,
                "total": total,
                "top": top,
            }
        )
    return questions


def results_anchor(election: Election, tally: Tally) -> dict[str, Any] | None:
    """The first final blockchain anchor covering the ``election.results`` entry, if any yet."""
    if tally.results_outbox_id is None:
        return None
    outbox = OutboxEntry.objects.filter(pk=tally.results_outbox_id).first()
    log = election_log(election)
    if outbox is None or outbox.entry_index is None or log is None:
        return None
    anchor = first_final_anchor_covering(log, outbox.entry_index + 1, current_chain())
    return None if anchor is None else anchor_as_dict(anchor)


def results_position(tally: Tally) -> int | None:
    if tally.results_outbox_id is None:
        return None
    return (
        OutboxEntry.objects.filter(pk=tally.results_outbox_id)
        .values_list("entry_index", flat=True)
        .first()
    )


def turnout_view(election: Election, tally: Tally) -> dict[str, Any]:
    issued = tokens_issued(election)
    counting = int(tally.frozen["counting"])
    return {
        "counting": counting,
        "cast": int(tally.frozen["cast"]),
        "spoiled": int(tally.frozen["spoiled"]),
        "tokens": issued,
        "percent": (100.0 * counting / issued) if issued else None,
    }
