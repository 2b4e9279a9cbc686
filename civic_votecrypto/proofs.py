"""Non-interactive zero-knowledge proofs (Fiat–Shamir), each carrying its commitments.

- ``RangeProof``: disjunctive Chaum–Pedersen, "the ciphertext encrypts some m in [lo, hi]"
  (per selection with [0, R]; per contest as the limit proof over the weighted sum).
- ``SchnorrProof``: knowledge of x with X = x·G (trustee polynomial coefficients).
- ``EqualityProof``: Chaum–Pedersen, log_B1(X) = log_B2(M) (correct partial decryption).

Every challenge is ``challenge(context, tag, <whole statement>, <all commitments>)``: the
election context hash, the key, the ciphertext or statement points, the range and a caller
label, never the commitments alone (Helios issue #34). Because proofs carry commitments, each
verification reduces to linear equations Σ k_i·P_i = O that ``batch.py`` can combine.

Responses use v = u + c·x, so every check reads v·B = A + c·X (docs/protocol.md §5).
"""

# API stable: other modules build on these names

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from . import group
from .elgamal import Ciphertext
from .errors import EncodingError, ProofError
from .group import G, N, Point, ScalarSource, random_scalar, scalar_from_hex, scalar_hex
from .hashing import Tag, challenge, enc_bytes, enc_u32
from .strict_json import exact_keys

Term = tuple[int, Point]
Equation = list[Term]
"""A linear relation Σ k_i·P_i = identity; a proof holds iff all its equations do."""

MAX_RANGE_BRANCHES = 1024
"""Largest hi - lo + 1 a disjunctive proof may have (size and work grow linearly)."""


def _hex_str(obj: Mapping[str, Any], key: str) -> str:
    value = obj[key]
    if not isinstance(value, str):
        raise EncodingError(f"{key} must be a hex string")
    return value


def _check_range(lo: int, hi: int) -> None:
    if not (0 <= lo <= hi) or hi - lo + 1 > MAX_RANGE_BRANCHES or hi >= 2**32:
        raise ValueError(f"range [{lo}, {hi}] is not supported")


# -- range proof --------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class RangeBranch:
    """Branch j: commitments a = v·G - c·alpha, b = v·K - c·(beta - j·G)."""

    a: Point
    b: Point
    c: int
    v: int

    def to_json(self) -> dict[str, str]:
        return {
            "a": self.a.hex(),
            "b": self.b.hex(),
            "c": scalar_hex(self.c),
            "v": scalar_hex(self.v),
        }

    @classmethod
    def from_json(cls, obj: Any) -> RangeBranch:
        o = exact_keys(obj, {"a", "b", "c", "v"}, "range proof branch")
        return cls(
            Point.from_hex(_hex_str(o, "a")),
            Point.from_hex(_hex_str(o, "b")),
            scalar_from_hex(_hex_str(o, "c")),
            scalar_from_hex(_hex_str(o, "v")),
        )


@dataclass(frozen=True, slots=True)
class RangeProof:
    """One branch per value lo..hi, in order; challenges of all branches sum to the hash."""

    branches: tuple[RangeBranch, ...]

    def to_json(self) -> dict[str, Any]:
        return {"branches": [b.to_json() for b in self.branches]}

    @classmethod
    def from_json(cls, obj: Any) -> RangeProof:
        o = exact_keys(obj, {"branches"}, "range proof")
        branches = o["branches"]
        if not isinstance(branches, list) or not 0 < len(branches) <= MAX_RANGE_BRANCHES:
            raise EncodingError("range proof branches must be a non-empty list")
        return cls(tuple(RangeBranch.from_json(b) for b in branches))


