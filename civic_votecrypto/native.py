"""Native backend: the same group interface on libsecp256k1 (through coincurve's cffi layer).

Used for speed by servers and observers; results are bit-identical to the py-ecc reference
(tests cross-check both on random inputs). libsecp256k1 cannot represent the point at
infinity, so this module maps "zero scalar" and "sum is infinity" to ``IDENTITY`` itself.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from functools import partial
from itertools import chain

from coincurve._libsecp256k1 import ffi, lib
from coincurve.context import GLOBAL_CONTEXT

from .group import IDENTITY, G, N, Point

_CTX = GLOBAL_CONTEXT.ctx
_new_pubkey = partial(ffi.new, "secp256k1_pubkey *")
_parse = lib.secp256k1_ec_pubkey_parse
_lazy = Point.lazy
_UNCOMPRESSED = lib.SECP256K1_EC_UNCOMPRESSED


def _to_native(point: Point) -> object:
    pub = point._native
    if pub is not None:
        return pub
    pub = ffi.new("secp256k1_pubkey *")
    data = b"\x04" + point.x.to_bytes(32, "big") + point.y.to_bytes(32, "big")
    if not lib.secp256k1_ec_pubkey_parse(_CTX, pub, data, 65):
        raise ValueError("point rejected by libsecp256k1")
    object.__setattr__(point, "_native", pub)
    return pub


def coordinates(pub: object) -> tuple[int, int]:
    """(x, y) of a libsecp256k1 public key struct (for a lazily decoded ``Point``)."""
    out = ffi.new("unsigned char[65]")
    size = ffi.new("size_t *", 65)
    lib.secp256k1_ec_pubkey_serialize(_CTX, out, size, pub, _UNCOMPRESSED)
    raw = bytes(out)
    return int.from_bytes(raw[1:33], "big"), int.from_bytes(raw[33:], "big")


def _from_native(pub: object) -> Point:
    out = ffi.new("unsigned char[65]")
    size = ffi.new("size_t *", 65)
    lib.secp256k1_ec_pubkey_serialize(_CTX, out, size, pub, _UNCOMPRESSED)
    raw = bytes(out)
    point = Point(int.from_bytes(raw[1:33], "big"), int.from_bytes(raw[33:], "big"))
    object.__setattr__(point, "_native", pub)
    return point


def _tweak_mul(pub: object, k: int) -> object:
    """k·pub into a fresh struct (k already reduced and non-zero)."""
    result = ffi.new("secp256k1_pubkey *", pub[0])  # type: ignore[index]
    if not lib.secp256k1_ec_pubkey_tweak_mul(_CTX, result, k.to_bytes(32, "big")):
        raise ValueError("libsecp256k1 refused the multiplication")
    return result


def _combine(pubs: list[object]) -> Point:
    if not pubs:
        return IDENTITY
    if len(pubs) == 1:
        return _from_native(pubs[0])
    out = ffi.new("secp256k1_pubkey *")
    if not lib.secp256k1_ec_pubkey_combine(_CTX, out, pubs, len(pubs)):
        return IDENTITY  # the only failure mode: the sum is the point at infinity
    return _from_native(out)


def _base_native(k: int) -> object:
    pub = ffi.new("secp256k1_pubkey *")
    if not lib.secp256k1_ec_pubkey_create(_CTX, pub, k.to_bytes(32, "big")):
        raise ValueError("libsecp256k1 refused the scalar")
    return pub


def _native_terms(
    scalars: Sequence[int], points: Sequence[Point]
) -> tuple[list[int], list[object], int]:
    """The terms of Σ k_i·P_i that libsecp256k1 must multiply, for both MSM methods: scalars
    reduced mod n, zero scalars and the point at infinity dropped, each point's native handle;
    the generator's terms come back summed (mod n) apart, for its faster multiplication."""
    ks: list[int] = []
    pubs: list[object] = []
    add_k = ks.append
    add_pub = pubs.append
    g_scalar = 0
    g_encoded = G.encode()
    n = N
    for k, point in zip(scalars, points, strict=True):
        if not 0 < k < n:
            k %= n
            if not k:
                continue
        if point.infinity:
            continue
        if point is G or point._encoded == g_encoded:  # no coordinates needed (lazy points)
            g_scalar += k
            continue
        pub = point._native
        if pub is None:
            pub = _to_native(point)
        add_k(k)
        add_pub(pub)
    return ks, pubs, g_scalar % n


_PUBKEY_SIZE = ffi.sizeof("secp256k1_pubkey")
_drain = partial(deque, maxlen=0)
"""Consume an iterator for its side effects, in C."""
_TIMES_256 = (256).to_bytes(32, "big")
_POWERS_OF_TWO = [(1 << t).to_bytes(32, "big") for t in range(8)]
BUCKET_MSM_MIN_POINTS = 1500
"""From about this many points on, the bucket method beats one tweak_mul per point."""


