"""Shared pytest fixtures: the public conformance data folder."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
VENDORED_CONFORMANCE = REPO_ROOT / "tests" / "conformance"


def conformance_root() -> Path:
    """The public conformance vectors: vendored in tests/conformance, or CIVIC_CONFORMANCE_DIR.

    A missing folder is a hard failure, never a skip: CI must not pass without the vectors.
    Their integrity is checked against SHA256SUMS by tests/test_conformance_data.py.
    """
    configured = os.environ.get("CIVIC_CONFORMANCE_DIR")
    root = Path(configured) if configured else VENDORED_CONFORMANCE
    if not root.is_dir():
        raise RuntimeError(
            f"conformance data not found at {root}; set CIVIC_CONFORMANCE_DIR to a conformance "
            "folder (the vendored one is tests/conformance)"
        )
    return root


@pytest.fixture(scope="session")
def conformance_dir() -> Path:
    return conformance_root()


@pytest.fixture(scope="session", autouse=True)
def _plain_http_in_tests() -> None:
    """Test clients and live servers speak plain HTTP; the HTTPS redirect is tested on its own.

    Session-wide and before any live server starts, because SecurityMiddleware reads the setting
    once, when the server's handler is built.
    """
    from django.conf import settings

    settings.SECURE_SSL_REDIRECT = False


@pytest.fixture(scope="session", autouse=True)
def _no_open_election_cache() -> None:
    """Each test makes its elections afresh (often under the same slug, with a new row id), so the
    box's per-process cache of open elections is off; tests/voting/test_ballot_box_fast_path.py
    turns it on where it tests it."""
    from django.conf import settings

    settings.CIVIC_BALLOT_BOX_ELECTION_CACHE_S = 0.0


@pytest.fixture(autouse=True)
def _fresh_rate_limits(settings: Any) -> Iterator[None]:
    """Rate-limit counters in this process's memory, empty for every test (many tests cast from
    one address; CI's Redis would carry counts from test to test). tests/security tests the
    limits themselves, Redis included."""
    from civic import ratelimit

    settings.CIVIC_RATE_LIMIT_STORAGE = "memory://"
    memory = ratelimit.storage()
    memory.reset()
    yield
    memory.reset()
