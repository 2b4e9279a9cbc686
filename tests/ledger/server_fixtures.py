"""Fixtures and helpers shared by the ledger server tests (imported by each test module)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.db import transaction

from civic_tlog import merkle, note
from ledger import sequencer, services
from ledger.models import Entry, Log, OutboxEntry


@pytest.fixture
def ledger_keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: Any) -> Path:
    """Signing keys in a throw-away file; the sequencing kick recorded instead of sent."""
    keys = tmp_path / "ledger_keys.json"
    settings.LEDGER_SIGNER_KEYS_FILE = str(keys)
    settings.LEDGER_ORIGIN_PREFIX = "test.civic.example/ledger"
    monkeypatch.setattr(services, "_kick_sequencer", lambda: None)
    return keys


def append_many(log_name: str, count: int, start: int = 0, kind: str = "test.event") -> None:
    """Append ``{"n": start..}`` entries in one caller transaction (as one request would)."""
    with transaction.atomic():
        for number in range(start, start + count):
            services.append(log_name, kind, {"n": number})


def entries_in_order(log: Log) -> list[bytes]:
    return [
        bytes(e)
        for e in Entry.objects.filter(log=log).order_by("index").values_list("entry", flat=True)
    ]


def assert_tree_sound(log_name: str) -> Log:
    """No gap, no duplicate, every outbox row points at its leaf, root equals a recomputation."""
    log = Log.objects.get(name=log_name)
    indices = list(Entry.objects.filter(log=log).order_by("index").values_list("index", flat=True))
    assert indices == list(range(log.tree_size))
    entries = entries_in_order(log)
    assert len(set(entries)) == len(entries)
    assert bytes(log.root_hash) == merkle.root_from_entries(entries)
    for row in OutboxEntry.objects.filter(log=log):
        assert row.sequenced_at is not None
        assert entries[row.entry_index] == bytes(row.entry)
    return log


def make_observer(name: str = "observer.test") -> tuple[str, str]:
    """A cosigner key pair (signer, verifier) as an observer node would create."""
    return note.generate_cosigner(name)


def sequence_everything() -> None:
    sequencer.sequence_all()
