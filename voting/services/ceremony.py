"""The key ceremony over the network: accept each round's message from the right trustee only,
checked with the same pure code the verifier uses, and publish the context when all are in.

Rounds (docs/protocol-trustees.md § Ceremony API): announcement, then commitments (with the
encrypted shares) once every trustee has announced, then complaints (maybe empty) once every
trustee has sent shares. A message is refused, and nothing stored, when it is malformed, for
another election or trustee index, a different second one of its kind, early, or when a proof
fails. Complaints are judged publicly with ``dkg.judge_complaint``; a trustee proven to have sent
a bad share is disqualified, and the ceremony completes if t trustees remain qualified: the
transcript is published with ``publish_election_context`` (which verifies it again and stores
the context) and the election becomes scheduled, its ledger event carrying the context's hash.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import rfc8785
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from civic.errors import NotFound
from civic_votecrypto import dkg
from civic_votecrypto import trustee as trustee_messages
from civic_votecrypto.dkg import CeremonyError
from civic_votecrypto.manifest import Manifest
from ledger import services as ledger
from voting.errors import (
    CeremonyNotRunning,
    CeremonyProofFailed,
    CeremonyRoundNotOpen,
    DuplicateCeremonyMessage,
    ElectionStateError,
    MalformedCeremonyMessage,
    NotElectionTrustee,
    WrongElectionMessage,
    WrongTrusteeIndex,
)
from voting.models import CeremonyMessage, Election, ElectionTrustee
from voting.selectors import ceremony as selectors
from voting.services import lifecycle
from voting.services.elections import publish_election_context

Kind = CeremonyMessage.Kind
PREVIOUS_ROUND = {Kind.COMMITMENTS: Kind.ANNOUNCEMENT, Kind.COMPLAINTS: Kind.COMMITMENTS}


@dataclass(frozen=True)
class Submission:
    message: CeremonyMessage
    created: bool
    """False when this exact message was already stored (a resend after a lost answer)."""
    completed: bool = False


def document_sha256(document: Any) -> str:
    """SHA-256 of the envelope's RFC 8785 bytes: how a message is named in events and lists."""
    return hashlib.sha256(rfc8785.dumps(document)).hexdigest()


def _sender_and_kind(fresh: trustee_messages.Messages) -> tuple[str, int]:
    for kind, held in (
        (Kind.ANNOUNCEMENT, fresh.announcements),
        (Kind.COMMITMENTS, fresh.commitments),
        (Kind.COMPLAINTS, fresh.complaints),
    ):
        if held:
            return kind, next(iter(held))
    raise MalformedCeremonyMessage(
        "only announcement, commitments and complaints messages are sent during the ceremony"
    )


