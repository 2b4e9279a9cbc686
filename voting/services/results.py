"""Publishing the results: combine t valid shares, solve the discrete logs, check, log, publish.

Runs as a Celery job once t valid tally shares are stored (or at once for an election without
ballots, whose totals are all 0 and need no trustee). Every stored share was verified when it
arrived; ``decrypt_tally`` verifies them again (a share is never trusted from the database alone),
combines them with Lagrange coefficients over the trustees present, and recovers each total by
baby-step giant-step up to the largest total the frozen box allows. ``check_result`` confirms each
total against the combined point. The results (the record's "results" section: {trustees,
contests}) are stored, ``election.results`` {election, results_sha256} is appended, and the
election becomes ``published`` through ``lifecycle.transition`` (whose event fixes the same hash).
Once published, the record is sealed (``record_export.seal_record``, its own job).
Idempotent: an election already published, or one still short of t shares, is left alone.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from civic_votecrypto.decryption import (
    TallyShare,
    check_result,
    decrypt_tally,
    encode_per_selection,
    selection_keys,
)
from ledger import services as ledger
from voting.models import DecryptionShare, Election, Tally
from voting.selectors import tally as selectors
from voting.selectors.elections import crypto_context
from voting.services import jobs, lifecycle
from voting.services.lifecycle import json_sha256

logger = logging.getLogger(__name__)
RESULTS_EVENT = "election.results"


def count_bound(election: Election, ballots: int) -> int:
    """The largest total any option can reach: every ballot giving it its maximum value."""
    manifest = selectors.manifest_of(election)
    return max(
        1,
        ballots
        * selectors.BALLOT_WEIGHT
        * max((c.max_value for c in manifest.contests), default=1),
    )


def compute_results(election: Election, tally: Tally) -> dict[str, object] | None:
    """The record's results section from the stored shares; None while fewer than t are in."""
    manifest = selectors.manifest_of(election)
    if tally.encrypted["ballot_count"] == 0:  # nothing was summed: every total is 0
        zero = dict.fromkeys(selection_keys(manifest), 0)
        return {"trustees": [], "contests": encode_per_selection(zero)}
    encrypted = selectors.encrypted_tally(election, tally)
    threshold = int(election.context["threshold"])
    rows = list(DecryptionShare.objects.filter(election=election).order_by("trustee__index"))
    if len(rows) < threshold:
        return None
    shares = [TallyShare.from_json(row.document["body"], manifest) for row in rows]
    context = crypto_context(election).extended_hash
    result = decrypt_tally(
        context, encrypted, shares, selectors.verification_keys(election), threshold,
        bound=count_bound(election, encrypted.ballot_count),
    )  # fmt: skip
    used = {share.trustee: share for share in shares if share.trustee in result.trustees_used}
    for key, count in result.counts.items():
        partials = {j: share.partials[key].share for j, share in used.items()}
        if not check_result(encrypted.ciphertexts[key], partials, count):
            raise RuntimeError(f"{election.slug}: {key[0]}/{key[1]} = {count} does not check")
    return {"trustees": list(result.trustees_used), "contests": result.to_json()}


@transaction.atomic
def publish_results(tally_id: int) -> bool:
    """Decrypt and publish once; True if this call published."""
    tally = Tally.objects.select_for_update().select_related("election").get(pk=tally_id)
    election = tally.election
    if (
        tally.results is not None
        or election.state != Election.State.TALLYING
        or tally.encrypted is None
    ):
        return False
    results = compute_results(election, tally)
    if results is None:
        return False
    tally.results = results
    tally.results_sha256 = json_sha256(results)
    tally.results_outbox = ledger.append(
        election.log_name,
        RESULTS_EVENT,
        {"election": election.slug, "results_sha256": tally.results_sha256},
    )
    tally.published_at = timezone.now()
    tally.save(update_fields=["results", "results_sha256", "results_outbox", "published_at"])
    lifecycle.transition(election, Election.State.PUBLISHED, fixes={"results": results})
    jobs.enqueue(jobs.RECORD_TASK, election.pk)  # hash, sign and log the record (record_export)
    logger.info("tally: %s published by trustees %s", election.slug, results["trustees"])
    return True