def _bucket_msm(groups: list[tuple[list[int], object, int, int]]) -> Point:
    """Σ k_i·P_i by Pippenger's bucket method with byte-sized windows, on public API calls.

    libsecp256k1 exports no multi-scalar multiplication, but ``pubkey_combine`` adds many
    points for about a quarter of a microsecond each (one field inversion per call). So for
    each byte position w (most significant first): put every point in the bucket of its
    scalar's byte w, sum each bucket with one combine call, and form Σ_d d·S_d as
    Σ_t 2^t·(Σ_{d has bit t} S_d) (8 combines and 7 tiny tweak_muls); Horner-combine the
    windows with one multiplication by 256 each. A point costs one addition per non-zero
    byte of its scalar instead of a whole scalar multiplication, so 128-bit batch weights
    cost half of full-size coefficients. ``groups`` holds (scalars, pubkey array, count,
    bytes per scalar) with every scalar < 256^bytes; a sum that is infinity is handled
    (``combine`` fails, the bucket or window then contributes nothing)."""
    ctx = _CTX
    combine = lib.secp256k1_ec_pubkey_combine
    tweak_mul = lib.secp256k1_ec_pubkey_tweak_mul
    size = _PUBKEY_SIZE
    sums = ffi.new("secp256k1_pubkey[256]")
    sums_base = int(ffi.cast("uintptr_t", sums))
    bit_sums = ffi.new("secp256k1_pubkey[9]")  # 8 bit-planes of the buckets + the accumulator
    acc = ffi.new("secp256k1_pubkey[1]")
    prepared = []
    for scalars, array, count, width in groups:
        base = int(ffi.cast("uintptr_t", array))
        digits = b"".join([k.to_bytes(width, "little") for k in scalars])
        prepared.append((digits, range(base, base + size * count, size), width))
    have_acc = False
    for w in range(max(width for _, _, width in prepared) - 1, -1, -1):
        parts = []
        if have_acc:
            if not tweak_mul(ctx, acc, _TIMES_256):
                raise ValueError("libsecp256k1 refused the multiplication")
            bit_sums[8] = acc[0]
            parts.append(bit_sums + 8)
        buckets: list[list[int]] = [[] for _ in range(256)]
        for digits, addresses, width in prepared:
            if w < width:
                # buckets[d].append(address) for every (digit, address), looped in C (map
                # over built-in methods): twice as fast as the same loop in Python bytecode
                _drain(map(list.append, map(buckets.__getitem__, digits[w::width]), addresses))
        flat = ffi.new("uintptr_t[]", list(chain.from_iterable(buckets[1:])))
        pointers = ffi.cast("secp256k1_pubkey **", flat)
        start = 0
        filled = []
        for d in range(1, 256):
            count = len(buckets[d])
            if not count:
                continue
            if count == 1:
                sums[d] = pointers[start][0]
                filled.append(d)
            elif combine(ctx, sums + d, pointers + start, count):
                filled.append(d)
            start += count
        for t in range(8):
            plane = [sums_base + size * d for d in filled if d >> t & 1]
            if not plane:
                continue
            slot = bit_sums + t
            plane_owner = ffi.new("uintptr_t[]", plane)  # must outlive the cast pointer
            plane_pointers = ffi.cast("secp256k1_pubkey **", plane_owner)
            if not combine(ctx, slot, plane_pointers, len(plane)):
                continue
            if t and not tweak_mul(ctx, slot, _POWERS_OF_TWO[t]):
                raise ValueError("libsecp256k1 refused the multiplication")
            parts.append(slot)
        if len(parts) == 1:
            acc[0] = parts[0][0]
            have_acc = True
        else:
            have_acc = bool(parts) and bool(
                combine(ctx, acc, ffi.new("secp256k1_pubkey *[]", parts), len(parts))
            )
    if not have_acc:
        return IDENTITY
    return _from_native(ffi.new("secp256k1_pubkey *", acc[0]))


class NativeFixedBase:
    """libsecp256k1 has its own generator table; other bases use its wNAF multiplication."""

    def __init__(self, base: Point) -> None:
        self.base = base
        self._is_generator = base == G
        self._native = None if base.infinity else _to_native(base)

    def mul(self, k: int) -> Point:
        k %= N
        if k == 0 or self._native is None:
            return IDENTITY
        if self._is_generator:
            return _from_native(_base_native(k))
        return _from_native(_tweak_mul(self._native, k))


