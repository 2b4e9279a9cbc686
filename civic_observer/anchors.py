"""The observer's check of the city's blockchain anchors, read straight from the chain.

The city writes the SHA-256 of each witnessed signed checkpoint note into ``Anchored`` events of
its CivicAnchor contract. An observer reads every such event itself (never the city's list),
opens each anchored note (the observer's own copies, or notes the city publishes, matched by
hash so the city cannot substitute one), checks the log's signature, and compares the anchored
root with the root of its own mirror at that size. A signed checkpoint that disagrees with the
observer's view is a fork: proof that the city showed someone a different history.

Pure: no Django; web3 only for JSON-RPC. The event ABI is written out here so the observer does
not depend on the city's build artifacts.
"""

from __future__ import annotations

import argparse
import hashlib
import sqlite3
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO

import httpx
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import TransactionNotFound
from web3.logs import DISCARD

from civic_observer.state import Store, write_evidence
from civic_tlog import merkle, note

ANCHORED_EVENT_ABI: dict[str, Any] = {
    "anonymous": False,
    "name": "Anchored",
    "type": "event",
    "inputs": [
        {"indexed": False, "internalType": "string", "name": "origin", "type": "string"},
        {"indexed": False, "internalType": "uint64", "name": "treeSize", "type": "uint64"},
        {"indexed": True, "internalType": "bytes32", "name": "checkpointHash", "type": "bytes32"},
        {"indexed": True, "internalType": "address", "name": "sender", "type": "address"},
    ],
}
OWNERSHIP_EVENT_ABI: dict[str, Any] = {
    "anonymous": False,
    "name": "OwnershipTransferred",
    "type": "event",
    "inputs": [
        {"indexed": True, "internalType": "address", "name": "previousOwner", "type": "address"},
        {"indexed": True, "internalType": "address", "name": "newOwner", "type": "address"},
    ],
}
OWNER_ABI: dict[str, Any] = {
    "inputs": [],
    "name": "owner",
    "outputs": [{"internalType": "address", "name": "", "type": "address"}],
    "stateMutability": "view",
    "type": "function",
}
READER_ABI = [ANCHORED_EVENT_ABI, OWNERSHIP_EVENT_ABI, OWNER_ABI]

# Finding statuses. Only the last three are misbehaviour of the city (evidence, non-zero exit).
VERIFIED = "verified"  # anchored checkpoint opened, signed, and equal to the observer's view
AHEAD = "ahead"  # beyond what this observer has mirrored: judged on a later round
UNKNOWN_LOG = "unknown-log"  # origin of a log this observer does not follow
UNRESOLVED = "unresolved"  # no note with this hash available right now (city list unreachable)
FORK = "fork"  # signed by the log, root differs from the observer's view: the log forked
INVALID = "invalid"  # note is not a valid log checkpoint, or disagrees with the event fields
UNOPENABLE = "unopenable"  # the city anchored a hash of a note it does not publish
MISBEHAVIOUR = frozenset({FORK, INVALID, UNOPENABLE})


class AnchorReadError(Exception):
    """The chain or contract cannot be read (not evidence of anything; try again later)."""


@dataclass(frozen=True)
class ChainAnchor:
    """One ``Anchored`` event as found on the chain."""

    origin: str
    tree_size: int
    checkpoint_hash: bytes
    sender: str
    contract: str
    chain_id: int
    tx_hash: str
    block_number: int
    block_hash: str
    log_index: int
    confirmations: int

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["checkpoint_hash"] = self.checkpoint_hash.hex()
        return data


@dataclass
class AnchorFinding:
    anchor: ChainAnchor
    status: str
    message: str
    log: str | None = None
    anchored_note: str | None = None
    evidence: Path | None = None


@dataclass
class AnchorReport:
    findings: list[AnchorFinding] = field(default_factory=list)

    @property
    def misbehaviour(self) -> list[AnchorFinding]:
        return [f for f in self.findings if f.status in MISBEHAVIOUR]

    @property
    def ok(self) -> bool:
        return not self.misbehaviour

    def count(self, status: str) -> int:
        return sum(1 for f in self.findings if f.status == status)


