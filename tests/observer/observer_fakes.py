"""A small fake Civic ledger server for the observer tests, built from the pure modules only.

It serves the wire contract (logs list, checkpoint, tiles, consistency proofs, cosignature
sink) from in-memory logs, and lets a test tamper with any of it.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import rfc8785

from civic_tlog import merkle, note, tiles


def civic_entry(kind: str, payload: dict) -> bytes:
    return rfc8785.dumps({"kind": kind, "payload": payload, "v": 1})


@dataclass
class FakeLog:
    name: str
    origin: str
    signer: str
    verifier_key: str
    entries: list[bytes] = field(default_factory=list)
    tile_overrides: dict[str, bytes | None] = field(default_factory=dict)  # None -> 404
    checkpoint_override: str | None = None
    advertised_key: str | None = None
    bogus_consistency: bool = False
    cosignatures: list[tuple[str, str]] = field(default_factory=list)  # (body, line)
    witness_threshold: int = 1
    observers: list[str] = field(default_factory=list)

    @classmethod
    def create(cls, name: str, count: int = 0) -> FakeLog:
        origin = f"fake.civic.example/ledger/{name}"
        signer, verifier = note.generate_signer(origin)
        log = cls(name, origin, signer, verifier)
        log.append(count)
        return log

    def append(self, count: int) -> None:
        start = len(self.entries)
        self.entries.extend(civic_entry("test.event", {"n": start + i}) for i in range(count))

    @property
    def body(self) -> str:
        return note.format_checkpoint(
            self.origin, len(self.entries), merkle.root_from_entries(self.entries)
        )

    def checkpoint_note(self) -> str:
        if self.checkpoint_override is not None:
            return self.checkpoint_override
        signed = note.sign_note(self.body, self.signer)
        lines = [line for body, line in self.cosignatures if body == self.body]
        return note.add_signature_lines(signed, lines) if lines else signed

    def tile(self, path: str) -> bytes | None:
        if path in self.tile_overrides:
            return self.tile_overrides[path]
        return tiles.build_tiles(self.entries).get(path)

    def info(self) -> dict:
        return {
            "name": self.name,
            "origin": self.origin,
            "tree_size": len(self.entries),
            "root_hash": merkle.root_from_entries(self.entries).hex(),
            "verifier_key": self.advertised_key or self.verifier_key,
            "witness_threshold": self.witness_threshold,
            "observers": [
                {"name": note.parse_verifier_key(k).name, "verifier_key": k} for k in self.observers
            ],
            "latest_witnessed_size": 0,
        }

    def receipt(self, index: int) -> dict:
        hashes = [merkle.leaf_hash(e) for e in self.entries]
        return {
            "version": 1,
            "log": self.name,
            "origin": self.origin,
            "index": index,
            "entry": base64.b64encode(self.entries[index]).decode(),
            "leaf_hash": hashes[index].hex(),
            "tree_size": len(hashes),
            "inclusion_proof": [h.hex() for h in merkle.inclusion_proof(index, hashes)],
            "checkpoint": self.checkpoint_note(),
            "log_verifier_key": self.verifier_key,
            "observer_verifier_keys": list(self.observers),
            "witness_threshold": self.witness_threshold,
        }


class FakeCivic:
    def __init__(self, *logs: FakeLog):
        self.logs = {log.name: log for log in logs}
        self.posts: list[dict] = []

    def handle(self, method: str, path: str, query: dict, body: bytes) -> tuple[int, str, bytes]:
        parts = [p for p in path.split("/") if p]
        if method == "GET" and parts == ["api", "ledger", "logs"]:
            return _json(200, {"logs": [log.info() for log in self.logs.values()]})
        if len(parts) >= 3 and parts[0] == "ledger" and parts[1] in self.logs:
            log = self.logs[parts[1]]
            rest = "/".join(parts[2:])
            if rest == "checkpoint":
                return 200, "text/plain; charset=utf-8", log.checkpoint_note().encode()
            data = log.tile(rest)
            if data is None:
                return _json(404, {"error": "no such tile"})
            return 200, "application/octet-stream", data
        if len(parts) == 4 and parts[:2] == ["api", "ledger"] and parts[2] in self.logs:
            log = self.logs[parts[2]]
            if method == "GET" and parts[3] == "consistency":
                old, new = int(query["old"][0]), int(query["new"][0])
                hashes = [merkle.leaf_hash(e) for e in log.entries]
                proof = merkle.consistency_proof_from(old, new, merkle.subtree_hasher(hashes))
                if log.bogus_consistency:
                    proof = [bytes(32)] * len(proof)
                return _json(200, {"old": old, "new": new, "proof": [p.hex() for p in proof]})
            if method == "POST" and parts[3] == "cosignatures":
                return self._cosignature(log, body)
        return _json(404, {"error": "not found"})

    def _cosignature(self, log: FakeLog, raw: bytes) -> tuple[int, str, bytes]:
        try:
            payload = json.loads(raw)
            body, line = payload["checkpoint"], payload["cosignature"]
        except (ValueError, KeyError, TypeError):
            return _json(400, {"error": "malformed"})
        self.posts.append({"log": log.name, "checkpoint": body, "cosignature": line})
        sig = note.parse_signature_line(line)
        for key in log.observers:
            verifier = note.parse_verifier_key(key)
            if (verifier.name, verifier.key_id) == (sig.name, sig.key_id):
                try:
                    note.verify_cosignature(body, line, verifier)
                except note.NoteError as exc:
                    return _json(400, {"error": str(exc)})
                log.cosignatures.append((body, line))
                witnessed = len({b for b, _ in log.cosignatures if b == body}) >= 1
                return _json(201, {"accepted": True, "witnessed": witnessed, "cosignatures": 1})
        return _json(404, {"error": "unknown observer key"})


def _json(status: int, payload: dict) -> tuple[int, str, bytes]:
    return status, "application/json", json.dumps(payload).encode()


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        return None

    def _answer(self, method: str) -> None:
        url = urlparse(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        status, content_type, data = self.server.app.handle(
            method, url.path, parse_qs(url.query), body
        )
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802
        self._answer("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._answer("POST")


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, app: FakeCivic):
        self.app = app
        super().__init__(("127.0.0.1", 0), _Handler)


@contextmanager
def running(app: FakeCivic) -> Iterator[str]:
    """Serve ``app`` on a random local port; yield its base URL."""
    httpd = _Server(app)
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
