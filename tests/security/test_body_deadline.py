"""civic.body_deadline in process: a late body never reaches the application (so no view runs
and nothing is stored), a chunked body arrives with its length, a short one is refused."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from civic import body_deadline
from civic.body_deadline import BodyDeadline


class Trickle(io.RawIOBase):
    """A body that arrives one byte per read."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def read(self, size: int = -1) -> bytes:
        chunk, self.data = self.data[:1], self.data[1:]
        return chunk


def call(app: BodyDeadline, environ: dict[str, Any]) -> tuple[str, bytes]:
    seen: list[str] = []
    body = b"".join(app(environ, lambda status, headers: seen.append(status)))
    return seen[0], body


def recording_app(calls: list[bytes]) -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        calls.append(environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"])))
        start_response("201 Created", [])
        return [b"stored"]

    return app


def test_a_late_body_never_reaches_the_application(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = iter(range(1000))
    monkeypatch.setattr(body_deadline.time, "monotonic", lambda: next(clock))  # a second per read
    calls: list[bytes] = []
    app = BodyDeadline(recording_app(calls), timeout_s=3, max_bytes=1000)
    status, body = call(app, {"CONTENT_LENGTH": "10", "wsgi.input": Trickle(b"0123456789")})
    assert status.startswith("408") and json.loads(body)["error"] == "request_timeout"
    assert calls == []


def test_prompt_chunked_and_short_bodies() -> None:
    calls: list[bytes] = []
    app = BodyDeadline(recording_app(calls), timeout_s=30, max_bytes=1000)
    assert call(app, {"CONTENT_LENGTH": "5", "wsgi.input": io.BytesIO(b"hello")})[0].startswith(
        "201"
    )
    chunked = {"HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input": io.BytesIO(b"chunked body")}
    assert call(app, chunked)[0].startswith("201")
    assert calls == [b"hello", b"chunked body"]
    status, body = call(app, {"CONTENT_LENGTH": "50", "wsgi.input": io.BytesIO(b"short")})
    assert status.startswith("400") and json.loads(body)["error"] == "incomplete_body"
    too_big = {"HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input": io.BytesIO(b"x" * 5000)}
    assert call(app, too_big)[0].startswith("413")
    assert call(app, {"CONTENT_LENGTH": "5000", "wsgi.input": io.BytesIO(b"")})[0].startswith("413")
    assert len(calls) == 2