def _hex(value: bytes | HexBytes | str) -> str:
    text = value if isinstance(value, str) else HexBytes(value).hex()
    return text if text.startswith("0x") else "0x" + text


def note_hash(note_text: str) -> bytes:
    """What the city anchors: SHA-256 of the signed checkpoint note text."""
    return hashlib.sha256(note_text.encode("utf-8")).digest()


# -- reading the chain --------------------------------------------------------------------------


def connect(rpc_url: str, timeout: float = 15.0) -> Web3:
    if not rpc_url.startswith(("http://", "https://")):
        raise AnchorReadError(f"--chain-rpc must be an http(s) URL, got {rpc_url!r}")
    return Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": timeout}))


def read_anchors(
    w3: Web3,
    contract: str,
    *,
    anchoring_account: str | None = None,
    from_block: int = 0,
    to_block: int | None = None,
) -> list[ChainAnchor]:
    """Every ``Anchored`` event of ``contract`` sent by the city's anchoring account.

    Without ``anchoring_account``, the accounts that ever owned the contract (from its own
    OwnershipTransferred events) count as the city's; events from anyone else are ignored
    (the contract refuses them anyway)."""
    if not Web3.is_address(contract):
        raise AnchorReadError(f"--anchor-contract is not an address: {contract!r}")
    address = Web3.to_checksum_address(contract)
    try:
        chain_id = int(w3.eth.chain_id)
        head = int(w3.eth.block_number) if to_block is None else to_block
        if len(w3.eth.get_code(address)) == 0:
            raise AnchorReadError(f"no contract at {address} on chain {chain_id}")
        reader = w3.eth.contract(address=address, abi=READER_ABI)
        if anchoring_account:
            senders = {Web3.to_checksum_address(anchoring_account)}
        else:
            transfers = reader.events.OwnershipTransferred.get_logs(from_block=0, to_block=head)
            senders = {Web3.to_checksum_address(t["args"]["newOwner"]) for t in transfers}
        logs = reader.events.Anchored.get_logs(from_block=from_block, to_block=head)
    except AnchorReadError:
        raise
    except Exception as exc:  # connection refused, timeouts, odd nodes: all "cannot read"
        raise AnchorReadError(f"cannot read anchors from the chain: {exc}") from exc
    anchors = []
    for log in logs:
        sender = Web3.to_checksum_address(log["args"]["sender"])
        if sender not in senders:
            continue
        anchors.append(
            ChainAnchor(
                origin=log["args"]["origin"],
                tree_size=int(log["args"]["treeSize"]),
                checkpoint_hash=bytes(log["args"]["checkpointHash"]),
                sender=sender,
                contract=address,
                chain_id=chain_id,
                tx_hash=_hex(log["transactionHash"]),
                block_number=int(log["blockNumber"]),
                block_hash=_hex(log["blockHash"]),
                log_index=int(log["logIndex"]),
                confirmations=head - int(log["blockNumber"]) + 1,
            )
        )
    return anchors


def fetch_city_anchor_notes(server: str, client: httpx.Client | None = None) -> list[str]:
    """The notes the city says it anchored (``GET /api/ledger/anchors``). Only used to *open*
    hashes read from the chain: a note counts only if its SHA-256 is what the chain holds."""
    own = client is None
    http = client or httpx.Client(timeout=30.0, follow_redirects=True)
    notes: list[str] = []
    try:
        offset = 0
        while True:
            response = http.get(
                f"{server.rstrip('/')}/api/ledger/anchors", params={"limit": 500, "offset": offset}
            )
            response.raise_for_status()
            body = response.json()
            page = [a["checkpoint_note"] for a in body["anchors"]]
            notes += page
            offset += len(page)
            if not page or offset >= int(body["count"]):
                return notes
    except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
        raise AnchorReadError(f"cannot read the city's anchor list: {exc}") from exc
    finally:
        if own:
            http.close()


