"""Real-browser tests: the system's headless Chromium, driven by Playwright scripts in Node.

One Chromium starts per pytest session (``browser_endpoint``); each test gets a live Django
server and runs one script from ``scripts/`` that connects to that browser, drives the pages,
and prints a JSON result the test then checks against the database.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.identity.support_identity import identity_settings  # noqa: F401 - autouse fixture

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = Path(__file__).resolve().parent / "scripts"
CHROMIUM = os.environ.get("CIVIC_CHROMIUM", "/usr/bin/chromium")
SCRIPT_TIMEOUT_S = 90

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
