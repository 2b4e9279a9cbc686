"""Exponential ElGamal on secp256k1: Enc(m; r) = (r·G, r·K + m·G).

Messages sit in the exponent so ciphertexts add: Enc(a; r) + Enc(b; s) = Enc(a + b; r + s).
That is what lets the tally be computed without opening any single ballot; the price is a
small discrete log at the end (``dlog.py``), fine for vote counts.
"""

# API stable: other modules build on these names

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from . import group
from .errors import EncodingError
from .group import IDENTITY, G, N, Point


@dataclass(frozen=True, slots=True)
class Ciphertext:
    """(alpha, beta) = (r·G, r·K + m·G)."""

    alpha: Point
    beta: Point

    def __add__(self, other: Ciphertext) -> Ciphertext:
        return Ciphertext(self.alpha + other.alpha, self.beta + other.beta)

    def scale(self, k: int) -> Ciphertext:
        """Enc(k·m; k·r): the weighted contribution of one ciphertext."""
        return Ciphertext(group.mul(self.alpha, k), group.mul(self.beta, k))

    def encode(self) -> bytes:
        """66 bytes: alpha || beta, both SEC1 compressed."""
        return self.alpha.encode() + self.beta.encode()

    @classmethod
    def decode(cls, data: bytes) -> Ciphertext:
        if len(data) != 2 * group.POINT_BYTES:
            raise EncodingError("a ciphertext is exactly 66 bytes")
        return cls(Point.decode(data[:33]), Point.decode(data[33:]))

    def to_json(self) -> dict[str, str]:
        return {"alpha": self.alpha.hex(), "beta": self.beta.hex()}

    @classmethod
    def from_json(cls, obj: Mapping[str, object]) -> Ciphertext:
        if not isinstance(obj, Mapping) or set(obj) != {"alpha", "beta"}:
            raise EncodingError("a ciphertext is an object with exactly alpha and beta")
        alpha, beta = obj["alpha"], obj["beta"]
        if not isinstance(alpha, str) or not isinstance(beta, str):
            raise EncodingError("ciphertext fields are hex strings")
        return cls(Point.from_hex(alpha), Point.from_hex(beta))


ZERO = Ciphertext(IDENTITY, IDENTITY)
"""The neutral element of aggregation (never encoded: it is not a valid ciphertext)."""


def keypair_from_secret(secret: int) -> tuple[int, Point]:
    if not 0 < secret < N:
        raise ValueError("secret key must be in [1, n-1]")
    return secret, group.base_mul(secret)


def encrypt(public_key: Point, message: int, nonce: int) -> Ciphertext:
    """Enc(m; r) with fixed-base tables for G and K (both reused for every selection)."""
    if not 0 < nonce < N:
        raise ValueError("encryption nonce must be in [1, n-1]")
    if public_key.infinity:
        raise ValueError("public key cannot be the identity")
    alpha = group.base_mul(nonce)
    beta = group.fixed_base(public_key).mul(nonce) + group.base_mul(message % N)
    return Ciphertext(alpha, beta)


def aggregate(
    ciphertexts: Sequence[Ciphertext], weights: Sequence[int] | None = None
) -> Ciphertext:
    """Σ w_i·C_i (w_i = 1 by default): two multi-scalar multiplications, or plain sums."""
    if weights is None:
        alpha = group.sum_points([c.alpha for c in ciphertexts])
        beta = group.sum_points([c.beta for c in ciphertexts])
        return Ciphertext(alpha, beta)
    if len(weights) != len(ciphertexts):
        raise ValueError("one weight per ciphertext")
    ws = [w % N for w in weights]
    return Ciphertext(
        group.msm(ws, [c.alpha for c in ciphertexts]),
        group.msm(ws, [c.beta for c in ciphertexts]),
    )


def decrypt_to_point(secret: int, ciphertext: Ciphertext) -> Point:
    """m·G = beta - s·alpha; turning it into m needs a discrete log (``dlog.py``)."""
    return ciphertext.beta - group.mul(ciphertext.alpha, secret)


def decrypt_small(secret: int, ciphertext: Ciphertext, bound: int = 1000) -> int:
    """m for m in [0, bound] by linear search: for tests and single-ballot checks only."""
    target = decrypt_to_point(secret, ciphertext)
    acc = IDENTITY
    for m in range(bound + 1):
        if acc == target:
            return m
        acc = acc + G
    raise ValueError("plaintext is outside [0, bound]")
