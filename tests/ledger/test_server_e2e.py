"""End to end: the real observer program follows a live Civic server over HTTP, cosigns, and the
server serves the cosigned checkpoint; tampering with the database is then caught with evidence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.middleware.security import SecurityMiddleware

from civic_observer import cli
from civic_tlog import merkle, note, tree
from ledger import sequencer, services
from ledger.models import Checkpoint, Entry, Log, OutboxEntry, Tile
from tests.ledger.server_fixtures import append_many, ledger_keys  # noqa: F401 (fixture)

pytestmark = [pytest.mark.usefixtures("ledger_keys"), pytest.mark.django_db(transaction=True)]


def publish() -> None:
    sequencer.sequence_all()
    services.sign_checkpoints()


def start_observer(state: Path, capsys: pytest.CaptureFixture[str]) -> str:
    assert cli.main(["init", "--state", str(state), "--name", "observer.e2e"]) == 0
    vkey = capsys.readouterr().out.strip().splitlines()[-1]
    services.register_observer(vkey)
    return vkey


def follow(server: str, state: Path) -> int:
    return cli.main(["follow", "--server", server, "--state", str(state), "--once"])


def evidence_files(state: Path) -> list[dict]:
    return [json.loads(path.read_text()) for path in sorted((state / "evidence").glob("*.json"))]


@pytest.fixture
def witnessed(
    live_server,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[str, Path]:
    """A server with two logs, followed once by a fresh observer that cosigned both."""
    # The live test server speaks plain HTTP; with DEBUG off (DATABASE_URL set) the security
    # middleware would redirect every request to https.
    monkeypatch.setattr(SecurityMiddleware, "process_request", lambda self, request: None)
    append_many("city", 300)
    append_many("credentials", 5, kind="credential.issued")
    publish()
    state = tmp_path / "observer"
    vkey = start_observer(state, capsys)
    assert follow(live_server.url, state) == 0
    for log in Log.objects.all():
        checkpoint = Checkpoint.objects.get(log=log, size=log.tree_size)
        assert checkpoint.cosignatures.get().observer.verifier_key == vkey
    return live_server.url, state


def test_observer_cosigns_and_server_serves_it(
    witnessed: tuple[str, Path], client, capsys: pytest.CaptureFixture[str]
) -> None:
    server, state = witnessed
    city = Log.objects.get(name="city")
    observer_vkey = city_observer_key()
    text = client.get("/ledger/city/checkpoint").content.decode()
    _, verified = note.open_note(text, [city.verifier_key, observer_vkey])
    assert sorted(v.name for v in verified) == sorted([city.origin, "observer.e2e"])
    summary = {log["name"]: log for log in client.get("/api/ledger/logs").json()["logs"]}
    assert summary["city"]["latest_witnessed_size"] == 300
    assert summary["credentials"]["latest_witnessed_size"] == 5
    # The log grows; the observer checks consistency and cosigns the new checkpoint too.
    append_many("city", 30, start=300)
    publish()
    assert follow(server, state) == 0
    assert client.get("/api/ledger/logs").json()["logs"][0]["latest_witnessed_size"] == 330
    # A receipt downloaded now verifies offline with the observer's own tool.
    receipt = client.get("/api/ledger/city/entries/17").json()["receipt"]
    path = state.parent / "receipt.json"
    path.write_text(json.dumps(receipt))
    capsys.readouterr()
    assert cli.main(["check-receipt", str(path)]) == 0
    assert "RECEIPT VALID" in capsys.readouterr().out


def city_observer_key() -> str:
    from ledger.models import Observer

    return Observer.objects.get(name="observer.e2e").verifier_key


def caught_in_city(server: str, state: Path, kinds: set[str]) -> dict:
    """Follow once: the observer must refuse, with exactly one evidence file about the city log."""
    assert follow(server, state) == 1
    [evidence] = evidence_files(state)
    assert evidence["log"] == "city"
    assert evidence["kind"] in kinds, evidence["message"]
    return evidence


def test_tampered_entry_payload_is_caught(witnessed: tuple[str, Path]) -> None:
    server, state = witnessed
    city = Log.objects.get(name="city")
    forged = services.entry_bytes("test.event", {"n": 999_999})
    assert Entry.objects.filter(log=city, index=42).update(entry=forged) == 1
    caught_in_city(server, state, {"rewritten_entry", "tile_mismatch"})


def test_tampered_leaf_hash_is_caught(witnessed: tuple[str, Path]) -> None:
    server, state = witnessed
    city = Log.objects.get(name="city")
    tile = Tile.objects.get(log=city, level=0, index=0)
    hashes = bytearray(bytes(tile.hashes))
    hashes[7 * 32] ^= 0xFF
    Tile.objects.filter(pk=tile.pk).update(hashes=bytes(hashes))
    caught_in_city(server, state, {"tile_mismatch", "root_mismatch"})


def test_rolled_back_log_is_caught(witnessed: tuple[str, Path]) -> None:
    """The operator rewinds the city log to 100 entries and writes a different history."""
    server, state = witnessed
    city = Log.objects.get(name="city")
    keep = 100
    leaves = [
        bytes(h)
        for h in Entry.objects.filter(log=city, index__lt=keep)
        .order_by("index")
        .values_list("leaf_hash", flat=True)
    ]
    Entry.objects.filter(log=city, index__gte=keep).delete()
    OutboxEntry.objects.filter(log=city).delete()
    Checkpoint.objects.filter(log=city, size__gt=keep).delete()
    Tile.objects.filter(log=city).delete()
    for (level, index), data in tree.append_leaf_hashes(0, {}, leaves).items():
        Tile.objects.create(log=city, level=level, index=index, hashes=data)
    Log.objects.filter(pk=city.pk).update(
        tree_size=keep, root_hash=merkle.root_from_leaf_hashes(leaves)
    )
    append_many("city", 250, start=10_000)  # a longer, different history
    publish()
    assert Log.objects.get(name="city").tree_size == 350
    evidence = caught_in_city(server, state, {"fork", "rollback"})
    assert evidence["previous_checkpoint"] and evidence["new_checkpoint"]
