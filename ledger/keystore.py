"""Where the logs' Ed25519 signing keys live: a JSON file outside the database and the repository.

The database only stores a key *reference* and the public verifier key, so a database dump or a
tampered row can never sign a checkpoint. The file is ``LEDGER_SIGNER_KEYS_FILE`` when set (a
deployment mounts it as a secret), else ``var/ledger_keys.json`` generated once with mode 0600.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings

from civic import secret_files
from civic_tlog import note


class SignerKeyMissing(Exception):
    """The key file has no key under the reference a log names."""


def keys_file() -> Path:
    configured = settings.LEDGER_SIGNER_KEYS_FILE
    return Path(configured) if configured else Path(settings.VAR_DIR) / "ledger_keys.json"


def _read(path: Path) -> dict[str, dict[str, str]]:
    if not path.exists():
        return {}
    data = json.loads(path.read_text())
    if not isinstance(data, dict):
        raise ValueError(f"{path} must hold a JSON object")
    return data


def ensure_signer_key(ref: str, key_name: str) -> str:
    """Return the verifier key for ``ref``, generating and saving a signer key on first use."""
    path = keys_file()
    with secret_files.exclusive_lock(path):
        data = _read(path)
        if ref not in data:
            signer, verifier = note.generate_signer(key_name)
            data[ref] = {"signer": signer, "verifier": verifier}
            secret_files.write_json_atomically(path, data)
        return data[ref]["verifier"]


def signer_key(ref: str) -> str:
    entry = _read(keys_file()).get(ref)
    if not entry:
        raise SignerKeyMissing(f"no ledger signing key {ref!r} in {keys_file()}")
    return entry["signer"]
