"""C2SP tlog-tiles paths, tiles and entry bundles (pure module)."""

from __future__ import annotations

import pytest

from civic_tlog import merkle, tiles
from tests.conftest import conformance_root

TESSERA_LOG = conformance_root() / "c2sp_tlog" / "tessera-testdata-log" / "log"


@pytest.mark.parametrize(
    ("index", "encoded"),
    [(0, "000"), (7, "007"), (999, "999"), (1000, "x001/000"), (1234067, "x001/x234/067"),
     (10**9, "x001/x000/x000/000")],
)  # fmt: skip
def test_index_encoding_matches_spec(index: int, encoded: str) -> None:
    assert tiles.encode_index(index) == encoded
    assert tiles.parse_tile_path(f"tile/0/{encoded}") == tiles.Tile(0, index)


def test_paths_round_trip() -> None:
    for tile in (
        tiles.Tile(0, 0),
        tiles.Tile(3, 1234067, 17),
        tiles.Tile(None, 5, 1),
        tiles.Tile(63, 2),
    ):
        assert tiles.parse_tile_path(tile.path) == tile
        assert tiles.parse_tile_path(tile.path.removeprefix("tile/")) == tile
    assert tiles.tile_path(1, 2, 3) == "tile/1/002.p/3"
    assert tiles.entries_path(1000) == "tile/entries/x001/000"


@pytest.mark.parametrize(
    "path",
    ["tile/0", "tile/00/000", "tile/01/000", "tile/64/000", "tile/-1/000", "tile/entry/000",
     "tile/0/00", "tile/0/0000", "tile/0/x000/001", "tile/0/001/002", "tile/0/x1/000",
     "tile/0/000.p", "tile/0/000.p/0", "tile/0/000.p/256", "tile/0/000.p/01", "tile/0/000.p/1/2",
     "tile/0/000.P/5", "tile/0/abc", "tile/0/٠٠٠", "tile/0/000/", "", "tile//000"],
)  # fmt: skip
def test_malformed_paths_are_rejected(path: str) -> None:
    with pytest.raises(tiles.TileError):
        tiles.parse_tile_path(path)


def test_tiles_for_size_follows_spec_examples() -> None:
    # "a tree of size 70,000 will be represented by 273 full level 0 tiles, one partial level 0
    # tile of width 112, one full level 1 tile, one partial level 1 tile of width 17, and one
    # partial level 2 tile of width 1"
    listing = tiles.tiles_for_size(70_000)
    assert [t for t in listing if t.level == 0 and not t.is_partial] == [
        tiles.Tile(0, i) for i in range(273)
    ]
    assert [t for t in listing if t.is_partial or t.level] == [
        tiles.Tile(0, 273, 112), tiles.Tile(1, 0), tiles.Tile(1, 1, 17), tiles.Tile(2, 0, 1)
    ]  # fmt: skip
    # "a tree of size 256 will be represented by a full level 0 tile and a partial level 1 tile of width 1"
    assert tiles.tiles_for_size(256) == [tiles.Tile(0, 0), tiles.Tile(1, 0, 1)]
    assert tiles.tiles_for_size(0) == []
    assert tiles.entry_bundles_for_size(513) == [
        tiles.Tile(None, 0),
        tiles.Tile(None, 1),
        tiles.Tile(None, 2, 1),
    ]


def test_entry_bundle_round_trip_and_strictness() -> None:
    entries = [b"", b"a", b"x" * 300, bytes(range(256)) * 3]
    data = tiles.encode_entry_bundle(entries)
    assert data[:4] == b"\x00\x00\x00\x01"
    assert tiles.decode_entry_bundle(data, 4) == entries
    with pytest.raises(tiles.TileError, match="expected 5"):
        tiles.decode_entry_bundle(data, 5)
    with pytest.raises(tiles.TileError, match="inside an entry"):
        tiles.decode_entry_bundle(data[:-1])
    with pytest.raises(tiles.TileError, match="length prefix"):
        tiles.decode_entry_bundle(data + b"\x00")
    with pytest.raises(tiles.TileError):
        tiles.encode_entry_bundle([b"x" * 65536])
    with pytest.raises(tiles.TileError):
        tiles.encode_entry_bundle([])


def test_hash_tile_strictness() -> None:
    hashes = [merkle.leaf_hash(bytes([i])) for i in range(3)]
    data = tiles.encode_hash_tile(hashes)
    assert tiles.decode_hash_tile(data, 3) == hashes
    for bad_width in (2, 4):
        with pytest.raises(tiles.TileError):
            tiles.decode_hash_tile(data, bad_width)
    with pytest.raises(tiles.TileError):
        tiles.decode_hash_tile(data + b"\x00", 3)
    with pytest.raises(tiles.TileError):
        tiles.encode_hash_tile([b"short"])


def test_built_tiles_hash_up_to_the_root() -> None:
    entries = [f"entry {i}".encode() for i in range(256 * 3 + 5)]
    built = tiles.build_tiles(entries)
    hashes = [merkle.leaf_hash(e) for e in entries]
    assert set(built) == {t.path for t in tiles.tiles_for_size(len(entries), include_entries=True)}
    assert tiles.decode_hash_tile(built["tile/0/001"]) == hashes[256:512]
    assert tiles.decode_entry_bundle(built["tile/entries/003.p/5"], 5) == entries[768:]
    level1 = tiles.decode_hash_tile(built["tile/1/000.p/3"], 3)
    assert level1 == [
        merkle.root_from_leaf_hashes(hashes[i * 256 : (i + 1) * 256]) for i in range(3)
    ]
    assert tiles.Tile(1, 0, 3).leaf_range() == (0, 768)
    assert tiles.Tile(0, 3, 5).leaf_range() == (768, 773)


def test_tessera_tiles_decode_with_this_module() -> None:
    bundle = tiles.decode_entry_bundle((TESSERA_LOG / "tile/entries/000.p/15").read_bytes(), 15)
    level0 = tiles.decode_hash_tile((TESSERA_LOG / "tile/0/000.p/15").read_bytes(), 15)
    assert level0 == [merkle.leaf_hash(e) for e in bundle]
    assert bundle[0] == b"one"
