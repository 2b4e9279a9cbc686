"""Pure web3 client for the CivicAnchor contract: connect, check, fees, nonces, send, confirm, read.

No Django here: the anchoring service drives this client and keeps all state in the database,
so this module only speaks JSON-RPC. Every chain problem surfaces as an ``AnchorChainError``
subclass whose message tells an operator what to fix (wrong chain id, no funds, unreachable
endpoint), because the anchoring task logs it and the health page shows it verbatim.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests
from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import (
    BlockNotFound,
    ProviderConnectionError,
    TimeExhausted,
    TransactionNotFound,
    Web3RPCError,
)

ARTIFACT_PATH = Path(__file__).resolve().parent / "artifacts" / "CivicAnchor.json"
GAS_HEADROOM = 1.25  # estimate_gas is exact for events, but nodes differ: keep a margin
REPLACEMENT_BUMP = 1.25  # nodes require >= +10% on both fees to replace a pending transaction
T = TypeVar("T")


class AnchorChainError(Exception):
    """The chain cannot be used for anchoring right now; the message says why."""


class ChainUnreachable(AnchorChainError):
    pass


class WrongChain(AnchorChainError):
    pass


class InsufficientFunds(AnchorChainError):
    pass


class ContractProblem(AnchorChainError):
    """No contract at the address, or this account is not the contract's anchoring account."""


class NonceConsumed(AnchorChainError):
    """The transaction's nonce was used by another transaction: this one can never be mined."""


class ArtifactMissing(AnchorChainError):
    pass


@cache
def load_artifact() -> dict[str, Any]:
    """ABI and bytecode built by ``node scripts/build_contract.mjs`` (never committed)."""
    if not ARTIFACT_PATH.exists():
        raise ArtifactMissing(
            f"contract artifact {ARTIFACT_PATH} is missing: run `node scripts/build_contract.mjs`"
        )
    return json.loads(ARTIFACT_PATH.read_text())


@dataclass(frozen=True)
class ChainIdentity:
    """Which chain this is: a chain id alone does not tell a fresh local node from the one an
    anchor was written to (every Hardhat node is 31337), its genesis block hash does."""

    chain_id: int
    genesis_hash: str


@dataclass(frozen=True)
class AnchorItem:
    """One log's checkpoint to anchor."""

    origin: str
    tree_size: int
    checkpoint_hash: bytes  # SHA-256 of the signed checkpoint note text


@dataclass(frozen=True)
class SignedAnchorTx:
    """A signed transaction, kept in the database before broadcast so a crash cannot lose it."""

    tx_hash: str
    raw: bytes
    nonce: int
    gas: int
    max_fee_per_gas: int | None
    max_priority_fee_per_gas: int | None
    gas_price: int | None


@dataclass(frozen=True)
class TxState:
    """Where a transaction stands: ``unknown`` (not on chain nor in the node's pool), ``pending``,
    ``mined`` (canonical block, success), ``reverted``."""

    state: str
    block_number: int | None = None
    block_hash: str | None = None
    confirmations: int = 0


@dataclass(frozen=True)
class AnchorEvent:
    origin: str
    tree_size: int
    checkpoint_hash: bytes
    sender: str
    tx_hash: str
    block_number: int
    block_hash: str
    log_index: int


def _hex(value: bytes | HexBytes | str) -> str:
    text = value if isinstance(value, str) else HexBytes(value).hex()
    return text if text.startswith("0x") else "0x" + text


