"""The observer's read-only HTTP endpoint serves exactly what it cosigned."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from civic_observer.cli import main
from civic_observer.server import ObserverHTTPServer
from civic_tlog import note
from tests.observer.observer_fakes import FakeCivic, FakeLog, running


@pytest.fixture
def followed_state(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> Iterator[tuple[Path, FakeCivic]]:
    state = tmp_path / "obs"
    assert main(["init", "--state", str(state), "--name", "observer.test/serve"]) == 0
    vkey = (state / "observer.vkey").read_text().strip()
    logs = [FakeLog.create("city", 12), FakeLog.create("credentials", 3)]
    for log in logs:
        log.observers.append(vkey)
    app = FakeCivic(*logs)
    with running(app) as url:
        assert main(["follow", "--server", url, "--once", "--state", str(state)]) == 0
    capsys.readouterr()
    yield state, app


@pytest.fixture
def observer_url(followed_state: tuple[Path, FakeCivic]) -> Iterator[str]:
    state, _ = followed_state
    httpd = ObserverHTTPServer(("127.0.0.1", 0), state, quiet=True)
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    )
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


def test_checkpoints_endpoint_lists_cosigned_checkpoints(
    followed_state: tuple[Path, FakeCivic], observer_url: str
) -> None:
    state, app = followed_state
    vkey = (state / "observer.vkey").read_text().strip()
    reply = httpx.get(f"{observer_url}/checkpoints")
    assert reply.status_code == 200
    data = reply.json()
    assert data["observer"] == vkey
    assert set(data["logs"]) == {log.origin for log in app.logs.values()}
    for log in app.logs.values():
        text, sigs = note.open_note(data["logs"][log.origin], [log.verifier_key, vkey])
        assert text == log.body and len(sigs) == 2


def test_single_checkpoint_and_errors(
    followed_state: tuple[Path, FakeCivic], observer_url: str
) -> None:
    _, app = followed_state
    reply = httpx.get(f"{observer_url}/checkpoint/city")
    assert reply.status_code == 200 and reply.headers["content-type"].startswith("text/plain")
    assert note.split_note(reply.text)[0] == app.logs["city"].body
    assert httpx.get(f"{observer_url}/checkpoint/nope").status_code == 404
    assert httpx.get(f"{observer_url}/checkpoint/..%2Fetc").status_code == 400
    assert httpx.get(f"{observer_url}/other").status_code == 404
    assert httpx.post(f"{observer_url}/checkpoints", content=b"x").status_code == 405
