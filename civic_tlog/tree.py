"""The Merkle tree as C2SP tlog-tiles: how the server grows it and answers subtree hashes from it.

Level-L tiles hold the hashes of full subtrees of 256^L leaves (level 0: leaf hashes), 256 per
tile. A perfect subtree of height 8L + r is the MTH of 2^r consecutive hashes in one level-L
tile, so any subtree hash, root or proof needs only O(log n) tile reads. Pure module (no Django):
storage is reached through a ``TileLoader`` callable so the same code runs on rows or in memory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache

from civic_tlog.merkle import (
    EMPTY_ROOT,
    HASH_SIZE,
    largest_power_of_two_below,
    node_hash,
)

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT
FULL_TILE_BYTES = TILE_WIDTH * HASH_SIZE

TileKey = tuple[int, int]  # (level, index)
TileLoader = Callable[[Iterable[TileKey]], dict[TileKey, bytes]]


class TreeCorrupted(Exception):
    """Stored tiles do not hold the hashes the tree size says they must (tampering or a bug)."""


def split_hashes(data: bytes) -> list[bytes]:
    return [data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)]


def perfect_root(hashes: bytes) -> bytes:
    """MTH of 2^k concatenated hashes (a perfect subtree): pairwise rounds, the fast path for
    the many small subtrees a proof or a filled tile needs."""
    level = split_hashes(hashes)
    if len(level) & (len(level) - 1):
        raise ValueError("perfect_root needs a power-of-two number of hashes")
    while len(level) > 1:
        level = [node_hash(level[i], level[i + 1]) for i in range(0, len(level), 2)]
    return level[0]


@lru_cache(maxsize=1024)
def full_tile_levels(data: bytes) -> tuple[tuple[bytes, ...], ...]:
    """Every internal level (heights 0..8) of a full tile's 256 hashes.

    Keyed by the tile's bytes, so a cached entry can never describe other contents; a full
    tile never changes, so hot tiles cost their 255 hashes once instead of on every proof.
    """
    if len(data) != FULL_TILE_BYTES:
        raise ValueError("only full tiles are cached")
    levels = [tuple(split_hashes(data))]
    while len(levels[-1]) > 1:
        below = levels[-1]
        levels.append(tuple(node_hash(below[i], below[i + 1]) for i in range(0, len(below), 2)))
    return tuple(levels)


def right_edge_tiles(size: int) -> dict[int, tuple[int, int]]:
    """For a tree of ``size`` leaves: level -> (index, width) of the rightmost partial tile.

    Only levels whose rightmost tile is partial (width 1..255) are listed: those are the tiles a
    growing tree appends to, and together they hold every hash of the tree's right edge.
    """
    edge: dict[int, tuple[int, int]] = {}
    level = 0
    count = size
    while count > 0:
        width = count % TILE_WIDTH
        if width:
            edge[level] = (count // TILE_WIDTH, width)
        count //= TILE_WIDTH
        level += 1
    return edge


def _no_storage(keys: Iterable[TileKey]) -> dict[TileKey, bytes]:
    return {}


class TileHashes:
    """``subtree_hash(start, end)`` over tiles, fetched lazily or prefetched in one read."""

    def __init__(
        self, loader: TileLoader = _no_storage, tiles: dict[TileKey, bytes] | None = None
    ) -> None:
        self._loader = loader
        self._tiles: dict[TileKey, bytes] = dict(tiles or {})
        self._memo: dict[tuple[int, int], bytes] = {}

    # -- tile access -------------------------------------------------------------------------
    def prefetch(self, keys: Iterable[TileKey]) -> None:
        missing = [key for key in set(keys) if key not in self._tiles]
        if missing:
            fetched = self._loader(missing)
            for key in missing:
                self._tiles[key] = fetched.get(key, b"")

    def tile(self, key: TileKey) -> bytes:
        if key not in self._tiles:
            self.prefetch([key])
        return self._tiles[key]

    # -- hashes ------------------------------------------------------------------------------
    def perfect(self, height: int, index: int) -> bytes:
        """Hash of the perfect subtree of 2^height leaves starting at leaf index * 2^height."""
        memo_key = (height, index)
        cached = self._memo.get(memo_key)
        if cached is not None:
            return cached
        level, rest = divmod(height, TILE_HEIGHT)
        first = index << rest
        tile_index, offset = divmod(first, TILE_WIDTH)
        data = self.tile((level, tile_index))
        if len(data) == FULL_TILE_BYTES:
            value = full_tile_levels(data)[rest][offset >> rest]
            self._memo[memo_key] = value
            return value
        chunk = data[offset * HASH_SIZE : (offset + (1 << rest)) * HASH_SIZE]
        if len(chunk) != HASH_SIZE << rest:
            raise TreeCorrupted(
                f"tile {level}/{tile_index} holds {len(data) // HASH_SIZE} hashes, "
                f"subtree needs positions up to {offset + (1 << rest)}"
            )
        value = bytes(chunk) if rest == 0 else perfect_root(bytes(chunk))
        self._memo[memo_key] = value
        return value

    def subtree_hash(self, start: int, end: int) -> bytes:
        """MTH of leaves [start, end): perfect aligned ranges are looked up, others split."""
        count = end - start
        if start < 0 or count <= 0:
            raise ValueError(f"empty or negative subtree [{start}, {end})")
        if count & (count - 1) == 0 and start % count == 0:
            return self.perfect(count.bit_length() - 1, start // count)
        split = largest_power_of_two_below(count)
        return node_hash(
            self.subtree_hash(start, start + split), self.subtree_hash(start + split, end)
        )

    def root(self, size: int) -> bytes:
        return EMPTY_ROOT if size == 0 else self.subtree_hash(0, size)


def tiles_needed(run: Callable[[Callable[[int, int], bytes]], object]) -> set[TileKey]:
    """Which tiles ``run(subtree_hash)`` would read: a dry run with placeholder hashes.

    Lets a reader fetch every tile a proof needs in one query instead of one per level.
    """
    needed: set[TileKey] = set()

    def collect(start: int, end: int) -> bytes:
        _collect_range(start, end, needed)
        return bytes(HASH_SIZE)

    run(collect)
    return needed


def _collect_range(start: int, end: int, needed: set[TileKey]) -> None:
    count = end - start
    if count <= 0:
        return
    if count & (count - 1) == 0 and start % count == 0:
        height = count.bit_length() - 1
        level, rest = divmod(height, TILE_HEIGHT)
        needed.add((level, ((start // count) << rest) // TILE_WIDTH))
        return
    split = largest_power_of_two_below(count)
    _collect_range(start, start + split, needed)
    _collect_range(start + split, end, needed)


def append_leaf_hashes(
    size: int, edge_tiles: dict[TileKey, bytes], leaf_hashes: Sequence[bytes]
) -> dict[TileKey, bytes]:
    """Grow a tree of ``size`` leaves by ``leaf_hashes``; return every tile that changed.

    ``edge_tiles`` must hold the current contents of the tiles ``right_edge_tiles(size)`` names.
    A tile that fills up pushes its root one level up, so each leaf costs about two hashes.
    """
    current: dict[int, tuple[int, bytearray]] = {}
    for level, (index, width) in right_edge_tiles(size).items():
        data = edge_tiles.get((level, index), b"")
        if len(data) != width * HASH_SIZE:
            raise TreeCorrupted(
                f"tile {level}/{index} holds {len(data) // HASH_SIZE} hashes, expected {width}"
            )
        current[level] = (index, bytearray(data))
    changed: dict[TileKey, bytearray] = {}

    def push(level: int, position: int, value: bytes) -> None:
        tile_index, offset = divmod(position, TILE_WIDTH)
        held = current.get(level)
        if held is None or held[0] != tile_index:
            held = (tile_index, bytearray())
            current[level] = held
        buffer = held[1]
        if len(buffer) != offset * HASH_SIZE:
            raise TreeCorrupted(f"tile {level}/{tile_index} out of step at position {offset}")
        buffer += value
        changed[(level, tile_index)] = buffer
        if len(buffer) == FULL_TILE_BYTES:
            push(level + 1, tile_index, perfect_root(bytes(buffer)))

    for offset, value in enumerate(leaf_hashes):
        if len(value) != HASH_SIZE:
            raise ValueError("leaf hashes are 32 bytes")
        push(0, size + offset, value)
    return {key: bytes(buffer) for key, buffer in changed.items()}
