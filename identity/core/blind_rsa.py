"""RFC 9474 RSA blind signatures (RSABSSA-SHA384, all four variants), for voter eligibility tokens.

The voter blinds the hash input of a fresh ballot key, the city signs it blindly after checking
the voter's credential, and the voter unblinds: the result is an ordinary RSASSA-PSS (SHA-384)
signature that any RSA-PSS verifier accepts, yet the city cannot link it to the signing request.

No maintained Python package implements RFC 9474, so the protocol is written here on top of
``cryptography`` (key generation, serialization, final PSS verification); the EMSA-PSS encoding
of RFC 8017 §9.1.1 is small and written out so it can be checked against the RFC's vectors.
"""

from __future__ import annotations

import base64
import hashlib
import math
import secrets
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

HASH_LENGTH = 48  # SHA-384
PREFIX_LENGTH = 32  # RFC 9474 §4.1: randomized variants prepend 32 random bytes
MIN_MODULUS_BITS = 2048
DEFAULT_MODULUS_BITS = 3072
PUBLIC_EXPONENT = 65537


class BlindRSAError(ValueError):
    """An RFC 9474 operation failed (bad size, out-of-range value, or invalid signature)."""


@dataclass(frozen=True)
class Variant:
    """One RFC 9474 §5 variant: PSS salt length and whether ``prepare`` adds a random prefix."""

    name: str
    salt_length: int
    randomized: bool


PSS_RANDOMIZED = Variant("RSABSSA-SHA384-PSS-Randomized", HASH_LENGTH, True)
PSSZERO_RANDOMIZED = Variant("RSABSSA-SHA384-PSSZERO-Randomized", 0, True)
PSS_DETERMINISTIC = Variant("RSABSSA-SHA384-PSS-Deterministic", HASH_LENGTH, False)
PSSZERO_DETERMINISTIC = Variant("RSABSSA-SHA384-PSSZERO-Deterministic", 0, False)
VARIANTS: dict[str, Variant] = {
    v.name: v
    for v in (PSS_RANDOMIZED, PSSZERO_RANDOMIZED, PSS_DETERMINISTIC, PSSZERO_DETERMINISTIC)
}
DEFAULT_VARIANT = PSS_RANDOMIZED  # the one the platform uses for eligibility tokens


@dataclass(frozen=True)
class BlindingResult:
    """What the client keeps from ``blind``: the message to send, and ``inv`` to unblind later."""

    blinded_msg: bytes
    inv: int


def _modulus_length(public_key: rsa.RSAPublicKey) -> int:
    return (public_key.key_size + 7) // 8


def int_to_bytes(value: int, length: int) -> bytes:
    """I2OSP (RFC 8017 §4.1)."""
    if value < 0 or value >= 256**length:
        raise BlindRSAError("integer too large for the requested length")
    return value.to_bytes(length, "big")


def _mgf1_sha384(seed: bytes, length: int) -> bytes:
    output = bytearray()
    counter = 0
    while len(output) < length:
        output += hashlib.sha384(seed + counter.to_bytes(4, "big")).digest()
        counter += 1
    return bytes(output[:length])


def emsa_pss_encode(message: bytes, em_bits: int, salt: bytes) -> bytes:
    """EMSA-PSS-ENCODE (RFC 8017 §9.1.1) with SHA-384 and MGF1-SHA-384."""
    m_hash = hashlib.sha384(message).digest()
    em_len = (em_bits + 7) // 8
    if em_len < HASH_LENGTH + len(salt) + 2:
        raise BlindRSAError("encoding error: modulus too small for this salt length")
    h = hashlib.sha384(b"\x00" * 8 + m_hash + salt).digest()
    db = b"\x00" * (em_len - len(salt) - HASH_LENGTH - 2) + b"\x01" + salt
    masked_db = bytearray(
        a ^ b for a, b in zip(db, _mgf1_sha384(h, em_len - HASH_LENGTH - 1), strict=True)
    )
    masked_db[0] &= 0xFF >> (8 * em_len - em_bits)
    return bytes(masked_db) + h + b"\xbc"


