"""Shapes of the anchors API (documentation for the OpenAPI schema, and query validation)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from ledger.anchoring.models import AnchorTransaction

MAX_OFFSET = (1 << 62)


class AnchorQuerySerializer(serializers.Serializer):
    log = serializers.SlugField(required=False, max_length=64)
    state = serializers.ChoiceField(choices=AnchorTransaction.State.choices, required=False)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=500, default=100)
    # bounded so that offset + limit stays a 64-bit integer (SQLite and PostgreSQL refuse more)
    offset = serializers.IntegerField(required=False, min_value=0, max_value=MAX_OFFSET, default=0)

    def to_internal_value(self, data: Any) -> Any:
        """A parameter given empty (``?state=``) is refused, not read as absent."""
        blank = sorted(name for name in self.fields if name in data and data.get(name) == "")
        if blank:
            raise serializers.ValidationError({name: ["This parameter may not be empty."] for name in blank})
        return super().to_internal_value(data)


class AnchorSerializer(serializers.Serializer):
    log = serializers.CharField()
    origin = serializers.CharField()
    tree_size = serializers.IntegerField()
    checkpoint_hash = serializers.CharField(help_text="SHA-256 (hex) of checkpoint_note.")
    checkpoint_note = serializers.CharField(help_text="The signed checkpoint note, as anchored.")
    chain_id = serializers.IntegerField()
    genesis_hash = serializers.CharField(
        allow_null=True,
        help_text="Hash of block 0 of the chain the anchor was written to (null: recorded before "
        "chains were told apart); with chain_id it names the chain.",
    )
    contract = serializers.CharField()
    anchoring_account = serializers.CharField()
    transaction_hash = serializers.CharField()
    position = serializers.IntegerField(
        help_text="Index of this anchor's event in the transaction."
    )
    block_number = serializers.IntegerField(allow_null=True)
    block_hash = serializers.CharField(allow_null=True)
    confirmations = serializers.IntegerField()
    state = serializers.ChoiceField(choices=AnchorTransaction.State.choices)
    final = serializers.BooleanField()
    reorgs = serializers.IntegerField(help_text="Times this transaction was reorganized away.")
    sent_at = serializers.DateTimeField(allow_null=True)
    finalized_at = serializers.DateTimeField(allow_null=True)


class AnchorListSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    anchors = AnchorSerializer(many=True)
