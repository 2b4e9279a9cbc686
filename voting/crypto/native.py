"""Native backend: the same group interface on libsecp256k1 (through coincurve's cffi layer).

Used for speed by servers and observers; results are bit-identical to the py-ecc reference
(tests cross-check both on random inputs). libsecp256k1 cannot represent the point at
infinity, so this module maps "zero scalar" and "sum is infinity" to ``IDENTITY`` itself.
"""

from __future__ import annotations

from collections.abc import Sequence

from coincurve._libsecp256k1 import ffi, lib
from coincurve.context import GLOBAL_CONTEXT

from .group import IDENTITY, G, N, Point

_CTX = GLOBAL_CONTEXT.ctx
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

    def __init__(self) -> None:
        self._tables: dict[Point, NativeFixedBase] = {}

    def lift_x(self, x: int, parity: int) -> int | None:
        point = self.decompress(bytes((2 + parity,)) + x.to_bytes(32, "big"), x)
        return None if point is None else point.y

    def decompress(self, data: bytes, x: int) -> Point | None:
        pub = ffi.new("secp256k1_pubkey *")
        if not lib.secp256k1_ec_pubkey_parse(_CTX, pub, data, 33):
            return None
        point = _from_native(pub)
        object.__setattr__(point, "_encoded", data)
        return point

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
        """One tweak_mul per point into a preallocated array, then one combine call."""
        count = len(points)
        products = ffi.new("secp256k1_pubkey[]", count + 1)
        pointers = []
        g_scalar = 0
        tweak_mul = lib.secp256k1_ec_pubkey_tweak_mul
        used = 0
        for k, point in zip(scalars, points, strict=True):
            k %= N
            if k == 0 or point.infinity:
                continue
            if point.x == G.x and point.y == G.y:
                g_scalar = (g_scalar + k) % N
                continue
            slot = products + used
            slot[0] = _to_native(point)[0]
            if not tweak_mul(_CTX, slot, k.to_bytes(32, "big")):
                raise ValueError("libsecp256k1 refused the multiplication")
            pointers.append(slot)
            used += 1
        if g_scalar:
            slot = products + used
            lib.secp256k1_ec_pubkey_create(_CTX, slot, g_scalar.to_bytes(32, "big"))
            pointers.append(slot)
        if not pointers:
            return IDENTITY
        if len(pointers) == 1:
            # copy out of the array: a cached handle must own its memory
            return _from_native(ffi.new("secp256k1_pubkey *", pointers[0][0]))
        out = ffi.new("secp256k1_pubkey *")
        if not lib.secp256k1_ec_pubkey_combine(_CTX, out, pointers, len(pointers)):
            return IDENTITY  # the sum is the point at infinity
        return _from_native(out)

    def fixed_base(self, point: Point) -> NativeFixedBase:
        table = self._tables.get(point)
        if table is None:
            table = NativeFixedBase(point)
            if len(self._tables) < 64:
                self._tables[point] = table
        return table
