"""The secp256k1 group: scalars, points, strict encodings and fast multiplication.

Everything above this module (ElGamal, proofs, ballots, trustees) is written additively:
``k * G`` is the "g^k" of the papers, ``A + B`` is "A·B". Two backends implement the same
arithmetic: ``py-ecc`` (reference, pure Python on ``py_ecc.secp256k1``'s Jacobian formulas)
and ``native`` (libsecp256k1 through coincurve). Encodings never depend on the backend.

Encodings (docs/protocol.md §2):
- scalar: exactly 32 bytes big-endian, value < n. Zero is a valid *encoding* (a challenge or
  response may be 0); secret keys and encryption nonces must additionally be non-zero
  (``decode_scalar(..., nonzero=True)``).
- point: exactly 33 bytes SEC1 compressed (0x02 even y / 0x03 odd y, then x big-endian, x < p,
  x on the curve). The point at infinity has no encoding and is rejected.
- hex forms are lowercase only, so each value has exactly one textual form.
"""

# API stable: other modules build on these names

from __future__ import annotations

import contextlib
import os
import secrets
import threading
from collections.abc import Callable, Iterator, Sequence
from functools import lru_cache
from typing import Protocol

from py_ecc.secp256k1 import secp256k1 as _ecc

from .errors import EncodingError

P: int = _ecc.P
"""Field prime p."""
N: int = _ecc.N
"""Group order n (prime): scalars live in Z_n."""
CURVE_B = 7
SCALAR_BYTES = 32
POINT_BYTES = 33

ScalarSource = Callable[[], int]
"""Anything that returns fresh scalars in [1, n-1]: ``random_scalar`` or a deterministic stream."""

_Jac = tuple[int, int, int]
_JAC_INFINITY: _Jac = (0, 0, 1)  # py_ecc treats y == 0 as infinity; no curve point has y == 0


