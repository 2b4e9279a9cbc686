"""Hashing: the election hash chain, fixed-length encodings and Fiat–Shamir challenges.

Modelled on ElectionGuard 2.1 §5: ``H(key; tag, fields...) = HMAC-SHA-256(key, tag || fields)``
with a one-byte domain tag per use and fixed-length field encodings, chained
parameters -> manifest -> election base -> extended base (joint key) -> ballot.
Scalars derived from hashes (challenges, nonces) go through RFC 9380 ``hash_to_field`` with
``expand_message_xmd`` (SHA-256, L = 48 bytes so the bias mod n is below 2^-128).
Every byte is specified in docs/protocol.md §3.
"""

# API stable: other modules build on these names

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence
from enum import IntEnum

from .group import SCALAR_BYTES, G, N, P, Point, encode_scalar

HASH_BYTES = 32
PROTOCOL_VERSION = b"civic-voting-v1"
VERSION_KEY = PROTOCOL_VERSION.ljust(HASH_BYTES, b"\x00")
"""HMAC key of the first link of the chain (the parameter hash)."""

CHALLENGE_DST = b"CIVIC-V1-CHALLENGE_XMD:SHA-256"
DERIVE_DST = b"CIVIC-V1-DERIVE_XMD:SHA-256"
FIELD_L = 48  # bytes per scalar in hash_to_field: ceil((256 + 128) / 8)


class Tag(IntEnum):
    """One domain-separation byte per use of the hash. 0x40-0x5F belong to the trustees code."""

    PARAMETERS = 0x00
    MANIFEST = 0x01
    ELECTION_BASE = 0x02
    EXTENDED_BASE = 0x03
    SELECTION_NONCE = 0x10
    PROOF_NONCE = 0x11
    CONTEST_HASH = 0x12
    BALLOT_CODE = 0x13
    RANGE_CHALLENGE = 0x20
    LIMIT_CHALLENGE = 0x21
    SCHNORR_CHALLENGE = 0x22
    EQUALITY_CHALLENGE = 0x23
    DETERMINISTIC_STREAM = 0x31
    TRUSTEES_FIRST = 0x40
    TRUSTEES_LAST = 0x5F


# -- RFC 9380 -----------------------------------------------------------------------------
_Z_PAD_STATE = hashlib.sha256(bytes(64))
"""SHA-256 state after Z_pad (64 zero bytes): every b_0 starts there, so it is hashed once."""


