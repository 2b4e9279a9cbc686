"""The periodic sweep of the tally pipeline: queue whatever step each election is waiting for.

Every step is idempotent and keyed on database state, so queueing one twice does nothing; this
sweep (beat task ``voting.advance_tallies``) is what makes a lost broker message, a crashed worker
or a freeze that gave up retrying only a delay.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count

from voting.models import Election, Tally, TallyChunk
from voting.services import jobs


@dataclass
class Sweep:
    queued: list[str] = field(default_factory=list)


def advance_tallies() -> Sweep:
    sweep = Sweep()
    unsealed = list(  # published before this sweep, record not sealed yet (the job lost or waiting)
        Tally.objects.filter(
            election__state=Election.State.PUBLISHED, record_sha256=""
        ).values_list("election_id", "election__slug")
    )
    for pk, slug in Election.objects.filter(state=Election.State.CLOSED).values_list("pk", "slug"):
        jobs.send_now(jobs.FREEZE_TASK, pk)
        sweep.queued.append(f"{slug}: freeze")
    pending = Tally.objects.filter(election__state=Election.State.TALLYING).select_related(
        "election"
    )
    for tally in pending.annotate(n_shares=Count("election__decryption_shares")):
        slug = tally.election.slug
        if tally.encrypted is None:
            stored = set(TallyChunk.objects.filter(tally=tally).values_list("index", flat=True))
            missing = [i for i in range(tally.chunks_total) if i not in stored]
            for index in missing:
                jobs.send_now(jobs.CHUNK_TASK, tally.pk, index)
            if not missing:
                jobs.send_now(jobs.COMBINE_TASK, tally.pk)
            sweep.queued.append(f"{slug}: {len(missing)} chunks" if missing else f"{slug}: combine")
            continue
        if tally.notified_at is None and tally.encrypted["ballot_count"]:
            jobs.send_now(jobs.NOTIFY_TASK, tally.pk)
            sweep.queued.append(f"{slug}: notify")
        threshold = int(tally.election.context["threshold"])
        if tally.encrypted["ballot_count"] == 0 or tally.n_shares >= threshold:
            jobs.send_now(jobs.PUBLISH_TASK, tally.pk)
            sweep.queued.append(f"{slug}: publish")
    for pk, slug in unsealed:
        jobs.send_now(jobs.RECORD_TASK, pk)
        sweep.queued.append(f"{slug}: record")
    return sweep
