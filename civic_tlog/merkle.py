"""RFC 9162 §2.1 Merkle tree hashing, inclusion and consistency proofs (SHA-256).

Pure module: no Django, no I/O. Two kinds of proof generators live here:

* reference generators over an in-memory list of leaf hashes (``inclusion_proof``,
  ``consistency_proof``), written as the literal recursive definitions of the RFC so that
  tests can use them as a from-scratch oracle;
* generators driven by a ``subtree_hash(start, end)`` callable (``inclusion_proof_from``,
  ``consistency_proof_from``), so a server that stores full-subtree hashes answers any proof
  with O(log n) lookups instead of re-hashing every leaf.

Verifiers return ``bool`` and never raise on malformed input: a proof that cannot be parsed is
simply not a valid proof.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

SubtreeHash = Callable[[int, int], bytes]


def leaf_hash(data: bytes) -> bytes:
    """MTH({d}) = SHA-256(0x00 || d): the prefix keeps leaves and nodes from colliding."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def largest_power_of_two_below(n: int) -> int:
    """The split point k of RFC 9162: the largest power of two strictly smaller than n (n > 1)."""
    if n < 2:
        raise ValueError("split point is only defined for n > 1")
    return 1 << ((n - 1).bit_length() - 1)


def root_from_leaf_hashes(hashes: Sequence[bytes]) -> bytes:
    """MTH over already-hashed leaves, in O(n) time and O(log n) extra memory.

    Uses the compact-range stack: merging equal-height perfect subtrees as leaves arrive,
    then folding the remaining right-to-left, which equals the RFC's left-balanced split.
    """
    if not hashes:
        return EMPTY_ROOT
    stack: list[tuple[int, bytes]] = []  # (height, hash) of perfect subtrees, left to right
    for h in hashes:
        height, node = 0, h
        while stack and stack[-1][0] == height:
            _, left = stack.pop()
            node = node_hash(left, node)
            height += 1
        stack.append((height, node))
    root = stack[-1][1]
    for _, left in reversed(stack[:-1]):
        root = node_hash(left, root)
    return root


def root_from_entries(entries: Sequence[bytes]) -> bytes:
    """MTH over raw entry bytes."""
    return root_from_leaf_hashes([leaf_hash(e) for e in entries])


def subtree_hasher(leaf_hashes: Sequence[bytes]) -> SubtreeHash:
    """A ``subtree_hash(start, end)`` callable over an in-memory list (tests, small trees)."""

    def subtree_hash(start: int, end: int) -> bytes:
        if not 0 <= start < end <= len(leaf_hashes):
            raise ValueError(f"subtree [{start}, {end}) outside tree of size {len(leaf_hashes)}")
        return root_from_leaf_hashes(leaf_hashes[start:end])

    return subtree_hash


# --- reference generators: literal RFC 9162 §2.1.3.1 / §2.1.4.1 recursions -------------------


def _mth(hashes: Sequence[bytes]) -> bytes:
    n = len(hashes)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return hashes[0]
    k = largest_power_of_two_below(n)
    return node_hash(_mth(hashes[:k]), _mth(hashes[k:]))


