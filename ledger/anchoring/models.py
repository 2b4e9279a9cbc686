"""Anchoring state: each anchoring transaction and the checkpoints it covers.

The signed raw transaction is stored *before* it is broadcast: a crash between signing and
sending, or a send that fails, is resumed by re-broadcasting the very same bytes (same hash, same
nonce), so the database and the chain never disagree about which anchors exist.

Each transaction records the chain it was written to (chain id and genesis block hash): a chain
that was reset or replaced (a fresh local node after ``make run``) makes its anchors
``other_chain``, kept as history, and their checkpoints are anchored again.
"""

from __future__ import annotations

from django.db import models


class AnchorTransaction(models.Model):
    """One ``anchorBatch`` transaction on one chain."""

    class State(models.TextChoices):
        SIGNED = "signed", "signed, not yet accepted by the node"
        PENDING = "pending", "in the node's pool, not mined"
        MINED = "mined", "mined, waiting for confirmations"
        FINAL = "final", "final (enough confirmations)"
        DROPPED = "dropped", "dropped: its nonce went to another transaction"
        REVERTED = "reverted", "reverted by the contract"
        OTHER_CHAIN = "other_chain", "written to another chain than the configured one"

    LIVE_STATES = (State.SIGNED, State.PENDING, State.MINED)
    COUNTING_STATES = (State.SIGNED, State.PENDING, State.MINED, State.FINAL)

    chain_id = models.BigIntegerField()
    genesis_hash = models.CharField(
        max_length=66,
        null=True,
        blank=True,
        help_text="Hash of block 0 of the chain it was written to (null: unknown, re-checked).",
    )
    contract = models.CharField(max_length=42)
    sender = models.CharField(max_length=42)
    nonce = models.BigIntegerField()
    # Unique per chain, not globally: the same signed bytes (same chain id, nonce and data) get
    # the same hash on a fresh node of the same chain id, where they are another transaction.
    tx_hash = models.CharField(max_length=66, db_index=True)
    raw_tx = models.BinaryField(
        help_text="Signed transaction bytes, re-broadcast after a failure or a reorg."
    )
    previous_tx_hashes = models.JSONField(
        default=list,
        blank=True,
        help_text='Versions this one replaced (fee bumps): [{"hash": "0x..", "raw": hex}].',
    )
    gas = models.BigIntegerField()
    max_fee_per_gas = models.DecimalField(max_digits=78, decimal_places=0, null=True, blank=True)
    max_priority_fee_per_gas = models.DecimalField(
        max_digits=78, decimal_places=0, null=True, blank=True
    )
    gas_price = models.DecimalField(max_digits=78, decimal_places=0, null=True, blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.SIGNED)
    block_number = models.BigIntegerField(null=True, blank=True)
    block_hash = models.CharField(max_length=66, blank=True, default="")
    confirmations = models.IntegerField(default=0)
    reorgs = models.JSONField(
        default=list, blank=True, help_text="Block hashes this transaction was reorganized out of."
    )
    send_attempts = models.IntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    mined_at = models.DateTimeField(null=True, blank=True)
    finalized_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["state"], name="anchoring_tx_state")]
        constraints = [
            models.UniqueConstraint(
                fields=["genesis_hash", "tx_hash"], name="anchoring_tx_unique_per_chain"
            ),
            models.UniqueConstraint(
                fields=["chain_id", "sender", "nonce"],
                condition=models.Q(state__in=["signed", "pending", "mined", "final"]),
                name="anchoring_tx_one_live_per_nonce",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tx_hash} ({self.state})"


class CheckpointAnchor(models.Model):
    """One log's checkpoint inside an anchoring transaction (event ``position`` in the batch)."""

    transaction = models.ForeignKey(
        AnchorTransaction, on_delete=models.CASCADE, related_name="items"
    )
    position = models.PositiveIntegerField()
    log = models.ForeignKey("ledger.Log", on_delete=models.PROTECT, related_name="anchors")
    checkpoint = models.ForeignKey(
        "ledger.Checkpoint", on_delete=models.PROTECT, related_name="anchors"
    )
    origin = models.CharField(max_length=255)
    tree_size = models.BigIntegerField()
    checkpoint_note = models.TextField(
        help_text="The exact signed note text whose SHA-256 was anchored."
    )
    checkpoint_hash = models.BinaryField(max_length=32)

    class Meta:
        ordering = ["transaction_id", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["transaction", "position"], name="anchoring_item_position"
            ),
        ]
        indexes = [models.Index(fields=["log", "tree_size"], name="anchoring_item_log_size")]

    def __str__(self) -> str:
        return f"{self.origin}@{self.tree_size} in {self.transaction_id}"