def range_challenge(
    context: bytes,
    tag: int,
    key: Point,
    ciphertext: Ciphertext,
    lo: int,
    hi: int,
    label: bytes,
    commitments: Sequence[tuple[Point, Point]],
) -> int:
    """c = H2F(tag || context || K || alpha || beta || lo || hi || label || (a_j || b_j)_j)."""
    return challenge(
        context,
        tag,
        key.encode(),
        ciphertext.encode(),
        enc_u32(lo),
        enc_u32(hi),
        enc_bytes(label),
        *(a.encode() + b.encode() for a, b in commitments),
    )


def prove_range(
    context: bytes,
    key: Point,
    ciphertext: Ciphertext,
    value: int,
    nonce: int,
    lo: int,
    hi: int,
    *,
    tag: int = Tag.RANGE_CHALLENGE,
    label: bytes = b"",
    rng: ScalarSource = random_scalar,
) -> RangeProof:
    """Prove ``ciphertext = Enc(value; nonce)`` with value in [lo, hi] without revealing it."""
    _check_range(lo, hi)
    if not lo <= value <= hi:
        raise ProofError("value outside the range it is proved in")
    key_table = group.fixed_base(key)
    shifted_beta = {j: ciphertext.beta - group.base_mul(j) for j in range(lo, hi + 1) if j != value}
    commitments: list[tuple[Point, Point]] = []
    simulated: dict[int, tuple[int, int]] = {}
    u = rng()
    for j in range(lo, hi + 1):
        if j == value:
            commitments.append((group.base_mul(u), key_table.mul(u)))
            continue
        c_j, v_j = rng(), rng()
        simulated[j] = (c_j, v_j)
        a_j = group.base_mul(v_j) - group.mul(ciphertext.alpha, c_j)
        b_j = key_table.mul(v_j) - group.mul(shifted_beta[j], c_j)
        commitments.append((a_j, b_j))
    c = range_challenge(context, tag, key, ciphertext, lo, hi, label, commitments)
    c_real = (c - sum(cj for cj, _ in simulated.values())) % N
    branches = []
    for j, (a_j, b_j) in zip(range(lo, hi + 1), commitments, strict=True):
        if j == value:
            branches.append(RangeBranch(a_j, b_j, c_real, (u + c_real * nonce) % N))
        else:
            c_j, v_j = simulated[j]
            branches.append(RangeBranch(a_j, b_j, c_j, v_j))
    return RangeProof(tuple(branches))


def _check_range_challenge(
    context: bytes,
    key: Point,
    ciphertext: Ciphertext,
    proof: RangeProof,
    lo: int,
    hi: int,
    tag: int,
    label: bytes,
) -> None:
    _check_range(lo, hi)
    if len(proof.branches) != hi - lo + 1:
        raise ProofError(f"range proof must have {hi - lo + 1} branches")
    commitments = [(br.a, br.b) for br in proof.branches]
    c = range_challenge(context, tag, key, ciphertext, lo, hi, label, commitments)
    if sum(br.c for br in proof.branches) % N != c:
        raise ProofError("range proof challenges do not sum to the statement hash")


def range_equations(
    context: bytes,
    key: Point,
    ciphertext: Ciphertext,
    proof: RangeProof,
    lo: int,
    hi: int,
    *,
    tag: int = Tag.RANGE_CHALLENGE,
    label: bytes = b"",
) -> list[Equation]:
    """Check the challenge (hash only) and return the 2·(hi-lo+1) group equations."""
    _check_range_challenge(context, key, ciphertext, proof, lo, hi, tag, label)
    equations: list[Equation] = []
    for j, br in zip(range(lo, hi + 1), proof.branches, strict=True):
        equations.append([(br.v, G), (N - 1, br.a), (N - br.c, ciphertext.alpha)])
        equations.append(
            [(br.v, key), (N - 1, br.b), (N - br.c, ciphertext.beta), (br.c * j % N, G)]
        )
    return equations


def check_range_challenge(
    context: bytes,
    key: Point,
    ciphertext: Ciphertext,
    proof: RangeProof,
    lo: int,
    hi: int,
    *,
    tag: int = Tag.RANGE_CHALLENGE,
    label: bytes = b"",
) -> None:
    """The hash-level half of verification (branch count, challenge sum); raises ProofError."""
    _check_range_challenge(context, key, ciphertext, proof, lo, hi, tag, label)


