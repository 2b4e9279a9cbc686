"""The observer's own state folder: its cosigner key, its mirror (sqlite3), its evidence.

Layout of ``<state>/``::

    observer.key      signer key (PRIVATE+KEY+…, type 0x04), mode 0600
    observer.vkey     the verifier key to register with the city
    observer.sqlite3  pinned log keys, mirrored entries/tiles, accepted checkpoints
    evidence/         one JSON file per detected misbehaviour
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from civic_tlog import note

DEFAULT_STATE_DIR = Path("var") / "observer"
KEY_FILE = "observer.key"
VKEY_FILE = "observer.vkey"
DB_FILE = "observer.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS logs (
    name TEXT PRIMARY KEY,
    origin TEXT NOT NULL,
    verifier_key TEXT NOT NULL,
    pinned_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS leaves (
    log TEXT NOT NULL,
    idx INTEGER NOT NULL,
    leaf_hash BLOB NOT NULL,
    entry BLOB NOT NULL,
    PRIMARY KEY (log, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tiles (
    log TEXT NOT NULL,
    path TEXT NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (log, path)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS checkpoints (
    log TEXT NOT NULL,
    size INTEGER NOT NULL,
    root BLOB NOT NULL,
    body TEXT NOT NULL,
    log_note TEXT NOT NULL,
    cosignature TEXT NOT NULL,
    accepted_at REAL NOT NULL,
    PRIMARY KEY (log, size)
);
"""


class StateError(Exception):
    """The state folder is missing, unreadable, or not initialised."""


def resolve_state_dir(value: str | None) -> Path:
    """--state, else $CIVIC_OBSERVER_STATE, else var/observer under the current directory."""
    return Path(value or os.environ.get("CIVIC_OBSERVER_STATE") or DEFAULT_STATE_DIR)


def init_state(state: Path, name: str) -> tuple[str, bool]:
    """Create the key (0600) unless one exists; return (verifier key, created?)."""
    state.mkdir(parents=True, exist_ok=True)
    key_path = state / KEY_FILE
    if key_path.exists():
        return load_signer(state).verifier.__str__(), False
    skey, vkey = note.generate_cosigner(name)
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(skey + "\n")
    os.chmod(key_path, 0o600)
    (state / VKEY_FILE).write_text(vkey + "\n")
    Store(state).close()
    return vkey, True


def load_signer(state: Path) -> note.Signer:
    key_path = state / KEY_FILE
    if not key_path.exists():
        raise StateError(f"no observer key in {state}: run `python -m civic_observer init` first")
    try:
        return note.parse_signer_key(key_path.read_text())
    except note.NoteError as exc:
        raise StateError(f"{key_path} is not a valid cosigner key: {exc}") from exc


@dataclass(frozen=True)
class AcceptedCheckpoint:
    log: str
    size: int
    root: bytes
    body: str
    log_note: str
    cosignature: str

    @property
    def cosigned_note(self) -> str:
        """The log's note with this observer's cosignature line added."""
        return note.add_signature_lines(self.log_note, [self.cosignature])


class Store:
    """Thin sqlite3 wrapper; one instance per thread (sqlite connections are not shared)."""

    def __init__(self, state: Path, *, read_only: bool = False):
        self.path = state / DB_FILE
        if read_only:
            if not self.path.exists():
                raise StateError(f"no observer database in {state}")
            self.db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
        else:
            state.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.path)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.executescript(_SCHEMA)

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self.db:
            yield self.db

    # --- pinned keys -----------------------------------------------------------------------

    def pinned_log(self, name: str) -> tuple[str, str] | None:
        row = self.db.execute(
            "SELECT origin, verifier_key FROM logs WHERE name = ?", (name,)
        ).fetchone()
        return (row[0], row[1]) if row else None

    def pin_log(self, name: str, origin: str, verifier_key: str) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO logs (name, origin, verifier_key, pinned_at) VALUES (?,?,?,?)",
                (name, origin, verifier_key, time.time()),
            )

    # --- mirror ----------------------------------------------------------------------------

    def leaves(self, log: str) -> tuple[list[bytes], list[bytes]]:
        rows = self.db.execute(
            "SELECT idx, entry, leaf_hash FROM leaves WHERE log = ? ORDER BY idx", (log,)
        ).fetchall()
        for expected, (idx, _, _) in enumerate(rows):
            if idx != expected:
                raise StateError(f"local mirror of {log} has a gap at index {expected}")
        return [bytes(r[1]) for r in rows], [bytes(r[2]) for r in rows]

    def save_mirror(
        self,
        log: str,
        start: int,
        entries: Sequence[bytes],
        hashes: Sequence[bytes],
        tiles: dict[str, bytes],
        accepted: AcceptedCheckpoint,
    ) -> None:
        """Append new leaves, store tiles, record the accepted checkpoint: all or nothing."""
        with self.transaction() as db:
            db.executemany(
                "INSERT OR REPLACE INTO leaves (log, idx, leaf_hash, entry) VALUES (?,?,?,?)",
                (
                    (log, start + i, h, e)
                    for i, (e, h) in enumerate(zip(entries[start:], hashes[start:], strict=True))
                ),
            )
            db.execute("DELETE FROM leaves WHERE log = ? AND idx >= ?", (log, accepted.size))
            # Partial tiles are superseded as the tree grows; keep only the current ones.
            db.execute("DELETE FROM tiles WHERE log = ? AND path LIKE '%.p/%'", (log,))
            db.executemany(
                "INSERT OR REPLACE INTO tiles (log, path, data) VALUES (?,?,?)",
                ((log, path, data) for path, data in tiles.items()),
            )
            db.execute(
                "INSERT OR REPLACE INTO checkpoints "
                "(log, size, root, body, log_note, cosignature, accepted_at) VALUES (?,?,?,?,?,?,?)",
                (
                    log,
                    accepted.size,
                    accepted.root,
                    accepted.body,
                    accepted.log_note,
                    accepted.cosignature,
                    time.time(),
                ),
            )

    def tile(self, log: str, path: str) -> bytes | None:
        row = self.db.execute(
            "SELECT data FROM tiles WHERE log = ? AND path = ?", (log, path)
        ).fetchone()
        return bytes(row[0]) if row else None

    # --- accepted checkpoints --------------------------------------------------------------

    def latest_checkpoint(self, log: str) -> AcceptedCheckpoint | None:
        row = self.db.execute(
            "SELECT log, size, root, body, log_note, cosignature FROM checkpoints "
            "WHERE log = ? ORDER BY size DESC, accepted_at DESC LIMIT 1",
            (log,),
        ).fetchone()
        if row is None:
            return None
        return AcceptedCheckpoint(row[0], row[1], bytes(row[2]), row[3], row[4], row[5])

    def all_latest(self) -> dict[str, AcceptedCheckpoint]:
        names = [r[0] for r in self.db.execute("SELECT DISTINCT log FROM checkpoints")]
        latest = {name: self.latest_checkpoint(name) for name in names}
        return {name: cp for name, cp in latest.items() if cp is not None}

def write_evidence(state: Path, log: str, kind: str, payload: dict) -> Path:
    """Save a misbehaviour report; never overwrite an earlier one."""
    folder = state / "evidence"
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    safe_log = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in log)
    path = folder / f"{stamp}-{safe_log}-{kind}.json"
    counter = 1
    while path.exists():
        path = folder / f"{stamp}-{safe_log}-{kind}-{counter}.json"
        counter += 1
    path.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n")
    return path
