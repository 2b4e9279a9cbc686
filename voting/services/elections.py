"""Elections: creating them, publishing their cryptographic context, opening them."""

from __future__ import annotations

from typing import Any

import rfc8785
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from civic_votecrypto import record
from civic_votecrypto.dkg import CeremonyError, CeremonyTranscript
from civic_votecrypto.election import election_from_manifest
from civic_votecrypto.manifest import Manifest
from ledger.services import record_city_event
from voting.errors import ElectionStateError
from voting.models import Election
from voting.services import lifecycle
from voting.services.eligibility import ensure_election_keys


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
    """Fix the joint key of an election in its key ceremony, from a ceremony whose every proof
    checks and which was run for the manifest, n and t fixed when the ceremony started.

    The ceremony must be bound to this manifest (its base hash), so trustees' proofs cannot be
    replayed into another election. The hashes go to the city log for anyone to compare.
    """
    election = Election.objects.select_for_update().get(pk=election.pk)
    if election.state != Election.State.CEREMONY or election.context is not None:
        raise ElectionStateError("the context of an election is published once, during its key ceremony")
    if election.manifest is not None and rfc8785.dumps(manifest.to_json()) != rfc8785.dumps(election.manifest):
        raise CeremonyError("the ceremony was run for another manifest than the one fixed at its start")
    n = election.trustees.count()
    if n and (transcript.params.trustees, transcript.params.threshold) != (n, election.threshold):
        raise CeremonyError("the ceremony was run for another trustee count or threshold")
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
    """Open a scheduled election (the scheduler calls this when its time has come); its
    eligibility key is made now and the ``election.open`` event fixes the window."""
    election = Election.objects.select_for_update().get(pk=election.pk)
    if election.state != Election.State.SCHEDULED:
        raise ElectionStateError("only a scheduled election can be opened")
    if election.context is None:
        raise ElectionStateError("publish the election's key ceremony before opening it")
    election = lifecycle.transition(election, Election.State.OPEN, fixes={"window": lifecycle.window_json(election)})
    ensure_election_keys(election)
    return election
