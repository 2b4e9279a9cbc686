"""Binary fields of request bodies: base64url text that is a 400 when it is anything else."""

from __future__ import annotations

from typing import Any

from identity.core import base64url
from identity.errors import InvalidInput

MAX_FIELD_CHARS = 8192


def b64url_decode(text: Any, what: str) -> bytes:
    """Strict unpadded (or padded) base64url of at most 8 KiB of text; anything else is a 400."""
    if not isinstance(text, str) or not text or len(text) > MAX_FIELD_CHARS:
        raise InvalidInput(f"{what} must be a base64url string")
    try:
        return base64url.decode(text, max_length=MAX_FIELD_CHARS)
    except ValueError as exc:
        raise InvalidInput(f"{what} is not valid base64url") from exc

