"""The homomorphic aggregation as a group of chunk jobs and one combining step.

The counting ballots of a frozen box, ordered by id, are cut into fixed-size chunks (chunk k is
ballots k·size .. (k+1)·size - 1; the set is fixed once frozen, so the cut is too). Each chunk
job sums its ballots' ciphertexts per selection (``aggregate_ballots``, every weight 1) and
stores the sum in its own TallyChunk row, unique per (tally, index): a retried or duplicated job
finds the row and stores nothing, and progress (``chunks_done``) is counted in the same
transaction as the row. The job that stores the last chunk queues the combining step, which
sums the chunk sums, stores the encrypted tally and appends ``election.tally_computed``. No
Celery chord (no result backend is configured, and the filesystem broker of the embedded default
has none): the "last chunk done" counter is a database row. The combining step is idempotent
and re-checks every chunk is present, so an early or repeated call does nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from civic_votecrypto.decryption import (
    EncryptedTally,
    SelectionKey,
    aggregate_ciphertexts,
    encode_per_selection,
    selection_keys,
)
from civic_votecrypto.elgamal import Ciphertext
from civic_votecrypto.manifest import Manifest
from ledger import services as ledger
from voting.models import Election, Tally, TallyChunk
from voting.selectors import tally as selectors
from voting.services import jobs
from voting.services.lifecycle import json_sha256

logger = logging.getLogger(__name__)
TALLY_COMPUTED_EVENT = "election.tally_computed"


def sum_chunk(election: Election, tally: Tally, index: int) -> tuple[EncryptedTally, int, int]:
    """The chunk's per-selection sum and the ids of its first and last ballot (no writes).

    Only each selection's ciphertext is decoded (two points), not the proofs: every ballot's
    proofs were verified when it was cast, and the sum is the same as ``aggregate_ballots`` over
    fully decoded ballots (the tests compare both). Each ballot must hold exactly the manifest's
    selections once, else the chunk fails rather than sum a malformed ballot.
    """
    rows = selectors.chunk_rows(tally, index)
    if not rows:
        raise ValueError(f"chunk {index} of {election.slug} holds no ballots")
    keys = selection_keys(selectors.manifest_of(election))
    columns: dict[SelectionKey, list[Ciphertext]] = {key: [] for key in keys}
    for pk, document in rows:
        seen: set[SelectionKey] = set()
        for contest in document["contests"]:
            for selection in contest["selections"]:
                key = (contest["contest_id"], selection["option_id"])
                if key not in columns:
                    raise ValueError(f"ballot row {pk}: {key[0]}/{key[1]} is not in the manifest")
                columns[key].append(Ciphertext.from_json(selection["ciphertext"]))
                seen.add(key)
        if len(seen) != len(keys) or sum(len(c["selections"]) for c in document["contests"]) != len(
            keys
        ):
            raise ValueError(f"ballot row {pk} does not hold every selection of the manifest once")
    weights = [selectors.BALLOT_WEIGHT] * len(rows)
    sums = {key: aggregate_ciphertexts(cts, weights) for key, cts in columns.items()}
    return EncryptedTally(sums, len(rows)), rows[0][0], rows[-1][0]


def compute_chunk(tally_id: int, index: int) -> bool:
    """Store chunk ``index``'s sum once; True if this call stored it. Queues the combining step
    when it was the last chunk missing."""
    tally = Tally.objects.select_related("election").get(pk=tally_id)
    if not 0 <= index < tally.chunks_total:
        raise ValueError(f"tally {tally_id} has chunks 0..{tally.chunks_total - 1}, not {index}")
    if TallyChunk.objects.filter(tally=tally, index=index).exists():
        return False
    sums, first, last = sum_chunk(tally.election, tally, index)
    try:
        with transaction.atomic():
            TallyChunk.objects.create(
                tally=tally, index=index, first_ballot=first, last_ballot=last,
                ballot_count=sums.ballot_count, sums=sums.to_json(),
            )  # fmt: skip
            Tally.objects.filter(pk=tally.pk).update(chunks_done=F("chunks_done") + 1)
            if _all_stored(tally):
                jobs.enqueue(jobs.COMBINE_TASK, tally.pk)
    except IntegrityError:  # the same chunk stored concurrently: the other job's row stands
        return False
    return True


def _all_stored(tally: Tally) -> bool:
    return TallyChunk.objects.filter(tally=tally).count() >= tally.chunks_total


def empty_tally(manifest: Manifest) -> dict[str, Any]:
    """The tally of a box without counting ballots: every sum is the point at infinity, which has
    no encoding, so each selection holds null (docs/protocol-trustees.md § Decryption API)."""
    return {
        "ballot_count": 0,
        "contests": encode_per_selection(dict.fromkeys(selection_keys(manifest))),
    }


@transaction.atomic
def combine(tally_id: int) -> bool:
    """Sum the chunk sums into the encrypted tally; True if this call stored it."""
    tally = Tally.objects.select_for_update().select_related("election").get(pk=tally_id)
    election = tally.election
    if tally.encrypted is not None:
        return False
    chunks = list(TallyChunk.objects.filter(tally=tally).order_by("index"))
    if len(chunks) < tally.chunks_total:
        return False  # not every chunk is in yet; the last one queues this step again
    manifest = selectors.manifest_of(election)
    parts = [EncryptedTally.from_json(chunk.sums, manifest) for chunk in chunks]
    count = sum(part.ballot_count for part in parts)
    if count != tally.frozen["counting"]:
        raise RuntimeError(
            f"{election.slug}: chunks hold {count} ballots, the frozen box {tally.frozen['counting']}"
        )
    if count == 0:
        encrypted = empty_tally(manifest)
    else:
        ciphertexts = {
            key: aggregate_ciphertexts([part.ciphertexts[key] for part in parts])
            for key in selection_keys(manifest)
        }
        encrypted = EncryptedTally(ciphertexts, count).to_json()
    tally.encrypted = encrypted
    tally.tally_sha256 = json_sha256(encrypted)
    tally.computed_at = timezone.now()
    tally.chunks_done = len(chunks)
    tally.save(update_fields=["encrypted", "tally_sha256", "computed_at", "chunks_done"])
    ledger.append(
        election.log_name,
        TALLY_COMPUTED_EVENT,
        {"election": election.slug, "ballot_count": count, "tally_sha256": tally.tally_sha256},
    )
    if count == 0:  # nothing to decrypt: every total is 0 and needs no trustee
        jobs.enqueue(jobs.PUBLISH_TASK, tally.pk)
    else:
        jobs.enqueue(jobs.NOTIFY_TASK, tally.pk)
    logger.info(
        "tally: %s aggregated, %d ballots, tally %s", election.slug, count, tally.tally_sha256
    )
    return True
