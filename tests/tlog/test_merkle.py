"""RFC 9162 Merkle tree: public vectors (transparency-dev/merkle testdata) and differential tests."""

from __future__ import annotations

import base64
import json
import random
from collections.abc import Callable
from pathlib import Path

import pytest

from civic_tlog import merkle
from tests.conftest import conformance_root

MERKLE_DIR = conformance_root() / "merkle" / "testdata"


def _b64(value: str | None) -> bytes:
    return base64.b64decode(value or "")


def _proof(value: list[str] | None) -> list[bytes]:
    return [_b64(p) for p in (value or [])]


def _cases(folder: str) -> list[Path]:
    files = sorted((MERKLE_DIR / folder).rglob("*.json"))
    assert files, f"no vectors under {MERKLE_DIR / folder}"
    return files


def _ids(paths: list[Path]) -> list[str]:
    return [str(p.relative_to(MERKLE_DIR)) for p in paths]


INCLUSION = _cases("inclusion")
CONSISTENCY = _cases("consistency")
SUBTREE_INCLUSION = _cases("subtreeinclusion")
SUBTREE_CONSISTENCY = _cases("subtreeconsistency")


def test_vector_counts_match_sources() -> None:
    # SOURCES.md: inclusion 98, consistency 98, subtreeinclusion 204, subtreeconsistency 118.
    assert (len(INCLUSION), len(CONSISTENCY)) == (98, 98)
    assert (len(SUBTREE_INCLUSION), len(SUBTREE_CONSISTENCY)) == (204, 118)


@pytest.mark.parametrize("path", INCLUSION, ids=_ids(INCLUSION))
def test_inclusion_vectors(path: Path) -> None:
    case = json.loads(path.read_text())
    ok = merkle.verify_inclusion(
        _b64(case["leafHash"]),
        case["leafIdx"],
        case["treeSize"],
        _proof(case["proof"]),
        _b64(case["root"]),
    )
    assert ok is (not case["wantErr"]), case["desc"]


@pytest.mark.parametrize("path", CONSISTENCY, ids=_ids(CONSISTENCY))
def test_consistency_vectors(path: Path) -> None:
    case = json.loads(path.read_text())
    ok = merkle.verify_consistency(
        case["size1"],
        case["size2"],
        _proof(case["proof"]),
        _b64(case["root1"]),
        _b64(case["root2"]),
    )
    assert ok is (not case["wantErr"]), case["desc"]


@pytest.mark.parametrize("path", SUBTREE_INCLUSION, ids=_ids(SUBTREE_INCLUSION))
def test_subtree_inclusion_vectors(path: Path) -> None:
    case = json.loads(path.read_text())
    ok = merkle.verify_subtree_inclusion(
        _b64(case["leafHash"]),
        case["leafIdx"],
        case["start"],
        case["end"],
        _proof(case["proof"]),
        _b64(case["root"]),
    )
    assert ok is (not case["wantErr"]), case["desc"]


@pytest.mark.parametrize("path", SUBTREE_CONSISTENCY, ids=_ids(SUBTREE_CONSISTENCY))
def test_subtree_consistency_vectors(path: Path) -> None:
    case = json.loads(path.read_text())
    ok = merkle.verify_subtree_consistency(
        case["start"],
        case["end"],
        case["size"],
        _proof(case["proof"]),
        _b64(case["root1"]),
        _b64(case["root2"]),
    )
    assert ok is (not case["wantErr"]), case["desc"]


