"""A verifying reader for any C2SP tlog-tiles log (Civic's, Tessera's, a folder on disk).

Given where the log lives (``https://…/``, ``file:///…`` or a local folder), its origin and its
verifier key, it fetches the signed checkpoint, every entry bundle and every tile a tree of
that size needs, recomputes all hashes from the entries, and raises ``LogMisbehaviour`` with
the offending data when anything disagrees. It trusts nothing the log computed.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlparse

import httpx

from civic_tlog import merkle, note, tiles

FETCH_THREADS = 4  # more overflows small listen backlogs (http.server: 5) and stalls on SYN retries


class FetchError(Exception):
    """The log could not be reached (network, 5xx): retry later, no one misbehaved (yet)."""


class NotFound(FetchError):
    """The log answered that a resource does not exist."""


class LogMisbehaviour(Exception):
    """Verifiable evidence that the log broke its promises (bad data, not a network hiccup)."""

    def __init__(self, kind: str, message: str, details: dict | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.details = details or {}


class Fetcher(Protocol):
    def get(self, path: str) -> bytes: ...

    def close(self) -> None: ...


class HttpFetcher:
    """GETs paths relative to a base URL, reusing one keep-alive client across threads."""

    def __init__(self, base_url: str, client: httpx.Client | None = None, timeout: float = 30.0):
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self._own_client = client is None
        self.client = client or httpx.Client(timeout=timeout, follow_redirects=True)

    def get(self, path: str) -> bytes:
        url = self.base_url + path
        try:
            response = self.client.get(url)
        except httpx.HTTPError as exc:
            raise FetchError(f"GET {url} failed: {exc}") from exc
        if response.status_code == 404:
            raise NotFound(f"GET {url}: 404 Not Found")
        if response.status_code != 200:
            raise FetchError(f"GET {url}: HTTP {response.status_code}")
        return response.content

    def close(self) -> None:
        if self._own_client:
            self.client.close()


class FileFetcher:
    """Reads a log exported as static files (the layout a tlog-tiles server would serve)."""

    def __init__(self, root: Path):
        self.root = root.resolve()

    def get(self, path: str) -> bytes:
        target = (self.root / path).resolve()
        if not target.is_relative_to(self.root):
            raise NotFound(f"{path} is outside {self.root}")
        try:
            return target.read_bytes()
        except FileNotFoundError as exc:
            raise NotFound(f"{target} does not exist") from exc
        except OSError as exc:
            raise FetchError(f"cannot read {target}: {exc}") from exc

    def close(self) -> None:
        return None


def open_fetcher(location: str | Path) -> Fetcher:
    """``http(s)://`` URL, ``file://`` URL, or a local folder path."""
    text = str(location)
    parsed = urlparse(text)
    if parsed.scheme in ("http", "https"):
        return HttpFetcher(text)
    if parsed.scheme == "file":
        return FileFetcher(Path(unquote(parsed.path)))
    return FileFetcher(Path(text))


@dataclass(frozen=True)
class SignedCheckpoint:
    checkpoint: note.Checkpoint
    body: str
    note_text: str

    @property
    def size(self) -> int:
        return self.checkpoint.size

    @property
    def root(self) -> bytes:
        return self.checkpoint.root_hash


@dataclass
class TreeData:
    """Everything mirrored for one tree size: entries, their leaf hashes, and the raw tiles."""

    size: int
    entries: list[bytes]
    leaf_hashes: list[bytes]
    tiles: dict[str, bytes] = field(default_factory=dict)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


