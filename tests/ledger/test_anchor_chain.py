"""The CivicAnchor contract and the pure chain client, on an in-process chain (py-evm)."""

from __future__ import annotations

import ast
import hashlib
import json
import re
import socket
from collections.abc import Callable

import pytest
from eth_account import Account
from web3 import Web3

from ledger.anchoring import chain as chain_module
from ledger.anchoring.chain import (
    AnchorChain,
    AnchorItem,
    ChainUnreachable,
    ContractProblem,
    InsufficientFunds,
    WrongChain,
    connect,
    with_retries,
)
from tests.ledger.anchor_fixtures import InProcessChain, in_process_chain  # noqa: F401 (fixture)


def _item(origin: str, size: int) -> AnchorItem:
    return AnchorItem(origin, size, hashlib.sha256(f"{origin}/{size}".encode()).digest())


BYTES_LITERAL = re.compile(r"b'(?:[^'\\]|\\.)*'|b\"(?:[^\"\\]|\\.)*\"")


def assert_reverts(call: Callable[[], object], error_signature: str) -> None:
    """The call reverts with the contract's custom error ``error_signature`` (selector match),
    whatever exception shape the node (py-evm or a JSON-RPC node) uses to report it."""
    selector = Web3.keccak(text=error_signature)[:4].hex()
    try:
        call()
    except Exception as exc:
        seen = []
        current: BaseException | None = exc
        while current is not None:
            seen += [a.hex() if isinstance(a, bytes) else str(a) for a in current.args]
            seen.append(str(getattr(current, "data", "")))
            current = current.__cause__ or current.__context__
        # py-evm reports the revert data as a bytes literal inside its message; JSON-RPC nodes as hex.
        for text in list(seen):
            seen += [ast.literal_eval(lit).hex() for lit in BYTES_LITERAL.findall(text)]
        assert any(selector in text.lower() for text in seen), seen
    else:
        raise AssertionError(f"expected a revert with {error_signature}")


def test_artifact_is_the_build_of_the_source() -> None:
    """The artifact comes from scripts/build_contract.mjs over contracts/CivicAnchor.sol."""
    artifact = chain_module.load_artifact()
    source = (chain_module.ARTIFACT_PATH.parents[3] / "contracts" / "CivicAnchor.sol").read_bytes()
    assert artifact["sourceSha256"] == hashlib.sha256(source).hexdigest()
    assert artifact["compiler"]["name"] == "solc-js"
    event = next(e for e in artifact["abi"] if e.get("name") == "Anchored")
    assert [(i["name"], i["type"], i["indexed"]) for i in event["inputs"]] == [
        ("origin", "string", False),
        ("treeSize", "uint64", False),
        ("checkpointHash", "bytes32", True),
        ("sender", "address", True),
    ]


def test_deploy_sets_owner_and_batch_emits_one_event_per_log(test_chain: InProcessChain) -> None:
    client = test_chain.chain
    assert client.contract.functions.owner().call() == test_chain.owner.address
    client.check_contract()
    items = [_item("a.example/log/city", 3), _item("a.example/log/credentials", 9)]
    signed = client.sign_batch(items, client.pending_nonce())
    client.broadcast(signed)
    state = client.tx_state(signed.tx_hash)
    assert state.state == "mined" and state.confirmations == 1
    events = client.events(sender=test_chain.owner.address)
    assert [(e.origin, e.tree_size, e.checkpoint_hash) for e in events] == [
        (i.origin, i.tree_size, i.checkpoint_hash) for i in items
    ]
    assert {e.tx_hash for e in events} == {signed.tx_hash}
    assert [e.log_index for e in events] == [0, 1]
    # EIP-1559 transaction (type 2) on a chain with a base fee.
    tx = test_chain.w3.eth.get_transaction(signed.tx_hash)
    assert tx["type"] == 2 and tx["maxFeePerGas"] >= tx["maxPriorityFeePerGas"] > 0


def test_confirmations_grow_with_blocks(test_chain: InProcessChain) -> None:
    client = test_chain.chain
    signed = client.sign_batch([_item("o", 1)], client.pending_nonce())
    client.broadcast(signed)
    test_chain.tester.mine_blocks(3)
    assert client.tx_state(signed.tx_hash).confirmations == 4


