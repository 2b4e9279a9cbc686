"""Request validation and the documented shapes of the ledger's JSON API (OpenAPI schema)."""

from __future__ import annotations

from rest_framework import serializers


class ObserverKeySerializer(serializers.Serializer):
    name = serializers.CharField()
    verifier_key = serializers.CharField()


class LogSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="Log slug: city, credentials or election-<id>.")
    origin = serializers.CharField(help_text="Checkpoint origin line (the log's identity).")
    tree_size = serializers.IntegerField(help_text="Size of the latest signed checkpoint.")
    root_hash = serializers.CharField(help_text="Hex root hash of the latest signed checkpoint.")
    sequenced_size = serializers.IntegerField(help_text="Entries sequenced so far (>= tree_size).")
    verifier_key = serializers.CharField(help_text="The log's signed-note verifier key.")
    witness_threshold = serializers.IntegerField(help_text="Cosignatures needed to be witnessed.")
    observers = ObserverKeySerializer(many=True)
    latest_witnessed_size = serializers.IntegerField(allow_null=True)


class LogListSerializer(serializers.Serializer):
    logs = LogSerializer(many=True)


class ReceiptSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    log = serializers.CharField()
    origin = serializers.CharField()
    index = serializers.IntegerField()
    entry = serializers.CharField(help_text="Base64 entry bytes.")
    leaf_hash = serializers.CharField()
    tree_size = serializers.IntegerField()
    inclusion_proof = serializers.ListField(child=serializers.CharField())
    checkpoint = serializers.CharField(help_text="Signed checkpoint note with cosignature lines.")
    log_verifier_key = serializers.CharField()
    observer_verifier_keys = serializers.ListField(child=serializers.CharField())
    witness_threshold = serializers.IntegerField()


class EntrySerializer(serializers.Serializer):
    index = serializers.IntegerField()
    leaf_hash = serializers.CharField(help_text="Hex SHA-256(0x00 || entry).")
    kind = serializers.CharField()
    payload = serializers.JSONField()
    entry = serializers.CharField(help_text="Base64 of the RFC 8785 entry bytes.")
    created_at = serializers.DateTimeField()
    receipt = ReceiptSerializer(
        allow_null=True, help_text="Null until a signed checkpoint covers the entry."
    )


class ConsistencyQuerySerializer(serializers.Serializer):
    old = serializers.IntegerField(min_value=0, max_value=(1 << 63) - 1)
    new = serializers.IntegerField(min_value=0, max_value=(1 << 63) - 1)


class ConsistencySerializer(serializers.Serializer):
    old = serializers.IntegerField()
    new = serializers.IntegerField()
    proof = serializers.ListField(child=serializers.CharField(), help_text="Hex hashes.")


class CosignatureRequestSerializer(serializers.Serializer):
    checkpoint = serializers.CharField(
        trim_whitespace=False, max_length=4096, help_text="Checkpoint body exactly as signed."
    )
    cosignature = serializers.CharField(
        max_length=1024, help_text="One tlog-cosignature/v1 signature line."
    )


class CosignatureResultSerializer(serializers.Serializer):
    accepted = serializers.BooleanField()
    witnessed = serializers.BooleanField()
    cosignatures = serializers.IntegerField()


class ObserverRegistrationSerializer(serializers.Serializer):
    verifier_key = serializers.CharField(
        max_length=512, help_text="The observer's cosignature/v1 verifier key (printed by init)."
    )


class ObserverSerializer(serializers.Serializer):
    name = serializers.CharField()
    verifier_key = serializers.CharField()
    active = serializers.BooleanField()
    created_at = serializers.DateTimeField()


class ErrorSerializer(serializers.Serializer):
    error = serializers.CharField()
    detail = serializers.JSONField()
    status = serializers.IntegerField()