class Point:
    """An immutable secp256k1 point in affine coordinates (or the identity).

    Operators delegate to the active backend, so the same code runs on py-ecc or libsecp256k1.
    """

    __slots__ = ("x", "y", "infinity", "_encoded", "_native")

    x: int
    y: int
    infinity: bool

    def __init__(self, x: int, y: int, infinity: bool = False) -> None:
        # Internal constructor: callers that hold untrusted coordinates use ``from_affine``.
        object.__setattr__(self, "x", x)
        object.__setattr__(self, "y", y)
        object.__setattr__(self, "infinity", infinity)
        object.__setattr__(self, "_encoded", None)  # cached 33-byte encoding
        object.__setattr__(self, "_native", None)  # cached backend handle (libsecp256k1 struct)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Point is immutable")

    def __getattr__(self, name: str) -> int:
        # Only reached for an unset slot: a point decoded by the native backend keeps just its
        # encoding and libsecp256k1 handle until someone needs its coordinates (``lazy``).
        if name not in ("x", "y") or self._native is None:
            raise AttributeError(name)
        from .native import coordinates  # noqa: PLC0415 - only native points are lazy

        x, y = coordinates(self._native)
        object.__setattr__(self, "x", x)
        object.__setattr__(self, "y", y)
        return x if name == "x" else y

    @classmethod
    def lazy(cls, encoded: bytes, native: object) -> Point:
        """A valid point known by its 33-byte encoding and a backend handle, coordinates
        computed on first use: decoding a ballot's points then costs one libsecp256k1 parse
        each, and most of them (proof commitments) never need their coordinates."""
        point = cls.__new__(cls)
        object.__setattr__(point, "infinity", False)
        object.__setattr__(point, "_encoded", encoded)
        object.__setattr__(point, "_native", native)
        return point

    def __reduce__(self) -> tuple[type[Point], tuple[int, int, bool]]:
        # Pickle (process pools) by coordinates only; caches are rebuilt on demand.
        return (Point, (self.x, self.y, self.infinity))

    @classmethod
    def from_affine(cls, x: int, y: int) -> Point:
        """A point from untrusted coordinates: checked to be on the curve."""
        if not (0 <= x < P and 0 <= y < P) or (y * y - x * x * x - CURVE_B) % P:
            raise EncodingError("point is not on secp256k1")
        return cls(x, y)

    # -- encoding -------------------------------------------------------------------------
    def encode(self) -> bytes:
        """33-byte SEC1 compressed form; the identity has no encoding."""
        encoded = self._encoded
        if encoded is None:
            if self.infinity:
                raise EncodingError("the point at infinity cannot be encoded")
            encoded = bytes((2 + (self.y & 1),)) + self.x.to_bytes(32, "big")
            object.__setattr__(self, "_encoded", encoded)
        return encoded

    def hex(self) -> str:
        return self.encode().hex()

    @classmethod
    def decode(cls, data: bytes) -> Point:
        """Strict SEC1 compressed decoding (length, prefix, x < p, x on the curve)."""
        if not isinstance(data, bytes | bytearray) or len(data) != POINT_BYTES:
            raise EncodingError(f"a point is exactly {POINT_BYTES} bytes")
        parse = getattr(_backend, "parse", None)
        if parse is not None:  # the backend checks everything below at once
            point = parse(bytes(data))
            if point is not None:
                return point
        prefix = data[0]
        if prefix not in (2, 3):
            raise EncodingError("point prefix must be 0x02 or 0x03")
        x = int.from_bytes(data[1:], "big")
        if x >= P:
            raise EncodingError("point x-coordinate is not reduced mod p")
        point = _backend.decompress(bytes(data), x)
        if point is None:
            raise EncodingError("x-coordinate is not on secp256k1")
        return point

    @classmethod
    def from_hex(cls, text: str) -> Point:
        # A backend may parse canonical hex in one step (the audit decodes ~40 points per
        # ballot); anything it does not accept takes the checked path for the exact error.
        parse_hex = getattr(_backend, "parse_hex", None)
        if parse_hex is not None and type(text) is str and len(text) == 2 * POINT_BYTES:
            point = parse_hex(text)
            if point is not None:
                return point
        return cls.decode(hex_to_bytes(text, POINT_BYTES, "point"))

    # -- arithmetic -----------------------------------------------------------------------
    def __add__(self, other: Point) -> Point:
        return _backend.add(self, other)

    def __neg__(self) -> Point:
        if self.infinity:
            return self
        return Point(self.x, (-self.y) % P)

    def __sub__(self, other: Point) -> Point:
        return _backend.add(self, -other)

    def __mul__(self, k: int) -> Point:
        return _backend.mul(self, k)

    __rmul__ = __mul__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Point):
            return NotImplemented
        if self.infinity or other.infinity:
            return self.infinity and other.infinity
        return self.x == other.x and self.y == other.y

    def __hash__(self) -> int:
        return hash((self.infinity, self.x, self.y))

    def __repr__(self) -> str:
        return "Point(infinity)" if self.infinity else f"Point({self.hex()})"


IDENTITY = Point(0, 0, infinity=True)
G = Point(_ecc.G[0], _ecc.G[1])
"""The standard secp256k1 generator; the only generator the protocol needs."""


# -- scalars ------------------------------------------------------------------------------
def encode_scalar(k: int) -> bytes:
    if not 0 <= k < N:
        raise EncodingError("scalar out of range [0, n)")
    return k.to_bytes(SCALAR_BYTES, "big")


def decode_scalar(data: bytes, *, nonzero: bool = False) -> int:
    """Strict 32-byte big-endian decoding; rejects values >= n (and 0 when ``nonzero``)."""
    if not isinstance(data, bytes | bytearray) or len(data) != SCALAR_BYTES:
        raise EncodingError(f"a scalar is exactly {SCALAR_BYTES} bytes")
    k = int.from_bytes(data, "big")
    if k >= N:
        raise EncodingError("scalar is not reduced mod n")
    if nonzero and k == 0:
        raise EncodingError("scalar must be non-zero here")
    return k


def scalar_hex(k: int) -> str:
    return encode_scalar(k).hex()


def scalar_from_hex(text: str, *, nonzero: bool = False) -> int:
    return decode_scalar(hex_to_bytes(text, SCALAR_BYTES, "scalar"), nonzero=nonzero)


