"""check-receipt: a genuine receipt passes; every tampered field fails; bad input exits 2."""

from __future__ import annotations

import base64
import copy
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from civic_observer.cli import main
from civic_tlog import merkle, note
from tests.conftest import REPO_ROOT
from tests.observer.observer_fakes import FakeLog, civic_entry

OBSERVERS = [note.generate_cosigner(f"observer.test/{i}") for i in range(3)]


@pytest.fixture(scope="module")
def receipt() -> dict:
    log = FakeLog.create("election-7", 37)
    log.observers = [vkey for _, vkey in OBSERVERS]
    log.witness_threshold = 2
    for skey, _ in OBSERVERS[:2]:  # two of three observers cosigned
        log.cosignatures.append((log.body, note.cosign(log.body, skey, 1_763_700_000)))
    return log.receipt(21)


def _check(tmp_path: Path, data: dict | str, *extra: str) -> int:
    path = tmp_path / "receipt.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return main(["check-receipt", str(path), *extra])


def test_genuine_receipt_passes(
    tmp_path: Path, receipt: dict, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _check(tmp_path, receipt) == 0
    out = capsys.readouterr().out
    for name in ("leaf hash", "log signature", "tree size", "inclusion proof", "cosignatures"):
        assert f"[PASS] {name}" in out
    assert "2 valid of 2 required" in out and "RECEIPT VALID" in out


def test_receipt_with_independently_pinned_keys(
    tmp_path: Path, receipt: dict, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--log-key", receipt["log_verifier_key"]]
    for vkey in receipt["observer_verifier_keys"]:
        args += ["--observer-key", vkey]
    assert _check(tmp_path, receipt, *args) == 0
    assert "keys were taken from the receipt" not in capsys.readouterr().out
    _, stranger = note.generate_signer(receipt["origin"])
    assert _check(tmp_path, receipt, "--log-key", stranger) == 1


def _flip_hex(value: str) -> str:
    raw = bytearray(bytes.fromhex(value))
    raw[0] ^= 1
    return raw.hex()


def _replace_root(r: dict) -> None:
    text, _ = note.split_note(r["checkpoint"])
    cp = note.parse_checkpoint(text)
    r["checkpoint"] = r["checkpoint"].replace(
        base64.b64encode(cp.root_hash).decode(), base64.b64encode(bytes(32)).decode()
    )


def _drop_cosignature(r: dict) -> None:
    lines = r["checkpoint"].splitlines(keepends=True)
    r["checkpoint"] = "".join(lines[:-1])


def _forge_cosignature(r: dict) -> None:
    lines = r["checkpoint"].splitlines(keepends=True)
    prefix, b64 = lines[-1].rstrip("\n").rsplit(" ", 1)
    raw = bytearray(base64.b64decode(b64))
    raw[-1] ^= 1
    lines[-1] = f"{prefix} {base64.b64encode(bytes(raw)).decode()}\n"
    r["checkpoint"] = "".join(lines)


def _swap_observer_keys(r: dict) -> None:
    r["observer_verifier_keys"] = [
        note.generate_cosigner(f"observer.test/{i}")[1] for i in range(3)
    ]


TAMPERINGS: dict[str, tuple[Callable[[dict], None], str]] = {
    "entry": (
        lambda r: r.update(entry=base64.b64encode(civic_entry("ballot", {"x": 1})).decode()),
        "leaf hash",
    ),
    "leaf_hash": (lambda r: r.update(leaf_hash=_flip_hex(r["leaf_hash"])), "leaf hash"),
    "index": (lambda r: r.update(index=r["index"] + 1), "inclusion proof"),
    "tree_size": (lambda r: r.update(tree_size=r["tree_size"] + 1), "tree size"),
    "proof_element": (
        lambda r: r["inclusion_proof"].__setitem__(2, _flip_hex(r["inclusion_proof"][2])),
        "inclusion proof",
    ),
    "proof_truncated": (lambda r: r["inclusion_proof"].pop(), "inclusion proof"),
    "checkpoint_root": (_replace_root, "log signature"),
    "origin": (lambda r: r.update(origin="fake.civic.example/ledger/other"), "log signature"),
    "log_key": (
        lambda r: r.update(log_verifier_key=note.generate_signer(r["origin"])[1]),
        "log signature",
    ),
    "cosignature_removed": (_drop_cosignature, "cosignatures"),
    "cosignature_forged": (_forge_cosignature, "cosignatures"),
    "observer_keys": (_swap_observer_keys, "cosignatures"),
    "threshold": (lambda r: r.update(witness_threshold=3), "cosignatures"),
    "threshold_zero": (lambda r: r.update(witness_threshold=0), "cosignatures"),
}


@pytest.mark.parametrize("field", sorted(TAMPERINGS))
def test_each_tampered_field_is_rejected(
    field: str, tmp_path: Path, receipt: dict, capsys: pytest.CaptureFixture[str]
) -> None:
    tamper, failing_check = TAMPERINGS[field]
    forged = copy.deepcopy(receipt)
    tamper(forged)
    assert _check(tmp_path, forged) == 1
    captured = capsys.readouterr()
    assert f"[FAIL] {failing_check}" in captured.out
    assert "RECEIPT INVALID" in captured.err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "not a valid receipt"),
        (json.dumps({"version": 2}), "unsupported receipt version"),
        (json.dumps({"version": 1}), "no 'entry' field"),
    ],
)
def test_malformed_receipt_files_exit_2(
    content: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _check(tmp_path, content) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_wrongly_typed_fields_exit_2(
    tmp_path: Path, receipt: dict, capsys: pytest.CaptureFixture[str]
) -> None:
    for field, value in (
        ("index", "3"),
        ("entry", "***"),
        ("leaf_hash", "zz"),
        ("inclusion_proof", "ab"),
    ):
        broken = dict(receipt, **{field: value})
        assert _check(tmp_path, broken) == 2
        assert field in capsys.readouterr().err


def test_missing_file_and_bad_usage_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check-receipt", str(tmp_path / "absent.json")]) == 2
    assert "receipt file not found" in capsys.readouterr().err
    assert main(["no-such-command"]) == 2
    assert main(["follow"]) == 2  # --server is required
    assert main(["follow", "--server", "http://x", "--log-key", "nonsense"]) == 2
    assert "NAME=VKEY" in capsys.readouterr().err


def test_module_entry_point_runs(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "civic_observer", "check-receipt", str(tmp_path / "absent.json")],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "receipt file not found" in result.stderr and "Traceback" not in result.stderr


def test_leaf_hash_in_receipt_is_rfc9162(receipt: dict) -> None:
    entry = base64.b64decode(receipt["entry"])
    assert bytes.fromhex(receipt["leaf_hash"]) == merkle.leaf_hash(entry)
    assert json.loads(entry)["v"] == 1



def test_other_bad_cli_input_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = tmp_path / "s"
    assert main(["init", "--state", str(state)]) == 0
    assert main(["follow", "--server", "not a url", "--state", str(state), "--once"]) == 2
    assert "http(s) URL" in capsys.readouterr().err
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["init", "--state", str(blocker / "sub")]) == 2
    assert main(["init", "--state", str(tmp_path / "t"), "--name", "has space"]) == 2
    assert main(["serve", "--state", str(tmp_path / "uninitialised"), "--port", "0"]) == 2
    assert main(["serve", "--state", str(state), "--port", "70000"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("error:") == 4


def test_state_folder_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CIVIC_OBSERVER_STATE", raising=False)
    assert main(["init"]) == 0
    assert (tmp_path / "var" / "observer" / "observer.key").exists()
    monkeypatch.setenv("CIVIC_OBSERVER_STATE", str(tmp_path / "elsewhere"))
    assert main(["init"]) == 0
    assert (tmp_path / "elsewhere" / "observer.key").exists()
    first, second = capsys.readouterr().out.split()
    assert first != second and note.parse_verifier_key(second).name == "civic-observer"
