"""The server's tile-backed tree (civic_tlog.tree) against the RFC 9162 reference in civic_tlog.merkle,
on many tree sizes grown in uneven batches; plus the signing-key file and the init command."""

from __future__ import annotations

import json
import os
import random
import stat

import pytest
from django.core.management import call_command

from civic_tlog import merkle, tiles, tree
from ledger import keystore
from ledger.models import Log
from tests.ledger.server_fixtures import ledger_keys  # noqa: F401 (fixture)

SIZES = [0, 1, 2, 3, 4, 5, 7, 8, 9, 255, 256, 257, 511, 512, 513, 1023, 1024, 1025, 4097]


def grow(leaves: list[bytes], rng: random.Random) -> dict[tree.TileKey, bytes]:
    """Build the tiles the way the sequencer does: batches of random length onto stored tiles."""
    stored: dict[tree.TileKey, bytes] = {}
    size = 0
    while size < len(leaves):
        batch = leaves[size : size + rng.randint(1, 700)]
        edge = {
            (level, index): stored.get((level, index), b"")
            for level, (index, _) in tree.right_edge_tiles(size).items()
        }
        stored.update(tree.append_leaf_hashes(size, edge, batch))
        size += len(batch)
    return stored


def leaves_of(count: int) -> list[bytes]:
    return [merkle.leaf_hash(n.to_bytes(4, "big")) for n in range(count)]


@pytest.mark.parametrize("size", SIZES)
def test_tiles_roots_and_proofs_equal_the_reference(size: int) -> None:
    rng = random.Random(size)
    leaves = leaves_of(size)
    stored = grow(leaves, rng)
    # Same tiles as a from-scratch C2SP build (tiles.build_tiles works on entries: map paths).
    entries = [n.to_bytes(4, "big") for n in range(size)]
    expected = {
        path: data for path, data in tiles.build_tiles(entries).items() if "entries" not in path
    }
    assert {
        tiles.tile_path(level, index, len(data) // 32): data
        for (level, index), data in stored.items()
    } == expected
    reader = tree.TileHashes(lambda keys: {k: stored[k] for k in keys if k in stored})
    assert reader.root(size) == merkle.root_from_leaf_hashes(leaves)
    for index in rng.sample(range(size), min(size, 12)):
        for tree_size in {index + 1, size}:
            proof = merkle.inclusion_proof_from(index, tree_size, reader.subtree_hash)
            assert proof == merkle.inclusion_proof(index, leaves[:tree_size])
            needed = tree.tiles_needed(
                lambda f, i=index, t=tree_size: merkle.inclusion_proof_from(i, t, f)
            )
            assert needed <= set(stored)
    for old in sorted({0, 1, size // 3, size - 1, size} & set(range(size + 1))):
        proof = merkle.consistency_proof_from(old, size, reader.subtree_hash)
        assert proof == merkle.consistency_proof(old, leaves)


def test_large_tree_crosses_second_level_tiles() -> None:
    size = 256 * 256 + 300  # one full level-1 tile, hence a level-2 hash
    leaves = leaves_of(size)
    stored = grow(leaves, random.Random(1))
    assert len(stored[(1, 0)]) == 256 * 32 and len(stored[(2, 0)]) == 32
    reader = tree.TileHashes(lambda keys: {k: stored[k] for k in keys if k in stored})
    assert reader.root(size) == merkle.root_from_leaf_hashes(leaves)
    for index in [0, 65535, 65536, size - 1, 12345]:
        proof = merkle.inclusion_proof_from(index, size, reader.subtree_hash)
        assert merkle.verify_inclusion(leaves[index], index, size, proof, reader.root(size))


def test_corrupted_edge_tile_is_refused() -> None:
    leaves = leaves_of(10)
    stored = tree.append_leaf_hashes(0, {}, leaves)
    with pytest.raises(tree.TreeCorrupted):
        tree.append_leaf_hashes(11, {(0, 0): stored[(0, 0)]}, leaves_of(1))
    reader = tree.TileHashes(lambda keys: {})
    with pytest.raises(tree.TreeCorrupted):
        reader.root(3)


@pytest.mark.django_db
@pytest.mark.usefixtures("ledger_keys")
def test_signing_keys_live_in_a_private_file(ledger_keys, capsys) -> None:  # noqa: F811
    call_command("ledger_init_logs", "election-42", "--witness-threshold", "2")
    assert sorted(Log.objects.values_list("name", flat=True)) == [
        "city",
        "credentials",
        "election-42",
    ]
    assert stat.S_IMODE(os.stat(ledger_keys).st_mode) == 0o600
    stored = json.loads(ledger_keys.read_text())
    city = Log.objects.get(name="city")
    assert city.witness_threshold == 2
    assert stored[city.signer_key_ref]["verifier"] == city.verifier_key
    assert "PRIVATE" not in city.verifier_key and "PRIVATE" not in capsys.readouterr().out
    call_command("ledger_init_logs")  # re-running keeps the keys
    assert json.loads(ledger_keys.read_text()) == stored
    with pytest.raises(keystore.SignerKeyMissing):
        keystore.signer_key("no-such-log")
    with pytest.raises(SystemExit):
        call_command("ledger_init_logs", "Not A Log")