@transaction.atomic
def submit_message(*, slug: str, user: AbstractBaseUser, document: Any) -> Submission:
    """Store one trustee's ceremony message after every check; complete the ceremony if it was
    the last one. Refusals raise a DomainError naming what is wrong; nothing is stored then."""
    election = Election.objects.select_for_update().filter(slug=slug).first()
    if election is None or election.state == Election.State.DRAFT:
        raise NotFound("no election with this slug has a key ceremony")
    trustee = ElectionTrustee.objects.filter(election=election, user=user).first()
    if trustee is None:
        raise NotElectionTrustee(f"you are not a trustee of election {election.slug}")
    if election.state != Election.State.CEREMONY:
        raise CeremonyNotRunning(f"the key ceremony is not running: the election is {election.state}")
    identity = selectors.ceremony_identity(election)
    if identity is None:
        raise ElectionStateError("the election has no usable manifest, threshold or trustees")

    fresh = trustee_messages.Messages()
    try:
        kind_in_envelope = trustee_messages.add_document(fresh, document, "message")
    except trustee_messages.BadInput as exc:
        raise MalformedCeremonyMessage(str(exc)) from None
    if kind_in_envelope not in Kind.values:
        raise MalformedCeremonyMessage(
            "only announcement, commitments and complaints messages are sent during the ceremony"
        )
    if fresh.election != identity:
        raise WrongElectionMessage(
            f"this message is for election {fresh.election.election_id!r} (base hash "
            f"{fresh.election.base_hash.hex()[:16]}…, n={fresh.election.trustees}, "
            f"t={fresh.election.threshold}), not this election's ceremony ({identity.election_id!r}, "
            f"base hash {identity.base_hash.hex()[:16]}…, n={identity.trustees}, t={identity.threshold})"
        )
    kind, sender = _sender_and_kind(fresh)
    if sender != trustee.index:
        raise WrongTrusteeIndex(f"this {kind} message is from trustee {sender}, but you are trustee {trustee.index}")

    digest = document_sha256(document)
    existing = CeremonyMessage.objects.filter(election=election, trustee=trustee, kind=kind).first()
    if existing is not None:
        if existing.sha256 == digest:
            return Submission(existing, created=False)
        raise DuplicateCeremonyMessage(
            f"trustee {trustee.index} already sent its {kind} message (sha256 {existing.sha256}); "
            "a second, different one is refused"
        )

    _, stored = selectors.stored_messages(election)
    previous = PREVIOUS_ROUND.get(kind)
    if previous is not None:
        held = stored.announcements if previous == Kind.ANNOUNCEMENT else stored.commitments
        missing = [i for i in identity.params.indices if i not in held]
        if missing:
            raise CeremonyRoundNotOpen(
                f"{kind} messages are accepted once every trustee has sent its {previous}; "
                f"waiting for trustee(s) {', '.join(map(str, missing))}"
            )
    _check_proofs(identity.params, kind, fresh, stored)

    message = CeremonyMessage.objects.create(
        election=election, trustee=trustee, kind=kind, document=document, sha256=digest
    )
    ledger.append(
        election.log_name,
        "election.ceremony_message",
        {"election": election.slug, "trustee": trustee.index, "kind": kind, "sha256": digest},
    )
    completed = False
    if kind == Kind.COMPLAINTS:
        trustee_messages.add_document(stored, document, "message")
        if all(i in stored.complaints for i in identity.params.indices):
            completed = _complete(election, identity, stored)
    return Submission(message, created=True, completed=completed)


def _check_proofs(
    params: dkg.CeremonyParameters,
    kind: str,
    fresh: trustee_messages.Messages,
    stored: trustee_messages.Messages,
) -> None:
    """The checks of civic_votecrypto.dkg (and the verifier's V3/V4) on one new message."""
    try:
        if kind == Kind.ANNOUNCEMENT:
            for ann in fresh.announcements.values():
                dkg.verify_announcement(params, ann)
        elif kind == Kind.COMMITMENTS:
            for msg in fresh.commitments.values():
                dkg.verify_commitments(params, msg)
        else:
            ((accuser, complaints),) = fresh.complaints.items()
            accused = [c.accused for c in complaints]
            if len(set(accused)) != len(accused):
                raise MalformedCeremonyMessage(f"trustee {accuser} complains twice about one trustee")
            for complaint in complaints:
                try:
                    dkg.judge_complaint(params, stored.announcements, stored.commitments, complaint)
                except CeremonyError as exc:
                    raise MalformedCeremonyMessage(f"complaint about trustee {complaint.accused}: {exc}") from None
    except CeremonyError as exc:
        raise CeremonyProofFailed(str(exc)) from None


def _complete(election: Election, identity: Any, messages: trustee_messages.Messages) -> bool:
    """Every round is in: publish the context and schedule the election, or log the failure."""
    transcript = messages.transcript()
    verdicts = transcript.verdicts()
    qualified = dkg.qualified_trustees(transcript.params, verdicts)
    outcome = {
        "election": election.slug,
        "qualified": qualified,
        "disqualified": {str(v.guilty): v.reason for v in verdicts if v.upheld},
        "false_accusations": {str(v.complaint.accuser): v.reason for v in verdicts if not v.upheld},
        "transcript_sha256": document_sha256(
            {
                "announcements": [a.to_json() for a in transcript.announcements],
                "commitments": [c.to_json() for c in transcript.commitments],
                "complaints": [c.to_json() for c in transcript.complaints],
            }
        ),
    }
    if len(qualified) < identity.threshold:
        ledger.append(election.log_name, "election.ceremony_failed", {**outcome, "threshold": identity.threshold})
        return False
    manifest = Manifest.from_json(election.manifest)
    election = publish_election_context(election=election, manifest=manifest, transcript=transcript)
    ledger.append(
        election.log_name,
        "election.ceremony_completed",
        {
            **outcome,
            "joint_key": election.context["joint_key"],
            "extended_hash": election.context["extended_hash"],
            "context_sha256": lifecycle.json_sha256(election.context),
        },
    )
    lifecycle.complete_ceremony(election)
    return True
