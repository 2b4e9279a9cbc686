"""``serve``: a tiny read-only HTTP endpoint with the observer's latest cosigned checkpoints.

Voters and other observers compare what each node has seen: two different checkpoints for the
same origin and size, both cosigned, are a fork someone can prove.

    GET /checkpoints          {"observer": "<vkey>", "logs": {"<origin>": "<cosigned note>"}}
    GET /checkpoint/<log>     text/plain cosigned note for one log
"""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlparse

from civic_observer.follower import LOG_NAME
from civic_observer.state import StateError, Store, load_signer


class ObserverHandler(BaseHTTPRequestHandler):
    server: ObserverHTTPServer
    server_version = "civic-observer/1"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib name
        if not self.server.quiet:
            super().log_message(format, *args)

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("Access-Control-Allow-Origin", "*")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, payload: dict) -> None:
        self._send(status, json.dumps(payload, sort_keys=True).encode(), "application/json")

    def do_HEAD(self) -> None:  # noqa: N802 - stdlib naming
        self.do_GET()

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        path = urlparse(self.path).path
        try:
            latest = self.server.latest()
        except StateError as exc:
            self._json(503, {"error": str(exc)})
            return
        if path == "/checkpoints":
            logs = {cp.body.split("\n", 1)[0]: cp.cosigned_note for cp in latest.values()}
            self._json(200, {"observer": self.server.vkey, "logs": logs})
            return
        if path.startswith("/checkpoint/"):
            name = unquote(path[len("/checkpoint/") :])
            if not LOG_NAME.fullmatch(name):
                self._json(400, {"error": "malformed log name"})
                return
            if name not in latest:
                self._json(404, {"error": f"no cosigned checkpoint for log {name!r}"})
                return
            self._send(200, latest[name].cosigned_note.encode(), "text/plain; charset=utf-8")
            return
        self._json(404, {"error": "not found", "endpoints": ["/checkpoints", "/checkpoint/<log>"]})

    def _refuse(self) -> None:
        self._json(405, {"error": "read-only endpoint"})

    do_POST = do_PUT = do_DELETE = do_PATCH = _refuse  # noqa: N815


class ObserverHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], state: Path, *, quiet: bool = False):
        self.state = state
        self.quiet = quiet
        self.vkey = str(load_signer(state).verifier)
        super().__init__(address, ObserverHandler)

    def latest(self) -> dict:
        store = Store(self.state, read_only=True)
        try:
            return store.all_latest()
        finally:
            store.close()


def serve(state: Path, host: str, port: int) -> int:
    httpd = ObserverHTTPServer((host, port), state)
    bound_host, bound_port = httpd.server_address[:2]
    print(
        f"observer {httpd.vkey}\nserving http://{bound_host}:{bound_port}/checkpoints", flush=True
    )
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()
    return 0
