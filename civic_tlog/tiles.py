"""C2SP tlog-tiles: tile paths, hash tiles, entry bundles, and which tiles cover a tree.

Pure module: no Django, no I/O. https://c2sp.org/tlog-tiles

A tile at level L, index N holds up to 256 consecutive Merkle tree hashes at height 8*L:
hash i is MTH(D[(N*256+i) * 256**L : (N*256+i+1) * 256**L]). Level 0 holds leaf hashes; entry
bundles hold the entries themselves, each prefixed with a big-endian uint16 length.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from civic_tlog.merkle import HASH_SIZE, leaf_hash, root_from_leaf_hashes

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT  # 256 hashes or entries per full tile
MAX_LEVEL = 63
MAX_ENTRY_SIZE = 0xFFFF
ENTRIES = "entries"

_LEVEL = re.compile(r"0|[1-9][0-9]?")
_WIDTH = re.compile(r"[1-9][0-9]{0,2}")


class TileError(ValueError):
    """A malformed tile path, tile, or entry bundle."""


@dataclass(frozen=True, order=True)
class Tile:
    """One tile (``level`` 0..63) or entry bundle (``level`` is None); width 256 means full."""

    level: int | None
    index: int
    width: int = TILE_WIDTH

    def __post_init__(self) -> None:
        if self.level is not None and not 0 <= self.level <= MAX_LEVEL:
            raise TileError(f"tile level {self.level} outside 0..{MAX_LEVEL}")
        if self.index < 0:
            raise TileError("tile index must be non-negative")
        if not 1 <= self.width <= TILE_WIDTH:
            raise TileError(f"tile width {self.width} outside 1..{TILE_WIDTH}")

    @property
    def is_entries(self) -> bool:
        return self.level is None

    @property
    def is_partial(self) -> bool:
        return self.width < TILE_WIDTH

    @property
    def path(self) -> str:
        level = ENTRIES if self.level is None else str(self.level)
        suffix = f".p/{self.width}" if self.is_partial else ""
        return f"tile/{level}/{encode_index(self.index)}{suffix}"

    @property
    def full(self) -> Tile:
        return Tile(self.level, self.index)

    def leaf_range(self) -> tuple[int, int]:
        """[start, end) of the leaves this tile's present hashes (or entries) cover."""
        span = TILE_WIDTH ** (self.level or 0)
        start = self.index * TILE_WIDTH * span
        return start, start + self.width * span


def encode_index(index: int) -> str:
    """Tile index as zero-padded 3-digit path elements, all but the last prefixed with 'x'."""
    if index < 0:
        raise TileError("tile index must be non-negative")
    groups = []
    while True:
        groups.append(f"{index % 1000:03d}")
        index //= 1000
        if index == 0:
            break
    groups.reverse()
    return "/".join([*(f"x{g}" for g in groups[:-1]), groups[-1]])


def tile_path(level: int, index: int, width: int = TILE_WIDTH) -> str:
    return Tile(level, index, width).path


def entries_path(index: int, width: int = TILE_WIDTH) -> str:
    return Tile(None, index, width).path


def parse_tile_path(path: str) -> Tile:
    """Strictly parse ``[tile/]<L|entries>/<N>[.p/<W>]`` into a ``Tile``.

    Only the canonical spelling is accepted (no leading zero groups, no ``.p/256``, no
    leading zeroes in L or W), so one tile has exactly one path and one cache entry.
    """
    parts = path.split("/")
    if parts and parts[0] == "tile":
        parts = parts[1:]
    if len(parts) < 2:
        raise TileError(f"malformed tile path {path!r}")
    level_text, rest = parts[0], parts[1:]
    if level_text == ENTRIES:
        level = None
    elif _LEVEL.fullmatch(level_text) and int(level_text) <= MAX_LEVEL:
        level = int(level_text)
    else:
        raise TileError(f"bad tile level {level_text!r} in {path!r}")
    width = TILE_WIDTH
    if len(rest) >= 2 and rest[-2].endswith(".p"):
        if not _WIDTH.fullmatch(rest[-1]) or int(rest[-1]) >= TILE_WIDTH:
            raise TileError(f"bad partial width {rest[-1]!r} in {path!r}")
        width = int(rest[-1])
        rest = [*rest[:-2], rest[-2][:-2]]
    if not rest:
        raise TileError(f"missing tile index in {path!r}")
    index = 0
    for position, element in enumerate(rest):
        last = position == len(rest) - 1
        digits = element if last else element[1:]
        if (not last and not element.startswith("x")) or not re.fullmatch(r"[0-9]{3}", digits):
            raise TileError(f"bad tile index element {element!r} in {path!r}")
        index = index * 1000 + int(digits)
    if encode_index(index) != "/".join(rest):
        raise TileError(f"non-canonical tile index in {path!r}")
    return Tile(level, index, width)


