"""Slow bodies against a live gunicorn (the production server, with gunicorn.conf.py), over a
real socket: a body trickling in past CIVIC_BODY_TIMEOUT_S is answered 408 in the JSON error
shape and the connection closed, while the server goes on answering others; a body declared over
CIVIC_MAX_REQUEST_BYTES is answered 413 unread. The refusal happens before Django (civic/wsgi.py),
so no view runs and nothing is stored (tests/security/test_body_deadline.py checks that in
process)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import REPO_ROOT

pytestmark = pytest.mark.slow
DEADLINE_S = 1


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answer(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
        head, sep, body = data.partition(b"\r\n\r\n")
        if sep:
            headers = dict(
                line.split(": ", 1)
                for line in head.decode("latin1").split("\r\n")[1:]
                if ": " in line
            )
            lowered = {k.lower(): v for k, v in headers.items()}
            if len(body) >= int(lowered.get("content-length", "0")):
                return int(head.split()[1]), lowered, body
    raise AssertionError(f"no complete answer: {data!r}")


def _request(
    port: int, path: str, body: bytes, declared: int | None = None
) -> tuple[int, dict[str, str], bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body) if declared is None else declared}\r\n\r\n"
        )
        sock.sendall(head.encode() + body)
        return _answer(sock)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """gunicorn with the project's gunicorn.conf.py, embedded settings in a folder of its own."""
    var = tmp_path_factory.mktemp("gunicorn-var")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(
        CIVIC_VAR_DIR=str(var), DEBUG="1", CIVIC_BODY_TIMEOUT_S=str(DEADLINE_S),
        CIVIC_MAX_REQUEST_BYTES="100000", WEB_CONCURRENCY="1", GUNICORN_THREADS="2",
    )  # fmt: skip
    log = (var / "gunicorn.log").open("w")
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "civic.wsgi", "--bind", f"127.0.0.1:{port}"],
        cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while True:
        try:
            if _request(port, "/api/nope", b"{}")[0] == 404:
                break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"gunicorn did not start: {(var / 'gunicorn.log').read_text()}")
        time.sleep(0.2)
    try:
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def test_a_slow_body_is_cut_at_the_deadline_with_a_json_408(server: int) -> None:
    body = json.dumps(
        {"ballot": {}, "ballot_key": "x" * 200, "token": {}, "signature": "y"}
    ).encode()
    sent = 0
    with socket.create_connection(("127.0.0.1", server), timeout=10) as slow:
        slow.sendall(
            b"POST /api/voting/elections/any/ballots HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nContent-Length: "
            + str(len(body)).encode()
            + b"\r\n\r\n"
        )
        # one byte at a time, a pause between each: the whole body would take far longer than
        # the deadline; the server must answer while it is still arriving
        slow.settimeout(0.25)
        answer = b""
        while sent < len(body):
            try:
                slow.sendall(body[sent : sent + 1])
                sent += 1
            except OSError:
                break  # the server closed its reading side
            try:
                answer = slow.recv(65536)
            except TimeoutError:
                continue
            if answer:
                break
        # meanwhile the server still answers everyone else (a thread is free)
        assert _request(server, "/api/nope", b"{}")[0] == 404
        slow.settimeout(10)
        while b"\r\n\r\n" not in answer:
            more = slow.recv(65536)
            assert more, answer
            answer += more
        # and then the server closes that connection (it is not kept alive)
        while slow.recv(65536):
            pass
    assert sent < len(body), "the server waited for the whole slow body"
    head, _, payload = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408"), head
    error = json.loads(payload[: int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])])
    assert error["error"] == "request_timeout" and error["status"] == 408
    assert f"{DEADLINE_S} seconds" in error["detail"]


def test_a_body_declared_over_the_limit_is_refused_unread(server: int) -> None:
    status, headers, payload = _request(
        server, "/api/voting/elections/any/ballots", b"{}", declared=10**9
    )
    assert status == 413 and headers["content-type"] == "application/json"
    assert json.loads(payload)["error"] == "payload_too_large"


def test_a_prompt_body_goes_through(server: int) -> None:
    status, headers, payload = _request(
        server, "/api/nope", json.dumps({"a": "b" * 50_000}).encode()
    )
    assert status == 404 and json.loads(payload)["error"] == "not_found"
