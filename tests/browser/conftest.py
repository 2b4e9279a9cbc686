"""Real-browser tests: the system's headless Chromium, driven by Playwright scripts in Node.

One Chromium starts per pytest session (``browser_endpoint``); each test gets a live Django
server and runs one script from ``scripts/`` that connects to that browser, drives the pages,
and prints a JSON result the test then checks against the database.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from tests.identity.support_identity import identity_settings  # noqa: F401 - autouse fixture

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = Path(__file__).resolve().parent / "scripts"
CHROMIUM = os.environ.get("CIVIC_CHROMIUM", "/usr/bin/chromium")
SCRIPT_TIMEOUT_S = 90
JOURNEY_STEP_TIMEOUT_S = 180

Drive = Callable[..., dict[str, Any]]


def _node() -> str:
    executable = shutil.which("node")
    assert executable, "Node.js is required for the browser tests (make setup installs it)"
    assert (REPO / "node_modules" / "playwright-core").is_dir(), (
        "playwright-core is missing: run `make setup` (npm ci)"
    )
    assert Path(CHROMIUM).exists(), (
        f"Chromium not found at {CHROMIUM}: run `make setup` as root, or `apt-get install chromium`"
    )
    return executable


@pytest.fixture(scope="session")
def browser_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Start Chromium behind a Playwright browser server; yield its WebSocket endpoint."""
    # The server's diagnostics go to a file: an unread pipe could fill up and stall it.
    log_path = tmp_path_factory.mktemp("browser") / "server.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [_node(), str(SCRIPTS / "browser_server.mjs")],
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
    assert server.stdout is not None and server.stdin is not None
    line = server.stdout.readline()
    if not line:
        server.kill()
        server.wait(timeout=10)
        pytest.fail(f"the browser did not start: {log_path.read_text()}")
    try:
        yield json.loads(line)["wsEndpoint"]
    finally:
        server.stdin.close()  # the server closes Chromium and exits when its stdin ends
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=5)
        server.stdout.close()


@pytest.fixture
def drive(live_server: Any, browser_endpoint: str) -> Drive:
    """``drive("script.mjs", **input)`` runs a scenario against this test's live server."""
    node = _node()

    def run(script: str, **payload: Any) -> dict[str, Any]:
        completed = subprocess.run(
            [node, str(SCRIPTS / script)],
            input=json.dumps({"base": live_server.url, "wsEndpoint": browser_endpoint, **payload}),
            capture_output=True,
            text=True,
            timeout=SCRIPT_TIMEOUT_S,
            cwd=REPO,
            check=False,
        )
        try:
            result = json.loads(completed.stdout)
        except json.JSONDecodeError:
            pytest.fail(
                f"{script} printed no JSON (exit {completed.returncode}): {completed.stderr}"
            )
        if completed.returncode != 0:
            pytest.fail(f"{script} failed at step {result.get('step')!r}:\n{result.get('error')}")
        return result

    return run


def page_errors(console_errors: list[str]) -> list[str]:
    """The console errors and uncaught exceptions the tested pages caused (all of them)."""
    return list(console_errors)


class Journey:
    """A journey script that pauses: it prints ``{"pause": name, ...}`` lines, the test does the
    server-side part (a CLI run, the tally, the scheduler) and answers with ``resume``; the
    browser contexts (cookies, IndexedDB) live on between the parts."""

    def __init__(self, node: str, script: str, payload: dict[str, Any], log_path: Path) -> None:
        self.script, self.log_path, self.base = script, log_path, payload["base"]
        with log_path.open("w") as log:
            self.process = subprocess.Popen(
                [node, str(SCRIPTS / script)],
                cwd=REPO,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
            )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()
        self._send(payload)

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)
        self.lines.put("")

    def _send(self, message: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(message) + "\n")
        self.process.stdin.flush()

    def _read(self, what: str) -> dict[str, Any]:
        try:
            line = self.lines.get(timeout=JOURNEY_STEP_TIMEOUT_S)
        except queue.Empty:
            self.close()
            pytest.fail(
                f"{self.script}: nothing within {JOURNEY_STEP_TIMEOUT_S} s waiting for {what}"
            )
        if not line:
            self.process.wait(timeout=10)
            pytest.fail(
                f"{self.script} ended (exit {self.process.returncode}) before {what}: "
                f"{self.log_path.read_text()[-4000:]}"
            )
        message: dict[str, Any] = json.loads(line)
        if "error" in message:
            self.close()
            pytest.fail(
                f"{self.script} failed at step {message.get('step')!r}:\n{message['error']}"
            )
        return message

    def until(self, name: str) -> dict[str, Any]:
        """Wait for the script's pause ``name`` and return what it reported."""
        message = self._read(f"pause {name!r}")
        assert message.get("pause") == name, message
        return message

    def resume(self, **answer: Any) -> None:
        self._send(answer)

    def finish(self) -> dict[str, Any]:
        result = self._read("the result")
        self.process.wait(timeout=30)
        assert self.process.returncode == 0, result
        return result

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture
def journey(
    live_server: Any, browser_endpoint: str, tmp_path: Path
) -> Iterator[Callable[..., Journey]]:
    """``journey("script.mjs", **input)`` starts a pausing scenario against the live server."""
    node = _node()
    started: list[Journey] = []

    def start(script: str, **payload: Any) -> Journey:
        log_path = tmp_path / f"{script}.{len(started)}.log"
        run = Journey(
            node,
            script,
            {"base": live_server.url, "wsEndpoint": browser_endpoint, **payload},
            log_path,
        )
        started.append(run)
        return run

    yield start
    for run in started:
        run.close()


def languages() -> list[str]:
    """The site's languages, from the settings (every journey page is checked in each)."""
    return [code for code, _ in settings.LANGUAGES]
