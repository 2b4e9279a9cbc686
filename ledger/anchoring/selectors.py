"""Read use cases of anchoring: what still needs anchoring, the anchors list, receipts, health.

Which chain is "the current one" matters to every read that calls an anchor final: the chain
id and genesis hash each anchor was written to are compared with the configured chain's, asked
at most every ``ANCHOR_CHAIN_CHECK_S`` seconds per process (``current_chain``). Reads never
write: the anchoring run is what marks anchors of another chain ``other_chain``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from ledger import selectors as ledger_selectors
from ledger.anchoring.chain import AnchorChainError, ChainIdentity, public_url
from ledger.anchoring.config import (
    AnchorConfigError,
    chain_check_interval_s,
    chain_from_config,
    load_config,
)
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


def anchor_candidates(
    chain_id: int, contract: str, genesis_hash: str | None = None
) -> list[Candidate]:
    """Logs whose latest witnessed checkpoint no live or final anchor on this chain+contract covers
    (with ``genesis_hash``, only anchors recorded on that very chain count).

    Uses the ledger's own ``latest_witnessed_checkpoint`` and ``checkpoint_note`` (the note text
    with every cosignature collected so far): the anchored hash is over exactly that text, which
    is stored with the anchor so anyone can re-hash it."""
    candidates: list[Candidate] = []
    for log in Log.objects.order_by("name"):
        witnessed = ledger_selectors.latest_witnessed_checkpoint(log)
        if witnessed is None:
            continue
        covering = CheckpointAnchor.objects.filter(
            log=log,
            tree_size__gte=witnessed.size,
            transaction__chain_id=chain_id,
            transaction__contract=contract,
            transaction__state__in=AnchorTransaction.COUNTING_STATES,
        )
        if genesis_hash is not None:
            covering = covering.filter(transaction__genesis_hash=genesis_hash)
        covered = covering.exists()
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
        "genesis_hash": tx.genesis_hash or None,
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


# -- the current chain ---------------------------------------------------------------------------

_current_chain_memo: tuple[float, tuple[Any, ...], ChainIdentity | None] | None = None


def _ask_current_chain() -> tuple[tuple[Any, ...], ChainIdentity | None]:
    """The configured chain's identity, or None when anchoring is off or the chain cannot say."""
    try:
        config = load_config()
    except AnchorConfigError:
        return (), None
    key = (config.rpc_url, config.chain_id)
    if not config.enabled:
        return key, None
    try:
        chain = chain_from_config(config, with_key=False, timeout_s=min(config.rpc_timeout_s, 3.0))
        return key, chain.identity()
    except AnchorChainError:
        return key, None


def current_chain() -> ChainIdentity | None:
    """The configured chain's id and genesis hash, asked at most every ANCHOR_CHAIN_CHECK_S
    seconds per process (receipts and the ledger page must stay fast). None when anchoring is
    off or the chain cannot be reached: then the anchors' recorded states are all there is."""
    global _current_chain_memo
    now = time.monotonic()
    memo = _current_chain_memo
    if memo is not None and now - memo[0] < chain_check_interval_s():
        try:
            config = load_config()
        except AnchorConfigError:
            config = None
        if config is not None and memo[1] == (config.rpc_url, config.chain_id):
            return memo[2]
    key, identity = _ask_current_chain()
    _current_chain_memo = (now, key, identity)
    return identity


def forget_current_chain() -> None:
    """Ask the chain again next time (after a run saw it change, and in tests)."""
    global _current_chain_memo
    _current_chain_memo = None


def on_chain(
    rows: QuerySet[CheckpointAnchor], chain: ChainIdentity | None
) -> QuerySet[CheckpointAnchor]:
    """Only anchors written to ``chain`` (all of them when the current chain is unknown)."""
    if chain is None:
        return rows
    return rows.filter(
        transaction__chain_id=chain.chain_id, transaction__genesis_hash=chain.genesis_hash
    )


def anchors_of_current_chain(limit: int) -> list[CheckpointAnchor]:
    """The newest anchors on the chain anchoring writes to now: what the ledger page lists."""
    return list(on_chain(anchors(), current_chain())[:limit])