def hex_to_bytes(text: str, length: int, what: str) -> bytes:
    """Lowercase hex of an exact byte length (one textual form per value)."""
    if not isinstance(text, str) or len(text) != 2 * length:
        raise EncodingError(f"{what} hex must be {2 * length} characters")
    # Not bytes.fromhex alone: it skips whitespace ("00 11…" decodes to fewer bytes) and
    # accepts uppercase. Decoding and re-encoding must give the text back exactly, which
    # holds only for lowercase hex digits (and is faster than a regular expression).
    try:
        data = bytes.fromhex(text)
    except ValueError:
        data = b""
    if len(data) != length or data.hex() != text:
        raise EncodingError(f"{what} hex must be lowercase hex digits only [0-9a-f]")
    return data


def random_scalar() -> int:
    """A uniformly random non-zero scalar from the OS CSPRNG."""
    return secrets.randbelow(N - 1) + 1


# -- backend protocol ---------------------------------------------------------------------
class FixedBase(Protocol):
    """Precomputed multiples of one base point: ``table.mul(k) == k * base``, faster."""

    base: Point

    def mul(self, k: int) -> Point: ...


class Backend(Protocol):
    name: str

    def lift_x(self, x: int, parity: int) -> int | None: ...

    def decompress(self, data: bytes, x: int) -> Point | None: ...

    def add(self, a: Point, b: Point) -> Point: ...

    def sum(self, points: Sequence[Point]) -> Point: ...

    def mul(self, point: Point, k: int) -> Point: ...

    def msm(self, scalars: Sequence[int], points: Sequence[Point]) -> Point: ...

    def fixed_base(self, point: Point) -> FixedBase: ...


# -- py-ecc reference backend -------------------------------------------------------------
_jadd = _ecc.jacobian_add
_jdbl = _ecc.jacobian_double


def _to_jac(point: Point) -> _Jac:
    return _JAC_INFINITY if point.infinity else (point.x, point.y, 1)


def _from_jac(j: _Jac) -> Point:
    if j[1] == 0 or j[2] == 0:
        return IDENTITY
    zinv = pow(j[2], -1, P)
    zinv2 = zinv * zinv % P
    return Point(j[0] * zinv2 % P, j[1] * zinv2 * zinv % P)


def _jneg(j: _Jac) -> _Jac:
    return (j[0], (-j[1]) % P, j[2])


def _batch_to_affine(points: Sequence[_Jac]) -> list[tuple[int, int]]:
    """Montgomery's trick: one inversion for many points (tables are built this way)."""
    prefix: list[int] = []
    acc = 1
    for j in points:
        prefix.append(acc)
        acc = acc * j[2] % P
    inv = pow(acc, -1, P)
    out: list[tuple[int, int]] = [(0, 0)] * len(points)
    for i in range(len(points) - 1, -1, -1):
        x, y, z = points[i]
        zinv = inv * prefix[i] % P
        inv = inv * z % P
        zinv2 = zinv * zinv % P
        out[i] = (x * zinv2 % P, y * zinv2 * zinv % P)
    return out


def _wnaf(k: int, width: int) -> list[int]:
    """Width-w non-adjacent form, least significant digit first."""
    digits: list[int] = []
    full = 1 << width
    half = full >> 1
    while k:
        if k & 1:
            d = k & (full - 1)
            if d >= half:
                d -= full
            k -= d
        else:
            d = 0
        digits.append(d)
        k >>= 1
    return digits


def _signed_windows(k: int, c: int, count: int) -> list[int]:
    """Signed base-2^c digits in [-2^(c-1), 2^(c-1)], least significant first."""
    digits: list[int] = []
    full = 1 << c
    half = full >> 1
    mask = full - 1
    carry = 0
    for _ in range(count):
        d = (k & mask) + carry
        k >>= c
        if d > half:
            d -= full
            carry = 1
        else:
            carry = 0
        digits.append(d)
    return digits


def _jmul(j: _Jac, k: int) -> _Jac:
    """Variable-base multiplication: wNAF width 5 over odd multiples."""
    k %= N
    if k == 0 or j[1] == 0:
        return _JAC_INFINITY
    twice = _jdbl(j)
    odd = [j]
    for _ in range(7):
        odd.append(_jadd(odd[-1], twice))
    acc = _JAC_INFINITY
    for d in reversed(_wnaf(k, 5)):
        acc = _jdbl(acc) if acc[1] else acc
        if d > 0:
            acc = _jadd(acc, odd[d >> 1])
        elif d < 0:
            acc = _jadd(acc, _jneg(odd[(-d) >> 1]))
    return acc


