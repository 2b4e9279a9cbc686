"""Unpadded base64url (RFC 4648 §5), the encoding of every binary field in the JSON APIs.

Pure: no Django. Decoding accepts padded or unpadded input and refuses anything else, so callers
can turn a ``ValueError`` into their own 400.
"""

from __future__ import annotations

import base64
import binascii


def encode(data: bytes) -> str:
    """``data`` as unpadded base64url text."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def decode(text: object, *, max_length: int) -> bytes:
    """The bytes of a base64url string of at most ``max_length`` characters; ValueError otherwise."""
    if not isinstance(text, str) or not text or len(text) > max_length:
        raise ValueError("not a base64url string of the allowed length")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not valid base64url") from exc