WeightedRange = tuple[int, int, int, int, list[Term]]
"""(coefficient of G, of K, of alpha, of beta, [(z, a_j), (z', b_j), ...])."""


def range_weighted(proof: RangeProof, lo: int, weight: ScalarSource) -> WeightedRange:
    """Σ_e (−z_e)·(equation e of ``range_equations``), z_e = weight() drawn in equation order,
    as coefficients: the same relation a batch checks, without building the equations.

    Negating each equation (allowed: z_e is as random as −z_e) gives the commitments a_j, b_j
    the small coefficient z_e instead of n − z_e, which multi-scalar multiplication prefers.
    Call ``check_range_challenge`` first: this function does no hashing."""
    g = k_key = c_alpha = c_beta = 0
    terms: list[Term] = []
    append = terms.append
    j = lo
    for br in proof.branches:
        z1 = weight()
        z2 = weight()
        c = br.c
        v = br.v
        g -= z1 * v + z2 * c * j
        k_key -= z2 * v
        c_alpha += z1 * c
        c_beta += z2 * c
        append((z1, br.a))
        append((z2, br.b))
        j += 1
    return g % N, k_key % N, c_alpha % N, c_beta % N, terms


def verify_range(
    context: bytes,
    key: Point,
    ciphertext: Ciphertext,
    proof: RangeProof,
    lo: int,
    hi: int,
    *,
    tag: int = Tag.RANGE_CHALLENGE,
    label: bytes = b"",
) -> None:
    """Verify one range proof on its own (no tables, no batching); raises ``ProofError``."""
    _check_range_challenge(context, key, ciphertext, proof, lo, hi, tag, label)
    for j, br in zip(range(lo, hi + 1), proof.branches, strict=True):
        if group.mul(G, br.v) != br.a + group.mul(ciphertext.alpha, br.c):
            raise ProofError(f"range proof branch {j}: alpha equation fails")
        shifted = ciphertext.beta - group.mul(G, j) if j else ciphertext.beta
        if group.mul(key, br.v) != br.b + group.mul(shifted, br.c):
            raise ProofError(f"range proof branch {j}: beta equation fails")


# -- Schnorr proof of knowledge ---------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SchnorrProof:
    """Knowledge of x with X = x·G: commitment h = u·G, response v = u + c·x."""

    commitment: Point
    response: int

    def to_json(self) -> dict[str, str]:
        return {"commitment": self.commitment.hex(), "response": scalar_hex(self.response)}

    @classmethod
    def from_json(cls, obj: Any) -> SchnorrProof:
        o = exact_keys(obj, {"commitment", "response"}, "Schnorr proof")
        return cls(
            Point.from_hex(_hex_str(o, "commitment")), scalar_from_hex(_hex_str(o, "response"))
        )


def schnorr_challenge(context: bytes, public: Point, commitment: Point, label: bytes) -> int:
    """c = H2F(0x22 || context || X || h || label)."""
    return challenge(
        context, Tag.SCHNORR_CHALLENGE, public.encode(), commitment.encode(), enc_bytes(label)
    )


def prove_schnorr(
    context: bytes, secret: int, *, label: bytes = b"", rng: ScalarSource = random_scalar
) -> SchnorrProof:
    if not 0 < secret < N:
        raise ProofError("secret must be in [1, n-1]")
    public = group.base_mul(secret)
    u = rng()
    commitment = group.base_mul(u)
    c = schnorr_challenge(context, public, commitment, label)
    return SchnorrProof(commitment, (u + c * secret) % N)


def schnorr_equations(
    context: bytes, public: Point, proof: SchnorrProof, *, label: bytes = b""
) -> list[Equation]:
    c = schnorr_challenge(context, public, proof.commitment, label)
    return [[(proof.response, G), (N - 1, proof.commitment), (N - c, public)]]


