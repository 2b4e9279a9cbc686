"""The seeded city of tests/fuzz (world.py), on the suite's database (SQLite or PostgreSQL)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.fuzz.world import World, build_world


def fuzz_settings(settings: Any, folder: Path) -> None:
    """Own key files; small RSA keys and a fast password hash (speed only); no rate limit (the
    throttle has its own tests); the sequencing kick silenced (the seed sequences itself)."""
    settings.CIVIC_CITY_KEY_FILE = str(folder / "city_keys.json")
    settings.LEDGER_SIGNER_KEYS_FILE = str(folder / "ledger_keys.json")
    settings.LEDGER_ORIGIN_PREFIX = "test.civic.example/ledger"
    settings.CIVIC_DID_WEB_HOST = "localhost%3A8000"
    settings.CIVIC_BLIND_RSA_BITS = 2048
    settings.MEDIA_ROOT = str(folder / "media")
    settings.CIVIC_VC_API_RATE = ""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world(settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, transactional_db: None) -> World:
    from identity import keys
    from ledger import services as ledger_services

    fuzz_settings(settings, tmp_path)
    keys.ensure_key_file()
    monkeypatch.setattr(ledger_services, "_kick_sequencer", lambda: None)
    return build_world(tmp_path / "trustees")
