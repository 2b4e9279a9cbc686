"""Observer mirror rate: a full ``follow`` of a synthetic 100,000-entry log over local HTTP.

The log is built with civic_tlog.tiles and served as static files (plus the two JSON endpoints a
follow needs) by a threaded http.server on 127.0.0.1. Measured: fetching every bundle and tile,
recomputing every hash, checking the signature, storing the mirror in sqlite, cosigning.

    python bench/observer_sync.py [--entries N]      prints one JSON object
"""

from __future__ import annotations

import argparse
import functools
import io
import json
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import rfc8785

from civic_observer.follower import Follower
from civic_observer.reader import TileLogReader
from civic_observer.state import init_state
from civic_tlog import merkle, note, tiles

LOG_NAME = "bench"


class _Handler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        return None

    def do_POST(self) -> None:  # noqa: N802 - the cosignature sink accepts everything
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = b'{"accepted": true, "witnessed": true, "cosignatures": 1}'
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64


def _write_site(root: Path, count: int) -> tuple[str, str]:
    origin = f"bench.civic.example/ledger/{LOG_NAME}"
    signer, vkey = note.generate_signer(origin)
    entries = [
        rfc8785.dumps({"kind": "bench.event", "payload": {"n": i, "ballot": f"{i:064x}"}, "v": 1})
        for i in range(count)
    ]
    log_dir = root / "ledger" / LOG_NAME
    for path, data in tiles.build_tiles(entries).items():
        target = log_dir / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    body = note.format_checkpoint(origin, count, merkle.root_from_entries(entries))
    (log_dir / "checkpoint").write_text(note.sign_note(body, signer))
    logs = {
        "logs": [{"name": LOG_NAME, "origin": origin, "verifier_key": vkey, "tree_size": count}]
    }
    api = root / "api" / "ledger"
    api.mkdir(parents=True)
    (api / "logs").write_text(json.dumps(logs))
    return origin, vkey


def timed_first_follow(
    base: str, state: Path, register: Callable[[str], object] | None = None
) -> float:
    """Seconds a fresh observer takes for its first full follow of ``base``; it must cosign.

    ``register`` gets the new observer's verifier key before the follow (a real Civic server
    only takes cosignatures from observers an official registered).
    """
    vkey, _ = init_state(state, "bench.observer")
    if register is not None:
        register(vkey)
    follower = Follower(base, state, out=io.StringIO())
    started = time.perf_counter()
    results = follower.run_once()
    elapsed = time.perf_counter() - started
    if [r.status for r in results] != ["cosigned"]:
        raise RuntimeError(f"bench follow did not cosign: {results}")
    return elapsed


def measure_observer_sync(entries: int = 100_000) -> dict:
    """Entries per second for a first full follow, and for the bare tile reader."""
    with tempfile.TemporaryDirectory(prefix="civic-observer-bench-") as tmp:
        root = Path(tmp) / "site"
        origin, vkey = _write_site(root, entries)
        httpd = _Server(("127.0.0.1", 0), functools.partial(_Handler, directory=str(root)))
        thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        thread.start()
        base = f"http://127.0.0.1:{httpd.server_address[1]}"
        try:
            started = time.perf_counter()
            with TileLogReader(f"{base}/ledger/{LOG_NAME}/", origin, vkey) as reader:
                reader.read_tree(reader.checkpoint())
            reader_s = time.perf_counter() - started

            follow_s = timed_first_follow(base, Path(tmp) / "observer")
        finally:
            httpd.shutdown()
            httpd.server_close()
    return {
        "observer_sync_entries": entries,
        "observer_sync_s": round(follow_s, 3),
        "observer_sync_per_s": round(entries / follow_s),
        "observer_reader_only_per_s": round(entries / reader_s),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    args = parser.parse_args()
    print(json.dumps(measure_observer_sync(args.entries)))


if __name__ == "__main__":
    main()