def verify_schnorr(
    context: bytes, public: Point, proof: SchnorrProof, *, label: bytes = b""
) -> None:
    c = schnorr_challenge(context, public, proof.commitment, label)
    if group.mul(G, proof.response) != proof.commitment + group.mul(public, c):
        raise ProofError("Schnorr proof fails")


# -- Chaum–Pedersen equality of discrete logs ----------------------------------------------
@dataclass(frozen=True, slots=True)
class EqualityProof:
    """s with X = s·B1 and M = s·B2: commitments a = u·B1, b = u·B2, response v = u + c·s."""

    a: Point
    b: Point
    response: int

    def to_json(self) -> dict[str, str]:
        return {"a": self.a.hex(), "b": self.b.hex(), "response": scalar_hex(self.response)}

    @classmethod
    def from_json(cls, obj: Any) -> EqualityProof:
        o = exact_keys(obj, {"a", "b", "response"}, "equality proof")
        return cls(
            Point.from_hex(_hex_str(o, "a")),
            Point.from_hex(_hex_str(o, "b")),
            scalar_from_hex(_hex_str(o, "response")),
        )


def equality_challenge(
    context: bytes,
    base1: Point,
    public1: Point,
    base2: Point,
    public2: Point,
    a: Point,
    b: Point,
    label: bytes,
) -> int:
    """c = H2F(0x23 || context || B1 || X || B2 || M || a || b || label)."""
    return challenge(
        context,
        Tag.EQUALITY_CHALLENGE,
        base1.encode(),
        public1.encode(),
        base2.encode(),
        public2.encode(),
        a.encode(),
        b.encode(),
        enc_bytes(label),
    )


def prove_equality(
    context: bytes,
    secret: int,
    base2: Point,
    *,
    base1: Point = G,
    label: bytes = b"",
    rng: ScalarSource = random_scalar,
) -> EqualityProof:
    """Prove X = s·B1 and M = s·B2 share s (partial decryption: B1 = G, B2 = alpha)."""
    if not 0 < secret < N:
        raise ProofError("secret must be in [1, n-1]")
    public1 = group.mul(base1, secret) if base1 != G else group.base_mul(secret)
    public2 = group.mul(base2, secret)
    u = rng()
    a = group.mul(base1, u) if base1 != G else group.base_mul(u)
    b = group.mul(base2, u)
    c = equality_challenge(context, base1, public1, base2, public2, a, b, label)
    return EqualityProof(a, b, (u + c * secret) % N)


def equality_equations(
    context: bytes,
    public1: Point,
    base2: Point,
    public2: Point,
    proof: EqualityProof,
    *,
    base1: Point = G,
    label: bytes = b"",
) -> list[Equation]:
    c = equality_challenge(context, base1, public1, base2, public2, proof.a, proof.b, label)
    return [
        [(proof.response, base1), (N - 1, proof.a), (N - c, public1)],
        [(proof.response, base2), (N - 1, proof.b), (N - c, public2)],
    ]


def verify_equality(
    context: bytes,
    public1: Point,
    base2: Point,
    public2: Point,
    proof: EqualityProof,
    *,
    base1: Point = G,
    label: bytes = b"",
) -> None:
    c = equality_challenge(context, base1, public1, base2, public2, proof.a, proof.b, label)
    if group.mul(base1, proof.response) != proof.a + group.mul(public1, c):
        raise ProofError("equality proof fails on the first base")
    if group.mul(base2, proof.response) != proof.b + group.mul(public2, c):
        raise ProofError("equality proof fails on the second base")


def check_equations(equations: Sequence[Equation]) -> None:
    """Evaluate equations one by one (reference path for ``batch.py``)."""
    for i, eq in enumerate(equations):
        if group.msm([k for k, _ in eq], [p for _, p in eq]) != group.IDENTITY:
            raise ProofError(f"equation {i} fails")