def _straus(scalars: Sequence[int], jacs: Sequence[_Jac]) -> _Jac:
    """Interleaved wNAF (Straus): shared doublings, good for a handful of points."""
    tables = []
    nafs = []
    for k, j in zip(scalars, jacs, strict=True):
        twice = _jdbl(j)
        odd = [j]
        for _ in range(7):
            odd.append(_jadd(odd[-1], twice))
        tables.append(odd)
        nafs.append(_wnaf(k, 5))
    length = max((len(n) for n in nafs), default=0)
    acc = _JAC_INFINITY
    for i in range(length - 1, -1, -1):
        if acc[1]:
            acc = _jdbl(acc)
        for naf, odd in zip(nafs, tables, strict=True):
            if i < len(naf):
                d = naf[i]
                if d > 0:
                    acc = _jadd(acc, odd[d >> 1])
                elif d < 0:
                    acc = _jadd(acc, _jneg(odd[(-d) >> 1]))
    return acc


def _pippenger(scalars: Sequence[int], jacs: Sequence[_Jac], c: int) -> _Jac:
    """Bucket method with signed digits: cost ~ (bits/c)·(N + 2^c) additions."""
    bits = max(k.bit_length() for k in scalars) + 1
    windows = (bits + c - 1) // c
    digit_rows = [_signed_windows(k, c, windows) for k in scalars]
    half = 1 << (c - 1)
    acc = _JAC_INFINITY
    for w in range(windows - 1, -1, -1):
        if acc[1]:
            for _ in range(c):
                acc = _jdbl(acc)
        buckets: list[_Jac | None] = [None] * (half + 1)
        for row, j in zip(digit_rows, jacs, strict=True):
            d = row[w]
            if d == 0:
                continue
            if d < 0:
                d = -d
                j = _jneg(j)
            b = buckets[d]
            buckets[d] = j if b is None else _jadd(b, j)
        running = _JAC_INFINITY
        window_sum = _JAC_INFINITY
        for d in range(half, 0, -1):
            b = buckets[d]
            if b is not None:
                running = _jadd(running, b)
            if running[1]:
                window_sum = _jadd(window_sum, running)
        acc = _jadd(acc, window_sum)
    return acc


