"""Elections: creating them, publishing their cryptographic context, opening them."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from civic_votecrypto import record
from civic_votecrypto.dkg import CeremonyError, CeremonyTranscript
from civic_votecrypto.election import election_from_manifest
from civic_votecrypto.manifest import Manifest
from ledger.services import record_city_event
from voting.errors import ElectionStateError
from voting.models import Election
from voting.services.eligibility import ensure_election_key


@transaction.atomic
def create_election(*, slug: str, title: str, district: str, created_by: AbstractBaseUser) -> Election:
    """Create a draft election; officials open it once its keys and manifest are ready."""
    return Election.objects.create(slug=slug, title=title, district=district.strip(), created_by=created_by)


def context_json(manifest: Manifest, transcript: CeremonyTranscript) -> dict[str, Any]:
    """The public context the booth encrypts under (docs/protocol.md, "election context")."""
    ctx = record.election_context(manifest, transcript)
    by_index = transcript.commitments_by_index
    commitments = [c.hex() for i in transcript.qualified() for c in by_index[i].commitments]
    return {
        "manifest": manifest.to_json(),
        "joint_key": ctx.joint_key.hex(),
        "trustees": transcript.params.trustees,
        "threshold": transcript.params.threshold,
        "trustee_commitments": commitments,
        "extended_hash": ctx.extended_hash.hex(),
    }


def transcript_json(transcript: CeremonyTranscript) -> dict[str, Any]:
    return {
        "announcements": [a.to_json() for a in transcript.announcements],
        "commitments": [c.to_json() for c in transcript.commitments],
        "complaints": [c.to_json() for c in transcript.complaints],
    }


@transaction.atomic
def publish_election_context(
    *, election: Election, manifest: Manifest, transcript: CeremonyTranscript
) -> Election:
    """Fix a draft election's manifest and joint key, from a ceremony whose every proof checks.

    The ceremony must be bound to this manifest (its base hash), so trustees' proofs cannot be
    replayed into another election. The hashes go to the city log for anyone to compare.
    """
    election = Election.objects.select_for_update().get(pk=election.pk)
    # A draft (one-process ceremonies: tests, scripts) or an election in its key ceremony
    # (voting.services.ceremony, when the last round is in).
    if election.state not in (Election.State.DRAFT, Election.State.CEREMONY) or election.context is not None:
        raise ElectionStateError("the context of an election is published once, before it is scheduled")
    expected = election_from_manifest(manifest, transcript.params.trustees, transcript.params.threshold)
    if transcript.params.base_hash != expected.base_hash:
        raise CeremonyError("the ceremony was run for another manifest or trustee count")
    transcript.verify()
    election.context = context_json(manifest, transcript)
    election.ceremony_transcript = transcript_json(transcript)
    election.save(update_fields=["context", "ceremony_transcript"])
    record_city_event(
        "election.context_published",
        {
            "election": election.slug,
            "joint_key": election.context["joint_key"],
            "extended_hash": election.context["extended_hash"],
            "trustees": transcript.params.trustees,
            "threshold": transcript.params.threshold,
        },
    )
    return election


@transaction.atomic
def open_election(election: Election) -> Election:
    """Open a draft election whose context is published; its eligibility key is made now."""
    election = Election.objects.select_for_update().get(pk=election.pk)
    if election.state != Election.State.DRAFT:
        raise ElectionStateError("only a draft election can be opened")
    if election.context is None:
        raise ElectionStateError("publish the election's key ceremony before opening it")
    election.state = Election.State.OPEN
    election.save(update_fields=["state"])
    ensure_election_key(election)
    record_city_event("election.opened", {"election": election.slug})
    return election
