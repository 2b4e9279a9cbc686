"""Strict reading of the JSON objects the protocol exchanges (proofs, ballots, ceremony).

Every message type is decoded the same way: an object with exactly the expected keys, so a
renamed, missing or extra field is an ``EncodingError`` naming the message, never ignored; and
every JSON text is parsed with ``loads`` below, which refuses a repeated key (docs/protocol.md
§2.3, docs/protocol-trustees.md § Election record).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import rfc8785

from .errors import EncodingError


def exact_keys(obj: Any, keys: set[str], what: str) -> Mapping[str, Any]:
    """``obj`` itself if it is an object with exactly ``keys``; ``what`` names it in the error."""
    if not isinstance(obj, Mapping) or set(obj) != keys:
        raise EncodingError(f"{what} must be an object with exactly the keys {sorted(keys)}")
    return obj


class DuplicateKeyError(EncodingError):
    """A JSON object repeats a key: two readers could see two different documents."""


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # One C call builds the dict; only a repeated key makes it shorter than the pairs (this
    # hook runs for every object of a record: hundreds of thousands of times in a big one)
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise DuplicateKeyError(f"duplicate object key {key!r}")
            seen.add(key)
    return out


def _no_constant(name: str) -> Any:
    raise EncodingError(f"{name} is not JSON (I-JSON, RFC 7493)")


def loads(text: str | bytes) -> Any:
    """Parse JSON strictly (I-JSON, RFC 7493): no repeated key in any object, no NaN/Infinity.

    Python's ``json.loads`` keeps the last of two equal keys, another parser may keep the first;
    so every document of the protocol (records, trustee messages and files, receipts) that
    repeats a key is refused, and a malformed document raises ``EncodingError`` (a
    ``ValueError``), never something else.
    """
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except EncodingError:
        raise
    except RecursionError:
        raise EncodingError("JSON nested too deeply") from None
    except (ValueError, TypeError) as exc:  # JSONDecodeError, UnicodeDecodeError
        raise EncodingError(f"not valid JSON ({exc})") from None


_FRACTION_OR_EXPONENT = re.compile(r"[:\[,]-?\d+[.eE]")
_BEYOND_BMP_ORDER = re.compile("[\ud800-\U0010ffff]")


def canonical(value: Any) -> bytes:
    """RFC 8785 (JCS) bytes of ``value``, fast for the protocol's own objects.

    With sorted keys, no whitespace and no ASCII escaping, the C JSON encoder writes exactly the
    RFC 8785 bytes for integers and for strings below U+D800 (the same escapes: only ``"``,
    ``\\`` and controls, as ``\\u00xx`` in lowercase; key order by code point equals order
    by UTF-16 unit there), several times faster than a general RFC 8785 encoder. Anything else
    (a number with a fraction or exponent, a character from U+D800 up, or something that merely
    looks like one inside a string) goes through ``rfc8785`` itself.
    """
    try:
        text = json.dumps(
            value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        )
    except (TypeError, ValueError) as exc:
        raise EncodingError(f"no canonical JSON form: {exc}") from None
    if not _FRACTION_OR_EXPONENT.search(text) and not _BEYOND_BMP_ORDER.search(text):
        return text.encode("utf-8")
    return rfc8785.dumps(value)
