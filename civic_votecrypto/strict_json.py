"""Strict reading of the JSON objects the protocol exchanges (proofs, ballots, ceremony).

Every message type is decoded the same way: an object with exactly the expected keys, so a
renamed, missing or extra field is an ``EncodingError`` naming the message, never ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .errors import EncodingError


def exact_keys(obj: Any, keys: set[str], what: str) -> Mapping[str, Any]:
    """``obj`` itself if it is an object with exactly ``keys``; ``what`` names it in the error."""
    if not isinstance(obj, Mapping) or set(obj) != keys:
        raise EncodingError(f"{what} must be an object with exactly the keys {sorted(keys)}")
    return obj