class TileLogReader:
    def __init__(
        self, location: str | Path | Fetcher, origin: str, verifier_key: str | note.Verifier
    ):
        self.fetcher: Fetcher = (
            location if hasattr(location, "get") else open_fetcher(location)  # type: ignore[arg-type]
        )
        self.origin = origin
        self.verifier = (
            verifier_key
            if isinstance(verifier_key, note.Verifier)
            else note.parse_verifier_key(verifier_key)
        )

    def close(self) -> None:
        self.fetcher.close()

    def __enter__(self) -> TileLogReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- checkpoints ---------------------------------------------------------------------

    def checkpoint(self, path: str = "checkpoint") -> SignedCheckpoint:
        raw = self.fetcher.get(path)
        return self.open_checkpoint(raw)

    def open_checkpoint(self, raw: bytes | str) -> SignedCheckpoint:
        """Verify the log's signature and origin; anything else is misbehaviour."""
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
        try:
            checkpoint, body = note.open_checkpoint(raw, self.verifier, self.origin)
        except note.NoteError as exc:
            raise LogMisbehaviour(
                "bad_signature",
                f"checkpoint is not validly signed by {self.verifier.name}: {exc}",
                {"checkpoint_note": text, "log_verifier_key": str(self.verifier)},
            ) from exc
        return SignedCheckpoint(checkpoint, body, text)

    # --- tree ----------------------------------------------------------------------------

    def _fetch_all(self, paths: Sequence[str]) -> list[bytes]:
        def one(path: str) -> bytes:
            try:
                return self.fetcher.get(path)
            except NotFound as exc:
                raise LogMisbehaviour(
                    "missing_data",
                    f"the log does not serve {path}, which its checkpoint requires",
                    {"path": path},
                ) from exc

        if len(paths) <= 1:
            return [one(p) for p in paths]
        with ThreadPoolExecutor(max_workers=FETCH_THREADS) as pool:
            return list(pool.map(one, paths))

    def read_tree(
        self,
        signed: SignedCheckpoint,
        *,
        known: TreeData | None = None,
        audit: bool = True,
        progress: Callable[[int], None] | None = None,
    ) -> TreeData:
        """Fetch and verify every entry and tile of the checkpoint's tree.

        ``known`` is what was mirrored before (a prefix of this tree, if the log is honest).
        With ``audit`` every bundle and tile is fetched again and compared with the mirror;
        without it, only the bundles and tiles that hold new leaves are fetched.
        """
        size = signed.size
        known_size = known.size if known else 0
        if known and known_size > size:
            raise LogMisbehaviour(
                "rollback",
                f"the log shrank from {known_size} to {size} entries",
                {"old_size": known_size, "new_size": size},
            )
        entries = list(known.entries[:known_size]) if known else []
        hashes = list(known.leaf_hashes[:known_size]) if known else []
        first_bundle = 0 if audit else known_size // tiles.TILE_WIDTH
        entries = entries[: first_bundle * tiles.TILE_WIDTH]
        hashes = hashes[: first_bundle * tiles.TILE_WIDTH]
        fetched: dict[str, bytes] = {}

        bundles = [b for b in tiles.entry_bundles_for_size(size) if b.index >= first_bundle]
        level0 = [t for t in tiles.tiles_for_size(size) if t.level == 0 and t.index >= first_bundle]
        batch = 16
        for offset in range(0, len(bundles), batch):
            chunk_b = bundles[offset : offset + batch]
            chunk_t = level0[offset : offset + batch]
            data = self._fetch_all([t.path for t in chunk_b] + [t.path for t in chunk_t])
            for bundle, tile, bundle_data, tile_data in zip(
                chunk_b, chunk_t, data[: len(chunk_b)], data[len(chunk_b) :], strict=True
            ):
                new_entries, new_hashes = self._check_bundle(bundle, tile, bundle_data, tile_data)
                self._check_against_mirror(known, bundle, new_entries)
                entries.extend(new_entries)
                hashes.extend(new_hashes)
                fetched[bundle.path] = bundle_data
                fetched[tile.path] = tile_data
                if progress:
                    progress(len(new_entries))
        self._check_upper_tiles(size, hashes, fetched)
        root = merkle.root_from_leaf_hashes(hashes)
        if root != signed.root:
            raise LogMisbehaviour(
                "root_mismatch",
                f"the entries hash to {root.hex()}, not the checkpoint root {signed.root.hex()}",
                {"computed_root": root.hex(), "checkpoint_note": signed.note_text},
            )
        return TreeData(size, entries, hashes, fetched)

    def _check_bundle(
        self, bundle: tiles.Tile, tile: tiles.Tile, bundle_data: bytes, tile_data: bytes
    ) -> tuple[list[bytes], list[bytes]]:
        details = {
            "bundle_path": bundle.path,
            "tile_path": tile.path,
            "bundle_b64": _b64(bundle_data),
            "tile_b64": _b64(tile_data),
        }
        try:
            new_entries = tiles.decode_entry_bundle(bundle_data, bundle.width)
        except tiles.TileError as exc:
            raise LogMisbehaviour("missing_data", f"{bundle.path}: {exc}", details) from exc
        try:
            served = tiles.decode_hash_tile(tile_data, tile.width)
        except tiles.TileError as exc:
            raise LogMisbehaviour("tile_mismatch", f"{tile.path}: {exc}", details) from exc
        new_hashes = [merkle.leaf_hash(e) for e in new_entries]
        if served != new_hashes:
            first = next(
                i for i, (a, b) in enumerate(zip(served, new_hashes, strict=True)) if a != b
            )
            index = tile.index * tiles.TILE_WIDTH + first
            details.update(
                index=index,
                served_leaf_hash=served[first].hex(),
                leaf_hash_of_entry=new_hashes[first].hex(),
                entry_b64=_b64(new_entries[first]),
            )
            raise LogMisbehaviour(
                "tile_mismatch",
                f"{tile.path} does not match its entries (first at index {index})",
                details,
            )
        return new_entries, new_hashes

    @staticmethod
    def _check_against_mirror(
        known: TreeData | None, bundle: tiles.Tile, new_entries: list[bytes]
    ) -> None:
        if not known:
            return
        start, _ = bundle.leaf_range()
        for offset, entry in enumerate(new_entries):
            index = start + offset
            if index >= known.size:
                return
            if entry != known.entries[index]:
                raise LogMisbehaviour(
                    "rewritten_entry",
                    f"entry {index} differs from the copy mirrored earlier",
                    {
                        "index": index,
                        "mirrored_entry_b64": _b64(known.entries[index]),
                        "mirrored_leaf_hash": known.leaf_hashes[index].hex(),
                        "served_entry_b64": _b64(entry),
                        "served_leaf_hash": merkle.leaf_hash(entry).hex(),
                        "bundle_path": bundle.path,
                    },
                )

    def _check_upper_tiles(self, size: int, hashes: list[bytes], fetched: dict[str, bytes]) -> None:
        upper = [t for t in tiles.tiles_for_size(size) if t.level]
        if not upper:
            return
        served = dict(
            zip([t.path for t in upper], self._fetch_all([t.path for t in upper]), strict=True)
        )
        nodes = hashes
        for level in range(1, max(t.level or 0 for t in upper) + 1):
            nodes = tiles.level_hashes(nodes, 1)
            for tile in (t for t in upper if t.level == level):
                expected = tiles.tile_contents(tile, nodes)
                if served[tile.path] != expected:
                    raise LogMisbehaviour(
                        "tile_mismatch",
                        f"{tile.path} does not match the hashes of the entries below it",
                        {
                            "tile_path": tile.path,
                            "tile_b64": _b64(served[tile.path]),
                            "expected_b64": _b64(expected),
                        },
                    )
                fetched[tile.path] = served[tile.path]

    # --- consistency ---------------------------------------------------------------------

    @staticmethod
    def check_prefix(old: SignedCheckpoint, tree: TreeData) -> None:
        """The old checkpoint's root must be the root of the first old.size mirrored leaves."""
        if old.size > tree.size:
            raise LogMisbehaviour(
                "rollback",
                f"the log shrank from {old.size} to {tree.size} entries",
                {"old_checkpoint": old.note_text},
            )
        root = merkle.root_from_leaf_hashes(tree.leaf_hashes[: old.size])
        if root != old.root:
            proof = (
                merkle.consistency_proof_from(
                    old.size, tree.size, merkle.subtree_hasher(tree.leaf_hashes)
                )
                if old.size > 0
                else []
            )
            raise LogMisbehaviour(
                "fork",
                f"the first {old.size} entries of the new tree hash to {root.hex()}, "
                f"not to the root {old.root.hex()} of the earlier checkpoint",
                {
                    "old_checkpoint": old.note_text,
                    "recomputed_old_root": root.hex(),
                    "consistency_proof_from_mirror": [p.hex() for p in proof],
                },
            )
