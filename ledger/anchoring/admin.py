"""Read-only admin views of anchoring state (the chain and the task write it, never a person)."""

from __future__ import annotations

from django.contrib import admin

from civic.admin import ReadOnlyAdmin
from ledger.anchoring.models import AnchorTransaction, CheckpointAnchor


class CheckpointAnchorInline(admin.TabularInline):
    model = CheckpointAnchor
    fields = ("position", "log", "tree_size", "origin")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(AnchorTransaction)
class AnchorTransactionAdmin(ReadOnlyAdmin):
    list_display = (
        "tx_hash",
        "state",
        "chain_id",
        "genesis_hash",
        "nonce",
        "block_number",
        "confirmations",
        "created_at",
    )
    list_filter = ("state", "chain_id")
    search_fields = ("tx_hash",)
    exclude = ("raw_tx",)
    inlines = [CheckpointAnchorInline]


@admin.register(CheckpointAnchor)
class CheckpointAnchorAdmin(ReadOnlyAdmin):
    list_display = ("log", "tree_size", "transaction")
    list_filter = ("log",)
    exclude = ("checkpoint_hash",)