def _msm_jac(scalars: Sequence[int], jacs: Sequence[_Jac]) -> _Jac:
    pairs = [(k % N, j) for k, j in zip(scalars, jacs, strict=True)]
    pairs = [(k, j) for k, j in pairs if k and j[1]]
    if not pairs:
        return _JAC_INFINITY
    ks = [k for k, _ in pairs]
    js = [j for _, j in pairs]
    if len(pairs) == 1:
        return _jmul(js[0], ks[0])
    bits = max(k.bit_length() for k in ks)
    count = len(pairs)
    straus_cost = count * (bits // 6 + 8)
    best_c, best_cost = 0, straus_cost
    for c in range(2, 17):
        cost = ((bits + c) // c) * (count + (1 << c))
        if cost < best_cost:
            best_c, best_cost = c, cost
    if best_c == 0:
        return _straus(ks, js)
    return _pippenger(ks, js, best_c)


class PyEccFixedBase:
    """Signed 8-bit windows of precomputed affine multiples: k·B in ~32 additions."""

    WINDOW = 8

    def __init__(self, base: Point) -> None:
        self.base = base
        c = self.WINDOW
        half = 1 << (c - 1)
        self._windows = (256 + c) // c + 1
        rows: list[_Jac] = []
        start = _to_jac(base)
        for _ in range(self._windows):
            row = [start]
            for _ in range(half - 1):
                row.append(_jadd(row[-1], start))
            rows.extend(row)
            # next window base = 2^c · start
            nxt = start
            for _ in range(c):
                nxt = _jdbl(nxt)
            start = nxt
        affine = _batch_to_affine(rows)
        self._table: list[list[_Jac]] = [
            [(x, y, 1) for x, y in affine[i * half : (i + 1) * half]] for i in range(self._windows)
        ]

    def mul_jac(self, k: int) -> _Jac:
        k %= N
        if self.base.infinity or k == 0:
            return _JAC_INFINITY
        acc = _JAC_INFINITY
        for w, d in enumerate(_signed_windows(k, self.WINDOW, self._windows)):
            if d > 0:
                acc = _jadd(acc, self._table[w][d - 1])
            elif d < 0:
                acc = _jadd(acc, _jneg(self._table[w][-d - 1]))
        return acc

    def mul(self, k: int) -> Point:
        return _from_jac(self.mul_jac(k))


class PyEccBackend:
    """Reference arithmetic: pure Python, py_ecc's Jacobian add/double."""

    name = "py-ecc"

    def lift_x(self, x: int, parity: int) -> int | None:
        y2 = (x * x * x + CURVE_B) % P
        y = pow(y2, (P + 1) // 4, P)  # p ≡ 3 (mod 4)
        if y * y % P != y2:
            return None
        return y if (y & 1) == parity else P - y

    def decompress(self, data: bytes, x: int) -> Point | None:
        y = self.lift_x(x, data[0] & 1)
        if y is None:
            return None
        point = Point(x, y)
        object.__setattr__(point, "_encoded", data)
        return point

    def add(self, a: Point, b: Point) -> Point:
        if a.infinity:
            return b
        if b.infinity:
            return a
        return _from_jac(_jadd(_to_jac(a), _to_jac(b)))

    def sum(self, points: Sequence[Point]) -> Point:
        acc = _JAC_INFINITY
        for p in points:
            if not p.infinity:
                acc = _jadd(acc, (p.x, p.y, 1))
        return _from_jac(acc)

    def mul(self, point: Point, k: int) -> Point:
        return _from_jac(_jmul(_to_jac(point), k))

    def msm(self, scalars: Sequence[int], points: Sequence[Point]) -> Point:
        return _from_jac(_msm_jac(scalars, [_to_jac(p) for p in points]))

    def fixed_base(self, point: Point) -> FixedBase:
        return _cached_pyecc_table(point)


@lru_cache(maxsize=8)
def _cached_pyecc_table(point: Point) -> PyEccFixedBase:
    return PyEccFixedBase(point)


# -- backend selection --------------------------------------------------------------------
BACKEND_NAMES = ("py-ecc", "native")
_backend: Backend = PyEccBackend()
_backend_lock = threading.Lock()


def _make_backend(name: str) -> Backend:
    if name == "py-ecc":
        return PyEccBackend()
    if name == "native":
        from .native import NativeBackend  # noqa: PLC0415 - optional dependency, loaded on demand

        return NativeBackend()
    raise ValueError(f"unknown backend {name!r}; choose one of {BACKEND_NAMES}")


def set_backend(name: str) -> None:
    """Switch arithmetic for the whole process (results are identical, only speed differs)."""
    global _backend
    with _backend_lock:
        _backend = _make_backend(name)


def get_backend() -> Backend:
    return _backend


@contextlib.contextmanager
def use_backend(name: str) -> Iterator[Backend]:
    """Temporarily switch backend (tests and benchmarks)."""
    global _backend
    previous = _backend
    set_backend(name)
    try:
        yield _backend
    finally:
        _backend = previous


# -- module-level operations (what the rest of the package calls) ---------------------------
def add(a: Point, b: Point) -> Point:
    return _backend.add(a, b)


def mul(point: Point, k: int) -> Point:
    """k·point with a generic (no precomputation) algorithm."""
    return _backend.mul(point, k)


def msm(scalars: Sequence[int], points: Sequence[Point]) -> Point:
    """Σ k_i·P_i in one multi-scalar multiplication (Straus or Pippenger by size)."""
    if len(scalars) != len(points):
        raise ValueError("msm needs as many scalars as points")
    return _backend.msm(scalars, points)


def fixed_base(point: Point) -> FixedBase:
    """Precomputed table for a base used many times (G, the joint key K); cached per point."""
    return _backend.fixed_base(point)


def base_mul(k: int) -> Point:
    """k·G through the generator's precomputed table."""
    return _backend.fixed_base(G).mul(k)


def sum_points(points: Sequence[Point]) -> Point:
    """Σ P_i in one pass (one normalisation at the end)."""
    return _backend.sum(points)


BACKEND_ENV = "CIVIC_CRYPTO_BACKEND"
"""Environment variable choosing the startup backend (servers and observers set ``native``)."""

if os.environ.get(BACKEND_ENV):
    set_backend(os.environ[BACKEND_ENV])