# -- the observer's view ------------------------------------------------------------------------


@dataclass(frozen=True)
class LogView:
    """What the observer verified about one log."""

    name: str
    origin: str
    verifier_key: str
    size: int  # largest accepted (verified and cosigned) size
    root_at: Callable[[int], bytes]  # root of the observer's own mirror, for size <= ``size``
    notes: tuple[str, ...]  # signed notes the observer holds for this log


def store_views(state: Path) -> dict[str, LogView]:
    """One ``LogView`` per log in the observer's state folder, keyed by origin."""
    store = Store(state, read_only=True)
    try:
        views = {}
        for name, origin, verifier_key in store.db.execute(
            "SELECT name, origin, verifier_key FROM logs"
        ).fetchall():
            views[origin] = _store_view(store, name, origin, verifier_key)
        return views
    except sqlite3.Error as exc:
        raise AnchorReadError(f"cannot read the observer state in {state}: {exc}") from exc
    finally:
        store.close()


def _store_view(store: Store, name: str, origin: str, verifier_key: str) -> LogView:
    rows = store.db.execute(
        "SELECT size, root, log_note, cosignature FROM checkpoints WHERE log = ?", (name,)
    ).fetchall()
    accepted_roots = {int(size): bytes(root) for size, root, _, _ in rows}
    notes = tuple(
        text
        for _, _, log_note, cosignature in rows
        for text in (log_note, note.add_signature_lines(log_note, [cosignature]))
    )
    _, hashes = store.leaves(name)
    size = max(accepted_roots, default=0)

    def root_at(tree_size: int) -> bytes:
        if tree_size in accepted_roots:
            return accepted_roots[tree_size]
        return merkle.root_from_leaf_hashes(hashes[:tree_size])

    return LogView(name, origin, verifier_key, size, root_at, notes)


# -- checking -----------------------------------------------------------------------------------


def check_anchors(
    anchors: Iterable[ChainAnchor],
    views: Mapping[str, LogView],
    *,
    published_notes: Iterable[str] = (),
    city_notes_available: bool = True,
) -> AnchorReport:
    """Judge each anchor against the observer's view (see the status constants)."""
    by_hash: dict[bytes, str] = {}
    for view in views.values():
        for text in view.notes:
            by_hash.setdefault(note_hash(text), text)
    for text in published_notes:
        by_hash.setdefault(note_hash(text), text)
    report = AnchorReport()
    for anchor in anchors:
        report.findings.append(
            _judge(anchor, views.get(anchor.origin), by_hash, city_notes_available)
        )
    return report


def _judge(
    anchor: ChainAnchor,
    view: LogView | None,
    by_hash: Mapping[bytes, str],
    city_notes_available: bool,
) -> AnchorFinding:
    where = f"{anchor.origin}@{anchor.tree_size} (tx {anchor.tx_hash})"
    if view is None:
        return AnchorFinding(anchor, UNKNOWN_LOG, f"{where}: a log this observer does not follow")
    text = by_hash.get(anchor.checkpoint_hash)
    if text is None:
        if anchor.tree_size > view.size:
            return AnchorFinding(
                anchor, AHEAD, f"{where}: beyond this observer's size {view.size}", view.name
            )
        if not city_notes_available:
            return AnchorFinding(
                anchor,
                UNRESOLVED,
                f"{where}: note not available now (city list unreachable)",
                view.name,
            )
        return AnchorFinding(
            anchor,
            UNOPENABLE,
            f"{where}: the city's account anchored checkpoint hash {anchor.checkpoint_hash.hex()} "
            f"that matches no checkpoint this observer verified and that the city does not publish",
            view.name,
        )
    try:
        checkpoint, _ = note.open_checkpoint(text, view.verifier_key, view.origin)
    except note.NoteError as exc:
        return AnchorFinding(
            anchor,
            INVALID,
            f"{where}: anchored note is not a valid checkpoint of this log: {exc}",
            view.name,
            text,
        )
    if checkpoint.size != anchor.tree_size:
        return AnchorFinding(
            anchor,
            INVALID,
            f"{where}: the event says size {anchor.tree_size}, the anchored checkpoint {checkpoint.size}",
            view.name,
            text,
        )
    if checkpoint.size > view.size:
        return AnchorFinding(
            anchor, AHEAD, f"{where}: beyond this observer's size {view.size}", view.name, text
        )
    own_root = view.root_at(checkpoint.size)
    if own_root != checkpoint.root_hash:
        return AnchorFinding(
            anchor,
            FORK,
            f"{where}: FORK: the anchored checkpoint signed by the log has root "
            f"{checkpoint.root_hash.hex()}, this observer verified root {own_root.hex()} at that size",
            view.name,
            text,
        )
    return AnchorFinding(
        anchor, VERIFIED, f"{where}: matches this observer's view", view.name, text
    )


