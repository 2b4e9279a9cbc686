"""Shared helpers for the anchoring tests: an in-process chain (py-evm) and witnessed logs."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_tester import EthereumTester, PyEVMBackend
from web3 import EthereumTesterProvider, Web3

from civic_tlog import note
from ledger import sequencer, services
from ledger.anchoring.chain import AnchorChain
from ledger.models import Checkpoint, Observer

_counter = itertools.count()


@dataclass
class InProcessChain:
    tester: EthereumTester
    w3: Web3
    owner: LocalAccount
    chain: AnchorChain  # the city's client, contract deployed

    def fund(self, account: LocalAccount, wei: int = 10**18) -> None:
        self.w3.eth.send_transaction(
            {"from": self.w3.eth.accounts[0], "to": account.address, "value": wei}
        )

    def client(self, account: LocalAccount | None = None, **kwargs: object) -> AnchorChain:
        return AnchorChain(
            self.w3,
            contract_address=self.chain.contract_address,
            account=account or self.owner,
            **kwargs,  # type: ignore[arg-type]
        )


def new_in_process_chain(
    owner: LocalAccount | None = None, genesis_label: bytes | None = None
) -> InProcessChain:
    """A py-evm chain with the contract deployed by ``owner`` at its nonce 0. Every such chain
    has the same chain id; ``genesis_label`` (block 0's extra data) makes it another chain, as a
    local node started afresh is: same id, same contract address, other genesis block."""
    backend = (
        PyEVMBackend()
        if genesis_label is None
        else PyEVMBackend(
            genesis_parameters=PyEVMBackend.generate_genesis_params(
                overrides={"extra_data": genesis_label.ljust(32, b"\0")}
            )
        )
    )
    tester = EthereumTester(backend)
    w3 = Web3(EthereumTesterProvider(tester))
    owner = owner or Account.create()
    w3.eth.send_transaction({"from": w3.eth.accounts[0], "to": owner.address, "value": 10**18})
    chain = AnchorChain(w3, expected_chain_id=w3.eth.chain_id, account=owner)
    chain.deploy()
    return InProcessChain(tester, w3, owner, chain)


@pytest.fixture(name="test_chain")
def in_process_chain() -> InProcessChain:
    return new_in_process_chain()


@dataclass
class Witness:
    """An observer that cosigns whatever the log signs (enough for threshold 1)."""

    signer: str
    verifier: str

    def cosign(self, checkpoint: Checkpoint) -> None:
        line = note.cosign(checkpoint.body, self.signer, 1_700_000_000 + next(_counter))
        services.add_cosignature(checkpoint.log.name, checkpoint.body, line)


def make_witness(name: str = "witness.test") -> Witness:
    signer, verifier = note.generate_cosigner(name)
    if not Observer.objects.filter(name=name).exists():
        services.register_observer(verifier)
    return Witness(signer, verifier)


def grow_and_witness(witness: Witness, log_name: str, count: int) -> Checkpoint:
    """Append ``count`` entries, sequence, sign a checkpoint and cosign it: a witnessed checkpoint."""
    for number in range(count):
        services.append(log_name, "test.event", {"log": log_name, "n": next(_counter), "i": number})
    sequencer.sequence_all()
    services.sign_checkpoints()
    checkpoint = Checkpoint.objects.filter(log__name=log_name).order_by("-size").first()
    assert checkpoint is not None
    witness.cosign(checkpoint)
    return checkpoint


def mirror_into_observer_state(
    state: Path, log_name: str, checkpoint: Checkpoint, witness: Witness
) -> None:
    """Give an observer state folder the mirror and accepted checkpoint a ``follow`` of this log
    would have produced (through the observer's own Store), without running a web server."""
    from civic_observer.state import AcceptedCheckpoint, Store
    from ledger.models import Entry

    log = checkpoint.log
    rows = Entry.objects.filter(log=log, index__lt=checkpoint.size).order_by("index")
    entries = [bytes(row.entry) for row in rows]
    hashes = [bytes(row.leaf_hash) for row in rows]
    cosignature = next(
        line
        for line in checkpoint.cosignatures.values_list("signature_line", flat=True)
        if line.split()[1] == witness.verifier.split("+")[0]
    )
    store = Store(state)
    try:
        store.pin_log(log_name, log.origin, log.verifier_key)
        accepted = AcceptedCheckpoint(
            log_name,
            checkpoint.size,
            bytes(checkpoint.root_hash),
            checkpoint.body,
            checkpoint.note,
            cosignature,
        )
        store.save_mirror(log_name, 0, entries, hashes, {}, accepted)
    finally:
        store.close()
