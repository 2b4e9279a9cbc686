"""The vendored public vectors are complete and unaltered: every file in SHA256SUMS, and only those."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tests.conftest import VENDORED_CONFORMANCE, conformance_root

BOOKKEEPING = {"SHA256SUMS", "SOURCES.md"}


def listed_sums(root: Path) -> dict[str, str]:
    sums: dict[str, str] = {}
    for line in (root / "SHA256SUMS").read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        digest, name = line.split(None, 1)
        sums[name.lstrip("*")] = digest
    return sums


@pytest.mark.parametrize("root", [VENDORED_CONFORMANCE, conformance_root()], ids=["vendored", "in-use"])
def test_every_vector_file_matches_its_checksum(root: Path) -> None:
    sums = listed_sums(root)
    assert len(sums) > 600, "SHA256SUMS lists far fewer files than the vendored set has"
    bad = [
        name
        for name, digest in sums.items()
        if not (root / name).is_file() or hashlib.sha256((root / name).read_bytes()).hexdigest() != digest
    ]
    assert bad == [], f"missing or altered vector files: {bad[:10]}"


def test_no_unlisted_file_sits_among_the_vectors() -> None:
    listed = set(listed_sums(VENDORED_CONFORMANCE))
    present = {
        p.relative_to(VENDORED_CONFORMANCE).as_posix()
        for p in VENDORED_CONFORMANCE.rglob("*")
        if p.is_file()
    }
    assert present - listed - BOOKKEEPING == set()


def test_a_flipped_byte_is_caught(tmp_path: Path) -> None:
    """The check above is not vacuous: one changed byte in a copy fails it."""
    name, digest = next(iter(listed_sums(VENDORED_CONFORMANCE).items()))
    data = bytearray((VENDORED_CONFORMANCE / name).read_bytes())
    data[0] ^= 1
    assert hashlib.sha256(bytes(data)).hexdigest() != digest