def save_anchor_evidence(
    state: Path, report: AnchorReport, views: Mapping[str, LogView]
) -> list[Path]:
    """One evidence file per misbehaving anchor: the chain event, the anchored note, and the
    observer's own latest signed note and root at that size."""
    paths = []
    for finding in report.misbehaviour:
        view = views.get(finding.anchor.origin)
        payload: dict[str, Any] = {
            "kind": f"anchor-{finding.status}",
            "message": finding.message,
            "chain_anchor": finding.anchor.as_dict(),
            "anchored_note": finding.anchored_note,
        }
        if view is not None:
            size = min(finding.anchor.tree_size, view.size)
            payload["observer"] = {
                "log": view.name,
                "log_verifier_key": view.verifier_key,
                "accepted_size": view.size,
                "root_at_anchored_size": view.root_at(size).hex()
                if size == finding.anchor.tree_size
                else None,
                "latest_note": view.notes[-1] if view.notes else None,
            }
        finding.evidence = write_evidence(
            state, finding.log or "unknown", f"anchor-{finding.status}", payload
        )
        paths.append(finding.evidence)
    return paths


def check_chain_anchors(
    state: Path,
    rpc_url: str,
    contract: str,
    *,
    server: str | None = None,
    anchoring_account: str | None = None,
    extra_notes: Iterable[str] = (),
    w3: Web3 | None = None,
) -> AnchorReport:
    """What ``follow --chain-rpc URL --anchor-contract ADDRESS`` runs after each round: read every
    anchor from the chain, judge it, save evidence for each misbehaving one."""
    chain = w3 or connect(rpc_url)
    anchors = read_anchors(chain, contract, anchoring_account=anchoring_account)
    published: list[str] = list(extra_notes)
    available = True
    if server:
        try:
            published += fetch_city_anchor_notes(server)
        except AnchorReadError:
            available = False
    views = store_views(state)
    report = check_anchors(
        anchors, views, published_notes=published, city_notes_available=available
    )
    save_anchor_evidence(state, report, views)
    return report


def format_anchor_report(report: AnchorReport) -> list[str]:
    lines = [
        f"anchors: {len(report.findings)} on chain, {report.count(VERIFIED)} verified, "
        f"{report.count(AHEAD)} ahead, {len(report.misbehaviour)} misbehaving"
    ]
    for finding in report.findings:
        if finding.status != VERIFIED:
            suffix = f" (evidence: {finding.evidence})" if finding.evidence else ""
            lines.append(f"  [{finding.status}] {finding.message}{suffix}")
    return lines


# -- receipts -----------------------------------------------------------------------------------