def inclusion_proof(index: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """PATH(m, D[n]) computed recursively from the full list (reference implementation)."""
    n = len(leaf_hashes)
    if not 0 <= index < n:
        raise ValueError(f"index {index} outside tree of size {n}")

    def path(m: int, d: Sequence[bytes]) -> list[bytes]:
        if len(d) <= 1:
            return []
        k = largest_power_of_two_below(len(d))
        if m < k:
            return path(m, d[:k]) + [_mth(d[k:])]
        return path(m - k, d[k:]) + [_mth(d[:k])]

    return path(index, leaf_hashes)


def consistency_proof(size1: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """PROOF(m, D[n]) computed recursively from the full list (reference implementation)."""
    n = len(leaf_hashes)
    if not 0 <= size1 <= n:
        raise ValueError(f"old size {size1} outside tree of size {n}")
    if size1 == 0 or size1 == n:
        return []

    def subproof(m: int, d: Sequence[bytes], complete: bool) -> list[bytes]:
        if m == len(d):
            return [] if complete else [_mth(d)]
        k = largest_power_of_two_below(len(d))
        if m <= k:
            return subproof(m, d[:k], complete) + [_mth(d[k:])]
        return subproof(m - k, d[k:], False) + [_mth(d[:k])]

    return subproof(size1, leaf_hashes, True)


# --- generators over a subtree_hash callable: O(log n) lookups --------------------------------


def inclusion_proof_from(index: int, tree_size: int, subtree_hash: SubtreeHash) -> list[bytes]:
    """PATH(index, D[tree_size]) asking ``subtree_hash`` for at most ceil(log2 n) subtrees.

    Every requested range [start, end) is the left (perfect) or right (possibly partial)
    child of a node on the path, so a store of perfect-subtree hashes can answer each one.
    """
    if not 0 <= index < tree_size:
        raise ValueError(f"index {index} outside tree of size {tree_size}")
    siblings: list[bytes] = []
    start, end, m = 0, tree_size, index
    while end - start > 1:
        k = largest_power_of_two_below(end - start)
        if m < k:
            siblings.append(subtree_hash(start + k, end))
            end = start + k
        else:
            siblings.append(subtree_hash(start, start + k))
            start, m = start + k, m - k
    siblings.reverse()  # the RFC lists the path bottom-up
    return siblings


def consistency_proof_from(size1: int, size2: int, subtree_hash: SubtreeHash) -> list[bytes]:
    """PROOF(size1, D[size2]) asking ``subtree_hash`` for O(log n) subtrees."""
    if not 0 <= size1 <= size2:
        raise ValueError(f"cannot prove consistency from size {size1} to size {size2}")
    if size1 == 0 or size1 == size2:
        return []
    nodes: list[bytes] = []
    start, end, m, complete = 0, size2, size1, True
    while m != end - start:
        k = largest_power_of_two_below(end - start)
        if m <= k:
            nodes.append(subtree_hash(start + k, end))
            end = start + k
        else:
            nodes.append(subtree_hash(start, start + k))
            start, m, complete = start + k, m - k, False
    if not complete:
        nodes.append(subtree_hash(start, end))
    nodes.reverse()
    return nodes


# --- verifiers: RFC 9162 §2.1.3.2 and §2.1.4.2 ------------------------------------------------


def _is_hash(value: object) -> bool:
    return isinstance(value, bytes | bytearray) and len(value) == HASH_SIZE


def root_from_inclusion_proof(
    leaf: bytes, index: int, tree_size: int, proof: Sequence[bytes]
) -> bytes | None:
    """The root implied by an inclusion proof, or None if the proof's shape is wrong."""
    if not (isinstance(index, int) and isinstance(tree_size, int)):
        return None
    if not 0 <= index < tree_size or not _is_hash(leaf):
        return None
    if not all(_is_hash(p) for p in proof):
        return None
    fn, sn = index, tree_size - 1
    r = bytes(leaf)
    for p in proof:
        if sn == 0:
            return None  # proof longer than the path
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        return None  # proof shorter than the path
    return r


def verify_inclusion(
    leaf_hash: bytes, index: int, tree_size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """True iff ``proof`` shows the leaf hash sits at ``index`` in the tree with ``root``."""
    if not _is_hash(root):
        return False
    computed = root_from_inclusion_proof(leaf_hash, index, tree_size, proof)
    return computed is not None and computed == bytes(root)


def verify_consistency(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> bool:
    """True iff ``proof`` shows the tree (size1, root1) is a prefix of (size2, root2)."""
    if not (isinstance(size1, int) and isinstance(size2, int)):
        return False
    if not 0 < size1 <= size2:
        # Every tree extends the empty one: there is nothing to prove, and a "proof" from
        # size 0 is meaningless (RFC 9162 defines proofs for 0 < size1). Callers that start
        # from an empty tree accept the first checkpoint without a proof.
        return False
    if size1 == size2:
        return len(proof) == 0 and bytes(root1) == bytes(root2)
    if not (_is_hash(root1) and _is_hash(root2)):
        return False
    if not all(_is_hash(p) for p in proof):
        return False
    if not proof:
        return False
    path = [bytes(p) for p in proof]
    if size1 & (size1 - 1) == 0:  # size1 is a power of two: its root is the first node
        path.insert(0, bytes(root1))
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == bytes(root1) and sr == bytes(root2) and sn == 0


# --- subtree proofs (Merkle Tree Certificates draft, §4.3 / §4.4) ------------------------------


def is_valid_subtree(start: int, end: int) -> bool:
    """[start, end) is a node-aligned subtree: start is a multiple of the next power of two >= width."""
    if not (isinstance(start, int) and isinstance(end, int)) or not 0 <= start < end:
        return False
    width = end - start
    aligned = 1 << (width - 1).bit_length()
    return start % aligned == 0


def verify_subtree_inclusion(
    leaf_hash: bytes, index: int, start: int, end: int, proof: Sequence[bytes], subtree_root: bytes
) -> bool:
    """An inclusion proof of ``index`` into the subtree [start, end) rather than a whole tree."""
    if not is_valid_subtree(start, end) or not start <= index < end:
        return False
    return verify_inclusion(leaf_hash, index - start, end - start, proof, subtree_root)


def verify_subtree_consistency(
    start: int, end: int, tree_size: int, proof: Sequence[bytes], subtree_root: bytes, root: bytes
) -> bool:
    """True iff ``proof`` shows the subtree [start, end) with ``subtree_root`` sits in the tree
    of ``tree_size`` leaves with ``root``. With start == 0 this is RFC 9162 consistency."""
    if not (isinstance(start, int) and isinstance(end, int) and isinstance(tree_size, int)):
        return False
    if start == end:
        # The empty subtree sits in every tree; only its own hash can be wrong.
        return 0 <= start <= tree_size and not proof and bytes(subtree_root) == EMPTY_ROOT
    if not is_valid_subtree(start, end) or end > tree_size:
        return False
    if start == 0 and end == tree_size:
        return not proof and bytes(subtree_root) == bytes(root)
    if not (_is_hash(subtree_root) and _is_hash(root)) or not all(_is_hash(p) for p in proof):
        return False
    node, top = bytes(subtree_root), bytes(root)
    fn, sn, tn = start, end - 1, tree_size - 1
    if sn == tn:
        while fn != sn:
            fn, sn, tn = fn >> 1, sn >> 1, tn >> 1
    else:
        while fn != sn and sn & 1:
            fn, sn, tn = fn >> 1, sn >> 1, tn >> 1
    if fn == sn:
        fr = sr = node
        rest = [bytes(p) for p in proof]
    else:
        if not proof:
            return False
        fr = sr = bytes(proof[0])
        rest = [bytes(p) for p in proof[1:]]
    for c in rest:
        if tn == 0:
            return False
        if sn & 1 or sn == tn:
            if fn < sn:
                fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while sn & 1 == 0:
                fn, sn, tn = fn >> 1, sn >> 1, tn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn, tn = fn >> 1, sn >> 1, tn >> 1
    return tn == 0 and fr == node and sr == top


def subtree_consistency_proof(start: int, end: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """SUBTREE_PROOF(start, end, D[n]) (reference implementation over the full list).

    With start == 0 this is exactly the RFC 9162 consistency proof PROOF(end, D[n]).
    """
    n = len(leaf_hashes)
    if not is_valid_subtree(start, end) or end > n:
        raise ValueError(f"[{start}, {end}) is not a valid subtree of a tree of size {n}")

    def subproof(lo: int, hi: int, d: Sequence[bytes], known: bool) -> list[bytes]:
        if lo == 0 and hi == len(d):
            return [] if known else [_mth(d)]
        k = largest_power_of_two_below(len(d))
        if hi <= k:
            return subproof(lo, hi, d[:k], known) + [_mth(d[k:])]
        if k <= lo:
            return subproof(lo - k, hi - k, d[k:], known) + [_mth(d[:k])]
        # The subtree straddles the split, which for a valid subtree means lo == 0.
        return subproof(0, hi - k, d[k:], False) + [_mth(d[:k])]

    return subproof(start, end, leaf_hashes, True)