# --- contents --------------------------------------------------------------------------------


def encode_hash_tile(hashes: Sequence[bytes]) -> bytes:
    if not 1 <= len(hashes) <= TILE_WIDTH or any(len(h) != HASH_SIZE for h in hashes):
        raise TileError("a hash tile holds 1..256 hashes of 32 bytes")
    return b"".join(hashes)


def decode_hash_tile(data: bytes, width: int = TILE_WIDTH) -> list[bytes]:
    if len(data) != width * HASH_SIZE:
        raise TileError(f"hash tile is {len(data)} bytes, expected {width * HASH_SIZE}")
    return [data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)]


def encode_entry_bundle(entries: Sequence[bytes]) -> bytes:
    if not 1 <= len(entries) <= TILE_WIDTH:
        raise TileError("an entry bundle holds 1..256 entries")
    out = bytearray()
    for entry in entries:
        if len(entry) > MAX_ENTRY_SIZE:
            raise TileError(f"entry of {len(entry)} bytes exceeds the 65535-byte limit")
        out += len(entry).to_bytes(2, "big") + entry
    return bytes(out)


def decode_entry_bundle(data: bytes, width: int | None = None) -> list[bytes]:
    """Split a bundle into entries; with ``width``, the count must match exactly."""
    entries: list[bytes] = []
    view = memoryview(data)
    pos = 0
    while pos < len(view):
        if pos + 2 > len(view):
            raise TileError("entry bundle truncated inside a length prefix")
        size = int.from_bytes(view[pos : pos + 2], "big")
        pos += 2
        if pos + size > len(view):
            raise TileError("entry bundle truncated inside an entry")
        entries.append(bytes(view[pos : pos + size]))
        pos += size
    if width is not None and len(entries) != width:
        raise TileError(f"entry bundle has {len(entries)} entries, expected {width}")
    return entries


# --- which tiles cover a tree ----------------------------------------------------------------


def tiles_for_size(size: int, *, include_entries: bool = False) -> list[Tile]:
    """Every non-empty tile (full and partial) of a tree of ``size`` leaves, level by level."""
    if size < 0:
        raise TileError("tree size must be non-negative")
    tiles: list[Tile] = []
    if include_entries:
        tiles.extend(_level_tiles(None, size))
    level = 0
    while level <= MAX_LEVEL:
        count = size // TILE_WIDTH**level  # nodes at height 8*level
        if count == 0:
            break
        tiles.extend(_level_tiles(level, count))
        level += 1
    return tiles


def _level_tiles(level: int | None, count: int) -> Iterator[Tile]:
    full, partial = divmod(count, TILE_WIDTH)
    for index in range(full):
        yield Tile(level, index)
    if partial:
        yield Tile(level, full, partial)


def entry_bundles_for_size(size: int) -> list[Tile]:
    return list(_level_tiles(None, size))


def level_hashes(leaf_hashes: Sequence[bytes], level: int) -> list[bytes]:
    """The node hashes at height 8*level that are complete (full subtrees) in this tree."""
    nodes = list(leaf_hashes)
    for _ in range(level):
        nodes = [
            root_from_leaf_hashes(nodes[i : i + TILE_WIDTH])
            for i in range(0, len(nodes) - TILE_WIDTH + 1, TILE_WIDTH)
        ]
    return nodes


def tile_contents(tile: Tile, nodes_at_level: Sequence[bytes]) -> bytes:
    start = tile.index * TILE_WIDTH
    hashes = nodes_at_level[start : start + tile.width]
    if len(hashes) != tile.width:
        raise TileError(f"{tile.path} is beyond the tree")
    return encode_hash_tile(hashes)


def build_tiles(entries: Sequence[bytes]) -> dict[str, bytes]:
    """Every tile and entry bundle of the log holding ``entries``, keyed by path.

    Used by tests, the benchmark and static exports; a server answers tile requests from
    stored hashes instead.
    """
    hashes = [leaf_hash(e) for e in entries]
    out: dict[str, bytes] = {}
    for bundle in entry_bundles_for_size(len(entries)):
        start, end = bundle.leaf_range()
        out[bundle.path] = encode_entry_bundle(entries[start:end])
    level, nodes = 0, hashes
    while nodes:
        for tile in _level_tiles(level, len(nodes)):
            out[tile.path] = tile_contents(tile, nodes)
        nodes = level_hashes(nodes, 1)
        level += 1
    return out
