"""The trustee program's network command without a server: where the credential may come from
(environment or a 0600 file, never an argument), bounded polling, and one-line errors with their
exit codes (2 unusable input, 3 network). The ceremony itself runs in tests/voting."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest

from civic_votecrypto import trustee, trustee_client


def run(*argv: str | Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = trustee.main([str(a) for a in argv])
        except SystemExit as exc:
            code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


def ceremony(tmp_path: Path, *extra: str) -> tuple[int, str, str]:
    return run(
        "ceremony", "--server", "http://127.0.0.1:9", "--election", "e1",
        "--key-file", tmp_path / "t.key", *extra,
    )  # fmt: skip


def test_no_credential_is_unusable_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(trustee_client.TOKEN_ENV, raising=False)
    code, _, err = ceremony(tmp_path)
    assert code == 2 and "CIVIC_TRUSTEE_TOKEN" in err and err.count("\n") == 1


def test_the_credential_is_never_an_argument(tmp_path: Path) -> None:
    code, _, err = ceremony(tmp_path, "--token", "abc.def")
    assert code == 2 and "unrecognized arguments" in err


def test_a_token_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("0123456789abcdef." + "a" * 43 + "\n")
    token.chmod(0o644)
    code, _, err = ceremony(tmp_path, "--token-file", str(token))
    assert code == 2 and "chmod 600" in err
    token.chmod(0o600)
    assert trustee_client.read_token(str(token)) == "0123456789abcdef." + "a" * 43


def test_unreachable_server_is_a_network_problem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(trustee_client.TOKEN_ENV, "0123456789abcdef." + "a" * 43)
    code, _, err = ceremony(tmp_path)
    assert code == 3 and err.startswith("network: cannot reach http://127.0.0.1:9/")
    assert not (tmp_path / "t.key").exists()


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (("--poll-interval", "0.1"), "--poll-interval"),
        (("--poll-interval", "600"), "--poll-interval"),
        (("--timeout", "0"), "--timeout"),
    ],
)
def test_bounded_polling(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, extra: tuple[str, str], needle: str) -> None:
    monkeypatch.setenv(trustee_client.TOKEN_ENV, "0123456789abcdef." + "a" * 43)
    code, _, err = ceremony(tmp_path, *extra)
    assert code == 2 and needle in err


def test_a_server_url_must_be_http(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(trustee_client.TOKEN_ENV, "0123456789abcdef." + "a" * 43)
    code, _, err = run("ceremony", "--server", "ftp://x", "--election", "e", "--key-file", tmp_path / "k")
    assert code == 2 and "http:// or https://" in err


def test_waiting_doubles_up_to_the_poll_interval_and_times_out(monkeypatch: pytest.MonkeyPatch) -> None:
    class Waiting:
        def step(self) -> trustee_client.Progress:
            return trustee_client.Progress("waiting for the announcement of trustee(s) 2 (Bob)", waiting=True)

    clock = [1000.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock[0] += seconds

    monkeypatch.setattr(trustee_client.time, "monotonic", lambda: clock[0])
    said: list[str] = []
    with pytest.raises(trustee.NetworkProblem, match="timed out after 10 s waiting for the announcement"):
        trustee_client.run_ceremony(Waiting(), timeout=10, poll_interval=2, say=said.append, sleep=sleep)  # type: ignore[arg-type]
    assert said == ["waiting for the announcement of trustee(s) 2 (Bob) ..."]  # said once, not per poll
    assert slept[:5] == [0.2, 0.4, 0.8, 1.6, 2] and max(slept) == 2 and sum(slept) <= 10
