"""Where the logs' Ed25519 signing keys live: a JSON file outside the database and the repository.

The database only stores a key *reference* and the public verifier key, so a database dump or a
tampered row can never sign a checkpoint. The file is ``LEDGER_SIGNER_KEYS_FILE`` when set (a
deployment mounts it as a secret), else ``var/ledger_keys.json`` generated once with mode 0600.
"""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path

from django.conf import settings

from ledger import note


class SignerKeyMissing(Exception):
    """The key file has no key under the reference a log names."""


def keys_file() -> Path:
    configured = os.environ.get("LEDGER_SIGNER_KEYS_FILE")
    return Path(configured) if configured else Path(settings.VAR_DIR) / "ledger_keys.json"


def _read(path: Path) -> dict[str, dict[str, str]]:
    if not path.exists():
        return {}
    data = json.loads(path.read_text())
    if not isinstance(data, dict):
        raise ValueError(f"{path} must hold a JSON object")
    return data


def _write(path: Path, data: dict[str, dict[str, str]]) -> None:
    """Atomic replace; the temporary file is created 0600 so the key is never world-readable."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(data, handle, indent=2, sort_keys=True)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def ensure_signer_key(ref: str, key_name: str) -> str:
    """Return the verifier key for ``ref``, generating and saving a signer key on first use."""
    path = keys_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    lock_path = path.with_name(f".{path.name}.lock")
    fd = os.open(lock_path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        data = _read(path)
        if ref not in data:
            signer, verifier = note.generate_signer(key_name)
            data[ref] = {"signer": signer, "verifier": verifier}
            _write(path, data)
        return data[ref]["verifier"]
    finally:
        os.close(fd)


def signer_key(ref: str) -> str:
    entry = _read(keys_file()).get(ref)
    if not entry:
        raise SignerKeyMissing(f"no ledger signing key {ref!r} in {keys_file()}")
    return entry["signer"]
