"""Write use cases of anchoring: follow sent transactions to finality, and anchor what is missing.

One run (``anchor_witnessed_checkpoints``) first brings every live anchoring transaction up to date
(broadcast what was signed but not accepted, count confirmations, detect a receipt whose block was
reorganized away and re-broadcast the same signed bytes, give up on a nonce taken by another
transaction), then sends ONE ``anchorBatch`` transaction for every log whose latest witnessed
checkpoint is not covered yet. The chain is only ever talked to outside database transactions,
so a slow or dead RPC endpoint never holds a lock that voting or sequencing waits on.

Before any of that, a run checks which chain it talks to (chain id and genesis block hash): the
anchors recorded on another chain (a local node started afresh, a replaced network) are marked
``other_chain``, kept as history, no longer final; their checkpoints are then simply missing on
this chain and get anchored again by the same run.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

from django.core.cache import cache
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from ledger.anchoring.chain import (
    AnchorChain,
    AnchorChainError,
    AnchorItem,
    ChainIdentity,
    ChainUnreachable,
    NonceConsumed,
    SignedAnchorTx,
    TxState,
    with_retries,
)
from ledger.anchoring.models import AnchorTransaction, CheckpointAnchor
from ledger.anchoring.selectors import (
    anchor_candidates,
    anchors_of_other_chains,
    forget_current_chain,
)

logger = logging.getLogger(__name__)

RUN_LOCK_KEY = "anchoring:run-lock"
RUN_LOCK_TIMEOUT_S = 600
RECHECK_FINAL_BLOCKS = 64  # final anchors this close to the head are re-checked for reorgs too
MAX_BATCH = 64  # logs per transaction: keeps gas per transaction bounded
REPLACE_AFTER = timedelta(minutes=3)  # a transaction pending this long is re-sent with higher fees


def checkpoint_hash(note_text: str) -> bytes:
    """What is anchored: SHA-256 of the signed checkpoint note text, exactly as stored."""
    return hashlib.sha256(note_text.encode("utf-8")).digest()


@dataclass
class AnchorRun:
    """What one run did, for logs, the task result and the tests."""

    status: str = "ok"  # ok | busy | error
    sent_tx: str | None = None
    covered_logs: list[str] = field(default_factory=list)
    finalized: list[str] = field(default_factory=list)
    reorged: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    other_chain: list[str] = field(default_factory=list)
    error: str = ""


@contextmanager
def run_lock() -> Iterator[bool]:
    """One anchoring run at a time (two would pick the same nonce); a cache key, not a DB lock,
    so no database transaction stays open while the chain answers."""
    token = secrets.token_hex(8)
    acquired = cache.add(RUN_LOCK_KEY, token, RUN_LOCK_TIMEOUT_S)
    try:
        yield acquired
    finally:
        if acquired and cache.get(RUN_LOCK_KEY) == token:
            cache.delete(RUN_LOCK_KEY)


# -- following transactions ---------------------------------------------------------------------


def _save(tx: AnchorTransaction, **changes: object) -> None:
    for name, value in changes.items():
        setattr(tx, name, value)
    tx.save(update_fields=list(changes))


def _signed_columns(signed: SignedAnchorTx) -> dict[str, object]:
    """The AnchorTransaction columns a signature fills; a fee bump re-signs the same nonce, so
    the nonce is not among them."""
    return {
        "tx_hash": signed.tx_hash,
        "raw_tx": signed.raw,
        "gas": signed.gas,
        "max_fee_per_gas": signed.max_fee_per_gas,
        "max_priority_fee_per_gas": signed.max_priority_fee_per_gas,
        "gas_price": signed.gas_price,
    }


def _signed(tx: AnchorTransaction) -> SignedAnchorTx:
    return SignedAnchorTx(
        tx_hash=tx.tx_hash,
        raw=bytes(tx.raw_tx),
        nonce=tx.nonce,
        gas=tx.gas,
        max_fee_per_gas=None,
        max_priority_fee_per_gas=None,
        gas_price=None,
    )


def _broadcast(
    chain: AnchorChain, tx: AnchorTransaction, sleep: Callable[[float], None] | None
) -> bool:
    """(Re-)send the stored signed bytes; True once the node holds them."""
    retry_kwargs = {"sleep": sleep} if sleep is not None else {}
    try:
        with_retries(lambda: chain.broadcast(_signed(tx)), **retry_kwargs)
    except NonceConsumed:
        state = chain.tx_state(tx.tx_hash)
        if state.state in ("mined", "reverted", "pending"):
            return True  # it was our own transaction that used the nonce
        if _adopt_mined_predecessor(chain, tx, 1) is not None:
            return True  # an earlier (lower-fee) version of it did
        _save(
            tx,
            state=AnchorTransaction.State.DROPPED,
            last_error="nonce used by another transaction",
        )
        logger.warning(
            "anchoring: transaction %s dropped, nonce %s was used by another transaction; "
            "its checkpoints will be anchored again",
            tx.tx_hash,
            tx.nonce,
        )
        return False
    except AnchorChainError as exc:
        _save(tx, send_attempts=tx.send_attempts + 1, last_error=str(exc))
        raise
    _save(
        tx,
        state=AnchorTransaction.State.PENDING,
        send_attempts=tx.send_attempts + 1,
        sent_at=timezone.now(),
        last_error="",
    )
    return True


def refresh_transaction(
    chain: AnchorChain,
    tx: AnchorTransaction,
    confirmations: int,
    run: AnchorRun,
    sleep: Callable[[float], None] | None = None,
) -> None:
    """Bring one transaction's state in line with the chain."""
    if tx.state == AnchorTransaction.State.SIGNED and not _broadcast(chain, tx, sleep):
        run.dropped.append(tx.tx_hash)
        return
    state = chain.tx_state(tx.tx_hash)
    if state.state in ("unknown", "pending") and tx.previous_tx_hashes:
        state = _adopt_mined_predecessor(chain, tx, confirmations) or state
    if state.state == "unknown" and tx.state in (
        AnchorTransaction.State.MINED,
        AnchorTransaction.State.FINAL,
    ):
        logger.warning(
            "anchoring: transaction %s is no longer in block %s (%s): chain reorganization; "
            "sending the same anchor again",
            tx.tx_hash,
            tx.block_number,
            tx.block_hash,
        )
        run.reorged.append(tx.tx_hash)
        _save(
            tx,
            state=AnchorTransaction.State.SIGNED,
            reorgs=[*tx.reorgs, tx.block_hash],
            block_number=None,
            block_hash="",
            confirmations=0,
            mined_at=None,
            finalized_at=None,
        )
        if not _broadcast(chain, tx, sleep):
            run.dropped.append(tx.tx_hash)
            return
        state = chain.tx_state(tx.tx_hash)
    if state.state == "unknown" and tx.state == AnchorTransaction.State.PENDING:
        # The node forgot it (pool eviction, restart): the signed bytes are still valid.
        _save(tx, state=AnchorTransaction.State.SIGNED)
        if not _broadcast(chain, tx, sleep):
            run.dropped.append(tx.tx_hash)
            return
        state = chain.tx_state(tx.tx_hash)
    if state.state == "reverted":
        logger.error(
            "anchoring: transaction %s reverted in block %s", tx.tx_hash, state.block_number
        )
        _save(
            tx,
            state=AnchorTransaction.State.REVERTED,
            block_number=state.block_number,
            block_hash=state.block_hash,
            last_error="reverted by the contract",
        )
        return
    if state.state == "pending" and tx.sent_at and timezone.now() - tx.sent_at > REPLACE_AFTER:
        _replace_with_higher_fees(chain, tx, sleep)
        return
    if state.state != "mined":
        return
    final = state.confirmations >= confirmations
    was_final = tx.state == AnchorTransaction.State.FINAL
    if tx.block_hash and tx.block_hash != state.block_hash:
        run.reorged.append(tx.tx_hash)
        tx.reorgs = [*tx.reorgs, tx.block_hash]
    now = timezone.now()
    _save(
        tx,
        state=AnchorTransaction.State.FINAL if final else AnchorTransaction.State.MINED,
        block_number=state.block_number,
        block_hash=state.block_hash,
        confirmations=state.confirmations,
        reorgs=tx.reorgs,
        mined_at=tx.mined_at or now,
        finalized_at=(tx.finalized_at or now) if final else None,
    )
    if final and not was_final:
        run.finalized.append(tx.tx_hash)