def generate_key(bits: int = DEFAULT_MODULUS_BITS) -> rsa.RSAPrivateKey:
    """A fresh signing key (e = 65537); callers make one per signing purpose."""
    if bits < MIN_MODULUS_BITS:
        raise BlindRSAError(f"modulus must be at least {MIN_MODULUS_BITS} bits")
    return rsa.generate_private_key(public_exponent=PUBLIC_EXPONENT, key_size=bits)


def prepare(
    msg: bytes, variant: Variant = DEFAULT_VARIANT, *, prefix: bytes | None = None
) -> bytes:
    """RFC 9474 §4.1 Prepare: ``input_msg`` = 32 random bytes || msg for randomized variants.

    ``prefix`` is a test hook for reproducing published vectors; never pass it in production.
    """
    if not variant.randomized:
        if prefix:
            raise BlindRSAError("deterministic variants take no message prefix")
        return msg
    if prefix is None:
        prefix = secrets.token_bytes(PREFIX_LENGTH)
    if len(prefix) != PREFIX_LENGTH:
        raise BlindRSAError(f"message prefix must be {PREFIX_LENGTH} bytes")
    return prefix + msg


def blind(
    public_key: rsa.RSAPublicKey,
    input_msg: bytes,
    variant: Variant = DEFAULT_VARIANT,
    *,
    salt: bytes | None = None,
    r: int | None = None,
) -> BlindingResult:
    """RFC 9474 §4.2 Blind: PSS-encode ``input_msg`` and multiply by r^e mod n.

    ``salt`` and ``r`` are test hooks for the published vectors; production callers omit them
    so both come from the OS random source.
    """
    numbers = public_key.public_numbers()
    n, e = numbers.n, numbers.e
    k = _modulus_length(public_key)
    if salt is None:
        salt = secrets.token_bytes(variant.salt_length)
    if len(salt) != variant.salt_length:
        raise BlindRSAError(f"salt must be {variant.salt_length} bytes for {variant.name}")
    encoded = emsa_pss_encode(input_msg, n.bit_length() - 1, salt)
    m = int.from_bytes(encoded, "big")
    if math.gcd(m, n) != 1:
        raise BlindRSAError("invalid input: encoded message not coprime with n")
    if r is None:
        r = secrets.randbelow(n - 1) + 1
    if not 1 <= r < n or math.gcd(r, n) != 1:
        raise BlindRSAError("blinding error: r is not invertible modulo n")
    inv = pow(r, -1, n)
    z = m * pow(r, e, n) % n
    return BlindingResult(int_to_bytes(z, k), inv)


def _rsasp1(private_key: rsa.RSAPrivateKey, m: int) -> int:
    """m^d mod n by CRT, on a randomly re-blinded input so timing does not follow m."""
    numbers = private_key.private_numbers()
    public = numbers.public_numbers
    n, e = public.n, public.e
    u = secrets.randbelow(n - 2) + 2
    while math.gcd(u, n) != 1:
        u = secrets.randbelow(n - 2) + 2
    blinded = m * pow(u, e, n) % n
    s1 = pow(blinded, numbers.dmp1, numbers.p)
    s2 = pow(blinded, numbers.dmq1, numbers.q)
    h = numbers.iqmp * (s1 - s2) % numbers.p
    s = (s2 + h * numbers.q) % n
    return s * pow(u, -1, n) % n


def blind_sign(private_key: rsa.RSAPrivateKey, blinded_msg: bytes) -> bytes:
    """RFC 9474 §4.3 BlindSign, including the check that s^e = m before anything is returned.

    The check guards against fault attacks that would otherwise leak the private key.
    """
    public = private_key.public_key()
    k = _modulus_length(public)
    if len(blinded_msg) != k:
        raise BlindRSAError(f"blinded message must be {k} bytes")
    n, e = public.public_numbers().n, public.public_numbers().e
    m = int.from_bytes(blinded_msg, "big")
    if m >= n:
        raise BlindRSAError("message representative out of range")
    s = _rsasp1(private_key, m)
    if pow(s, e, n) != m:
        raise BlindRSAError("signing failure")
    return int_to_bytes(s, k)


