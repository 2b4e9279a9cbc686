"""Fixtures every ledger test gets."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ledger.anchoring.selectors import forget_current_chain


@pytest.fixture(autouse=True)
def _fresh_current_chain() -> Iterator[None]:
    """Each test asks the configured chain which chain it is afresh (the answer is memoized per
    process, and tests swap chains behind the same URL)."""
    forget_current_chain()
    yield
    forget_current_chain()
