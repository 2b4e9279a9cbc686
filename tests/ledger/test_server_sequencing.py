"""Write path: append -> outbox -> sequencer -> tiles -> checkpoint, including faults."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections, transaction
from kombu.exceptions import OperationalError

from civic import celery_app
from civic_tlog import merkle, note, tree
from ledger import sequencer, services, tasks
from ledger.errors import InvalidEntry, UnknownLog
from ledger.models import Checkpoint, Entry, Log, OutboxEntry, Tile
from tests.ledger.server_fixtures import (  # noqa: F401 (fixture)
    append_many,
    assert_tree_sound,
    entries_in_order,
    ledger_keys,
)

pytestmark = pytest.mark.usefixtures("ledger_keys")
REAL_KICK = services._kick_sequencer


@pytest.mark.django_db
def test_append_only_writes_outbox_row_in_callers_transaction() -> None:
    with transaction.atomic():
        row = services.append("city", "demo.seeded", {"city": "Demo"})
        assert OutboxEntry.objects.filter(pk=row.pk, sequenced_at__isnull=True).exists()
    assert not Entry.objects.exists()
    assert bytes(row.entry) == b'{"kind":"demo.seeded","payload":{"city":"Demo"},"v":1}'
    assert bytes(row.leaf_hash) == merkle.leaf_hash(bytes(row.entry))


@pytest.mark.django_db
def test_rolled_back_caller_leaves_no_entry() -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        services.append("city", "x.y", {"a": 1})
        raise RuntimeError("the caller's record failed")
    assert not OutboxEntry.objects.exists()
    sequencer.sequence_all()
    assert not Entry.objects.exists()


@pytest.mark.django_db
def test_append_sequence_sign_round_trip() -> None:
    append_many("city", 700)
    results = sequencer.sequence_all(limit=256)
    assert [r.taken for r in results] == [256, 256, 188]
    log = assert_tree_sound("city")
    assert log.tree_size == 700
    checkpoints = services.sign_checkpoints()
    assert [c.size for c in checkpoints] == [700]
    checkpoint, _ = note.open_checkpoint(checkpoints[0].note, log.verifier_key, log.origin)
    assert checkpoint.size == 700
    assert checkpoint.root_hash == merkle.root_from_entries(entries_in_order(log))
    assert services.sign_checkpoints() == []  # idempotent: the tree did not grow
    # Stored tiles are exactly the tiles of a from-scratch build.
    stored = {(t.level, t.index): bytes(t.hashes) for t in Tile.objects.filter(log=log)}
    leaves = [merkle.leaf_hash(e) for e in entries_in_order(log)]
    assert stored == tree.append_leaf_hashes(0, {}, leaves)


@pytest.mark.django_db
def test_identical_entries_share_one_index() -> None:
    first = services.append("credentials", "credential.issued", {"c": "abc"})
    services.append("credentials", "credential.issued", {"c": "other"})
    sequencer.sequence_all()
    again = services.append("credentials", "credential.issued", {"c": "abc"})
    same_batch = services.append("credentials", "credential.issued", {"c": "new"})
    dup_in_batch = services.append("credentials", "credential.issued", {"c": "new"})
    sequencer.sequence_all()
    log = assert_tree_sound("credentials")
    assert log.tree_size == 3
    rows = {r.pk: r for r in OutboxEntry.objects.all()}
    assert rows[first.pk].entry_index == rows[again.pk].entry_index == 0
    assert rows[same_batch.pk].entry_index == rows[dup_in_batch.pk].entry_index == 2


@pytest.mark.django_db
def test_rejects_bad_entries() -> None:
    with pytest.raises(InvalidEntry):
        services.append("city", "Bad Kind", {})
    with pytest.raises(InvalidEntry):
        services.append("city", "ok", ["not", "an", "object"])  # type: ignore[arg-type]
    with pytest.raises(InvalidEntry):
        services.append("city", "ok", {"big": "x" * 70000})
    with pytest.raises(UnknownLog):
        services.append("nonsense", "ok", {})
    assert not OutboxEntry.objects.exists()


STEPS = [
    "lock_log",
    "load_pending",
    "find_known",
    "insert_entries",
    "store_tiles",
    "mark_done",
    "advance_log",
]


def clean_root(count: int) -> bytes:
    return merkle.root_from_entries(
        [services.entry_bytes("test.event", {"n": n}) for n in range(count)]
    )


@pytest.mark.django_db
@pytest.mark.parametrize("step", STEPS)
def test_crash_after_any_step_loses_nothing(step: str, monkeypatch: pytest.MonkeyPatch) -> None:
    append_many("city", 300)
    sequencer.sequence_all(limit=100, max_batches=1)  # an earlier batch already committed
    original = getattr(sequencer, step)

    def crash(*args: object, **kwargs: object) -> object:
        original(*args, **kwargs)
        raise RuntimeError(f"injected crash after {step}")

    monkeypatch.setattr(sequencer, step, crash)
    with pytest.raises(RuntimeError, match="injected"):
        sequencer.sequence_all(limit=100)
    log = Log.objects.get(name="city")
    assert log.tree_size == 100  # the crashed batch left nothing behind
    assert Entry.objects.filter(log=log).count() == 100
    assert OutboxEntry.objects.filter(sequenced_at__isnull=True).count() == 200
    monkeypatch.setattr(sequencer, step, original)
    sequencer.sequence_all(limit=100)
    log = assert_tree_sound("city")
    assert log.tree_size == 300
    assert bytes(log.root_hash) == clean_root(300)


@pytest.mark.django_db
def test_crash_while_signing_leaves_no_checkpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    append_many("city", 5)
    sequencer.sequence_all()

    def broken_sign(text: str, signer: str) -> str:
        raise RuntimeError("HSM unavailable")

    with monkeypatch.context() as patch, pytest.raises(RuntimeError):
        patch.setattr(note, "sign_note", broken_sign)
        tasks.sign_checkpoints()
    assert not Checkpoint.objects.exists()
    assert tasks.sign_checkpoints() == 1


@pytest.mark.django_db
def test_broker_down_keeps_entries_pending_until_the_periodic_run(
    monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks
) -> None:
    attempts: list[str] = []

    def broker_down(name: str, *args: object, **kwargs: object) -> None:
        attempts.append(name)
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(services, "_kick_sequencer", REAL_KICK)
    monkeypatch.setattr(celery_app, "send_task", broker_down)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        append_many("city", 10)
    # One kick per transaction, queued by the task's registered name, and its failure did not
    # break the caller.
    assert attempts == [tasks.sequence_pending.name]
    assert OutboxEntry.objects.filter(sequenced_at__isnull=True).count() == 10
    assert tasks.sequence_pending() == 10  # what beat runs every few seconds
    assert_tree_sound("city")


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_sequencers_build_one_tree() -> None:
    append_many("city", 1200)
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def run() -> None:
        try:
            barrier.wait()
            sequencer.sequence_all(limit=100)
        except BaseException as exc:  # noqa: BLE001 - reported to the main thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    log = assert_tree_sound("city")
    assert log.tree_size == 1200
    assert bytes(log.root_hash) == clean_root(1200)
    assert connection.vendor in {"postgresql", "sqlite"}
