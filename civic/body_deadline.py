"""A deadline for request bodies, as WSGI middleware around the Django application.

gunicorn bounds how long a connection may sit idle before its first byte, but once a worker
thread starts on a request it reads the body for as long as the client keeps sending, a byte at
a time if it likes: a few slow clients would hold every thread (the "slow POST" attack). So the
body is read here, whole, before Django sees the request, within ``CIVIC_BODY_TIMEOUT_S`` seconds
from the end of the headers; a body that is late is answered 408 (JSON; the connection's reading
side is shut, so it is not kept alive) and never reaches a view, so nothing is stored. A body declared (or, chunked, found) larger than
``CIVIC_MAX_REQUEST_BYTES`` is answered 413 unread.

Under gunicorn the deadline is exact: a watchdog shuts the socket's reading side when it passes,
which ends a ``recv`` that is waiting (gunicorn puts the socket into the environ as
``gunicorn.socket``). Under a server that does not expose its socket the deadline is checked
between reads. Headers that arrive slowly are the proxy's to cut (docs/operations.md).
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
CHUNK = 64 * 1024


class _Late(Exception):
    pass


def _error(
    start_response: Callable[..., Any], status: int, phrase: str, code: str, detail: str
) -> list[bytes]:
    body = json.dumps({"error": code, "detail": detail, "status": status}).encode()
    start_response(
        f"{status} {phrase}",
        [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
    )
    return [body]


class BodyDeadline:
    """Read every request body within ``timeout_s`` and at most ``max_bytes``, then call ``app``
    with the body in memory (``timeout_s`` <= 0 turns the deadline off)."""

    def __init__(self, app: WSGIApp, timeout_s: float, max_bytes: int) -> None:
        self.app = app
        self.timeout_s = timeout_s
        self.max_bytes = max_bytes

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        declared = (environ.get("CONTENT_LENGTH") or "").strip()
        chunked = "chunked" in (environ.get("HTTP_TRANSFER_ENCODING") or "").lower()
        if not chunked and (not declared.isdigit() or int(declared) == 0):
            return self.app(environ, start_response)  # no body (a bad length is Django's to refuse)
        length = None if chunked else int(declared)
        if length is not None and length > self.max_bytes:
            return self._too_large(start_response)
        if self.timeout_s <= 0:
            return self.app(environ, start_response)
        try:
            body = self._read(environ, length)
        except _Late:
            return _error(
                start_response, 408, "Request Timeout", "request_timeout",
                _("The request body did not arrive within %(seconds)s seconds.")
                % {"seconds": f"{self.timeout_s:g}"},
            )  # fmt: skip
        if body is None:
            return self._too_large(start_response)
        if length is not None and len(body) < length:
            return _error(
                start_response, 400, "Bad Request", "incomplete_body",
                _("The connection closed before the whole request body arrived."),
            )  # fmt: skip
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        return self.app(environ, start_response)

    def _too_large(self, start_response: Callable[..., Any]) -> list[bytes]:
        return _error(
            start_response, 413, "Payload Too Large", "payload_too_large",
            _("A request body must be at most %(limit)d bytes.") % {"limit": self.max_bytes},
        )  # fmt: skip

    def _read(self, environ: dict[str, Any], length: int | None) -> bytes | None:
        """The body (None: over the size limit); _Late once the deadline passes."""
        stream = environ["wsgi.input"]
        sock = environ.get("gunicorn.socket")
        deadline = time.monotonic() + self.timeout_s
        fired = threading.Event()
        watchdog = None
        if isinstance(sock, socket.socket):

            def cut() -> None:
                fired.set()
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RD)

            watchdog = threading.Timer(self.timeout_s, cut)
            watchdog.daemon = True
            watchdog.start()
        parts: list[bytes] = []
        received = 0
        cap = self.max_bytes + 1
        try:
            while True:
                want = CHUNK if length is None else min(CHUNK, length - received)
                if want <= 0:
                    break
                try:
                    data = stream.read(want)
                except Exception as exc:  # a socket cut by the watchdog, a reset, a parser error
                    if fired.is_set() or time.monotonic() >= deadline:
                        raise _Late from exc
                    logger.info("request body unreadable: %s", exc)
                    break
                if fired.is_set() or time.monotonic() >= deadline:
                    raise _Late
                if not data:
                    break
                parts.append(data)
                received += len(data)
                if received >= cap:
                    return None
        finally:
            if watchdog is not None:
                watchdog.cancel()
        return b"".join(parts)


def wrap(app: WSGIApp) -> WSGIApp:
    """The application with the body deadline of the settings."""
    from django.conf import settings

    return BodyDeadline(app, settings.CIVIC_BODY_TIMEOUT_S, settings.CIVIC_MAX_REQUEST_BYTES)
