"""Freezing the ballot box once an election has closed (docs/protocol.md §12).

The box refuses casts once the election is not open (``election_is_open``, checked again inside
the cast's transaction), so after the close commits the set of ballots is fixed. Freezing then
waits until the sequencer has put every ``ballot.*`` entry into the election's log and a signed
checkpoint covers them (signing one if the periodic signer has not yet), and in one transaction
stores the tally's row, appends ``election.box_frozen`` {election, counting, cast, spoiled,
checkpoint: {size, root_hash}} and moves the election to ``tallying``. The aggregation's chunk
tasks are queued after commit. Idempotent: an election that is not ``closed`` is left alone.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from ledger import services as ledger
from voting.models import Election, Tally
from voting.selectors import tally as selectors
from voting.services import jobs, lifecycle

logger = logging.getLogger(__name__)
BOX_FROZEN_EVENT = "election.box_frozen"


class BoxInconsistent(RuntimeError):
    """The box and the log disagree on the number of ballots: an operator must look (never
    tallied silently)."""


@dataclass(frozen=True)
class Freeze:
    frozen: bool
    waiting: str = ""
    """Why not yet (the task retries); empty when frozen or when there is nothing to do."""


def freeze_box(election_id: int) -> Freeze:
    """One attempt: freeze the closed election's box, or say what it waits for."""
    election = Election.objects.get(pk=election_id)
    if election.state != Election.State.CLOSED:
        return Freeze(frozen=Tally.objects.filter(election=election).exists())
    log = selectors.election_log(election)
    if log is None:
        raise BoxInconsistent(f"election {election.slug} is closed but has no ledger log")
    pending = selectors.unsequenced_ballot_entries(log)
    if pending:
        return Freeze(False, f"{pending} ballot entries of {log.name} are not sequenced yet")
    entries, last_index = selectors.ballot_entries(log)
    counts = selectors.box_counts(election)
    if entries != counts["cast"] + counts["spoiled"]:
        raise BoxInconsistent(
            f"election {election.slug}: {entries} ballot entries in the log, "
            f"{counts['cast'] + counts['spoiled']} ballots in the box"
        )
    needed = 0 if last_index is None else last_index + 1
    checkpoint = selectors.covering_checkpoint(log, needed)
    if checkpoint is None:
        ledger.sign_checkpoint(log.pk)
        checkpoint = selectors.covering_checkpoint(log, needed)
    if checkpoint is None:  # the sequenced tree is still smaller than the ballots' positions
        return Freeze(False, f"no signed checkpoint of {log.name} covers {needed} entries yet")
    return _freeze(election, counts, checkpoint.size, bytes(checkpoint.root_hash).hex())


@transaction.atomic
def _freeze(election: Election, counts: dict[str, int], size: int, root_hash: str) -> Freeze:
    locked = Election.objects.select_for_update().get(pk=election.pk)
    if locked.state != Election.State.CLOSED:
        return Freeze(frozen=Tally.objects.filter(election=locked).exists())
    payload = {
        "election": locked.slug,
        "counting": counts["counting"],
        "cast": counts["cast"],
        "spoiled": counts["spoiled"],
        "checkpoint": {"size": size, "root_hash": root_hash},
    }
    chunk_size = max(1, int(settings.CIVIC_TALLY_CHUNK_SIZE))
    starts = selectors.chunk_starts(locked, chunk_size)
    if len(starts) != selectors.chunk_count(counts["counting"], chunk_size):
        raise BoxInconsistent(f"{locked.slug}: the counting ballots changed while freezing")
    tally = Tally.objects.create(
        election=locked,
        frozen=payload,
        chunk_size=chunk_size,
        chunks_total=len(starts),
        chunk_starts=starts,
    )
    ledger.append(locked.log_name, BOX_FROZEN_EVENT, payload)
    lifecycle.transition(locked, Election.State.TALLYING)
    queue_aggregation(tally)
    logger.info(
        "tally: %s frozen with %d counting ballots in %d chunks",
        locked.slug,
        counts["counting"],
        len(starts),
    )
    return Freeze(True)


def queue_aggregation(tally: Tally) -> None:
    """The group of chunk tasks; with no ballots at all, the combining step straight away."""
    if tally.chunks_total == 0:
        jobs.enqueue(jobs.COMBINE_TASK, tally.pk)
    for index in range(tally.chunks_total):
        jobs.enqueue(jobs.CHUNK_TASK, tally.pk, index)
