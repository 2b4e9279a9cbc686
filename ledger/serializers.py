"""Request validation and the documented shapes of the ledger's JSON API (OpenAPI schema)."""

from __future__ import annotations

from django.core.validators import RegexValidator
from rest_framework import serializers

from civic.schema import ErrorSerializer  # the one error shape  # noqa: F401


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


# The exact forms civic_tlog.note parses (C2SP signed-note, tlog-checkpoint, tlog-cosignature/v1),
# so a body that matches them is judged on its signature (403, 404, 409, 422), never refused as
# malformed: lines without control characters, a canonical decimal size, the root hash as the
# canonical base64 of 32 bytes, and a signature line "— <name> <base64 of key id (4 bytes),
# timestamp (8) and Ed25519 signature (64)>".
_TEXT_LINE = "[^\\n\\u0000-\\u001f\\u007f-\\u009f]+"
CHECKPOINT_PATTERN = (
    f"^{_TEXT_LINE}\\n(0|[1-9][0-9]{{0,18}})\\n[A-Za-z0-9+/]{{42}}[AEIMQUYcgkosw048]=\\n"
    f"({_TEXT_LINE}\\n)*$"
)
# A key name: no "+" and no character Python's str.isspace() calls a space (civic_tlog.note),
# written out so that Python and ECMAScript regular expressions read it alike.
KEY_NAME = "[^+\\u0000\\t\\n\\v\\f\\r \\u001c-\\u001f\\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]+"
# name+key id (8 hex)+base64 of the type byte 0x04 (cosignature/v1) and the 32-byte Ed25519 key
VERIFIER_KEY_PATTERN = f"^{KEY_NAME}\\+[0-9a-f]{{8}}\\+B[A-Za-z0-9+/]{{43}}$"
COSIGNATURE_PATTERN = f"^\u2014 {KEY_NAME} [A-Za-z0-9+/]{{101}}[AQgw]==$"


class CosignatureRequestSerializer(serializers.Serializer):
    checkpoint = serializers.CharField(
        trim_whitespace=False,
        max_length=4096,
        validators=[RegexValidator(CHECKPOINT_PATTERN)],
        help_text="Checkpoint body exactly as signed.",
    )
    cosignature = serializers.CharField(
        max_length=1024,
        trim_whitespace=False,
        validators=[RegexValidator(COSIGNATURE_PATTERN)],
        help_text="One tlog-cosignature/v1 signature line.",
    )


class CosignatureResultSerializer(serializers.Serializer):
    accepted = serializers.BooleanField()
    witnessed = serializers.BooleanField()
    cosignatures = serializers.IntegerField()


class ObserverRegistrationSerializer(serializers.Serializer):
    verifier_key = serializers.CharField(
        max_length=512,
        validators=[RegexValidator(VERIFIER_KEY_PATTERN)],
        help_text="The observer's cosignature/v1 verifier key (printed by init).",
    )


class ObserverSerializer(serializers.Serializer):
    name = serializers.CharField()
    verifier_key = serializers.CharField()
    active = serializers.BooleanField()
    created_at = serializers.DateTimeField()

