"""Interoperability: the observer's tile reader against the log Tessera wrote, served over
HTTP, and against logs built by our own tiles.py (folder, file:// and HTTP)."""

from __future__ import annotations

import functools
import shutil
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from civic_observer.reader import LogMisbehaviour, TileLogReader
from civic_tlog import merkle, note, tiles
from tests.conftest import conformance_root

TESSERA = conformance_root() / "c2sp_tlog" / "tessera-testdata-log"
TESSERA_ORIGIN = "example.com/log/testdata"


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        return None


@pytest.fixture
def static_server() -> Iterator[callable]:
    servers: list[tuple[ThreadingHTTPServer, threading.Thread]] = []

    def serve(folder: Path) -> str:
        handler = functools.partial(_QuietHandler, directory=str(folder))
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        thread.start()
        servers.append((httpd, thread))
        return f"http://127.0.0.1:{httpd.server_address[1]}/"

    yield serve
    for httpd, thread in servers:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


class RecordingReader(TileLogReader):
    """Remembers every path fetched, to prove every file of the log was checked."""

    fetched: set[str]

    def _fetch_all(self, paths):  # type: ignore[no-untyped-def]
        self.fetched = getattr(self, "fetched", set()) | set(paths)
        return super()._fetch_all(paths)


def test_reader_verifies_every_tessera_checkpoint_tile_and_bundle(static_server) -> None:
    url = static_server(TESSERA / "log")
    vkey = (TESSERA / "example.com_log_testdata.vkey").read_text()
    names = ["checkpoint"] + [f"checkpoint.{i}" for i in range(16)]
    assert {p.name for p in (TESSERA / "log").glob("checkpoint*")} == set(names)
    with RecordingReader(url, TESSERA_ORIGIN, vkey) as reader:
        checkpoints = {name: reader.checkpoint(name) for name in names}
        assert [checkpoints[f"checkpoint.{i}"].size for i in range(16)] == list(range(16))
        assert checkpoints["checkpoint"].body == checkpoints["checkpoint.15"].body
        trees = {}
        for i in range(16):
            signed = checkpoints[f"checkpoint.{i}"]
            trees[i] = reader.read_tree(signed)  # raises unless every hash matches
            assert merkle.root_from_entries(trees[i].entries) == signed.root
        for i in range(1, 16):  # consistency between successive checkpoints
            old, new = checkpoints[f"checkpoint.{i - 1}"], checkpoints[f"checkpoint.{i}"]
            reader.check_prefix(old, trees[i])
            if old.size:
                proof = merkle.consistency_proof_from(
                    old.size, new.size, merkle.subtree_hasher(trees[i].leaf_hashes)
                )
                assert merkle.verify_consistency(old.size, new.size, proof, old.root, new.root)
        every_file = {
            str(p.relative_to(TESSERA / "log"))
            for p in (TESSERA / "log" / "tile").rglob("*")
            if p.is_file()
        }
        assert reader.fetched == every_file
    assert trees[15].entries[:3] == [b"one", b"two", b"three"]


def test_reader_accepts_a_local_folder_and_file_url() -> None:
    vkey = (TESSERA / "example.com_log_testdata.vkey").read_text()
    for location in (TESSERA / "log", (TESSERA / "log").as_uri()):
        with TileLogReader(location, TESSERA_ORIGIN, vkey) as reader:
            assert reader.read_tree(reader.checkpoint()).size == 15


def test_reader_rejects_tampered_tessera_copies(tmp_path: Path) -> None:
    vkey = (TESSERA / "example.com_log_testdata.vkey").read_text()
    copy = tmp_path / "log"
    shutil.copytree(TESSERA / "log", copy)
    reader = TileLogReader(copy, TESSERA_ORIGIN, vkey)
    signed = reader.checkpoint()

    tile = copy / "tile/0/000.p/15"
    original = tile.read_bytes()
    tile.write_bytes(original[:40] + bytes([original[40] ^ 1]) + original[41:])
    with pytest.raises(LogMisbehaviour) as caught:
        reader.read_tree(signed)
    assert caught.value.kind == "tile_mismatch" and caught.value.details["index"] == 1
    tile.write_bytes(original)

    bundle = copy / "tile/entries/000.p/15"
    good_bundle = bundle.read_bytes()
    bundle.write_bytes(good_bundle.replace(b"three", b"thrEe"))
    with pytest.raises(LogMisbehaviour, match="does not match"):
        reader.read_tree(signed)
    bundle.write_bytes(good_bundle)

    checkpoint = copy / "checkpoint"
    checkpoint.write_text(checkpoint.read_text().replace("\n15\n", "\n14\n"))
    with pytest.raises(LogMisbehaviour) as caught:
        reader.checkpoint()
    assert caught.value.kind == "bad_signature"
    with pytest.raises(LogMisbehaviour):
        TileLogReader(copy, "example.com/other-origin", vkey).checkpoint("checkpoint.3")


def _export(folder: Path, entries: list[bytes], origin: str, signer: str) -> None:
    for path, data in tiles.build_tiles(entries).items():
        target = folder / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    body = note.format_checkpoint(origin, len(entries), merkle.root_from_entries(entries))
    (folder / "checkpoint").write_text(note.sign_note(body, signer))


@pytest.mark.parametrize("size", [0, 1, 255, 256, 257, 65536 + 300])
def test_own_tiles_are_read_back_by_the_same_reader(
    size: int, tmp_path: Path, static_server
) -> None:
    origin = "civic.example/ledger/export"
    signer, vkey = note.generate_signer(origin)
    entries = [f'{{"kind":"t","payload":{{"n":{i}}},"v":1}}'.encode() for i in range(size)]
    _export(tmp_path, entries, origin, signer)
    # The large tree (level-2 tiles) is read from file:// to keep the suite fast; HTTP is the
    # same code path above the fetcher and is exercised by the smaller sizes.
    location = tmp_path.as_uri() if size > 1000 else static_server(tmp_path)
    with TileLogReader(location, origin, vkey) as reader:
        signed = reader.checkpoint()
        tree = reader.read_tree(signed)
    assert tree.size == size and tree.entries == entries
    assert set(tree.tiles) == {t.path for t in tiles.tiles_for_size(size, include_entries=True)}
