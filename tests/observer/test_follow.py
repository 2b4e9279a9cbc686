"""The observer's follow loop against a fake Civic server: cosigns honest logs, and on every
kind of misbehaviour exits non-zero with an evidence file and without cosigning."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from civic_observer.cli import main
from civic_observer.state import Store
from civic_tlog import merkle, note, tiles
from tests.observer.observer_fakes import FakeCivic, FakeLog, civic_entry, running


@pytest.fixture
def state(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    folder = tmp_path / "observer"
    assert main(["init", "--state", str(folder), "--name", "observer.test/one"]) == 0
    capsys.readouterr()
    return folder


@pytest.fixture
def observer_vkey(state: Path) -> str:
    return (state / "observer.vkey").read_text().strip()


@pytest.fixture
def city(observer_vkey: str) -> Iterator[tuple[FakeCivic, str]]:
    logs = [
        FakeLog.create("city", 300),
        FakeLog.create("credentials", 5),
        FakeLog.create("election-1", 0),
    ]
    for log in logs:
        log.observers.append(observer_vkey)
    app = FakeCivic(*logs)
    with running(app) as url:
        yield app, url


def follow(state: Path, url: str, *extra: str) -> int:
    return main(["follow", "--server", url, "--once", "--state", str(state), *extra])


def evidence_files(state: Path) -> list[Path]:
    folder = state / "evidence"
    return sorted(folder.glob("*.json")) if folder.exists() else []


def test_init_makes_a_private_cosigner_key(
    state: Path, observer_vkey: str, capsys: pytest.CaptureFixture[str]
) -> None:
    mode = stat.S_IMODE((state / "observer.key").stat().st_mode)
    assert mode == 0o600
    verifier = note.parse_verifier_key(observer_vkey)
    assert (verifier.name, verifier.alg) == ("observer.test/one", note.ALG_COSIGNATURE_V1)
    # A second init keeps the key and prints the same verifier key.
    assert main(["init", "--state", str(state)]) == 0
    assert capsys.readouterr().out.strip() == observer_vkey


def test_follow_once_mirrors_verifies_and_cosigns(
    state: Path, city: tuple[FakeCivic, str], observer_vkey: str
) -> None:
    app, url = city
    assert follow(state, url) == 0
    assert {p["log"] for p in app.posts} == {"city", "credentials", "election-1"}
    for log in app.logs.values():
        ((body, line),) = log.cosignatures
        assert body == log.body
        note.verify_cosignature(body, line, observer_vkey)
        _, sigs = note.open_note(log.checkpoint_note(), [log.verifier_key, observer_vkey])
        assert len(sigs) == 2
    store = Store(state)
    entries, hashes = store.leaves("city")
    assert entries == app.logs["city"].entries
    assert merkle.root_from_leaf_hashes(hashes) == merkle.root_from_entries(entries)
    assert store.tile("city", "tile/0/000") == tiles.build_tiles(entries)["tile/0/000"]
    assert store.tile("city", "tile/1/000.p/1") is not None
    store.close()
    assert evidence_files(state) == []

    # Nothing new: no second cosignature. Growth: a new one, after a consistency check.
    assert follow(state, url) == 0
    assert len(app.posts) == 3
    app.logs["city"].append(600)
    assert follow(state, url, "--incremental") == 0
    assert len(app.logs["city"].cosignatures) == 2
    assert app.logs["city"].cosignatures[-1][0] == app.logs["city"].body
    store = Store(state)
    stored = {r[0] for r in store.db.execute("SELECT path FROM tiles WHERE log = 'city'")}
    store.close()
    expected = {t.path for t in tiles.tiles_for_size(900, include_entries=True)}
    assert stored == expected  # superseded partial tiles (e.g. tile/0/001.p/44) are gone


def test_lost_cosignature_is_sent_again(state: Path, city: tuple[FakeCivic, str]) -> None:
    app, url = city
    assert follow(state, url) == 0
    app.logs["credentials"].cosignatures.clear()
    assert follow(state, url) == 0
    assert len(app.logs["credentials"].cosignatures) == 1


def _expect_misbehaviour(
    state: Path, url: str, app: FakeCivic, kind: str, capsys: pytest.CaptureFixture[str]
) -> dict:
    posts_before = len(app.posts)
    before = set(evidence_files(state))
    assert follow(state, url) == 1
    new = [p for p in evidence_files(state) if p not in before]
    assert len(new) == 1, new
    evidence = json.loads(new[0].read_text())
    assert evidence["kind"] == kind, evidence["message"]
    assert evidence["log"] == "city"
    output = capsys.readouterr().out
    assert "MISBEHAVIOUR" in output and str(new[0]) in output
    assert not [p for p in app.posts[posts_before:] if p["log"] == "city"]
    return evidence


def test_rewritten_entry_is_caught(
    state: Path, city: tuple[FakeCivic, str], capsys: pytest.CaptureFixture[str]
) -> None:
    app, url = city
    assert follow(state, url) == 0
    log = app.logs["city"]
    original = log.entries[3]
    cosigned_note = log.checkpoint_note()
    # The operator rewrites entry 3 everywhere (bundle and tiles) but cannot re-sign history:
    # it keeps serving the checkpoint the observer already cosigned.
    log.entries[3] = civic_entry("test.event", {"n": "rewritten"})
    log.checkpoint_override = cosigned_note
    evidence = _expect_misbehaviour(state, url, app, "rewritten_entry", capsys)
    assert evidence["details"]["index"] == 3
    assert evidence["details"]["mirrored_leaf_hash"] == merkle.leaf_hash(original).hex()
    assert evidence["previous_cosigned_checkpoint"] == cosigned_note


def test_rewritten_history_resigned_is_a_fork(
    state: Path, city: tuple[FakeCivic, str], capsys: pytest.CaptureFixture[str]
) -> None:
    app, url = city
    assert follow(state, url) == 0
    log = app.logs["city"]
    old_note = log.checkpoint_note()
    log.entries[10] = civic_entry("test.event", {"n": "forged"})
    log.append(5)  # grows, re-signs: the server's own consistency proof cannot verify
    evidence = _expect_misbehaviour(state, url, app, "fork", capsys)
    assert evidence["previous_cosigned_checkpoint"] == old_note
    assert evidence["new_checkpoint"] == log.checkpoint_note()
    assert evidence["details"]["consistency_proof"]


def test_same_size_different_root_is_a_fork(
    state: Path, city: tuple[FakeCivic, str], capsys: pytest.CaptureFixture[str]
) -> None:
    app, url = city
    assert follow(state, url) == 0
    app.logs["city"].entries[-1] = civic_entry("test.event", {"n": "swapped"})
    evidence = _expect_misbehaviour(state, url, app, "fork", capsys)
    assert evidence["details"]["old_root"] != evidence["details"]["new_root"]


def test_rollback_is_caught(
    state: Path, city: tuple[FakeCivic, str], capsys: pytest.CaptureFixture[str]
) -> None:
    app, url = city
    assert follow(state, url) == 0
    del app.logs["city"].entries[250:]
    evidence = _expect_misbehaviour(state, url, app, "rollback", capsys)
    assert (evidence["details"]["old_size"], evidence["details"]["new_size"]) == (300, 250)


def test_bogus_consistency_proof_is_caught_even_if_data_is_honest(
    state: Path, city: tuple[FakeCivic, str], capsys: pytest.CaptureFixture[str]
) -> None:
    app, url = city
    assert follow(state, url) == 0
    app.logs["city"].append(10)
    app.logs["city"].bogus_consistency = True
    _expect_misbehaviour(state, url, app, "fork", capsys)


def test_bad_signature_is_caught(
    state: Path, city: tuple[FakeCivic, str], capsys: pytest.CaptureFixture[str]
) -> None:
    app, url = city
    log = app.logs["city"]
    other_signer, _ = note.generate_signer(log.origin)  # same name, another key
    log.checkpoint_override = note.sign_note(log.body, other_signer)
    evidence = _expect_misbehaviour(state, url, app, "bad_signature", capsys)
    assert evidence["new_checkpoint"] == log.checkpoint_override


def test_forged_signature_bytes_are_caught(
    state: Path, city: tuple[FakeCivic, str], capsys: pytest.CaptureFixture[str]
) -> None:
    app, url = city
    log = app.logs["city"]
    genuine = note.sign_note(log.body, log.signer)
    text, (sig,) = note.split_note(genuine)
    forged = note.Signature(sig.name, sig.key_id, bytes([sig.payload[0] ^ 1]) + sig.payload[1:])
    log.checkpoint_override = f"{text}\n{forged.line}\n"
    _expect_misbehaviour(state, url, app, "bad_signature", capsys)


def test_tile_not_matching_entries_is_caught(
    state: Path, city: tuple[FakeCivic, str], capsys: pytest.CaptureFixture[str]
) -> None:
    app, url = city
    log = app.logs["city"]
    good = tiles.build_tiles(log.entries)["tile/0/000"]
    bad = bytearray(good)
    bad[32 * 7] ^= 0x80  # leaf hash 7
    log.tile_overrides["tile/0/000"] = bytes(bad)
    evidence = _expect_misbehaviour(state, url, app, "tile_mismatch", capsys)
    assert evidence["details"]["index"] == 7
    assert evidence["details"]["tile_path"] == "tile/0/000"


def test_upper_level_tile_not_matching_is_caught(
    state: Path, city: tuple[FakeCivic, str], capsys: pytest.CaptureFixture[str]
) -> None:
    app, url = city
    app.logs["city"].tile_overrides["tile/1/000.p/1"] = bytes(32)
    evidence = _expect_misbehaviour(state, url, app, "tile_mismatch", capsys)
    assert evidence["details"]["tile_path"] == "tile/1/000.p/1"


def test_missing_entry_bundle_is_caught(
    state: Path, city: tuple[FakeCivic, str], capsys: pytest.CaptureFixture[str]
) -> None:
    app, url = city
    log = app.logs["city"]
    bundle = tiles.build_tiles(log.entries)["tile/entries/001.p/44"]
    log.tile_overrides["tile/entries/001.p/44"] = bundle[: len(bundle) // 2]  # entries cut off
    _expect_misbehaviour(state, url, app, "missing_data", capsys)
    log.tile_overrides["tile/entries/001.p/44"] = None  # 404
    _expect_misbehaviour(state, url, app, "missing_data", capsys)


def test_changed_log_key_is_caught(
    state: Path, city: tuple[FakeCivic, str], capsys: pytest.CaptureFixture[str]
) -> None:
    app, url = city
    assert follow(state, url) == 0
    log = app.logs["city"]
    new_signer, new_vkey = note.generate_signer(log.origin)
    log.signer, log.advertised_key = new_signer, new_vkey
    evidence = _expect_misbehaviour(state, url, app, "key_change", capsys)
    assert evidence["details"]["served_key"] == new_vkey


def test_explicit_log_key_pin(
    state: Path, city: tuple[FakeCivic, str], capsys: pytest.CaptureFixture[str]
) -> None:
    app, url = city
    _, stranger = note.generate_signer(app.logs["city"].origin)
    assert follow(state, url, "--log-key", f"city={stranger}") == 1
    assert "key_change" in capsys.readouterr().out
    assert not any(p["log"] == "city" for p in app.posts)
    assert follow(state, url, "--log-key", f"city={app.logs['city'].verifier_key}") == 0


def test_never_cosigns_after_misbehaviour_even_if_the_log_recovers(
    state: Path, city: tuple[FakeCivic, str], capsys: pytest.CaptureFixture[str]
) -> None:
    """Once it accepted size 300, a fork stays refused: the observer keeps its own history."""
    app, url = city
    assert follow(state, url) == 0
    log = app.logs["city"]
    honest = list(log.entries)
    log.entries[0] = civic_entry("test.event", {"n": "evil"})
    log.append(1)
    _expect_misbehaviour(state, url, app, "fork", capsys)
    log.entries = honest + [civic_entry("test.event", {"n": "next"})]
    assert follow(state, url) == 0  # the honest continuation is still accepted
    assert log.cosignatures[-1][0] == log.body


def test_unreachable_server_is_an_error_not_evidence(
    state: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert follow(state, "http://127.0.0.1:9") == 3
    assert "error" in capsys.readouterr().out
    assert evidence_files(state) == []


def test_follow_without_init_is_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert follow(tmp_path / "nothing", "http://127.0.0.1:9") == 2
    assert "init" in capsys.readouterr().err


def test_interval_mode_keeps_following_until_misbehaviour(
    state: Path,
    city: tuple[FakeCivic, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Without --once the observer loops; between rounds the log grows, then forks."""
    import civic_observer.follower as follower_module

    app, url = city
    log = app.logs["city"]
    rounds: list[float] = []

    def between_rounds(seconds: float) -> None:
        rounds.append(seconds)
        if len(rounds) == 1:
            log.append(7)  # honest growth: cosigned in round two
        else:
            log.entries[0] = civic_entry("test.event", {"n": "fork"})  # round three: refused

    monkeypatch.setattr(follower_module.time, "sleep", between_rounds)
    assert main(["follow", "--server", url, "--state", str(state), "--interval", "0.5"]) == 1
    assert rounds == [0.5, 0.5]
    assert [body for body, _ in log.cosignatures][-1].split("\n")[1] == "307"
    assert len(evidence_files(state)) == 1
    assert "MISBEHAVIOUR in log city (fork)" in capsys.readouterr().out
    assert main(["follow", "--server", url, "--state", str(state), "--interval", "0"]) == 2


def test_unregistered_observer_gets_a_clear_error_and_retries(
    state: Path, city: tuple[FakeCivic, str], capsys: pytest.CaptureFixture[str]
) -> None:
    app, url = city
    for log in app.logs.values():
        log.observers.clear()
    assert follow(state, url) == 3
    assert "registered" in capsys.readouterr().out
    assert evidence_files(state) == []
    observer_vkey = (state / "observer.vkey").read_text().strip()
    for log in app.logs.values():
        log.observers.append(observer_vkey)
    assert follow(state, url) == 0  # the stored cosignatures are sent again
    assert all(len(log.cosignatures) == 1 for log in app.logs.values())
