"""Admin: read-only views of the ledger (a log is append-only, even for staff); observers editable
only in their ``active`` flag, so a compromised observer key can be switched off."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from civic.admin import ReadOnlyAdmin
from ledger.models import Checkpoint, Cosignature, Entry, Log, Observer, OutboxEntry


@admin.register(Log)
class LogAdmin(ReadOnlyAdmin):
    list_display = ["name", "origin", "tree_size", "witness_threshold", "created_at"]


@admin.register(Entry)
class EntryAdmin(ReadOnlyAdmin):
    list_display = ["log", "index", "kind", "created_at"]
    list_filter = ["log", "kind"]
    exclude = ["entry", "leaf_hash"]


@admin.register(OutboxEntry)
class OutboxEntryAdmin(ReadOnlyAdmin):
    list_display = ["log", "kind", "created_at", "sequenced_at", "entry_index"]
    list_filter = ["log"]
    exclude = ["entry", "leaf_hash"]


@admin.register(Checkpoint)
class CheckpointAdmin(ReadOnlyAdmin):
    list_display = ["log", "size", "created_at"]
    list_filter = ["log"]
    exclude = ["root_hash"]


@admin.register(Cosignature)
class CosignatureAdmin(ReadOnlyAdmin):
    list_display = ["checkpoint", "observer", "timestamp", "created_at"]


@admin.register(Observer)
class ObserverAdmin(admin.ModelAdmin):
    list_display = ["name", "active", "registered_by", "created_at"]
    readonly_fields = ["name", "verifier_key", "registered_by", "created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # registered through the API or the management command (key validated)
