"""The key ceremony, read: who has sent which round, whom we wait for, complaints and their
verdicts, and the joint key once known. Everything here is recomputed from the stored public
messages with the pure code (civic_votecrypto.dkg), so the page shows what anyone can check."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser

from civic_votecrypto import dkg
from civic_votecrypto import trustee as trustee_messages
from civic_votecrypto.election import Election as CryptoElection
from civic_votecrypto.election import election_from_manifest
from civic_votecrypto.errors import CryptoError
from civic_votecrypto.manifest import Manifest
from voting.models import CeremonyMessage, Election, ElectionTrustee

ROUNDS: tuple[str, ...] = tuple(CeremonyMessage.Kind.values)  # announcement, commitments, complaints


def trustee_name(row: ElectionTrustee) -> str:
    return row.user.get_full_name() or row.user.get_username()


def ceremony_identity(election: Election) -> CryptoElection | None:
    """The crypto library's election (id, H_B, n, t), from the manifest and the trustee rows."""
    trustees = election.trustees.count()
    if election.manifest is None or not election.threshold or not trustees:
        return None
    try:
        return election_from_manifest(Manifest.from_json(election.manifest), trustees, election.threshold)
    except CryptoError:
        return None


def stored_messages(election: Election) -> tuple[list[CeremonyMessage], trustee_messages.Messages]:
    """The stored rows and their decoding (they were checked when stored)."""
    rows = list(election.ceremony_messages.select_related("trustee").order_by("trustee__index", "kind"))
    messages = trustee_messages.Messages()
    for row in rows:
        trustee_messages.add_document(messages, row.document, f"stored {row.kind} of trustee {row.trustee.index}")
    return rows, messages


def message_documents(election: Election, kind: str | None = None) -> list[dict[str, Any]]:
    rows = election.ceremony_messages.select_related("trustee").order_by("trustee__index", "received_at")
    if kind is not None:
        rows = rows.filter(kind=kind)
    return [row.document for row in rows]


def message_document(election: Election, kind: str, index: int) -> dict[str, Any] | None:
    row = election.ceremony_messages.filter(kind=kind, trustee__index=index).first()
    return row.document if row is not None else None


def trustee_index_of(election: Election, user: AbstractBaseUser | Any) -> int | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    row = ElectionTrustee.objects.filter(election=election, user=user).first()
    return row.index if row is not None else None


@dataclass(frozen=True)
class Judged:
    """Complaints judged from public data, and who remains qualified (None until all are in)."""

    verdicts: list[dkg.Verdict]
    qualified: list[int] | None


def judge(identity: CryptoElection, messages: trustee_messages.Messages) -> Judged:
    params = identity.params
    complete = all(i in messages.complaints for i in params.indices)
    complaints = [c for i in sorted(messages.complaints) for c in messages.complaints[i]]
    verdicts = [
        dkg.judge_complaint(params, messages.announcements, messages.commitments, c) for c in complaints
    ]
    return Judged(verdicts, dkg.qualified_trustees(params, verdicts) if complete else None)


def ceremony_status(election: Election) -> dict[str, Any]:
    """The public state of the ceremony (the API's GET .../ceremony and the ceremony page)."""
    identity = ceremony_identity(election)
    roster_rows = list(election.trustees.select_related("user").order_by("index"))
    rows, messages = stored_messages(election)
    sent = {(row.trustee.index, row.kind): row for row in rows}
    roster = [
        {
            "index": t.index,
            "name": trustee_name(t),
            "rounds": {
                kind: (
                    {"sha256": sent[(t.index, kind)].sha256, "received_at": sent[(t.index, kind)].received_at.isoformat()}
                    if (t.index, kind) in sent
                    else None
                )
                for kind in ROUNDS
            },
        }
        for t in roster_rows
    ]
    status: dict[str, Any] = {
        "election": election.slug,
        "title": election.title,
        "state": election.state,
        "election_id": identity.election_id if identity else None,
        "base_hash": identity.base_hash.hex() if identity else None,
        "trustees": len(roster_rows),
        "threshold": election.threshold,
        "manifest": election.manifest,
        "roster": roster,
        "round": None,
        "waiting_for": [],
        "complaints": [],
        "qualified": None,
        "disqualified": {},
        "outcome": "not started" if election.state == Election.State.DRAFT else "running",
        "joint_key": None,
        "extended_hash": None,
    }
    if election.context is not None:
        status["joint_key"] = election.context["joint_key"]
        status["extended_hash"] = election.context["extended_hash"]
    if identity is None:
        return status
    for kind in ROUNDS:
        missing = [t["index"] for t in roster if t["rounds"][kind] is None]
        if missing:
            status["round"], status["waiting_for"] = kind, missing
            break
    judged = judge(identity, messages)
    status["complaints"] = [
        {
            "accuser": v.complaint.accuser,
            "accused": v.complaint.accused,
            "upheld": v.upheld,
            "guilty": v.guilty,
            "reason": v.reason,
        }
        for v in judged.verdicts
    ]
    status["disqualified"] = {str(v.guilty): v.reason for v in judged.verdicts if v.upheld}
    if judged.qualified is not None:
        status["qualified"] = judged.qualified
        if len(judged.qualified) < identity.threshold:
            status["outcome"] = "failed"
        else:
            status["outcome"] = "complete"
            if status["joint_key"] is None:
                status["joint_key"] = dkg.joint_key(messages.commitments, judged.qualified).hex()
    elif election.context is not None:
        status["outcome"] = "complete"
    return status
