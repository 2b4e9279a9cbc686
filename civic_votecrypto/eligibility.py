"""Pure checks of what the ballot box checked at casting (docs/protocol.md §13.1-§13.3).

An observer re-checks, for every ballot of a record, the voter's eligibility token (an RFC 9474
RSABSSA-SHA384-PSS-Randomized signature by the election's key over the ballot key) and the
ballot key's Ed25519 signature over the cast (or spoil) message, without the city's code: only
``cryptography``. The server's own checks (``voting.selectors.eligibility``) compute the same
messages.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .errors import EncodingError

TOKEN_CONTEXT = b"civic/eligibility-token/v1"
CAST_CONTEXT = b"civic/cast/v1"
SPOIL_CONTEXT = b"civic/spoil/v1"
PREFIX_LENGTH = 32  # RFC 9474 §4.1: the randomized variant's message prefix
SALT_LENGTH = 48  # PSS salt = SHA-384 output length
MIN_MODULUS_BITS = 2048


def token_message(slug: str, ballot_key: bytes) -> bytes:
    """SHA-256("civic/eligibility-token/v1" ‖ 0x00 ‖ slug ‖ 0x00 ‖ ballot key): what was signed."""
    return hashlib.sha256(TOKEN_CONTEXT + b"\x00" + slug.encode() + b"\x00" + ballot_key).digest()


def cast_message(slug: str, ballot_canonical: bytes) -> bytes:
    """ "civic/cast/v1" ‖ 0x00 ‖ slug ‖ 0x00 ‖ RFC8785(ballot): what the ballot key signs."""
    return CAST_CONTEXT + b"\x00" + slug.encode() + b"\x00" + ballot_canonical


def spoil_message(slug: str, challenged_canonical: bytes) -> bytes:
    return SPOIL_CONTEXT + b"\x00" + slug.encode() + b"\x00" + challenged_canonical


@lru_cache(maxsize=64)
def load_rsa_key(pem: str) -> rsa.RSAPublicKey:
    """An SPKI PEM RSA public key of at least 2048 bits (else ``EncodingError``)."""
    try:
        key = serialization.load_pem_public_key(pem.encode("ascii"))
    except (ValueError, UnicodeEncodeError, UnsupportedAlgorithm) as exc:
        raise EncodingError(f"not a PEM public key: {exc}") from None
    if not isinstance(key, rsa.RSAPublicKey) or key.key_size < MIN_MODULUS_BITS:
        raise EncodingError(f"not an RSA public key of at least {MIN_MODULUS_BITS} bits")
    return key


def rsa_key_id(key: rsa.RSAPublicKey) -> str:
    """SHA-256 of the DER SubjectPublicKeyInfo, hex (the token's ``key_id``)."""
    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).hexdigest()


def verify_token(
    key: rsa.RSAPublicKey, slug: str, ballot_key: bytes, prefix: bytes, signature: bytes
) -> bool:
    """RSASSA-PSS-VERIFY (SHA-384, MGF1-SHA-384, salt 48) of prefix ‖ token_message."""
    if len(prefix) != PREFIX_LENGTH or len(signature) != (key.key_size + 7) // 8:
        return False
    try:
        key.verify(
            signature,
            prefix + token_message(slug, ballot_key),
            padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=SALT_LENGTH),
            hashes.SHA384(),
        )
    except InvalidSignature:
        return False
    return True


def verify_key_signature(ballot_key: bytes, message: bytes, signature: bytes) -> bool:
    """The ballot key's Ed25519 (RFC 8032) signature over a cast or spoil message."""
    try:
        Ed25519PublicKey.from_public_bytes(ballot_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


def token_fields(token: Mapping[str, Any]) -> tuple[str, bytes, bytes]:
    """(key_id, prefix, signature) of a token object, base64url decoded strictly."""
    from .record import b64url_decode  # noqa: PLC0415 - record imports this module's users

    return (
        str(token["key_id"]),
        b64url_decode(token["prefix"], PREFIX_LENGTH, "token prefix"),
        b64url_decode(token["signature"], None, "token signature"),
    )
