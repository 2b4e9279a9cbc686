"""RFC 8785 JSON Canonicalization Scheme (JCS), through the maintained ``rfc8785`` library.

This wrapper exists so every caller gets the same error type and the same strict parsing of
JSON text: NaN/Infinity, non-JSON Python types, integers outside the IEEE-754 safe range,
lone surrogates and duplicate object keys are all refused with :class:`JCSError`, because a
signature over an ambiguous document is worthless.
"""

from __future__ import annotations

import json
from typing import Any

import rfc8785

JSONValue = Any  # None | bool | int | float | str | list[JSONValue] | dict[str, JSONValue]


class JCSError(ValueError):
    """The value cannot be canonicalized under RFC 8785."""


def canonicalize(value: JSONValue) -> bytes:
    """RFC 8785 canonical UTF-8 bytes of a Python JSON value (dict/list/str/int/float/bool/None)."""
    try:
        return rfc8785.dumps(value)
    except rfc8785.FloatDomainError as exc:
        raise JCSError(f"NaN and Infinity are not JSON numbers: {exc}") from exc
    except rfc8785.IntegerDomainError as exc:
        raise JCSError(f"integer outside the IEEE-754 safe range (|n| < 2**53): {exc}") from exc
    except rfc8785.CanonicalizationError as exc:
        raise JCSError(f"not a JSON value: {exc}") from exc
    except RecursionError as exc:
        raise JCSError("JSON value nested too deeply") from exc


def _reject_constant(name: str) -> None:
    raise JCSError(f"{name} is not a JSON number")


def _no_duplicate_keys(pairs: list[tuple[str, JSONValue]]) -> dict[str, JSONValue]:
    obj: dict[str, JSONValue] = {}
    for key, val in pairs:
        if key in obj:
            raise JCSError(f"duplicate object key {key!r} (RFC 8785 requires I-JSON)")
        obj[key] = val
    return obj


def parse_json(text: str | bytes) -> JSONValue:
    """Parse JSON text strictly (I-JSON): no NaN/Infinity literals, no duplicate keys."""
    try:
        return json.loads(
            text,
            parse_constant=_reject_constant,
            object_pairs_hook=_no_duplicate_keys,
        )
    except JCSError:
        raise
    except (ValueError, RecursionError) as exc:
        raise JCSError(f"invalid JSON text: {exc}") from exc


def canonicalize_text(text: str | bytes) -> bytes:
    """Canonical bytes of JSON text (parse strictly, then canonicalize)."""
    return canonicalize(parse_json(text))