class NativeBackend:
    name = "native"
    bucket_min_points = BUCKET_MSM_MIN_POINTS

    def __init__(self) -> None:
        self._tables: dict[Point, NativeFixedBase] = {}

    def lift_x(self, x: int, parity: int) -> int | None:
        point = self.decompress(bytes((2 + parity,)) + x.to_bytes(32, "big"), x)
        return None if point is None else point.y

    def parse(self, data: bytes) -> Point | None:
        """A 33-byte SEC1 compressed point, or None for anything libsecp256k1 refuses (a
        prefix other than 02/03, x >= p, x not on the curve: ``Point.decode`` then finds
        which, for its error message). One call does every check of strict decoding."""
        pub = ffi.new("secp256k1_pubkey *")
        if not lib.secp256k1_ec_pubkey_parse(_CTX, pub, data, 33):
            return None
        return Point.lazy(data, pub)

    def parse_hex(self, text: str) -> Point | None:
        """``Point.from_hex`` of 66 characters in one step: lowercase hex (decoding and
        re-encoding give the text back: no uppercase, no whitespace) of a point libsecp256k1
        accepts, else None (the caller's checked path then names the error)."""
        try:
            data = bytes.fromhex(text)
        except ValueError:
            return None
        if data.hex() != text:
            return None
        pub = _new_pubkey()
        if not _parse(_CTX, pub, data, 33):
            return None
        return _lazy(data, pub)

    def decompress(self, data: bytes, x: int) -> Point | None:
        """One libsecp256k1 parse (its square root in C); coordinates only when asked for."""
        pub = ffi.new("secp256k1_pubkey *")
        if not lib.secp256k1_ec_pubkey_parse(_CTX, pub, data, 33):
            return None
        return Point.lazy(data, pub)

    def sum(self, points: Sequence[Point]) -> Point:
        return _combine([_to_native(p) for p in points if not p.infinity])

    def add(self, a: Point, b: Point) -> Point:
        if a.infinity:
            return b
        if b.infinity:
            return a
        return _combine([_to_native(a), _to_native(b)])

    def mul(self, point: Point, k: int) -> Point:
        k %= N
        if k == 0 or point.infinity:
            return IDENTITY
        return _from_native(_tweak_mul(_to_native(point), k))

    def msm(self, scalars: Sequence[int], points: Sequence[Point]) -> Point:
        """Σ k_i·P_i. From ``BUCKET_MSM_MIN_POINTS`` points on (big verification batches) by
        the bucket method; below, one tweak_mul per point into a preallocated array, then one
        combine call. G's terms are merged into one generator multiplication either way."""
        count = len(points)
        if len(scalars) != count:
            raise ValueError("msm needs as many scalars as points")
        if count >= BUCKET_MSM_MIN_POINTS:
            return self._msm_buckets(scalars, points)
        ks, pubs, g_scalar = _native_terms(scalars, points)
        used = len(pubs)
        products = ffi.new("secp256k1_pubkey[]", used + 1)
        pointers: list[object] = []
        append = pointers.append
        tweak_mul = lib.secp256k1_ec_pubkey_tweak_mul
        ctx = _CTX
        for i, (k, pub) in enumerate(zip(ks, pubs, strict=True)):
            products[i] = pub[0]  # type: ignore[index]
            slot = products + i
            if not tweak_mul(ctx, slot, k.to_bytes(32, "big")):
                raise ValueError("libsecp256k1 refused the multiplication")
            append(slot)
        if g_scalar:
            slot = products + used
            lib.secp256k1_ec_pubkey_create(ctx, slot, g_scalar.to_bytes(32, "big"))
            append(slot)
        if not pointers:
            return IDENTITY
        if len(pointers) == 1:
            # copy out of the array: a cached handle must own its memory
            return _from_native(ffi.new("secp256k1_pubkey *", pointers[0][0]))  # type: ignore[index]
        out = ffi.new("secp256k1_pubkey *")
        if not lib.secp256k1_ec_pubkey_combine(ctx, out, pointers, len(pointers)):
            return IDENTITY  # the sum is the point at infinity
        return _from_native(out)

    def _msm_buckets(self, scalars: Sequence[int], points: Sequence[Point]) -> Point:
        """Large MSMs: split points by scalar size (≤ 128 bits, e.g. batch weights, or full)
        into contiguous arrays and run the bucket method; G's terms become one base mul."""
        reduced, natives, g_scalar = _native_terms(scalars, points)
        short: tuple[list[int], list[object]] = ([], [])
        full: tuple[list[int], list[object]] = ([], [])
        half = 1 << 128
        for k, pub in zip(reduced, natives, strict=True):
            target = short if k < half else full
            target[0].append(k)
            target[1].append(pub)
        groups = []
        for (ks, pubs), width in ((short, 16), (full, 32)):
            if ks:
                array = ffi.new("secp256k1_pubkey[]", len(pubs))
                for i, pub in enumerate(pubs):
                    array[i] = pub[0]  # type: ignore[index]
                groups.append((ks, array, len(ks), width))
        total = _bucket_msm(groups) if groups else IDENTITY
        if g_scalar:
            total = self.add(total, _from_native(_base_native(g_scalar)))
        return total

    def fixed_base(self, point: Point) -> NativeFixedBase:
        table = self._tables.get(point)
        if table is None:
            table = NativeFixedBase(point)
            if len(self._tables) < 64:
                self._tables[point] = table
        return table
