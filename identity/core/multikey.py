"""Multibase / multicodec encodings of Ed25519 and X25519 keys (W3C Controlled Identifiers, Multikey).

A Multikey ``publicKeyMultibase`` is ``'z' + base58btc(varint(codec) || raw key)``; the same
form names a did:key. Parsing is strict (prefix, codec, length, curve point) so a malformed
key fails here with a clear message, not later as a confusing signature failure.
"""

from __future__ import annotations

import base58

ED25519_PUB_CODEC = b"\xed\x01"  # multicodec 0xed, unsigned-varint encoded
ED25519_PRIV_CODEC = b"\x80\x26"  # multicodec 0x1300 (ed25519-priv)
X25519_PUB_CODEC = b"\xec\x01"  # multicodec 0xec
KEY_LENGTH = 32

# Curve25519 field prime and the Edwards d constant: needed to check that 32 bytes are a point.
_P = 2**255 - 19
_D = (-121665 * pow(121666, -1, _P)) % _P


class MultikeyError(ValueError):
    """A multibase key string is malformed (prefix, encoding, codec, length or curve point)."""


def base58btc_encode(data: bytes) -> str:
    """Multibase base58btc: the ``z`` prefix followed by Bitcoin-alphabet base58."""
    return "z" + base58.b58encode(data).decode("ascii")


def base58btc_decode(text: str) -> bytes:
    """Decode ``z``-prefixed base58btc; anything else is refused."""
    if not isinstance(text, str) or not text.startswith("z"):
        raise MultikeyError("multibase value must start with 'z' (base58btc)")
    body = text[1:]
    if not body:
        raise MultikeyError("empty multibase value")
    try:
        data = base58.b58decode(body.encode("ascii"))
    except (ValueError, UnicodeEncodeError) as exc:
        raise MultikeyError("invalid base58btc characters") from exc
    return data


def _decode_with_codec(text: str, codec: bytes, what: str) -> bytes:
    data = base58btc_decode(text)
    if data[: len(codec)] != codec:
        raise MultikeyError(f"not an {what} key: multicodec prefix {data[:2].hex() or 'missing'}")
    key = data[len(codec) :]
    if len(key) != KEY_LENGTH:
        raise MultikeyError(f"{what} key must be {KEY_LENGTH} bytes, got {len(key)}")
    return key


def _edwards_y(public_key: bytes) -> int:
    """The y coordinate of an encoded Ed25519 point, after checking the point is on the curve."""
    if len(public_key) != KEY_LENGTH:
        raise MultikeyError(f"Ed25519 public key must be {KEY_LENGTH} bytes, got {len(public_key)}")
    encoded = int.from_bytes(public_key, "little")
    x_sign = encoded >> 255
    y = encoded & ((1 << 255) - 1)
    if y >= _P:
        raise MultikeyError("Ed25519 public key is not canonically encoded")
    x_squared = (y * y - 1) * pow(_D * y * y + 1, -1, _P) % _P
    if x_squared == 0:
        if x_sign:
            raise MultikeyError("Ed25519 public key is not a valid curve point")
        return y
    # Euler's criterion: x^2 must be a square modulo p.
    if pow(x_squared, (_P - 1) // 2, _P) != 1:
        raise MultikeyError("Ed25519 public key is not a valid curve point")
    return y


def check_ed25519_public_key(public_key: bytes) -> bytes:
    """Return the key unchanged if it is 32 bytes encoding an Ed25519 point, else raise."""
    _edwards_y(public_key)
    return public_key


def encode_ed25519_public_key(public_key: bytes) -> str:
    """Ed25519 public key -> Multikey ``publicKeyMultibase`` (``z6Mk...``)."""
    check_ed25519_public_key(public_key)
    return base58btc_encode(ED25519_PUB_CODEC + public_key)


def decode_ed25519_public_key(multibase: str) -> bytes:
    """Multikey ``publicKeyMultibase`` -> 32-byte Ed25519 public key (validated)."""
    return check_ed25519_public_key(_decode_with_codec(multibase, ED25519_PUB_CODEC, "Ed25519"))


def encode_ed25519_private_key(seed: bytes) -> str:
    """32-byte Ed25519 private key (seed) -> Multikey ``secretKeyMultibase`` (``z3u2...``)."""
    if len(seed) != KEY_LENGTH:
        raise MultikeyError(f"Ed25519 private key must be {KEY_LENGTH} bytes")
    return base58btc_encode(ED25519_PRIV_CODEC + seed)


def decode_ed25519_private_key(multibase: str) -> bytes:
    """Multikey ``secretKeyMultibase`` -> 32-byte Ed25519 private key (seed)."""
    return _decode_with_codec(multibase, ED25519_PRIV_CODEC, "Ed25519 private")


def encode_x25519_public_key(public_key: bytes) -> str:
    """X25519 public key -> Multikey (``z6LS...``)."""
    if len(public_key) != KEY_LENGTH:
        raise MultikeyError(f"X25519 public key must be {KEY_LENGTH} bytes")
    return base58btc_encode(X25519_PUB_CODEC + public_key)


def ed25519_to_x25519_public_key(public_key: bytes) -> bytes:
    """Birational map Edwards -> Montgomery, u = (1 + y) / (1 - y): the did:key keyAgreement key."""
    y = _edwards_y(public_key)
    if y == 1:
        raise MultikeyError("Ed25519 identity point has no X25519 counterpart")
    u = (1 + y) * pow(1 - y, -1, _P) % _P
    return u.to_bytes(KEY_LENGTH, "little")