def public_url(rpc_url: str) -> str:
    """The endpoint without its path, query or credentials: hosted RPC URLs carry API keys
    there (``/v3/<key>``), and messages end up in logs and on the public health page."""
    parts = urlsplit(rpc_url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    hidden = "/…" if (parts.path not in ("", "/") or parts.query or parts.username) else ""
    return f"{parts.scheme}://{host}{port}{hidden}"


def redact_secrets(text: str, rpc_url: str | None) -> str:
    """Remove the secret parts of ``rpc_url`` (path, query, user info) from an error text."""
    if not rpc_url:
        return text
    parts = urlsplit(str(rpc_url))
    for secret in (
        parts.path if parts.path not in ("", "/") else "",
        parts.query,
        parts.username,
        parts.password,
    ):
        if secret:
            text = text.replace(secret, "…")
    return text


def connect(rpc_url: str, timeout: float = 10.0) -> Web3:
    """An HTTP JSON-RPC connection with a bounded timeout (an outage must fail fast)."""
    if not rpc_url.startswith(("http://", "https://")):
        raise ChainUnreachable(f"ANCHOR_RPC_URL must be an http(s) URL, got {rpc_url!r}")
    provider = Web3.HTTPProvider(
        rpc_url, request_kwargs={"timeout": timeout}, exception_retry_configuration=None
    )
    return Web3(provider)


def with_retries(
    operation: Callable[[], T],
    attempts: int = 3,
    backoff_s: float = 0.5,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run ``operation``, retrying transient chain errors with exponential backoff."""
    for attempt in range(1, attempts + 1):
        try:
            return operation()
        except ChainUnreachable:
            if attempt == attempts:
                raise
            sleep(backoff_s * 2 ** (attempt - 1))
    raise AssertionError("unreachable")  # pragma: no cover - loop always returns or raises


_TRANSIENT = (
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    ProviderConnectionError,
    ConnectionError,
    TimeoutError,
)


_EXPECTED_NONCE = re.compile(r"expected (\d+),? but got (\d+)")


def _nonce_too_low(message: str) -> bool:
    """Geth/Besu/Hardhat say "nonce too low"; py-evm says "expected N, but got M" with M < N."""
    if "nonce too low" in message or "nonce is too low" in message:
        return True
    found = _EXPECTED_NONCE.search(message)
    return "nonce" in message and found is not None and int(found[2]) < int(found[1])


class AnchorChain:
    """The city's view of one chain + one CivicAnchor contract + (optionally) its signing account."""

    def __init__(
        self,
        w3: Web3,
        *,
        expected_chain_id: int | None = None,
        contract_address: str | None = None,
        account: LocalAccount | None = None,
        label: str = "anchoring RPC",
    ) -> None:
        self.w3 = w3
        self.expected_chain_id = expected_chain_id
        self.account = account
        self.label = label
        artifact = load_artifact()
        self.abi = artifact["abi"]
        self.bytecode = artifact["bytecode"]
        self.contract_address = (
            Web3.to_checksum_address(contract_address) if contract_address else None
        )

    # -- plumbing -----------------------------------------------------------------------------

    def _call(self, what: str, operation: Callable[[], T]) -> T:
        """One RPC call; connection failures become ``ChainUnreachable`` with context."""
        try:
            return operation()
        except _TRANSIENT as exc:
            reason = redact_secrets(str(exc), getattr(self.w3.provider, "endpoint_uri", None))
            raise ChainUnreachable(f"{self.label} unreachable while {what}: {reason}") from exc

    @property
    def contract(self) -> Any:
        if self.contract_address is None:
            raise ContractProblem(
                "ANCHOR_CONTRACT is not set: deploy with `manage.py anchor_deploy`"
            )
        return self.w3.eth.contract(address=self.contract_address, abi=self.abi)

    @property
    def address(self) -> str:
        if self.account is None:
            raise AnchorChainError(
                "no anchoring key: set ANCHOR_PRIVATE_KEY or ANCHOR_KEYSTORE_FILE"
            )
        return self.account.address

    # -- checks -------------------------------------------------------------------------------

    def chain_id(self) -> int:
        """The node's chain id, checked against ANCHOR_CHAIN_ID when one is configured."""
        actual = int(self._call("reading the chain id", lambda: self.w3.eth.chain_id))
        if self.expected_chain_id is not None and actual != self.expected_chain_id:
            raise WrongChain(
                f"{self.label} serves chain id {actual}, but ANCHOR_CHAIN_ID is "
                f"{self.expected_chain_id}: refusing to anchor on the wrong chain"
            )
        return actual

    def identity(self) -> ChainIdentity:
        """The (checked) chain id and the hash of block 0."""
        chain_id = self.chain_id()
        genesis = self.block_hash_at(0)
        if genesis is None:
            raise ChainUnreachable(f"{self.label} has no block 0: cannot tell which chain it is")
        return ChainIdentity(chain_id, genesis)

    def latest_block(self) -> int:
        return int(self._call("reading the block number", lambda: self.w3.eth.block_number))

    def balance(self) -> int:
        return int(self._call("reading the balance", lambda: self.w3.eth.get_balance(self.address)))

    def check_contract(self) -> None:
        """The contract exists and our account is its anchoring account."""
        address = self.contract.address
        code = self._call("reading the contract code", lambda: self.w3.eth.get_code(address))
        if len(code) == 0:
            raise ContractProblem(
                f"no contract deployed at ANCHOR_CONTRACT {address} on this chain"
            )
        owner = self._call(
            "reading the contract owner", lambda: self.contract.functions.owner().call()
        )
        if self.account is not None and Web3.to_checksum_address(owner) != self.address:
            raise ContractProblem(
                f"account {self.address} is not the anchoring account of {address} (owner {owner})"
            )

    # -- fees and nonces ----------------------------------------------------------------------

    def fees(self) -> dict[str, int]:
        """EIP-1559 fees (2 x base fee + tip) when the chain has a base fee, else a legacy gas price
        (free-gas permissioned networks such as many Besu deployments quote 0)."""
        block = self._call("reading the latest block", lambda: self.w3.eth.get_block("latest"))
        base_fee = block.get("baseFeePerGas")
        if base_fee is None:
            return {
                "gasPrice": int(self._call("reading the gas price", lambda: self.w3.eth.gas_price))
            }
        try:
            tip = int(self._call("reading the priority fee", lambda: self.w3.eth.max_priority_fee))
        except Web3RPCError:
            tip = 10**9  # nodes without eth_maxPriorityFeePerGas: 1 gwei is a common floor
        return {"maxFeePerGas": 2 * int(base_fee) + tip, "maxPriorityFeePerGas": tip}

    @staticmethod
    def bumped(fees: dict[str, int], previous: dict[str, int]) -> dict[str, int]:
        """Fees for a replacement: the larger of today's fees and the old ones raised by 25%."""
        return {
            key: max(value, int(previous.get(key, 0) * REPLACEMENT_BUMP) + 1)
            for key, value in fees.items()
        }

    def pending_nonce(self) -> int:
        return int(
            self._call(
                "reading the account nonce",
                lambda: self.w3.eth.get_transaction_count(self.address, "pending"),
            )
        )

    # -- transactions -------------------------------------------------------------------------

    def _finish(self, tx: dict[str, Any], nonce: int, fees: dict[str, int]) -> SignedAnchorTx:
        tx = {**tx, **fees, "nonce": nonce, "chainId": self.chain_id(), "from": self.address}
        tx.pop("gasPrice" if "maxFeePerGas" in fees else "maxFeePerGas", None)
        price = fees.get("maxFeePerGas", fees.get("gasPrice", 0))
        balance = self.balance()
        if balance == 0 and price > 0:
            raise InsufficientFunds(
                f"anchoring account {self.address} holds 0 wei: fund it on chain id {tx['chainId']}"
            )
        try:
            estimate = self._call("estimating gas", lambda: self.w3.eth.estimate_gas(tx))
        except ChainUnreachable:
            raise
        except Exception as exc:  # nodes report a reverted estimate in many shapes
            raise ContractProblem(f"the contract rejects this anchoring call: {exc}") from exc
        tx["gas"] = int(estimate * GAS_HEADROOM)
        cost = tx["gas"] * price
        if balance < cost:
            raise InsufficientFunds(
                f"anchoring account {self.address} holds {balance} wei but the transaction may "
                f"cost up to {cost} wei: fund it on chain id {tx['chainId']}"
            )
        tx.pop("from")
        signed = self.account.sign_transaction(tx)  # type: ignore[union-attr]
        return SignedAnchorTx(
            tx_hash=_hex(signed.hash),
            raw=bytes(signed.raw_transaction),
            nonce=nonce,
            gas=tx["gas"],
            max_fee_per_gas=fees.get("maxFeePerGas"),
            max_priority_fee_per_gas=fees.get("maxPriorityFeePerGas"),
            gas_price=fees.get("gasPrice"),
        )

    def sign_batch(
        self, items: Sequence[AnchorItem], nonce: int, fees: dict[str, int] | None = None
    ) -> SignedAnchorTx:
        """One ``anchorBatch`` transaction covering every item (one log each)."""
        if not items:
            raise ValueError("nothing to anchor")
        data = self.contract.encode_abi(
            "anchorBatch",
            args=[
                [item.origin for item in items],
                [item.tree_size for item in items],
                [item.checkpoint_hash for item in items],
            ],
        )
        tx = {"to": self.contract.address, "data": data, "value": 0}
        return self._finish(tx, nonce, fees or self.fees())

    def sign_deploy(self, nonce: int | None = None) -> SignedAnchorTx:
        # The constructor takes no arguments: the deployment data is the creation bytecode.
        chosen = self.pending_nonce() if nonce is None else nonce
        return self._finish({"data": self.bytecode, "value": 0}, chosen, self.fees())

    def broadcast(self, signed: SignedAnchorTx) -> None:
        """Send the raw transaction; re-sending one the node already has is not an error."""
        try:
            self._call(
                "sending the transaction", lambda: self.w3.eth.send_raw_transaction(signed.raw)
            )
        except ChainUnreachable:
            raise
        except Exception as exc:  # JSON-RPC nodes and in-process chains word refusals differently
            message = str(exc).lower()
            if any(
                text in message
                for text in ("already known", "already imported", "known transaction")
            ):
                return
            if _nonce_too_low(message):
                raise NonceConsumed(
                    f"nonce {signed.nonce} of {self.address} is already used: {exc}"
                ) from exc
            if "insufficient funds" in message or "cannot afford" in message:
                raise InsufficientFunds(
                    f"anchoring account {self.address} cannot pay for transaction {signed.tx_hash}: {exc}"
                ) from exc
            raise AnchorChainError(f"the node refused transaction {signed.tx_hash}: {exc}") from exc

    def tx_state(self, tx_hash: str) -> TxState:
        """Where ``tx_hash`` stands, with the receipt's block re-checked against the canonical
        chain: a receipt whose block is no longer canonical means a reorganization."""
        try:
            receipt = self._call(
                "reading a receipt", lambda: self.w3.eth.get_transaction_receipt(tx_hash)
            )
        except TransactionNotFound:
            receipt = None
        if receipt is None or receipt.get("blockNumber") is None:
            try:
                self._call("reading a transaction", lambda: self.w3.eth.get_transaction(tx_hash))
            except TransactionNotFound:
                return TxState("unknown")
            return TxState("pending")
        number = int(receipt["blockNumber"])
        block_hash = _hex(receipt["blockHash"])
        canonical = self.block_hash_at(number)
        if canonical != block_hash:
            return TxState("unknown")  # receipt from a block that was reorganized away
        latest = self.latest_block()
        state = "mined" if int(receipt["status"]) == 1 else "reverted"
        return TxState(state, number, block_hash, max(0, latest - number + 1))

    def block_hash_at(self, number: int) -> str | None:
        try:
            block = self._call("reading a block", lambda: self.w3.eth.get_block(number))
        except BlockNotFound:
            return None
        return _hex(block["hash"])

    def wait_mined(self, tx_hash: str, timeout_s: float = 60.0, poll_s: float = 0.2) -> TxState:
        """Block until ``tx_hash`` is in a block (used by deploy; the task never waits)."""
        try:
            receipt = self._call(
                "waiting for a receipt",
                lambda: self.w3.eth.wait_for_transaction_receipt(
                    tx_hash, timeout=timeout_s, poll_latency=poll_s
                ),
            )
        except TimeExhausted as exc:
            raise AnchorChainError(
                f"transaction {tx_hash} not mined after {timeout_s:.0f} s"
            ) from exc
        return TxState(
            "mined" if int(receipt["status"]) == 1 else "reverted",
            int(receipt["blockNumber"]),
            _hex(receipt["blockHash"]),
        )

    def deploy(self, timeout_s: float = 60.0) -> tuple[str, str]:
        """Deploy CivicAnchor from the anchoring account; returns (contract address, tx hash)."""
        self.chain_id()
        signed = self.sign_deploy()
        self.broadcast(signed)
        state = self.wait_mined(signed.tx_hash, timeout_s)
        if state.state != "mined":
            raise ContractProblem(f"deployment transaction {signed.tx_hash} reverted")
        receipt = self.w3.eth.get_transaction_receipt(signed.tx_hash)
        self.contract_address = Web3.to_checksum_address(receipt["contractAddress"])
        return self.contract_address, signed.tx_hash

    def transfer_ownership(self, new_owner: str) -> str:
        data = self.contract.encode_abi(
            "transferOwnership", args=[Web3.to_checksum_address(new_owner)]
        )
        tx = {"to": self.contract.address, "data": data, "value": 0}
        signed = self._finish(tx, self.pending_nonce(), self.fees())
        self.broadcast(signed)
        self.wait_mined(signed.tx_hash)
        return signed.tx_hash

    # -- reading ------------------------------------------------------------------------------

    def events(
        self, from_block: int = 0, to_block: int | str = "latest", sender: str | None = None
    ) -> list[AnchorEvent]:
        """Every Anchored event in the block range, optionally only those from ``sender``."""
        filters = {"sender": Web3.to_checksum_address(sender)} if sender else None
        logs = self._call(
            "reading anchor events",
            lambda: self.contract.events.Anchored.get_logs(
                from_block=from_block, to_block=to_block, argument_filters=filters
            ),
        )
        return [
            AnchorEvent(
                origin=log["args"]["origin"],
                tree_size=int(log["args"]["treeSize"]),
                checkpoint_hash=bytes(log["args"]["checkpointHash"]),
                sender=Web3.to_checksum_address(log["args"]["sender"]),
                tx_hash=_hex(log["transactionHash"]),
                block_number=int(log["blockNumber"]),
                block_hash=_hex(log["blockHash"]),
                log_index=int(log["logIndex"]),
            )
            for log in logs
        ]
