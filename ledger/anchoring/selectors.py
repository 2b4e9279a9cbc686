"""Read use cases of anchoring: what still needs anchoring, the anchors list, receipts, health."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from ledger import selectors as ledger_selectors
from ledger.anchoring.chain import AnchorChainError, public_url
from ledger.anchoring.config import AnchorConfigError, chain_from_config, load_config
from ledger.anchoring.models import AnchorTransaction, CheckpointAnchor
from ledger.models import Checkpoint, Log

# A balance below what this much gas costs at today's fees is reported as "no funds".
HEALTH_MIN_GAS = 200_000


@dataclass(frozen=True)
class Candidate:
    """A log whose latest witnessed checkpoint is not anchored yet, with the note to anchor."""

    log: Log
    checkpoint: Checkpoint
    note: str


def anchor_candidates(chain_id: int, contract: str) -> list[Candidate]:
    """Logs whose latest witnessed checkpoint no live or final anchor on this chain+contract covers.

    Uses the ledger's own ``latest_witnessed_checkpoint`` and ``checkpoint_note`` (the note text
    with every cosignature collected so far): the anchored hash is over exactly that text, which
    is stored with the anchor so anyone can re-hash it."""
    candidates: list[Candidate] = []
    for log in Log.objects.order_by("name"):
        witnessed = ledger_selectors.latest_witnessed_checkpoint(log)
        if witnessed is None:
            continue
        covered = CheckpointAnchor.objects.filter(
            log=log,
            tree_size__gte=witnessed.size,
            transaction__chain_id=chain_id,
            transaction__contract=contract,
            transaction__state__in=AnchorTransaction.COUNTING_STATES,
        ).exists()
        if not covered:
            candidates.append(
                Candidate(log, witnessed, ledger_selectors.checkpoint_note(witnessed))
            )
    return candidates


def anchors(log_name: str | None = None, state: str | None = None) -> QuerySet[CheckpointAnchor]:
    rows = CheckpointAnchor.objects.select_related("transaction", "log").order_by(
        "-transaction__id", "position"
    )
    if log_name:
        rows = rows.filter(log__name=log_name)
    if state:
        rows = rows.filter(transaction__state=state)
    return rows


def anchor_as_dict(item: CheckpointAnchor) -> dict[str, Any]:
    """The public description of one anchor: enough to find and check it on the chain."""
    tx = item.transaction
    return {
        "log": item.log.name,
        "origin": item.origin,
        "tree_size": item.tree_size,
        "checkpoint_hash": bytes(item.checkpoint_hash).hex(),
        "checkpoint_note": item.checkpoint_note,
        "chain_id": tx.chain_id,
        "contract": tx.contract,
        "anchoring_account": tx.sender,
        "transaction_hash": tx.tx_hash,
        "position": item.position,
        "block_number": tx.block_number,
        "block_hash": tx.block_hash or None,
        "confirmations": tx.confirmations,
        "state": tx.state,
        "final": tx.state == AnchorTransaction.State.FINAL,
        "reorgs": len(tx.reorgs),
        "sent_at": tx.sent_at.isoformat() if tx.sent_at else None,
        "finalized_at": tx.finalized_at.isoformat() if tx.finalized_at else None,
    }


def first_final_anchor_covering(log: Log, tree_size: int) -> CheckpointAnchor | None:
    """The earliest final anchor of this log at a size >= ``tree_size`` (so it covers every entry
    below that size): what receipts and inclusion-proof answers name."""
    return (
        CheckpointAnchor.objects.select_related("transaction", "log")
        .filter(log=log, tree_size__gte=tree_size, transaction__state=AnchorTransaction.State.FINAL)
        .order_by("tree_size", "transaction__block_number", "position")
        .first()
    )


def anchor_for_receipt(log: Log, tree_size: int) -> dict[str, Any] | None:
    """The ``anchor`` object of a receipt proven to a checkpoint of size ``tree_size``: the first
    final anchor covering it plus the consistency proof from ``tree_size`` to the anchored size,
    so a verifier can tie the receipt's checkpoint to the anchored one offline."""
    item = first_final_anchor_covering(log, tree_size)
    if item is None:
        return None
    proof = (
        ledger_selectors.consistency_proof(item.log, tree_size, item.tree_size)
        if tree_size < item.tree_size
        else []
    )
    return {**anchor_as_dict(item), "consistency_proof": [node.hex() for node in proof]}


def anchoring_health() -> dict[str, Any]:
    """Chain reachability, chain id, contract, funds and backlog, with operator-facing messages.

    ``ok`` False never means voting or sequencing stop: only anchoring lags."""
    try:
        config = load_config()
    except AnchorConfigError as exc:
        return {"ok": False, "enabled": True, "detail": str(exc)}
    if not config.enabled:
        return {"ok": True, "enabled": False, "detail": "anchoring off (ANCHOR_RPC_URL not set)"}
    backlog = AnchorTransaction.objects.filter(state__in=AnchorTransaction.LIVE_STATES)
    stuck = backlog.exclude(last_error="").order_by("-id").first()
    last_final = (
        AnchorTransaction.objects.filter(state=AnchorTransaction.State.FINAL)
        .order_by("-finalized_at")
        .first()
    )
    report: dict[str, Any] = {
        "ok": False,
        "enabled": True,
        "rpc_url": public_url(config.rpc_url),
        "contract": config.contract,
        "confirmations": config.confirmations,
        "unconfirmed_transactions": backlog.count(),
        "last_final_anchor_at": last_final.finalized_at.isoformat() if last_final else None,
        "last_error": stuck.last_error if stuck else None,
    }
    try:
        chain = chain_from_config(config, timeout_s=min(config.rpc_timeout_s, 3.0))
        report["chain_id"] = chain.chain_id()
        report["latest_block"] = chain.latest_block()
        report["account"] = chain.address
        chain.check_contract()
        balance = chain.balance()
        report["balance_wei"] = str(balance)
        fees = chain.fees()
        needed = HEALTH_MIN_GAS * fees.get("maxFeePerGas", fees.get("gasPrice", 0))
        if balance < needed:
            report["detail"] = (
                f"no funds: anchoring account {chain.address} holds {balance} wei, needs at "
                f"least {needed} wei for one anchor at today's fees"
            )
            return report
    except AnchorChainError as exc:
        report["detail"] = str(exc)
        return report
    report["ok"] = True
    report["detail"] = f"anchoring to chain {report['chain_id']} at {config.contract}"
    return report
