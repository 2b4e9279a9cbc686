"""The one place ``Tile`` rows are read and written: the sequencer grows them, selectors read them.

``civic_tlog.tree`` computes over tiles it is handed; this module is what hands them over (one
query for any set of tiles) and what stores the tiles a batch changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from django.db import connection

from civic_tlog import tree
from ledger.models import Log, Tile


def load_tiles(log_id: int, keys: Sequence[tree.TileKey]) -> dict[tree.TileKey, bytes]:
    """Fetch several tiles in one query (hand-written: proofs call this on every request and
    the ORM's query building cost more than the query itself)."""
    if not keys:
        return {}
    quote = connection.ops.quote_name
    pairs = " OR ".join([f"({quote('level')} = %s AND {quote('index')} = %s)"] * len(keys))
    # Identifiers are quoted constants; every value is a bound parameter.
    columns = f"{quote('level')}, {quote('index')}, {quote('hashes')}"
    table = quote(Tile._meta.db_table)
    sql = f"SELECT {columns} FROM {table} WHERE {quote('log_id')} = %s AND ({pairs})"  # noqa: S608
    params: list[int] = [log_id]
    for level, index in keys:
        params += [level, index]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {(level, index): bytes(data) for level, index, data in cursor.fetchall()}


def tile_hashes(log: Log, known: Mapping[tree.TileKey, bytes] | None = None) -> tree.TileHashes:
    """The tile callback ``civic_tlog.tree`` computes roots and proofs with, backed by rows."""
    return tree.TileHashes(lambda keys: load_tiles(log.pk, list(keys)), dict(known or {}))


def prefetched_hashes(log: Log, keys: Iterable[tree.TileKey]) -> tree.TileHashes:
    """Tile hashes with ``keys`` already loaded in one query."""
    hashes = tile_hashes(log)
    hashes.prefetch(keys)
    return hashes


def edge_tiles(log: Log) -> dict[tree.TileKey, bytes]:
    """The right-edge tiles of the log's current tree: the only ones an append changes."""
    keys = [(level, index) for level, (index, _) in tree.right_edge_tiles(log.tree_size).items()]
    return load_tiles(log.pk, keys)


def save_tiles(log: Log, changed: Mapping[tree.TileKey, bytes]) -> None:
    """Insert or grow the changed tiles in place (tiles only ever get longer)."""
    Tile.objects.bulk_create(
        [
            Tile(log=log, level=level, index=index, hashes=data)
            for (level, index), data in sorted(changed.items())
        ],
        update_conflicts=True,
        unique_fields=["log", "level", "index"],
        update_fields=["hashes"],
    )


def stored_tile(log: Log, level: int, index: int) -> bytes:
    """One tile's stored bytes (empty when the row does not exist yet)."""
    data = Tile.objects.filter(log=log, level=level, index=index).values_list("hashes", flat=True)
    return bytes(data[0]) if data else b""