def verify_receipt_anchor(
    receipt: Mapping[str, Any],
    *,
    w3: Web3 | None = None,
    rpc_url: str | None = None,
    contract: str | None = None,
    anchoring_account: str | None = None,
    min_confirmations: int = 1,
    log_verifier_key: str | None = None,
) -> list[tuple[str, bool, str]]:
    """Checks of a receipt's ``anchor`` object: the anchored note (hash, log signature, consistency
    with the receipt's checkpoint), then, given a chain endpoint, the event on the chain itself.
    Returns (check name, ok, detail) triples for ``check-receipt`` to print."""
    checks: list[tuple[str, bool, str]] = []
    anchor = receipt.get("anchor")
    if not isinstance(anchor, Mapping):
        return [("anchor", False, "the receipt names no blockchain anchor (not anchored yet?)")]
    try:
        anchored_note = str(anchor["checkpoint_note"])
        anchored_hash = bytes.fromhex(str(anchor["checkpoint_hash"]))
        anchored_size = int(anchor["tree_size"])
        proof = [bytes.fromhex(h) for h in anchor.get("consistency_proof", [])]
        tx_hash = str(anchor["transaction_hash"])
        anchor_contract = str(anchor["contract"])
    except (KeyError, TypeError, ValueError) as exc:
        return [("anchor", False, f"malformed anchor object: {exc}")]
    computed = note_hash(anchored_note)
    if not checks_add(
        checks,
        "anchor hash",
        computed == anchored_hash,
        f"SHA-256(anchored note) = {computed.hex()}",
    ):
        return checks
    key = log_verifier_key or str(receipt.get("log_verifier_key", ""))
    try:
        anchored, _ = note.open_checkpoint(anchored_note, key, str(receipt.get("origin", "")))
        own, _ = note.open_checkpoint(
            str(receipt.get("checkpoint", "")), key, str(receipt.get("origin", ""))
        )
    except note.NoteError as exc:
        checks_add(checks, "anchored checkpoint", False, f"not signed by the log: {exc}")
        return checks
    sizes_ok = anchored.size == anchored_size and anchored.size >= own.size
    if not checks_add(
        checks, "anchored checkpoint", sizes_ok, f"log-signed checkpoint of size {anchored.size}"
    ):
        return checks
    if anchored.size == own.size:
        consistent = anchored.root_hash == own.root_hash
    else:
        consistent = merkle.verify_consistency(
            own.size, anchored.size, proof, own.root_hash, anchored.root_hash
        )
    checks_add(
        checks,
        "anchor consistency",
        consistent,
        f"the receipt's tree {own.size} is a prefix of the anchored tree {anchored.size}"
        if consistent
        else "the anchored checkpoint is NOT consistent with the receipt's checkpoint",
    )
    if w3 is None and rpc_url is None:
        checks_add(checks, "anchor on chain", True, "not checked (no --chain-rpc given)")
        return checks
    if w3 is None:
        try:
            w3 = connect(rpc_url or "")
        except AnchorReadError as exc:
            checks_add(checks, "anchor on chain", False, str(exc))
            return checks
    checks.append(
        _check_on_chain(
            w3,
            tx_hash,
            contract or anchor_contract,
            anchoring_account or anchor.get("anchoring_account"),
            anchored,
            anchored_hash,
            min_confirmations,
        )
    )
    return checks


def checks_add(checks: list[tuple[str, bool, str]], name: str, ok: bool, detail: str) -> bool:
    checks.append((name, ok, detail))
    return ok


