"""Receipt assembly, where the ledger and its anchors are both visible.

The ledger's selectors build their part (entry, inclusion proof, cosigned checkpoint); this adds
the first final blockchain anchor on the current chain covering it. Anchoring is built on the
ledger, never the reverse: nothing in ``ledger`` outside this package imports it.
"""

from __future__ import annotations

from typing import Any

from ledger import selectors as ledger_selectors
from ledger.anchoring.selectors import anchor_for_receipt
from ledger.models import Entry, Log


def receipt(log: Log, entry: Entry) -> dict[str, Any] | None:
    """What a voter keeps: entry, inclusion proof, cosigned checkpoint, and the first final
    blockchain anchor covering it (with a consistency proof to the anchored size), if any yet."""
    ledger_part = ledger_selectors.receipt(log, entry)
    if ledger_part is None:
        return None
    return {**ledger_part, "anchor": anchor_for_receipt(log, ledger_part["tree_size"])}


def entry_with_receipt(log: Log, entry: Entry) -> dict[str, Any]:
    """One entry as ``/api/ledger/<log>/entries/...`` answers it."""
    return ledger_selectors.entry_view(log, entry, receipt(log, entry))