def first_final_anchor_covering(
    log: Log, tree_size: int, chain: ChainIdentity | None = None
) -> CheckpointAnchor | None:
    """The earliest final anchor of this log at a size >= ``tree_size`` (so it covers every entry
    below that size) on ``chain`` when it is known: what receipts and inclusion-proof answers
    name. An anchor of another chain (a reset local node) is never named."""
    rows = CheckpointAnchor.objects.select_related("transaction", "log").filter(
        log=log, tree_size__gte=tree_size, transaction__state=AnchorTransaction.State.FINAL
    )
    return (
        on_chain(rows, chain).order_by("tree_size", "transaction__block_number", "position").first()
    )


def anchor_for_receipt(log: Log, tree_size: int) -> dict[str, Any] | None:
    """The ``anchor`` object of a receipt proven to a checkpoint of size ``tree_size``: the first
    final anchor on the current chain covering it plus the consistency proof from ``tree_size``
    to the anchored size, so a verifier can tie the receipt's checkpoint to the anchored one
    offline."""
    item = first_final_anchor_covering(log, tree_size, current_chain())
    if item is None:
        return None
    proof = (
        ledger_selectors.consistency_proof(item.log, tree_size, item.tree_size)
        if tree_size < item.tree_size
        else []
    )
    return {**anchor_as_dict(item), "consistency_proof": [node.hex() for node in proof]}


def anchors_of_other_chains(chain: ChainIdentity) -> QuerySet[AnchorTransaction]:
    """Transactions still counted (signed, pending, mined, final) but recorded on a chain that is
    not ``chain``, or on an unknown one (written before chains were recorded): to re-check."""
    return AnchorTransaction.objects.filter(state__in=AnchorTransaction.COUNTING_STATES).filter(
        ~Q(chain_id=chain.chain_id)
        | Q(genesis_hash__isnull=True)
        | ~Q(genesis_hash=chain.genesis_hash)
    )


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
    report: dict[str, Any] = {
        "ok": False,
        "enabled": True,
        "rpc_url": public_url(config.rpc_url),
        "contract": config.contract,
        "confirmations": config.confirmations,
        "unconfirmed_transactions": backlog.count(),
        "last_final_anchor_at": _last_final_at(None),
        "last_error": stuck.last_error if stuck else None,
    }
    try:
        chain = chain_from_config(config, timeout_s=min(config.rpc_timeout_s, 3.0))
        identity = chain.identity()
        report["chain_id"] = identity.chain_id
        report["genesis_hash"] = identity.genesis_hash
        report["latest_block"] = chain.latest_block()
        report["last_final_anchor_at"] = _last_final_at(identity)
        report["other_chain_transactions"] = anchors_of_other_chains(identity).count()
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
    if report["other_chain_transactions"]:
        report["detail"] += (
            f"; {report['other_chain_transactions']} anchoring transaction(s) are not recorded "
            "on this chain (written to another chain, e.g. a node started afresh, or before "
            "chains were recorded): not final here; the next run re-checks them and anchors "
            "their checkpoints again"
        )
    return report


def _last_final_at(chain: ChainIdentity | None) -> str | None:
    rows = AnchorTransaction.objects.filter(state=AnchorTransaction.State.FINAL)
    if chain is not None:
        rows = rows.filter(chain_id=chain.chain_id, genesis_hash=chain.genesis_hash)
    last = rows.order_by("-finalized_at").first()
    return last.finalized_at.isoformat() if last and last.finalized_at else None


def ledger_growth(now: Any = None) -> list[ledger_selectors.LogGrowth]:
    """Each log that has a signed checkpoint, with its growth over time (the ledger's own
    ``log_growth``), its checkpoints marked anchored when a final anchor on the current chain
    holds them (the earliest block, as receipts name it). One query for all the anchors."""
    rows = on_chain(
        CheckpointAnchor.objects.filter(transaction__state=AnchorTransaction.State.FINAL),
        current_chain(),
    ).order_by("transaction__block_number", "position")
    anchored: dict[int, dict[int, dict[str, Any]]] = {}
    for log_id, checkpoint_id, chain_id, block, tx_hash in rows.values_list(
        "log_id",
        "checkpoint_id",
        "transaction__chain_id",
        "transaction__block_number",
        "transaction__tx_hash",
    ):
        anchored.setdefault(log_id, {}).setdefault(
            checkpoint_id,
            {"chain_id": chain_id, "block_number": block, "transaction_hash": tx_hash},
        )
    logs = Log.objects.filter(checkpoints__isnull=False).distinct().order_by("name")
    return [ledger_selectors.log_growth(log, anchored.get(log.pk), now) for log in logs]