def _adopt_mined_predecessor(
    chain: AnchorChain, tx: AnchorTransaction, confirmations: int
) -> TxState | None:
    """A fee-bumped transaction's older version may be the one that got mined: same nonce, same
    anchors. Make it the current one (its bytes are kept) and return its state."""
    for entry in tx.previous_tx_hashes:
        state = chain.tx_state(entry["hash"])
        if state.state in ("mined", "reverted"):
            others = [e for e in tx.previous_tx_hashes if e["hash"] != entry["hash"]]
            current = {"hash": tx.tx_hash, "raw": bytes(tx.raw_tx).hex()}
            _save(
                tx,
                tx_hash=entry["hash"],
                raw_tx=bytes.fromhex(entry["raw"]),
                previous_tx_hashes=[*others, current],
            )
            return state
    return None


def _replace_with_higher_fees(
    chain: AnchorChain, tx: AnchorTransaction, sleep: Callable[[float], None] | None
) -> None:
    """Re-sign the same anchors with the same nonce and fees raised by at least 25%, so a
    transaction stuck behind rising base fees gets mined (nodes only replace on a real bump)."""
    items = [
        AnchorItem(item.origin, item.tree_size, bytes(item.checkpoint_hash))
        for item in tx.items.order_by("position")
    ]
    previous = {
        key: int(value)
        for key, value in (
            ("maxFeePerGas", tx.max_fee_per_gas),
            ("maxPriorityFeePerGas", tx.max_priority_fee_per_gas),
            ("gasPrice", tx.gas_price),
        )
        if value is not None
    }
    signed = chain.sign_batch(items, tx.nonce, chain.bumped(chain.fees(), previous))
    logger.warning(
        "anchoring: transaction %s pending since %s, replacing it with %s (higher fees)",
        tx.tx_hash,
        tx.sent_at,
        signed.tx_hash,
    )
    _save(
        tx,
        previous_tx_hashes=[
            *tx.previous_tx_hashes,
            {"hash": tx.tx_hash, "raw": bytes(tx.raw_tx).hex()},
        ],
        **_signed_columns(signed),
        state=AnchorTransaction.State.SIGNED,
    )
    _broadcast(chain, tx, sleep)


