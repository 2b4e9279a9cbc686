"""Batch verification: many proof equations checked with one multi-scalar multiplication.

Each equation Σ k_i·P_i = O gets an independent random 128-bit weight z_e; the batch holds iff
Σ_e z_e·(Σ k_i·P_i) = O, which a false equation survives with probability about 2^-128.
Terms on the same point (G, the joint key K, a ciphertext shared by several equations) merge
before the MSM, and G and K go through their fixed-base tables. When a batch fails, bisection
over the items (proofs) names exactly the bad ones.
"""

# API stable: other modules build on these names

from __future__ import annotations

import secrets
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field

from . import group
from .errors import CryptoError, ProofError
from .group import IDENTITY, G, N, Point
from .proofs import Equation, Term

WEIGHT_BITS = 128

Weigher = Callable[[Callable[[], int]], tuple[list[Term], list[Term]]]
"""Given the weight stream, Σ_e z_e·(equation e) of one item, already merged: (terms on G or a
fixed base, all other terms). Called again with fresh weights when bisecting."""


GLV_LAMBDA = 0x5363AD4CC05C30E0A5261C028812645A122E22EA20816678DF02967C1B23BD72
"""The secp256k1 endomorphism eigenvalue: λ·(x, y) = (β·x, y)."""


class WeightStream:
    """Fresh CSPRNG batch weights, drawn from the OS in blocks.

    Two forms, both with 2^bits distinct values (so the batch error stays 2^-bits):
    a plain ``bits``-bit integer (best for bucket MSMs: py-ecc's Pippenger and the native
    backend's for large batches), or ``z1 + λ·z2 mod n`` with ``z1, z2`` of bits/2 bits, for
    small native batches: libsecp256k1's per-point multiplication splits every scalar along λ
    (GLV), so such a weight costs like a bits/2-bit one: half the doublings. ``glv=None``
    (the default) lets the batch verifier pick per batch (``prefer_glv``).
    The map (z1, z2) -> z1 + λ·z2 is injective because the lattice {(a, b): a + λ·b ≡ 0 mod n}
    has no non-zero vector shorter than about 2^126.
    """

    def __init__(self, bits: int = WEIGHT_BITS, block: int = 256, glv: bool | None = None) -> None:
        if bits < 128 or bits % 2:
            raise ValueError("batch weights need an even number of bits >= 128")
        self._bits = bits
        self._block = block
        self._glv = glv
        self._auto_glv = False
        self._pool: list[int] = []

    def prefer_glv(self, glv: bool) -> None:
        """In auto mode, switch form for the next weights (the batch verifier knows its size)."""
        if self._glv is None and glv != self._auto_glv:
            self._auto_glv = glv
            self._pool = []

    def _refill(self) -> None:
        glv = self._glv if self._glv is not None else self._auto_glv
        if glv:
            half = self._bits // 2
            size = (half + 7) // 8
            raw = secrets.token_bytes(2 * size * self._block)
            mask = (1 << half) - 1
            values = []
            for i in range(0, len(raw), 2 * size):
                z1 = int.from_bytes(raw[i : i + size], "big") & mask
                z2 = int.from_bytes(raw[i + size : i + 2 * size], "big") & mask
                values.append((z1 + GLV_LAMBDA * z2) % N or 1)
            self._pool = values
        else:
            size = (self._bits + 7) // 8
            raw = secrets.token_bytes(size * self._block)
            mask = (1 << self._bits) - 1
            self._pool = [
                (int.from_bytes(raw[i : i + size], "big") & mask) or 1
                for i in range(0, len(raw), size)
            ]

    def __call__(self) -> int:
        if not self._pool:
            self._refill()
        return self._pool.pop()


@dataclass
class _Item:
    ref: Hashable
    equations: list[Equation]
    weigher: Weigher | None = None
    size: int = 0  # terms the weigher returns (an estimate is enough)