def test_other_account_is_rejected_by_the_contract(test_chain: InProcessChain) -> None:
    intruder = Account.create()
    test_chain.fund(intruder)
    contract = test_chain.chain.contract
    assert_reverts(
        lambda: contract.functions.anchor("o", 1, b"\x01" * 32).call({"from": intruder.address}),
        "NotOwner(address)",
    )
    assert_reverts(
        lambda: contract.functions.anchorBatch(["o"], [1], [b"\x01" * 32]).call(
            {"from": intruder.address}
        ),
        "NotOwner(address)",
    )
    # Through the client: it refuses to even sign, naming the real owner.
    with pytest.raises(ContractProblem, match="not the anchoring account"):
        test_chain.client(intruder).check_contract()
    with pytest.raises(ContractProblem, match="rejects"):
        test_chain.client(intruder).sign_batch([_item("o", 1)], 0)
    assert test_chain.chain.events() == []


def test_batch_argument_checks(test_chain: InProcessChain) -> None:
    functions = test_chain.chain.contract.functions
    owner = {"from": test_chain.owner.address}
    assert_reverts(lambda: functions.anchorBatch([], [], []).call(owner), "EmptyBatch()")
    assert_reverts(
        lambda: functions.anchorBatch(["a", "b"], [1], [b"\x00" * 32, b"\x00" * 32]).call(owner),
        "LengthMismatch()",
    )
    with pytest.raises(ValueError, match="nothing"):
        test_chain.chain.sign_batch([], 0)


def test_ownership_transfer_moves_the_anchoring_right(test_chain: InProcessChain) -> None:
    successor = Account.create()
    test_chain.fund(successor)
    test_chain.chain.transfer_ownership(successor.address)
    with pytest.raises(ContractProblem):
        test_chain.chain.check_contract()
    new_client = test_chain.client(successor)
    new_client.check_contract()
    signed = new_client.sign_batch([_item("o", 2)], new_client.pending_nonce())
    new_client.broadcast(signed)
    assert [e.sender for e in new_client.events()] == [successor.address]
    zero = "0x" + "00" * 20
    functions = test_chain.chain.contract.functions
    assert_reverts(
        lambda: functions.transferOwnership(zero).call({"from": successor.address}), "ZeroAddress()"
    )
    assert_reverts(
        lambda: functions.transferOwnership(successor.address).call(
            {"from": test_chain.owner.address}
        ),
        "NotOwner(address)",
    )


def test_wrong_chain_id_is_refused(test_chain: InProcessChain) -> None:
    client = test_chain.client(expected_chain_id=1)
    with pytest.raises(WrongChain, match="ANCHOR_CHAIN_ID is 1"):
        client.chain_id()
    with pytest.raises(WrongChain):
        client.sign_batch([_item("o", 1)], 0)


def test_no_funds_is_a_clear_error(test_chain: InProcessChain) -> None:
    poor = Account.create()
    with pytest.raises(InsufficientFunds, match=f"{poor.address} holds 0 wei"):
        AnchorChain(test_chain.w3, account=poor).sign_deploy()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_rpc_is_a_clear_error() -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    client = AnchorChain(
        connect(url, timeout=1), account=Account.create(), label=f"anchoring RPC {url}"
    )
    with pytest.raises(
        ChainUnreachable, match=f"anchoring RPC {url} unreachable while reading the chain id"
    ):
        client.chain_id()
    with pytest.raises(ChainUnreachable, match="http"):
        connect("ws://127.0.0.1:1")


def test_with_retries_retries_only_transient_errors() -> None:
    calls: list[int] = []
    slept: list[float] = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise ChainUnreachable("down")
        return "ok"

    assert with_retries(flaky, attempts=3, backoff_s=0.5, sleep=slept.append) == "ok"
    assert slept == [0.5, 1.0]
    calls.clear()
    with pytest.raises(ChainUnreachable):
        with_retries(lambda: flaky() if len(calls) < 10 else "", attempts=2, sleep=slept.append)

    def refused() -> None:
        calls.append(1)
        raise WrongChain("no")

    calls.clear()
    with pytest.raises(WrongChain):
        with_retries(refused, attempts=3, sleep=slept.append)
    assert len(calls) == 1


def test_artifact_missing_names_the_build_command(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(chain_module, "ARTIFACT_PATH", tmp_path / "none.json")
    chain_module.load_artifact.cache_clear()
    try:
        with pytest.raises(chain_module.ArtifactMissing, match="node scripts/build_contract.mjs"):
            chain_module.load_artifact()
    finally:
        monkeypatch.undo()
        chain_module.load_artifact.cache_clear()
    assert json.loads(chain_module.ARTIFACT_PATH.read_text())["contractName"] == "CivicAnchor"