def refresh_transactions(
    chain: AnchorChain,
    chain_id: int,
    confirmations: int,
    run: AnchorRun,
    sleep: Callable[[float], None] | None = None,
) -> None:
    """Follow every live transaction, and re-check recent final ones for reorganizations."""
    head = chain.latest_block()
    recent = head - max(RECHECK_FINAL_BLOCKS, 2 * confirmations)
    lane = AnchorTransaction.objects.filter(
        chain_id=chain_id, contract=chain.contract.address, sender=chain.address
    )
    live = list(lane.filter(state__in=AnchorTransaction.LIVE_STATES).order_by("nonce", "id"))
    live += list(
        lane.filter(state=AnchorTransaction.State.FINAL, block_number__gte=recent).order_by("nonce")
    )
    for tx in live:
        refresh_transaction(chain, tx, confirmations, run, sleep)


# -- another chain ------------------------------------------------------------------------------


def _written_to_this_chain(chain: AnchorChain, tx: AnchorTransaction) -> bool:
    """For a transaction recorded before chains were: is it on the chain we talk to now?

    A mined one is if the block it was mined in is still there; one never mined belongs to
    whichever chain mines it, so it is adopted by this one (same chain id)."""
    if not tx.block_hash or tx.block_number is None:
        return True
    return chain.block_hash_at(tx.block_number) == tx.block_hash


