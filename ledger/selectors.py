"""Read use cases of the ledger: log summaries, checkpoints, tiles, entries, proofs, receipts.

Every proof is answered from tile rows (``ledger.tile_store``) with one query for all the tiles
it needs, so cost grows with log n, not with the number of entries. Receipts here are the
ledger's own part (entry, inclusion proof, cosigned checkpoint); ``ledger.anchoring.receipts``
adds the blockchain anchor on top.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Min, Q
from django.utils import timezone

from civic_tlog import merkle, tiles, tree
from ledger import tile_store
from ledger.errors import BeyondTree, InvalidSizes, NotFound, SizesOutOfOrder, UnknownLog
from ledger.models import Checkpoint, Cosignature, Entry, Log, Observer, OutboxEntry

ENTRY_BUNDLE_WIDTH = tree.TILE_WIDTH


def get_log(name: str) -> Log:
    log = Log.objects.filter(name=name).first()
    if log is None:
        raise UnknownLog(f"no ledger log named {name!r}")
    return log


def active_observers() -> list[Observer]:
    return list(Observer.objects.filter(active=True).order_by("name"))


def observer_with_key(verifier_key: str) -> Observer | None:
    """The registered, active observer with this verifier key (a public key), if any."""
    return Observer.objects.filter(verifier_key=verifier_key.strip(), active=True).first()


@dataclass(frozen=True)
class SequencingBacklog:
    """Outbox rows not yet in their log's tree: how many, and the oldest one's time of writing
    (None when there are none)."""

    pending: int
    oldest: Any


def sequencing_backlog() -> SequencingBacklog:
    """One aggregate over the pending rows (their partial index: few while the sequencer keeps up)."""
    found = OutboxEntry.objects.filter(sequenced_at__isnull=True).aggregate(
        pending=Count("id"), oldest=Min("created_at")
    )
    return SequencingBacklog(found["pending"], found["oldest"])


def latest_checkpoint(log: Log) -> Checkpoint | None:
    return Checkpoint.objects.filter(log=log).order_by("-size").first()


def latest_witnessed_checkpoint(log: Log) -> Checkpoint | None:
    """The largest checkpoint that at least ``witness_threshold`` active observers cosigned."""
    return (
        Checkpoint.objects.filter(log=log)
        .annotate(cosigned=Count("cosignatures", filter=Q(cosignatures__observer__active=True)))
        .filter(cosigned__gte=max(log.witness_threshold, 1))
        .order_by("-size")
        .first()
    )


def cosignature_lines(checkpoint: Checkpoint) -> list[str]:
    rows = (
        Cosignature.objects.filter(checkpoint=checkpoint, observer__active=True)
        .order_by("observer__name")
        .values_list("signature_line", flat=True)
    )
    return [line.strip() for line in rows]


def checkpoint_note(checkpoint: Checkpoint) -> str:
    """The signed note with every cosignature collected so far appended as extra signature lines."""
    text = checkpoint.note if checkpoint.note.endswith("\n") else checkpoint.note + "\n"
    return text + "".join(f"{line}\n" for line in cosignature_lines(checkpoint))


@dataclass(frozen=True)
class LogSummary:
    log: Log
    checkpoint: Checkpoint | None
    witnessed: Checkpoint | None
    observers: list[Observer]

    def as_dict(self) -> dict[str, Any]:
        signed = self.checkpoint
        return {
            "name": self.log.name,
            "origin": self.log.origin,
            "tree_size": signed.size if signed else 0,
            "root_hash": bytes(signed.root_hash if signed else merkle.EMPTY_ROOT).hex(),
            "sequenced_size": self.log.tree_size,
            "verifier_key": self.log.verifier_key,
            "witness_threshold": self.log.witness_threshold,
            "observers": [
                {"name": observer.name, "verifier_key": observer.verifier_key}
                for observer in self.observers
            ],
            "latest_witnessed_size": self.witnessed.size if self.witnessed else None,
        }


def log_summaries() -> list[LogSummary]:
    observers = active_observers()
    return [
        LogSummary(log, latest_checkpoint(log), latest_witnessed_checkpoint(log), observers)
        for log in Log.objects.order_by("name")
    ]


# -- tree reads ----------------------------------------------------------------------------------


def inclusion_proof(log: Log, index: int, size: int) -> list[bytes]:
    if not 0 <= index < size:
        raise InvalidSizes(f"index {index} is not inside a tree of size {size}")
    if size > log.tree_size:
        raise BeyondTree(f"tree size {size} is beyond this log's {log.tree_size} entries")
    needed = tree.tiles_needed(lambda f: merkle.inclusion_proof_from(index, size, f))
    return merkle.inclusion_proof_from(
        index, size, tile_store.prefetched_hashes(log, needed).subtree_hash
    )


def consistency_proof(log: Log, old: int, new: int) -> list[bytes]:
    if not 0 <= old <= new:
        raise SizesOutOfOrder(f"need 0 <= old <= new, got old={old} new={new}")
    if new > log.tree_size:
        raise BeyondTree(f"tree size {new} is beyond this log's {log.tree_size} entries")
    needed = tree.tiles_needed(lambda f: merkle.consistency_proof_from(old, new, f))
    return merkle.consistency_proof_from(
        old, new, tile_store.prefetched_hashes(log, needed).subtree_hash
    )


def root_at(log: Log, size: int) -> bytes:
    if size > log.tree_size:
        raise BeyondTree(f"tree size {size} is beyond this log's {log.tree_size} entries")
    return tile_store.tile_hashes(log).root(size)


def hash_tile(log: Log, level: int, index: int, width: int | None) -> bytes:
    """Tile bytes per C2SP tlog-tiles; ``width`` None asks for the full tile."""
    if index * tree.TILE_WIDTH >= log.tree_size >> (tree.TILE_HEIGHT * level):
        raise BeyondTree(f"tile {level}/{index} is beyond this log's tree")
    stored = tile_store.stored_tile(log, level, index)
    wanted = tree.TILE_WIDTH if width is None else width
    if len(stored) < wanted * merkle.HASH_SIZE:
        raise BeyondTree(f"tile {level}/{index} of width {wanted} is beyond this log's tree")
    return stored[: wanted * merkle.HASH_SIZE]


def entry_bundle(log: Log, index: int, width: int | None) -> bytes:
    """Entry bundle ``index``: each entry as a 2-byte big-endian length then its bytes."""
    wanted = ENTRY_BUNDLE_WIDTH if width is None else width
    first = index * ENTRY_BUNDLE_WIDTH
    if first + wanted > log.tree_size:
        raise BeyondTree(f"entry bundle {index} of width {wanted} is beyond this log's tree")
    rows = list(
        Entry.objects.filter(log=log, index__gte=first, index__lt=first + wanted)
        .order_by("index")
        .values_list("entry", flat=True)
    )
    if len(rows) != wanted:
        raise BeyondTree(f"entry bundle {index} is incomplete")
    return tiles.encode_entry_bundle([bytes(data) for data in rows])


# -- entries and receipts ------------------------------------------------------------------------


def entry_at(log: Log, index: int) -> Entry:
    entry = None if index >= log.tree_size else Entry.objects.filter(log=log, index=index).first()
    if entry is None:
        raise BeyondTree(f"no entry {index} in log {log.name!r} (size {log.tree_size})")
    return entry


def entry_by_hash(log: Log, leaf_hash_hex: str) -> Entry:
    try:
        leaf_hash = bytes.fromhex(leaf_hash_hex)
    except ValueError as exc:
        raise InvalidSizes("leaf hash must be 64 hex digits") from exc
    if len(leaf_hash) != merkle.HASH_SIZE:
        raise InvalidSizes("leaf hash must be 64 hex digits")
    entry = Entry.objects.filter(log=log, leaf_hash=leaf_hash).first()
    if entry is None:
        raise NotFound(f"no entry with leaf hash {leaf_hash_hex} in log {log.name!r}")
    return entry


def receipt_checkpoint(log: Log, index: int) -> Checkpoint | None:
    """The checkpoint a receipt proves inclusion to: the latest witnessed one that holds the
    entry, else the latest signed one that holds it, else none yet (not checkpointed)."""
    witnessed = latest_witnessed_checkpoint(log)
    if witnessed is not None and witnessed.size > index:
        return witnessed
    latest = latest_checkpoint(log)
    if latest is not None and latest.size > index:
        return latest
    return None


def receipt(log: Log, entry: Entry) -> dict[str, Any] | None:
    """The ledger's part of what a voter keeps: entry, inclusion proof, cosigned checkpoint.
    None until a signed checkpoint holds the entry."""
    checkpoint = receipt_checkpoint(log, entry.index)
    if checkpoint is None:
        return None
    proof = inclusion_proof(log, entry.index, checkpoint.size)
    return {
        "version": 1,
        "log": log.name,
        "origin": log.origin,
        "index": entry.index,
        "entry": base64.b64encode(bytes(entry.entry)).decode(),
        "leaf_hash": bytes(entry.leaf_hash).hex(),
        "tree_size": checkpoint.size,
        "inclusion_proof": [node.hex() for node in proof],
        "checkpoint": checkpoint_note(checkpoint),
        "log_verifier_key": log.verifier_key,
        "observer_verifier_keys": [observer.verifier_key for observer in active_observers()],
        "witness_threshold": log.witness_threshold,
    }


def entry_view(log: Log, entry: Entry, entry_receipt: dict[str, Any] | None) -> dict[str, Any]:
    """One entry as the API shows it, with the receipt its caller assembled."""
    data = bytes(entry.entry)
    try:
        payload = json.loads(data)["payload"]
    except (ValueError, KeyError, TypeError):
        payload = None  # stored bytes are not an entry this server wrote: show them raw only
    return {
        "index": entry.index,
        "leaf_hash": bytes(entry.leaf_hash).hex(),
        "kind": entry.kind,
        "payload": payload,
        "entry": base64.b64encode(data).decode(),
        "created_at": entry.created_at.isoformat(),
        "receipt": entry_receipt,
    }


# -- growth over time (the ledger page's charts) -------------------------------------------------
GROWTH_MAX_BUCKETS = 30


@dataclass(frozen=True)
class GrowthPoint:
    """One signed checkpoint: the log's size at ``at``, its cosignatures by active observers,
    whether they make it witnessed, and its anchor (``None``: not anchored)."""

    checkpoint_id: int
    size: int
    at: Any
    cosignatures: int
    witnessed: bool
    anchor: dict[str, Any] | None

    @property
    def anchored(self) -> bool:
        return self.anchor is not None


@dataclass(frozen=True)
class LogGrowth:
    """A log's growth from its creation until ``end``: a sample of its checkpoints (the last one
    of every time bucket, and the last witnessed and the last anchored of each), and the counts
    over all its checkpoints."""

    log: Log
    start: Any
    end: Any
    points: list[GrowthPoint]
    checkpoints: int
    witnessed: int
    anchored: int


def _sample(rows: list[GrowthPoint], start: Any, end: Any, max_buckets: int) -> list[GrowthPoint]:
    """At most three points per time bucket (the latest, the latest witnessed, the latest
    anchored), plus the first checkpoint: the curve keeps its shape and the markers show."""
    if len(rows) <= max_buckets:
        return rows
    span = max((end - start).total_seconds(), 1.0)
    keep: dict[int, GrowthPoint] = {rows[0].checkpoint_id: rows[0]}
    latest: dict[tuple[int, str], GrowthPoint] = {}
    for row in rows:  # in size order, so the last one seen per bucket is the latest
        bucket = min(int((row.at - start).total_seconds() / span * max_buckets), max_buckets - 1)
        latest[(bucket, "any")] = row
        if row.witnessed:
            latest[(bucket, "witnessed")] = row
        if row.anchored:
            latest[(bucket, "anchored")] = row
    for row in latest.values():
        keep[row.checkpoint_id] = row
    return sorted(keep.values(), key=lambda row: row.size)


def log_growth(
    log: Log,
    anchors: dict[int, dict[str, Any]] | None = None,
    now: Any = None,
    max_buckets: int = GROWTH_MAX_BUCKETS,
) -> LogGrowth:
    """Every signed checkpoint of ``log`` with its active cosignatures (one query), marked
    witnessed at ``witness_threshold``; ``anchors`` maps checkpoint ids to their anchor (the
    anchoring layer knows which; the log does not)."""
    anchors = anchors or {}
    threshold = max(log.witness_threshold, 1)
    values = (
        Checkpoint.objects.filter(log=log)
        .annotate(cosigned=Count("cosignatures", filter=Q(cosignatures__observer__active=True)))
        .order_by("size")
        .values_list("pk", "size", "created_at", "cosigned")
    )
    rows = [
        GrowthPoint(pk, size, at, cosigned, cosigned >= threshold, anchors.get(pk))
        for pk, size, at, cosigned in values
    ]
    start = log.created_at
    end = now or timezone.now()
    if rows and rows[-1].at > end:
        end = rows[-1].at
    return LogGrowth(
        log=log,
        start=start,
        end=end,
        points=_sample(rows, start, end, max_buckets),
        checkpoints=len(rows),
        witnessed=sum(1 for row in rows if row.witnessed),
        anchored=sum(1 for row in rows if row.anchored),
    )