def _check_on_chain(
    w3: Web3,
    tx_hash: str,
    contract: str,
    anchoring_account: Any,
    anchored: note.Checkpoint,
    anchored_hash: bytes,
    min_confirmations: int,
) -> tuple[str, bool, str]:
    name = "anchor on chain"
    try:
        receipt = w3.eth.get_transaction_receipt(tx_hash)
        head = int(w3.eth.block_number)
        canonical = w3.eth.get_block(int(receipt["blockNumber"]))["hash"]
    except TransactionNotFound:
        return (name, False, f"transaction {tx_hash} is not on this chain")
    except Exception as exc:  # unreachable endpoint and friends: a failed check, clearly worded
        return (name, False, f"cannot read the chain: {exc}")
    if _hex(canonical) != _hex(receipt["blockHash"]) or int(receipt["status"]) != 1:
        return (name, False, f"transaction {tx_hash} is not a successful canonical transaction")
    confirmations = head - int(receipt["blockNumber"]) + 1
    events = w3.eth.contract(address=Web3.to_checksum_address(contract), abi=READER_ABI).events
    for log in events.Anchored().process_receipt(receipt, errors=DISCARD):
        if Web3.to_checksum_address(log["address"]) != Web3.to_checksum_address(contract):
            continue
        args = log["args"]
        if (
            bytes(args["checkpointHash"]) == anchored_hash
            and args["origin"] == anchored.origin
            and int(args["treeSize"]) == anchored.size
        ):
            if anchoring_account and Web3.to_checksum_address(
                args["sender"]
            ) != Web3.to_checksum_address(str(anchoring_account)):
                return (
                    name,
                    False,
                    f"anchored by {args['sender']}, not the city's account {anchoring_account}",
                )
            ok = confirmations >= min_confirmations
            return (
                name,
                ok,
                f"event in block {receipt['blockNumber']} of chain {w3.eth.chain_id}, "
                f"{confirmations} confirmation(s)" + ("" if ok else f" (< {min_confirmations})"),
            )
    return (name, False, f"transaction {tx_hash} carries no matching Anchored event of {contract}")


# -- command-line glue (``follow`` and ``check-receipt`` call these) ------------------------------


def add_chain_arguments(parser: argparse.ArgumentParser, *, receipt: bool = False) -> None:
    """``--chain-rpc``, ``--anchor-contract``, ``--anchoring-account`` (+ ``--min-confirmations``
    for receipts) on a sub-command."""
    parser.add_argument(
        "--chain-rpc", metavar="URL", help="EVM JSON-RPC endpoint to read anchors from"
    )
    parser.add_argument(
        "--anchor-contract",
        metavar="ADDRESS",
        help="the city's CivicAnchor contract"
        + (" (default: the one the receipt names)" if receipt else " (required with --chain-rpc)"),
    )
    parser.add_argument(
        "--anchoring-account",
        metavar="ADDRESS",
        help="the city's anchoring account (default: every account that owned the contract)",
    )
    if receipt:
        parser.add_argument(
            "--min-confirmations",
            type=int,
            default=1,
            help="blocks the anchor must be buried under",
        )


def follow_anchor_check(
    args: argparse.Namespace, state: Path, server: str | None, out: TextIO | None = None
) -> Callable[[], bool]:
    """A per-round hook for ``follow``: check every anchor on the chain, print a summary, and
    return True when one is misbehaviour (evidence already saved). A chain that cannot be read
    is reported and retried next round, never taken for misbehaviour."""
    if not args.anchor_contract:
        raise ValueError("--anchor-contract is required with --chain-rpc")
    if not Web3.is_address(args.anchor_contract):
        raise ValueError(f"--anchor-contract is not an address: {args.anchor_contract!r}")
    stream = out or sys.stdout

    def check() -> bool:
        try:
            report = check_chain_anchors(
                state,
                args.chain_rpc,
                args.anchor_contract,
                server=server,
                anchoring_account=args.anchoring_account,
            )
        except AnchorReadError as exc:
            print(f"anchors: not checked this round: {exc}", file=stream)
            return False
        for line in format_anchor_report(report):
            print(line, file=stream)
        return not report.ok

    return check


def receipt_anchor_checks(
    args: argparse.Namespace, raw_receipt: Any
) -> list[tuple[str, bool, str]]:
    """``check-receipt``'s anchor checks: run when the receipt names an anchor or ``--chain-rpc``
    is given (then a receipt without an anchor fails)."""
    if not isinstance(raw_receipt, Mapping):
        return []
    if raw_receipt.get("anchor") is None and not args.chain_rpc:
        return []
    return verify_receipt_anchor(
        raw_receipt,
        rpc_url=args.chain_rpc,
        contract=args.anchor_contract,
        anchoring_account=args.anchoring_account,
        min_confirmations=args.min_confirmations,
        log_verifier_key=getattr(args, "log_key", None),
    )