@dataclass
class BatchVerifier:
    """Collect proofs (as equations), then ``verify()`` once; ``bad_items()`` finds culprits.

    ``fixed_bases`` lists points that recur in every proof (the joint key) so they are
    multiplied once through a precomputed table instead of once per proof.
    """

    fixed_bases: Sequence[Point] = ()
    weight: Callable[[], int] = field(default_factory=WeightStream)
    _items: list[_Item] = field(default_factory=list)
    _rejected: list[tuple[Hashable, str]] = field(default_factory=list)

    def add(self, ref: Hashable, build: Callable[[], list[Equation]]) -> None:
        """Add one proof. ``build`` checks hashes and returns equations; a ``CryptoError``
        raised there (wrong shape, challenge mismatch) marks the item bad without any EC work."""
        try:
            equations = build()
        except CryptoError as exc:  # ProofError, or data that cannot even be hashed
            self._rejected.append((ref, str(exc)))
            return
        self._items.append(_Item(ref, equations))

    def add_equations(self, ref: Hashable, equations: list[Equation]) -> None:
        self._items.append(_Item(ref, equations))

    def add_weighted(self, ref: Hashable, build: Callable[[], Weigher], size: int = 32) -> None:
        """Add one proof (or ballot) that combines its own equations: ``build`` does the hash
        checks (a ``CryptoError`` marks the item bad) and returns a ``Weigher``. Faster than
        equations for big items: no per-term merging here, see ``ballot.ballot_weigher``."""
        try:
            weigher = build()
        except CryptoError as exc:
            self._rejected.append((ref, str(exc)))
            return
        self._items.append(_Item(ref, [], weigher, size))

    def __len__(self) -> int:
        return len(self._items) + len(self._rejected)

    def _combined_ok(self, items: Sequence[_Item]) -> bool:
        # Accumulate by object identity: equal-but-distinct objects simply stay separate terms
        # (correct either way), and identity is much cheaper than hashing coordinates.
        coefficients: dict[int, int] = {}
        points: dict[int, Point] = {}
        weight = self.weight
        if isinstance(weight, WeightStream):
            # GLV weights suit per-point multiplication, plain ones bucket MSMs (large batches)
            bucket_min = getattr(group.get_backend(), "bucket_min_points", None)
            terms = sum(item.size or 3 * len(item.equations) for item in items)
            weight.prefer_glv(bucket_min is not None and terms < bucket_min)
        scalars: list[int] = []
        others: list[Point] = []
        tabled_terms: list[Term] = []
        for item in items:
            if item.weigher is not None:
                on_tables, rest = item.weigher(weight)
                tabled_terms.extend(on_tables)
                for k, point in rest:
                    scalars.append(k)
                    others.append(point)
                continue
            for eq in item.equations:
                # −z: commitments (coefficient n − 1 in the equations) then get z itself,
                # a 128-bit scalar rather than a 256-bit n − z, which bucket MSMs prefer
                z = -weight()
                for k, point in eq:
                    key = id(point)
                    c = coefficients.get(key)
                    if c is None:
                        coefficients[key] = z * k
                        points[key] = point
                    else:
                        coefficients[key] = c + z * k
        tabled: dict[Point, int] = {}
        for base in (G, *self.fixed_bases):
            tabled.setdefault(base, 0)
        tabled_x = {base.x for base in tabled}
        for k, point in tabled_terms:
            if point in tabled:
                tabled[point] = (tabled[point] + k) % N
            else:
                scalars.append(k)
                others.append(point)
        for key, k in coefficients.items():
            point = points[key]
            k %= N
            if point.x in tabled_x and point in tabled:
                tabled[point] = (tabled[point] + k) % N
            elif k:
                scalars.append(k)
                others.append(point)
        total = IDENTITY
        for base, k in tabled.items():
            if k:
                total = total + group.fixed_base(base).mul(k)
        if others:
            total = total + group.msm(scalars, others)
        return total == IDENTITY

    def verify(self) -> bool:
        """True iff every added proof holds (hash checks and all group equations)."""
        if self._rejected:
            return False
        return self._combined_ok(self._items)

    def bad_items(self) -> list[tuple[Hashable, str]]:
        """Every failing proof with a reason: hash-level rejections, then bisection."""
        bad = list(self._rejected)
        bad.extend((item.ref, "group equation fails") for item in self._bisect(self._items))
        return bad

    def _bisect(self, items: Sequence[_Item]) -> list[_Item]:
        if not items or self._combined_ok(items):
            return []
        if len(items) == 1:
            return list(items)
        mid = len(items) // 2
        return self._bisect(items[:mid]) + self._bisect(items[mid:])

    def raise_if_bad(self) -> None:
        """Convenience for callers that only need a yes/no with the culprits in the error."""
        if self.verify():
            return
        bad = self.bad_items()
        detail = "; ".join(f"{ref}: {why}" for ref, why in bad[:10])
        raise ProofError(f"{len(bad)} proof(s) failed: {detail}")
