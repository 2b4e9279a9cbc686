"""Recover a small tally m from g^m with baby-step giant-step (BSGS).

Exponential ElGamal decrypts to g^m, not m; the tally is small (at most a few million weighted
votes per option), so a discrete log by BSGS is cheap: a baby-step table of the x-coordinates
of j·G for j = 1..M (keyed by the full x, so a hit is exact) and giant steps of 2M+1 that use
the table for both ±j. One table serves every value below its bound; tables are cached per
process because building one is the only slow part.

The arithmetic is affine secp256k1 over plain integers (not the group module's point type)
because the hot loops need batched inversions (Montgomery's trick) that a general-purpose
point API does not expose; results are always cross-checked against the group layer in
tests/crypto/test_dlog.py.
"""

from __future__ import annotations

import functools
import math
import threading
from dataclasses import dataclass

from .group import G as _GROUP_G
from .group import P as _P
from .group import Point

_GX, _GY = _GROUP_G.x, _GROUP_G.y

DEFAULT_BOUND = 10_000_000
MAX_BABY_STEPS = 1 << 17  # ~15 MB of table at most

Affine = tuple[int, int] | None  # None is the point at infinity


class DlogNotFoundError(ValueError):
    """The point is not g^m for any m in [0, bound]: the tally is out of range or wrong."""


def _add(a: Affine, b: Affine) -> Affine:
    """Affine addition on y^2 = x^3 + 7 (complete for the cases BSGS meets)."""
    if a is None:
        return b
    if b is None:
        return a
    x1, y1 = a
    x2, y2 = b
    if x1 == x2:
        if (y1 + y2) % _P == 0:
            return None
        lam = 3 * x1 * x1 * pow(2 * y1, -1, _P) % _P
    else:
        lam = (y2 - y1) * pow(x2 - x1, -1, _P) % _P
    x3 = (lam * lam - x1 - x2) % _P
    return x3, (lam * (x1 - x3) - y1) % _P


def _neg(a: Affine) -> Affine:
    return None if a is None else (a[0], (-a[1]) % _P)


def _mul(k: int, a: Affine) -> Affine:
    """Double-and-add; used only a handful of times per table, never in hot loops."""
    result: Affine = None
    addend = a
    while k:
        if k & 1:
            result = _add(result, addend)
        addend = _add(addend, addend)
        k >>= 1
    return result


def _batch_inverse(values: list[int]) -> list[int]:
    """Montgomery's trick: n inverses for one modular inversion and 3n multiplications."""
    prefix = [1] * (len(values) + 1)
    for i, v in enumerate(values):
        prefix[i + 1] = prefix[i] * v % _P
    inv = pow(prefix[-1], -1, _P)
    out = [0] * len(values)
    for i in range(len(values) - 1, -1, -1):
        out[i] = prefix[i] * inv % _P
        inv = inv * values[i] % _P
    return out


_G: Affine = (_GX, _GY)


def _baby_steps(count: int, block: int = 1024) -> list[tuple[int, int]]:
    """[j·G for j in 1..count] in affine form, block by block with batched inversions."""
    first: list[tuple[int, int]] = []
    point: Affine = None
    for _ in range(min(block, count)):
        point = _add(point, _G)
        assert point is not None
        first.append(point)
    points = list(first)
    step = _mul(len(first), _G)  # block·G
    assert step is not None
    sx, sy = step
    current = first
    while len(points) < count:
        # next block: P_i + block·G for every P_i of the current block. Only P_block of the
        # first block equals block·G (a doubling); it is handled apart so the batch stays valid.
        denominators = [(sx - x) % _P for x, _ in current]
        inverses = _batch_inverse([d or 1 for d in denominators])
        nxt = []
        for (x, y), d, inv in zip(current, denominators, inverses, strict=True):
            if d == 0:
                doubled = _add((x, y), step)
                assert doubled is not None
                nxt.append(doubled)
                continue
            lam = (sy - y) * inv % _P
            x3 = (lam * lam - x - sx) % _P
            nxt.append((x3, (lam * (x - x3) - y) % _P))
        points.extend(nxt)
        current = nxt
    return points[:count]


@functools.lru_cache(maxsize=64)
def _neg_multiple(k: int) -> Affine:
    """-(k·G), cached: each table needs the same two giant-step constants for every lookup."""
    return _neg(_mul(k, _G))


@dataclass(frozen=True)
class BabyStepTable:
    """x(j·G) -> signed j for j in 1..baby_steps (sign taken from y's parity)."""

    baby_steps: int
    bound: int
    entries: dict[int, int]

    @property
    def stride(self) -> int:
        return 2 * self.baby_steps + 1

    def log(self, target: Affine) -> int:
        """Return m in [0, bound] with m·G == target, or raise DlogNotFoundError."""
        if target is None:
            return 0
        m_steps = self.baby_steps
        stride_point = _neg_multiple(self.stride)
        # Q_i = target - (M + i·S)·G, so m = M + i·S + j for the j with Q_i = j·G, |j| <= M.
        q = _add(target, _neg_multiple(m_steps))
        center = m_steps
        while center - m_steps <= self.bound:
            if q is None:
                candidate = center
            else:
                signed = self.entries.get(q[0])
                candidate = None
                if signed is not None:
                    j = abs(signed)
                    same_parity = (q[1] & 1) == (1 if signed > 0 else 0)
                    candidate = center + j if same_parity else center - j
            if candidate is not None and 0 <= candidate <= self.bound:
                return candidate
            q = _add(q, stride_point)
            center += self.stride
        raise DlogNotFoundError(f"no m in [0, {self.bound}] has g^m equal to this point")


def build_table(bound: int, baby_steps: int | None = None) -> BabyStepTable:
    """Precompute a table for values up to `bound` (about sqrt(bound)·4 baby steps by default)."""
    if bound < 0:
        raise ValueError("bound must be non-negative")
    if baby_steps is None:
        baby_steps = min(MAX_BABY_STEPS, max(1024, 4 * math.isqrt(bound)))
    if baby_steps < 1:
        raise ValueError("baby_steps must be positive")
    entries: dict[int, int] = {}
    for j, (x, y) in enumerate(_baby_steps(baby_steps), start=1):
        entries[x] = j if (y & 1) else -j  # positive when y is odd
    return BabyStepTable(baby_steps=baby_steps, bound=bound, entries=entries)


_cache: dict[int, BabyStepTable] = {}
_cache_lock = threading.Lock()


def table_for(bound: int = DEFAULT_BOUND) -> BabyStepTable:
    """A cached table covering at least `bound` (a larger cached table is reused)."""
    with _cache_lock:
        for cached_bound, table in _cache.items():
            if cached_bound >= bound:
                return table if cached_bound == bound else _rebound(table, bound)
        table = build_table(bound)
        _cache[bound] = table
        return table


def _rebound(table: BabyStepTable, bound: int) -> BabyStepTable:
    return BabyStepTable(baby_steps=table.baby_steps, bound=bound, entries=table.entries)


def discrete_log_affine(target: Affine, bound: int = DEFAULT_BOUND) -> int:
    """m in [0, bound] with m·G == target (target given as affine integers or None)."""
    return table_for(bound).log(target)


def discrete_log(point: Point, bound: int = DEFAULT_BOUND) -> int:
    """m in [0, bound] with m·G == point; the identity decodes to 0."""
    return discrete_log_affine(None if point.infinity else (point.x, point.y), bound)