def _pss(variant: Variant) -> padding.PSS:
    return padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=variant.salt_length)


def verify(
    public_key: rsa.RSAPublicKey, input_msg: bytes, sig: bytes, variant: Variant = DEFAULT_VARIANT
) -> bool:
    """RSASSA-PSS-VERIFY (SHA-384, MGF1-SHA-384, the variant's salt length) via ``cryptography``."""
    if len(sig) != _modulus_length(public_key):
        return False
    try:
        public_key.verify(sig, input_msg, _pss(variant), hashes.SHA384())
    except InvalidSignature:
        return False
    return True


def finalize(
    public_key: rsa.RSAPublicKey,
    input_msg: bytes,
    blind_sig: bytes,
    inv: int,
    variant: Variant = DEFAULT_VARIANT,
) -> bytes:
    """RFC 9474 §4.4 Finalize: unblind with ``inv`` and refuse a signature that does not verify."""
    k = _modulus_length(public_key)
    if len(blind_sig) != k:
        raise BlindRSAError(f"blind signature must be {k} bytes")
    n = public_key.public_numbers().n
    z = int.from_bytes(blind_sig, "big")
    sig = int_to_bytes(z * inv % n, k)
    if not verify(public_key, input_msg, sig, variant):
        raise BlindRSAError("invalid signature")
    return sig


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def public_key_pem(public_key: rsa.RSAPublicKey) -> str:
    """SubjectPublicKeyInfo PEM: what WebCrypto ``importKey('spki', ...)`` reads after base64."""
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def public_key_from_pem(pem: str | bytes) -> rsa.RSAPublicKey:
    """Load an SPKI PEM RSA public key, refusing anything else or a modulus under 2048 bits."""
    try:
        key = serialization.load_pem_public_key(pem.encode() if isinstance(pem, str) else pem)
    except ValueError as exc:
        raise BlindRSAError(f"not a PEM public key: {exc}") from exc
    if not isinstance(key, rsa.RSAPublicKey):
        raise BlindRSAError("not an RSA public key")
    if key.key_size < MIN_MODULUS_BITS:
        raise BlindRSAError(f"modulus must be at least {MIN_MODULUS_BITS} bits")
    return key


def public_key_jwk(
    public_key: rsa.RSAPublicKey, variant: Variant = DEFAULT_VARIANT
) -> dict[str, Any]:
    """RFC 7517 JWK of the public key; ``alg`` PS384 and the RFC 9474 variant name for clients."""
    numbers = public_key.public_numbers()
    return {
        "kty": "RSA",
        "n": _b64url(int_to_bytes(numbers.n, _modulus_length(public_key))),
        "e": _b64url(int_to_bytes(numbers.e, (numbers.e.bit_length() + 7) // 8)),
        "alg": "PS384",
        "use": "sig",
        "blindSignatureVariant": variant.name,
    }


def public_key_from_jwk(jwk: dict[str, Any]) -> rsa.RSAPublicKey:
    """Load an RSA public JWK (``kty`` RSA, base64url ``n`` and ``e``)."""
    if not isinstance(jwk, dict) or jwk.get("kty") != "RSA":
        raise BlindRSAError("JWK must have kty RSA")
    try:
        n = int.from_bytes(_b64url_decode(jwk["n"]), "big")
        e = int.from_bytes(_b64url_decode(jwk["e"]), "big")
        key = rsa.RSAPublicNumbers(e, n).public_key()
    except (KeyError, TypeError, ValueError) as exc:
        raise BlindRSAError(f"invalid RSA JWK: {exc}") from exc
    if key.key_size < MIN_MODULUS_BITS:
        raise BlindRSAError(f"modulus must be at least {MIN_MODULUS_BITS} bits")
    return key


def key_id(public_key: rsa.RSAPublicKey) -> str:
    """SHA-256 of the DER SPKI, hex: a stable name for the key in public records."""
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).hexdigest()