def retire_anchors_of_other_chains(
    chain: AnchorChain, identity: ChainIdentity, run: AnchorRun
) -> None:
    """Mark ``other_chain`` every counted anchor written to a chain other than ``identity``
    (history kept, never deleted); a transaction of unknown chain on this chain id is checked
    on the chain and either gets this chain's genesis hash or is retired too."""
    for tx in anchors_of_other_chains(identity).order_by("id"):
        if (
            tx.genesis_hash is None
            and tx.chain_id == identity.chain_id
            and _written_to_this_chain(chain, tx)
        ):
            _save(tx, genesis_hash=identity.genesis_hash)
            continue
        logger.warning(
            "anchoring: transaction %s was written to chain %s (genesis %s), not to the "
            "configured chain %s (genesis %s): no longer final here, anchoring its checkpoints again",
            tx.tx_hash,
            tx.chain_id,
            tx.genesis_hash or "unknown",
            identity.chain_id,
            identity.genesis_hash,
        )
        _save(
            tx,
            state=AnchorTransaction.State.OTHER_CHAIN,
            last_error=(
                f"written to chain {tx.chain_id} (genesis {tx.genesis_hash or 'unknown'}); the "
                f"configured chain is {identity.chain_id} (genesis {identity.genesis_hash})"
            ),
        )
        run.other_chain.append(tx.tx_hash)
    if run.other_chain:
        forget_current_chain()


# -- sending ------------------------------------------------------------------------------------


def next_nonce(chain: AnchorChain, chain_id: int) -> int:
    """The node's pending nonce, but never one our own signed-but-unsent transactions hold."""
    local = AnchorTransaction.objects.filter(
        chain_id=chain_id, sender=chain.address, state__in=AnchorTransaction.LIVE_STATES
    ).aggregate(top=Max("nonce"))["top"]
    return max(chain.pending_nonce(), -1 if local is None else local + 1)


def send_missing_anchors(
    chain: AnchorChain,
    identity: ChainIdentity,
    confirmations: int,
    run: AnchorRun,
    sleep: Callable[[float], None] | None = None,
) -> AnchorTransaction | None:
    """ONE transaction anchoring every log whose latest witnessed checkpoint this chain does not
    cover yet."""
    chain_id = identity.chain_id
    candidates = anchor_candidates(chain_id, chain.contract.address, identity.genesis_hash)[
        :MAX_BATCH
    ]
    if not candidates:
        return None
    items = [
        AnchorItem(c.log.origin, c.checkpoint.size, checkpoint_hash(c.note)) for c in candidates
    ]
    signed = chain.sign_batch(items, next_nonce(chain, chain_id))
    with transaction.atomic():
        tx = AnchorTransaction.objects.create(
            chain_id=chain_id,
            genesis_hash=identity.genesis_hash,
            contract=chain.contract.address,
            sender=chain.address,
            nonce=signed.nonce,
            **_signed_columns(signed),
        )
        CheckpointAnchor.objects.bulk_create(
            CheckpointAnchor(
                transaction=tx,
                position=position,
                log=candidate.log,
                checkpoint=candidate.checkpoint,
                origin=candidate.log.origin,
                tree_size=candidate.checkpoint.size,
                checkpoint_note=candidate.note,
                checkpoint_hash=item.checkpoint_hash,
            )
            for position, (candidate, item) in enumerate(zip(candidates, items, strict=True))
        )
    run.sent_tx = tx.tx_hash
    run.covered_logs = [candidate.log.name for candidate in candidates]
    logger.info(
        "anchoring: sent %s (nonce %s) covering %s",
        tx.tx_hash,
        tx.nonce,
        ", ".join(f"{c.log.name}@{c.checkpoint.size}" for c in candidates),
    )
    if _broadcast(chain, tx, sleep):
        refresh_transaction(chain, tx, confirmations, run, sleep)
    return tx


def anchor_witnessed_checkpoints(
    chain: AnchorChain, confirmations: int, sleep: Callable[[float], None] | None = None
) -> AnchorRun:
    """One full run: check the chain (and retire anchors of another chain), follow what was
    sent, send what is missing.

    Chain errors are caught, logged with their operator-facing message and returned in
    ``run.error``: anchoring lags behind, nothing else is affected."""
    run = AnchorRun()
    with run_lock() as acquired:
        if not acquired:
            run.status = "busy"
            return run
        try:
            identity = chain.identity()
            retire_anchors_of_other_chains(chain, identity, run)
            chain.check_contract()
            refresh_transactions(chain, identity.chain_id, confirmations, run, sleep)
            send_missing_anchors(chain, identity, confirmations, run, sleep)
        except AnchorChainError as exc:
            run.status = "error"
            run.error = str(exc)
            level = logging.WARNING if isinstance(exc, ChainUnreachable) else logging.ERROR
            logger.log(level, "anchoring delayed: %s", exc)
    return run
