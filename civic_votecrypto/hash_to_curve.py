"""RFC 9380 hash-to-curve for secp256k1 (suites secp256k1_XMD:SHA-256_SSWU_RO_ and _NU_).

The protocol itself needs only G (docs/protocol.md §2). This module exists so that any future
second generator — e.g. for Pedersen commitments — is derived verifiably ("nothing up my
sleeve") rather than chosen: ``nums_generator(label)`` hashes a public label to a point whose
discrete log to G nobody knows. It is checked against the RFC's published vectors.

secp256k1 has A = 0, so RFC 9380 §6.6.3 maps to the 3-isogenous curve
E': y^2 = x^3 + A'x + B' with simplified SWU and then applies the isogeny (Appendix E.1).
"""

from __future__ import annotations

from .group import P, Point
from .hashing import hash_to_field

RO_SUITE = b"secp256k1_XMD:SHA-256_SSWU_RO_"

_A = 0x3F8731ABDD661ADCA08A5558F0F5D272E953D363CB6F0E5D405447C01A444533
_B = 1771
_Z = P - 11

_XNUM = (
    0x8E38E38E38E38E38E38E38E38E38E38E38E38E38E38E38E38E38E38DAAAAA8C7,
    0x07D3D4C80BC321D5B9F315CEA7FD44C5D595D2FC0BF63B92DFFF1044F17C6581,
    0x534C328D23F234E6E2A413DECA25CAECE4506144037C40314ECBD0B53D9DD262,
    0x8E38E38E38E38E38E38E38E38E38E38E38E38E38E38E38E38E38E38DAAAAA88C,
)
_XDEN = (
    0xD35771193D94918A9CA34CCBB7B640DD86CD409542F8487D9FE6B745781EB49B,
    0xEDADC6F64383DC1DF7C4B2D51B54225406D36B641F5E41BBC52A56612A8C6D14,
    1,
)
_YNUM = (
    0x4BDA12F684BDA12F684BDA12F684BDA12F684BDA12F684BDA12F684B8E38E23C,
    0xC75E0C32D5CB7C0FA9D0A54B12A0A6D5647AB046D686DA6FDFFC90FC201D71A3,
    0x29A6194691F91A73715209EF6512E576722830A201BE2018A765E85A9ECEE931,
    0x2F684BDA12F684BDA12F684BDA12F684BDA12F684BDA12F684BDA12F38E38D84,
)
_YDEN = (
    0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFF93B,
    0x7A06534BB8BDB49FD5E9E6632722C2989467C1BFC8E8D978DFB425D2685C2573,
    0x6484AA716545CA2CF3A70C3FA8FE337E0A3D21162F0D6299A7BF8192BFD2A76F,
    1,
)


def _poly(coefficients: tuple[int, ...], x: int) -> int:
    acc = 0
    for c in reversed(coefficients):
        acc = (acc * x + c) % P
    return acc


def _sqrt(value: int) -> int | None:
    root = pow(value, (P + 1) // 4, P)
    return root if root * root % P == value % P else None


def map_to_curve_sswu(u: int) -> tuple[int, int]:
    """Simplified SWU onto E' (RFC 9380 §6.6.2), returning affine (x', y')."""
    zu2 = _Z * u * u % P
    denominator = (zu2 * zu2 + zu2) % P
    if denominator == 0:
        x1 = _B * pow(_Z * _A, -1, P) % P
    else:
        x1 = (-_B) * pow(_A, -1, P) * (1 + pow(denominator, -1, P)) % P
    gx1 = (pow(x1, 3, P) + _A * x1 + _B) % P
    y = _sqrt(gx1)
    x = x1
    if y is None:
        x = zu2 * x1 % P
        y = _sqrt((pow(x, 3, P) + _A * x + _B) % P)
        if y is None:  # impossible for a correct Z; keeps the type checker honest
            raise ArithmeticError("SSWU produced no square root")
    if (u & 1) != (y & 1):
        y = P - y
    return x, y


def iso_map(x: int, y: int) -> Point:
    """The 3-isogeny E' -> secp256k1 (RFC 9380 Appendix E.1)."""
    x_out = _poly(_XNUM, x) * pow(_poly(_XDEN, x), -1, P) % P
    y_out = y * _poly(_YNUM, x) * pow(_poly(_YDEN, x), -1, P) % P
    return Point.from_affine(x_out, y_out)


def hash_to_curve(msg: bytes, dst: bytes) -> Point:
    """RFC 9380 hash_to_curve (random oracle): uniform, nobody knows its discrete log."""
    u0, u1 = hash_to_field(msg, 2, dst, P)
    return iso_map(*map_to_curve_sswu(u0)) + iso_map(*map_to_curve_sswu(u1))


def encode_to_curve(msg: bytes, dst: bytes) -> Point:
    """RFC 9380 encode_to_curve (non-uniform variant)."""
    (u,) = hash_to_field(msg, 1, dst, P)
    return iso_map(*map_to_curve_sswu(u))


def nums_generator(label: str) -> Point:
    """A second generator derived from a public label ("nothing up my sleeve")."""
    return hash_to_curve(label.encode("utf-8"), b"CIVIC-V1-GENERATOR-" + RO_SUITE)
