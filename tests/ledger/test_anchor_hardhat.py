"""Integration: a real Hardhat node (started here), the city's anchoring service, the observer.

The city anchors its witnessed checkpoints on the node; the observer reads the anchors from the
chain (not from the city), accepts the honest ones, and catches a forged anchor of an
inconsistent checkpoint sent from the city's own account, with evidence on disk. An anchor from
any other account is refused by the contract.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from eth_account import Account
from web3 import Web3
from web3.exceptions import Web3RPCError

from civic_observer import anchors as observer_anchors
from civic_tlog import merkle, note
from ledger import keystore
from ledger import selectors as ledger_selectors
from ledger.anchoring import services as anchoring
from ledger.anchoring.chain import AnchorChain, AnchorItem, ContractProblem, connect
from ledger.anchoring.models import CheckpointAnchor
from ledger.anchoring.selectors import anchor_for_receipt
from ledger.models import Entry
from tests.ledger.anchor_fixtures import grow_and_witness, make_witness, mirror_into_observer_state
from tests.ledger.server_fixtures import ledger_keys  # noqa: F401 (fixture)

REPO = Path(__file__).resolve().parents[2]
# Hardhat's built-in, publicly known development accounts #0 and #1 (funded on its node only).
CITY_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
INTRUDER_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
INTRUDER = Account.from_key(INTRUDER_KEY)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def hardhat_url() -> Iterator[str]:
    """``npx hardhat node`` on a free port, offline, killed (with its process group) afterwards."""
    npx = shutil.which("npx")
    assert npx is not None, "npx (Node.js) is required for the Hardhat integration test"
    assert (REPO / "node_modules" / "hardhat").is_dir(), (
        "run `npm ci` first (hardhat is a devDependency)"
    )
    port = _free_port()
    env = {
        **os.environ,
        "HARDHAT_DISABLE_TELEMETRY_PROMPT": "true",
        "HARDHAT_TELEMETRY_DISABLED": "1",
    }
    process = subprocess.Popen(
        [npx, "--no-install", "hardhat", "node", "--hostname", "127.0.0.1", "--port", str(port)],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                body = {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}
                if httpx.post(url, json=body, timeout=1).json()["result"] == "0x7a69":
                    break
            except (httpx.HTTPError, ValueError, KeyError):
                pass
            assert process.poll() is None, (
                f"hardhat node exited: {process.stderr.read().decode()[-2000:]}"
            )
            assert time.monotonic() < deadline, "hardhat node did not start within 90 s"
            time.sleep(0.2)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _mine(w3: Web3, blocks: int) -> None:
    for _ in range(blocks):
        w3.provider.make_request("evm_mine", [])


@pytest.mark.django_db
@pytest.mark.usefixtures("ledger_keys")
def test_observer_reads_anchors_from_hardhat_and_catches_a_forged_one(
    hardhat_url: str, tmp_path: Path
) -> None:
    w3 = connect(hardhat_url)
    city = Account.from_key(CITY_KEY)
    deployer = AnchorChain(w3, expected_chain_id=31337, account=city)
    contract, _ = deployer.deploy()
    chain = AnchorChain(w3, expected_chain_id=31337, contract_address=contract, account=city)

    witness = make_witness()
    city_cp = grow_and_witness(witness, "city", 5)
    cred_cp = grow_and_witness(witness, "credentials", 3)
    result = anchoring.anchor_witnessed_checkpoints(chain, confirmations=2)
    assert result.status == "ok" and sorted(result.covered_logs) == ["city", "credentials"]
    _mine(w3, 2)
    assert anchoring.anchor_witnessed_checkpoints(chain, confirmations=2).finalized == [
        result.sent_tx
    ]

    state = tmp_path / "observer"
    mirror_into_observer_state(state, "city", city_cp, witness)
    mirror_into_observer_state(state, "credentials", cred_cp, witness)
    published = [a.checkpoint_note for a in CheckpointAnchor.objects.all()]

    # The observer reads the chain itself: both anchors open (by hash) and match its mirror.
    report = observer_anchors.check_chain_anchors(
        state, hardhat_url, contract, extra_notes=published
    )
    assert [f.status for f in report.findings] == ["verified", "verified"], report.findings
    assert report.ok and not (state / "evidence").exists()
    assert {f.anchor.sender for f in report.findings} == {city.address}

    # Any other account is refused by the contract: nothing reaches the chain.
    intruder = AnchorChain(w3, contract_address=contract, account=Account.from_key(INTRUDER_KEY))
    with pytest.raises(ContractProblem):
        intruder.sign_batch(
            [AnchorItem(city_cp.log.origin, 5, b"\x66" * 32)], intruder.pending_nonce()
        )
    raw = Account.from_key(INTRUDER_KEY).sign_transaction(
        {
            "to": contract,
            "data": chain.contract.encode_abi("anchor", args=[city_cp.log.origin, 5, b"\x66" * 32]),
            "gas": 100_000,
            "maxFeePerGas": 10**10,
            "maxPriorityFeePerGas": 10**9,
            "nonce": w3.eth.get_transaction_count(Account.from_key(INTRUDER_KEY).address),
            "chainId": 31337,
        }
    )
    not_owner = Web3.keccak(text="NotOwner(address)")[:4].hex()
    try:  # Hardhat mines at once and reports the revert on submission
        tx = w3.eth.send_raw_transaction(raw.raw_transaction)
    except Web3RPCError as exc:
        assert not_owner in str(exc)
    else:
        assert w3.eth.wait_for_transaction_receipt(tx)["status"] == 0
    assert len(observer_anchors.read_anchors(w3, contract)) == 2

    # A voter's receipt from the server names the anchor; check-receipt verifies it on the chain.
    entry = Entry.objects.get(log=city_cp.log, index=2)
    receipt = {
        **ledger_selectors.receipt(city_cp.log, entry),
        "anchor": anchor_for_receipt(city_cp.log, 5),
    }
    receipt_checks = observer_anchors.verify_receipt_anchor(receipt, rpc_url=hardhat_url)
    assert all(ok for _, ok, _ in receipt_checks) and len(receipt_checks) == 4, receipt_checks
    parser = argparse.ArgumentParser()
    observer_anchors.add_chain_arguments(parser, receipt=True)
    cli_args = parser.parse_args(["--chain-rpc", hardhat_url, "--anchoring-account", city.address])
    assert [ok for _, ok, _ in observer_anchors.receipt_anchor_checks(cli_args, receipt)] == [
        True
    ] * 4
    stranger = parser.parse_args(
        ["--chain-rpc", hardhat_url, "--anchoring-account", INTRUDER.address]
    )
    assert [ok for _, ok, _ in observer_anchors.receipt_anchor_checks(stranger, receipt)][
        -1
    ] is False

    # The city forges: a checkpoint of the city log at the same size with another root, signed
    # with the log's key, anchored from the city's account. Shown to nobody first...
    log = city_cp.log
    forged_body = note.format_checkpoint(
        log.origin, city_cp.size, merkle.leaf_hash(b"rewritten history")
    )
    forged_note = note.sign_note(forged_body, keystore.signer_key(log.signer_key_ref))
    forged = chain.sign_batch(
        [AnchorItem(log.origin, city_cp.size, observer_anchors.note_hash(forged_note))],
        chain.pending_nonce(),
    )
    chain.broadcast(forged)
    assert chain.wait_mined(forged.tx_hash).state == "mined"

    hidden = observer_anchors.check_chain_anchors(
        state, hardhat_url, contract, extra_notes=published
    )
    assert [f.status for f in hidden.findings] == ["verified", "verified", "unopenable"]
    assert not hidden.ok and hidden.misbehaviour[0].anchor.tx_hash == forged.tx_hash

    # ...then shown to a voter (e.g. in a receipt): now it is a proven fork, with evidence.
    shown = observer_anchors.check_chain_anchors(
        state, hardhat_url, contract, extra_notes=[*published, forged_note]
    )
    fork = shown.misbehaviour
    assert [f.status for f in fork] == ["fork"] and "FORK" in fork[0].message
    evidence = json.loads(fork[0].evidence.read_text())
    assert evidence["kind"] == "anchor-fork"
    assert evidence["anchored_note"] == forged_note
    assert evidence["chain_anchor"]["tx_hash"] == forged.tx_hash
    assert evidence["chain_anchor"]["sender"] == city.address
    assert evidence["observer"]["root_at_anchored_size"] == bytes(city_cp.root_hash).hex()
    note.open_checkpoint(
        evidence["anchored_note"], log.verifier_key, log.origin
    )  # really log-signed