def expand_message_xmd(msg: bytes, dst: bytes, len_in_bytes: int) -> bytes:
    """RFC 9380 §5.3.1 with SHA-256 (including the §5.3.3 oversize-DST rule)."""
    if len_in_bytes == FIELD_L and len(dst) <= 255:
        return _expand_48(msg, dst + bytes((len(dst),)))
    b_in_bytes, s_in_bytes = 32, 64
    if len(dst) > 255:
        dst = hashlib.sha256(b"H2C-OVERSIZE-DST-" + dst).digest()
    ell = -(-len_in_bytes // b_in_bytes)
    if ell > 255 or len_in_bytes > 65535 or len_in_bytes <= 0:
        raise ValueError("expand_message_xmd: requested length out of range")
    dst_prime = dst + bytes((len(dst),))
    msg_prime = bytes(s_in_bytes) + msg + len_in_bytes.to_bytes(2, "big") + b"\x00" + dst_prime
    b0 = hashlib.sha256(msg_prime).digest()
    b_prev = hashlib.sha256(b0 + b"\x01" + dst_prime).digest()
    out = [b_prev]
    for i in range(2, ell + 1):
        mixed = (int.from_bytes(b0, "big") ^ int.from_bytes(b_prev, "big")).to_bytes(32, "big")
        b_prev = hashlib.sha256(mixed + bytes((i,)) + dst_prime).digest()
        out.append(b_prev)
    return b"".join(out)[:len_in_bytes]


def _expand_48(msg: bytes, dst_prime: bytes) -> bytes:
    """expand_message_xmd for the one length the protocol uses (48 bytes, ell = 2), unrolled:
    every challenge and derived scalar goes through here."""
    state = _Z_PAD_STATE.copy()
    state.update(msg)
    state.update(b"\x00\x30\x00" + dst_prime)  # I2OSP(48, 2) || I2OSP(0, 1) || DST_prime
    b0 = state.digest()
    b1 = hashlib.sha256(b0 + b"\x01" + dst_prime).digest()
    mixed = (int.from_bytes(b0, "big") ^ int.from_bytes(b1, "big")).to_bytes(32, "big")
    b2 = hashlib.sha256(mixed + b"\x02" + dst_prime).digest()
    return b1 + b2[:16]


def hash_to_field(
    msg: bytes, count: int, dst: bytes, modulus: int, length: int = FIELD_L
) -> list[int]:
    """RFC 9380 §5.2 hash_to_field for a prime field (m = 1)."""
    uniform = expand_message_xmd(msg, dst, count * length)
    return [
        int.from_bytes(uniform[i * length : (i + 1) * length], "big") % modulus
        for i in range(count)
    ]


# -- fixed-length encodings ---------------------------------------------------------------
def enc_u32(value: int) -> bytes:
    if not 0 <= value < 2**32:
        raise ValueError("u32 out of range")
    return value.to_bytes(4, "big")


def enc_u64(value: int) -> bytes:
    if not 0 <= value < 2**64:
        raise ValueError("u64 out of range")
    return value.to_bytes(8, "big")


def enc_bytes(data: bytes) -> bytes:
    """Variable-length data: 4-byte big-endian length, then the bytes."""
    return enc_u32(len(data)) + data


def enc_str(text: str) -> bytes:
    return enc_bytes(text.encode("utf-8"))


def enc_points(points: Sequence[Point]) -> bytes:
    """A list of points: 4-byte count then 33 bytes each."""
    return enc_u32(len(points)) + b"".join(p.encode() for p in points)


def enc_scalar(k: int) -> bytes:
    return encode_scalar(k % N)


def enc_hash(h: bytes) -> bytes:
    if len(h) != HASH_BYTES:
        raise ValueError("a hash is exactly 32 bytes")
    return bytes(h)


# -- the keyed hash H and derived scalars ---------------------------------------------------
def H(key: bytes, tag: int, *fields: bytes) -> bytes:
    """``HMAC-SHA-256(key, tag || fields...)``: fields must already be fixed-length encoded."""
    if len(key) != HASH_BYTES:
        raise ValueError("hash key must be 32 bytes")
    return hmac.digest(key, bytes((tag,)) + b"".join(fields), "sha256")


def hash_to_scalar(tag: int, *fields: bytes, dst: bytes = DERIVE_DST) -> int:
    """A scalar in [0, n) from ``tag || fields`` through RFC 9380 hash_to_field."""
    return hash_to_field(bytes((tag,)) + b"".join(fields), 1, dst, N)[0]


def challenge(context: bytes, tag: int, *fields: bytes) -> int:
    """Fiat–Shamir challenge: binds the election context hash and the whole statement."""
    return hash_to_scalar(tag, enc_hash(context), *fields, dst=CHALLENGE_DST)


def derive_nonzero_scalar(tag: int, *fields: bytes) -> int:
    """Deterministic non-zero scalar (nonces derived from a secret seed)."""
    k = hash_to_scalar(tag, *fields)
    if k == 0:  # probability 2^-256; refuse rather than bias
        raise ValueError("derived scalar is zero")
    return k


class DeterministicScalars:
    """A reproducible stream of non-zero scalars from a seed (test vectors, benchmarks).

    Never use for real ballots: anyone with the seed recovers every nonce.
    """

    def __init__(self, seed: bytes, label: str = "") -> None:
        self._prefix = enc_bytes(seed) + enc_str(label)
        self._counter = 0

    def __call__(self) -> int:
        k = derive_nonzero_scalar(Tag.DETERMINISTIC_STREAM, self._prefix, enc_u64(self._counter))
        self._counter += 1
        return k


# -- the hash chain -------------------------------------------------------------------------
def parameter_hash() -> bytes:
    """H_P: fixes the group (p, n, G) and protocol version."""
    return H(
        VERSION_KEY,
        Tag.PARAMETERS,
        P.to_bytes(SCALAR_BYTES, "big"),
        N.to_bytes(SCALAR_BYTES, "big"),
        G.encode(),
    )


def manifest_hash(h_p: bytes, canonical_manifest: bytes) -> bytes:
    """H_M: the manifest's RFC 8785 canonical JSON bytes."""
    return H(h_p, Tag.MANIFEST, enc_bytes(canonical_manifest))


def election_base_hash(h_p: bytes, h_m: bytes, trustees: int, threshold: int) -> bytes:
    """H_B: manifest plus the trustee configuration (n, t)."""
    return H(h_p, Tag.ELECTION_BASE, enc_hash(h_m), enc_u32(trustees), enc_u32(threshold))


def extended_base_hash(
    h_b: bytes, joint_key: Point, trustee_commitments: Iterable[Point] = ()
) -> bytes:
    """H_E: binds the joint key and every trustee commitment; the context of all proofs."""
    return H(h_b, Tag.EXTENDED_BASE, joint_key.encode(), enc_points(list(trustee_commitments)))
