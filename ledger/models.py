"""Ledger storage: logs, their entries, the tile hashes that answer proofs, checkpoints, observers.

The tree itself is kept as C2SP tlog-tiles rows (``Tile``): level 0 holds leaf hashes, level L
holds the hashes of full 256^L-leaf subtrees. Any proof or the root is a handful of tile reads,
and the tile endpoints serve those rows as they are. Entries keep the bytes that were hashed so
entry bundles and the JSON API read from the one source of truth.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from civic_tlog.merkle import EMPTY_ROOT


class Log(models.Model):
    """One append-only Merkle log (``city``, ``credentials``, ``election-<id>``)."""

    name = models.SlugField(max_length=64, unique=True)
    origin = models.CharField(max_length=255, unique=True)
    signer_key_ref = models.CharField(
        max_length=255, help_text="Name of the signing key in the ledger key file (never the key)."
    )
    verifier_key = models.CharField(max_length=255)
    witness_threshold = models.PositiveSmallIntegerField(default=1)
    # The sequenced (integrated) tree; only the sequencer moves these, under the row lock.
    tree_size = models.BigIntegerField(default=0)
    root_hash = models.BinaryField(max_length=32, default=EMPTY_ROOT)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class OutboxEntry(models.Model):
    """An entry written in the caller's transaction, waiting for the sequencer.

    ``entry_index`` points at the leaf once sequenced (a duplicate points at the earlier leaf).
    """

    log = models.ForeignKey(Log, on_delete=models.PROTECT, related_name="outbox")
    kind = models.CharField(max_length=64)
    entry = models.BinaryField()
    leaf_hash = models.BinaryField(max_length=32)
    created_at = models.DateTimeField(auto_now_add=True)
    sequenced_at = models.DateTimeField(null=True, blank=True)
    entry_index = models.BigIntegerField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["log", "id"],
                condition=Q(sequenced_at__isnull=True),
                name="ledger_outbox_pending",
            )
        ]

    def __str__(self) -> str:
        state = f"#{self.entry_index}" if self.sequenced_at else "pending"
        return f"{self.log_id}:{self.kind} {state}"


class Entry(models.Model):
    """A sequenced leaf: ``leaf_hash`` = SHA-256(0x00 || entry)."""

    log = models.ForeignKey(Log, on_delete=models.PROTECT, related_name="entries", db_index=False)
    index = models.BigIntegerField()
    leaf_hash = models.BinaryField(max_length=32)
    kind = models.CharField(max_length=64)
    entry = models.BinaryField()
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["log", "index"], name="ledger_entry_unique_index"),
            models.UniqueConstraint(fields=["log", "leaf_hash"], name="ledger_entry_unique_hash"),
        ]

    def __str__(self) -> str:
        return f"{self.log_id}#{self.index}"


class Tile(models.Model):
    """A C2SP tlog-tiles hash tile: up to 256 concatenated 32-byte hashes, grown in place."""

    log = models.ForeignKey(Log, on_delete=models.PROTECT, related_name="tiles", db_index=False)
    level = models.PositiveSmallIntegerField()
    index = models.BigIntegerField()
    hashes = models.BinaryField(max_length=256 * 32)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["log", "level", "index"], name="ledger_tile_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.log_id} tile {self.level}/{self.index} ({len(self.hashes) // 32})"


class Checkpoint(models.Model):
    """A checkpoint signed by the log key; cosignatures are stored beside it."""

    log = models.ForeignKey(
        Log, on_delete=models.PROTECT, related_name="checkpoints", db_index=False
    )
    size = models.BigIntegerField()
    root_hash = models.BinaryField(max_length=32)
    body = models.TextField(help_text="tlog-checkpoint body, exactly as signed.")
    note = models.TextField(help_text="Signed note: body plus the log's signature line.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["log", "size"], name="ledger_checkpoint_unique_size"),
        ]

    def __str__(self) -> str:
        return f"{self.log_id}@{self.size}"


class Observer(models.Model):
    """An independent observer whose cosignatures count towards a checkpoint being witnessed."""

    name = models.CharField(max_length=255, unique=True)
    verifier_key = models.CharField(max_length=512, unique=True)
    active = models.BooleanField(default=True)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Cosignature(models.Model):
    """One observer's tlog-cosignature/v1 line over one checkpoint."""

    checkpoint = models.ForeignKey(
        Checkpoint, on_delete=models.CASCADE, related_name="cosignatures"
    )
    observer = models.ForeignKey(Observer, on_delete=models.PROTECT, related_name="cosignatures")
    timestamp = models.BigIntegerField()
    signature_line = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["checkpoint", "observer"], name="ledger_cosignature_unique_observer"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.observer_id} on {self.checkpoint_id}"