def test_happy_path_vectors_match_our_generators() -> None:
    """The vectors' trees are the 8-leaf RFC 6962 test tree: our roots and proofs must equal theirs."""
    leaves = [b"", b"\x00", b"\x10", b"\x20\x21", b"\x30\x31", b"\x40\x41\x42\x43",
              b"\x50\x51\x52\x53\x54\x55\x56\x57", b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f"]  # fmt: skip
    hashes = [merkle.leaf_hash(x) for x in leaves]
    checked = 0
    for path in INCLUSION:
        case = json.loads(path.read_text())
        if case["desc"] != "happy path" or case["treeSize"] > len(hashes):
            continue
        tree = hashes[: case["treeSize"]]
        if _b64(case["root"]) != merkle.root_from_leaf_hashes(tree):
            continue  # a vector over a different tree (e.g. single-entry)
        assert merkle.inclusion_proof(case["leafIdx"], tree) == _proof(case["proof"])
        checked += 1
    for path in CONSISTENCY:
        case = json.loads(path.read_text())
        if case["desc"] != "happy path" or case["size2"] > len(hashes):
            continue
        tree = hashes[: case["size2"]]
        if _b64(case["root2"]) != merkle.root_from_leaf_hashes(tree):
            continue
        assert merkle.consistency_proof(case["size1"], tree) == _proof(case["proof"])
        checked += 1
    assert checked >= 8


# --- differential tests ----------------------------------------------------------------------


def _sizes() -> list[int]:
    sizes = {0, 1, 2, 3}
    for exp in range(2, 8):
        sizes |= {2**exp - 1, 2**exp, 2**exp + 1}
    rng = random.Random(9162)
    sizes |= {rng.randrange(4, 300) for _ in range(12)}
    return sorted(sizes)


def _mth_reference(hashes: list[bytes]) -> bytes:
    """Independent oracle: the RFC's recursive split, no shared code with the module."""
    import hashlib

    if not hashes:
        return hashlib.sha256(b"").digest()
    if len(hashes) == 1:
        return hashes[0]
    k = 1
    while k * 2 < len(hashes):
        k *= 2
    return hashlib.sha256(
        b"\x01" + _mth_reference(hashes[:k]) + _mth_reference(hashes[k:])
    ).digest()


def _tree(size: int) -> list[bytes]:
    return [merkle.leaf_hash(f"entry-{size}-{i}".encode()) for i in range(size)]


def _flip(data: bytes, bit: int) -> bytes:
    out = bytearray(data)
    out[bit // 8 % len(out)] ^= 1 << (bit % 8)
    return bytes(out)


@pytest.mark.parametrize("size", _sizes())
def test_root_matches_recursive_definition(size: int) -> None:
    hashes = _tree(size)
    assert merkle.root_from_leaf_hashes(hashes) == _mth_reference(hashes)


@pytest.mark.parametrize("size", _sizes())
def test_inclusion_proofs_differential(size: int) -> None:
    hashes = _tree(size)
    root = _mth_reference(hashes)
    lookups: list[tuple[int, int]] = []
    hasher = merkle.subtree_hasher(hashes)

    def counting(start: int, end: int) -> bytes:
        lookups.append((start, end))
        return hasher(start, end)

    rng = random.Random(size)
    indices = (
        sorted({0, size - 1, size // 2, *(rng.randrange(size) for _ in range(5))}) if size else []
    )
    for index in indices:
        lookups.clear()
        proof = merkle.inclusion_proof_from(index, size, counting)
        assert proof == merkle.inclusion_proof(index, hashes)
        assert len(lookups) == len(proof) <= max(1, size).bit_length()
        assert merkle.verify_inclusion(hashes[index], index, size, proof, root)
        _assert_inclusion_tampering_rejected(hashes[index], index, size, proof, root, rng)
    with pytest.raises(ValueError):
        merkle.inclusion_proof_from(size, size, hasher)


def _assert_inclusion_tampering_rejected(
    leaf: bytes, index: int, size: int, proof: list[bytes], root: bytes, rng: random.Random
) -> None:
    verify: Callable[..., bool] = merkle.verify_inclusion
    bit = rng.randrange(256)
    assert not verify(_flip(leaf, bit), index, size, proof, root)
    assert not verify(leaf, index, size, proof, _flip(root, bit))
    for i in range(len(proof)):
        bad = list(proof)
        bad[i] = _flip(bad[i], bit)
        assert not verify(leaf, index, size, bad, root)
    assert not verify(leaf, index, size, [*proof, root], root)
    if proof:
        assert not verify(leaf, index, size, proof[:-1], root)
        assert not verify(leaf, index ^ 1 if index ^ 1 < size else index - 1, size, proof, root)
    # A tree twice as large always has a longer path (a size one larger may not: the same
    # siblings can prove index 0 in sizes 3 and 4, so size is bound by the signed checkpoint).
    assert not verify(leaf, index, 2 * size + 1, proof, root)
    assert not verify(leaf, size, size, proof, root)
    assert not verify(leaf, -1, size, proof, root)


@pytest.mark.parametrize("size", _sizes())
def test_consistency_proofs_differential(size: int) -> None:
    hashes = _tree(size)
    root2 = _mth_reference(hashes)
    hasher = merkle.subtree_hasher(hashes)
    rng = random.Random(size * 7 + 1)
    olds = sorted({0, 1, size, size - 1, size // 2, *(rng.randrange(size + 1) for _ in range(4))})
    for size1 in (s for s in olds if 0 <= s <= size):
        root1 = _mth_reference(hashes[:size1])
        proof = merkle.consistency_proof_from(size1, size, hasher)
        assert proof == merkle.consistency_proof(size1, hashes)
        # Size 0 is consistent with everything, so a "proof" from it is refused as meaningless.
        assert merkle.verify_consistency(size1, size, proof, root1, root2) is (size1 > 0)
        assert merkle.verify_subtree_consistency(0, size1, size, proof, root1, root2)
        if size1 in (0, size):
            continue
        bit = rng.randrange(256)
        assert not merkle.verify_consistency(size1, size, proof, _flip(root1, bit), root2)
        assert not merkle.verify_consistency(size1, size, proof, root1, _flip(root2, bit))
        assert not merkle.verify_consistency(size1, size, proof, root2, root1)
        for i in range(len(proof)):
            bad = list(proof)
            bad[i] = _flip(bad[i], bit)
            assert not merkle.verify_consistency(size1, size, bad, root1, root2)
        assert not merkle.verify_consistency(size1, size, proof[:-1], root1, root2)
        assert not merkle.verify_consistency(size1, size, [*proof, root1], root1, root2)
        assert not merkle.verify_consistency(size1 + 1, size, proof, root1, root2)
        assert not merkle.verify_consistency(size1, 2 * size + 1, proof, root1, root2)
        assert not merkle.verify_consistency(size, size1, proof, root2, root1)
    with pytest.raises(ValueError):
        merkle.consistency_proof_from(size + 1, size, hasher)


def test_consistency_of_a_fork_is_rejected() -> None:
    """Two trees that share size1 but differ in one early leaf cannot be proven consistent."""
    honest = _tree(40)
    forked = list(honest)
    forked[3] = merkle.leaf_hash(b"rewritten")
    proof = merkle.consistency_proof(17, forked)
    assert not merkle.verify_consistency(
        17,
        40,
        proof,
        merkle.root_from_leaf_hashes(honest[:17]),
        merkle.root_from_leaf_hashes(forked),
    )


def test_hash_primitives_follow_rfc_prefixes() -> None:
    import hashlib

    assert hashlib.sha256(b"").digest() == merkle.EMPTY_ROOT
    assert merkle.leaf_hash(b"abc") == hashlib.sha256(b"\x00abc").digest()
    assert (
        merkle.node_hash(b"L" * 32, b"R" * 32)
        == hashlib.sha256(b"\x01" + b"L" * 32 + b"R" * 32).digest()
    )
    assert merkle.root_from_entries([b"abc"]) == merkle.leaf_hash(b"abc")


def test_non_hash_inputs_are_rejected_not_raised() -> None:
    leaf = merkle.leaf_hash(b"x")
    assert not merkle.verify_inclusion(leaf[:31], 0, 1, [], leaf[:31])
    assert not merkle.verify_inclusion(leaf, 0, 1, [], b"")
    assert not merkle.verify_consistency(1, 2, [b"short"], leaf, leaf)
    assert not merkle.verify_subtree_consistency(3, 5, 8, [], leaf, leaf)


def _valid_subtrees(size: int) -> list[tuple[int, int]]:
    return [
        (s, e) for s in range(size) for e in range(s + 1, size + 1) if merkle.is_valid_subtree(s, e)
    ]


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, 13, 16, 17, 31, 40])
def test_subtree_proofs_differential(size: int) -> None:
    """Every valid subtree of trees of many sizes: generated proofs verify, tampering fails."""
    hashes = _tree(size)
    root = _mth_reference(hashes)
    rng = random.Random(size)
    for start, end in _valid_subtrees(size):
        sub_root = _mth_reference(hashes[start:end])
        proof = merkle.subtree_consistency_proof(start, end, hashes)
        assert merkle.verify_subtree_consistency(start, end, size, proof, sub_root, root)
        if start == 0:
            assert proof == merkle.consistency_proof(end, hashes)
        if not (start == 0 and end == size):
            bit = rng.randrange(256)
            assert not merkle.verify_subtree_consistency(
                start, end, size, proof, _flip(sub_root, bit), root
            )
            assert not merkle.verify_subtree_consistency(
                start, end, size, proof, sub_root, _flip(root, bit)
            )
            for i in range(len(proof)):
                bad = list(proof)
                bad[i] = _flip(bad[i], bit)
                assert not merkle.verify_subtree_consistency(start, end, size, bad, sub_root, root)
            assert not merkle.verify_subtree_consistency(
                start, end, size, [*proof, root], sub_root, root
            )
        index = rng.randrange(start, end)
        inclusion = merkle.inclusion_proof(index - start, hashes[start:end])
        assert merkle.verify_subtree_inclusion(
            hashes[index], index, start, end, inclusion, sub_root
        )
        assert not merkle.verify_subtree_inclusion(
            hashes[index], index, start, end, inclusion, root
        ) or (sub_root == root)
    with pytest.raises(ValueError):
        merkle.subtree_consistency_proof(1, 3, hashes + hashes)
