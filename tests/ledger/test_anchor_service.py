"""Anchoring service on an in-process chain: batching, confirmations, retries, reorgs, outages."""

from __future__ import annotations

import hashlib
import socket
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from eth_account import Account

from civic_tlog import merkle, note
from ledger import sequencer, services
from ledger.anchoring import config as anchoring_config
from ledger.anchoring import receipts
from ledger.anchoring import services as anchoring
from ledger.anchoring.chain import AnchorChain, ChainUnreachable, connect
from ledger.anchoring.models import AnchorTransaction, CheckpointAnchor
from ledger.anchoring.selectors import (
    anchor_candidates,
    anchor_for_receipt,
    anchoring_health,
    forget_current_chain,
)
from ledger.models import Entry, Log
from tests.ledger.anchor_fixtures import (  # noqa: F401 (fixture)
    InProcessChain,
    grow_and_witness,
    in_process_chain,
    make_witness,
    new_in_process_chain,
)
from tests.ledger.server_fixtures import ledger_keys  # noqa: F401 (fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("ledger_keys")]
NO_SLEEP = {"sleep": lambda _s: None}


def run(chain: AnchorChain, confirmations: int = 2) -> anchoring.AnchorRun:
    result = anchoring.anchor_witnessed_checkpoints(chain, confirmations, **NO_SLEEP)
    assert result.status != "busy"
    return result


def chain_events(test_chain: InProcessChain) -> list[tuple[str, int, bytes]]:
    return [
        (e.origin, e.tree_size, e.checkpoint_hash)
        for e in test_chain.chain.events(sender=test_chain.owner.address)
    ]


def test_one_transaction_anchors_every_witnessed_log(test_chain: InProcessChain) -> None:
    witness = make_witness()
    checkpoints = [
        grow_and_witness(witness, name, count)
        for name, count in (("city", 3), ("credentials", 5), ("election-7", 2))
    ]
    services.append("city", "test.unwitnessed", {"n": 1})  # grows, signed but not cosigned
    sequencer.sequence_all()
    services.sign_checkpoints()

    result = run(test_chain.chain)

    assert result.status == "ok" and result.sent_tx is not None
    assert sorted(result.covered_logs) == ["city", "credentials", "election-7"]
    tx = AnchorTransaction.objects.get()
    assert tx.tx_hash == result.sent_tx and tx.state == AnchorTransaction.State.MINED
    items = list(tx.items.order_by("position"))
    # Anchored: the witnessed checkpoints (size 3 for city, not the unwitnessed 4), hash of the note.
    assert [(i.log.name, i.tree_size) for i in items] == [
        ("city", 3),
        ("credentials", 5),
        ("election-7", 2),
    ]
    for item, checkpoint in zip(items, checkpoints, strict=True):
        assert item.checkpoint_id == checkpoint.pk
        assert bytes(item.checkpoint_hash) == hashlib.sha256(item.checkpoint_note.encode()).digest()
        body, _ = note.open_note(item.checkpoint_note, [checkpoint.log.verifier_key])
        assert body == checkpoint.body
        assert item.checkpoint_note.count("\n— ") == 2  # log signature + the cosignature
    assert chain_events(test_chain) == [
        (i.origin, i.tree_size, bytes(i.checkpoint_hash)) for i in items
    ]
    # Idempotent: nothing new to anchor, nothing sent.
    again = run(test_chain.chain)
    assert again.sent_tx is None and AnchorTransaction.objects.count() == 1


def test_confirmations_make_an_anchor_final(test_chain: InProcessChain) -> None:
    grow_and_witness(make_witness(), "city", 2)
    first = run(test_chain.chain, confirmations=3)
    tx = AnchorTransaction.objects.get(tx_hash=first.sent_tx)
    assert tx.state == "mined" and tx.confirmations == 1 and tx.finalized_at is None
    test_chain.tester.mine_blocks(1)
    assert run(test_chain.chain, confirmations=3).finalized == []
    test_chain.tester.mine_blocks(1)
    third = run(test_chain.chain, confirmations=3)
    tx.refresh_from_db()
    assert third.finalized == [tx.tx_hash]
    assert tx.state == "final" and tx.confirmations == 3 and tx.finalized_at is not None


def test_growing_log_is_anchored_again_only_when_newly_witnessed(
    test_chain: InProcessChain,
) -> None:
    witness = make_witness()
    grow_and_witness(witness, "city", 2)
    grow_and_witness(witness, "credentials", 2)
    run(test_chain.chain)
    services.append("city", "test.more", {"n": 2})
    sequencer.sequence_all()
    services.sign_checkpoints()
    assert run(test_chain.chain).sent_tx is None  # signed but not witnessed yet
    grow_and_witness(witness, "city", 1)
    result = run(test_chain.chain)
    assert result.covered_logs == ["city"]
    sizes = CheckpointAnchor.objects.filter(transaction__tx_hash=result.sent_tx).values_list(
        "tree_size", flat=True
    )
    assert list(sizes) == [4]
    nonces = list(AnchorTransaction.objects.order_by("nonce").values_list("nonce", flat=True))
    assert nonces == [1, 2]  # nonce 0 deployed the contract


def test_send_failures_are_retried_and_resumed_with_the_same_transaction(
    test_chain: InProcessChain, monkeypatch: pytest.MonkeyPatch
) -> None:
    witness = make_witness()
    grow_and_witness(witness, "city", 2)
    client = test_chain.chain
    real_broadcast = AnchorChain.broadcast
    failures = {"left": 2}

    def flaky(self: AnchorChain, signed: object) -> None:
        if failures["left"] > 0:
            failures["left"] -= 1
            raise ChainUnreachable(
                "anchoring RPC unreachable while sending the transaction: injected"
            )
        real_broadcast(self, signed)  # type: ignore[arg-type]

    monkeypatch.setattr(AnchorChain, "broadcast", flaky)
    result = run(client)  # two failures, third attempt inside the same run goes through
    assert result.status == "ok" and failures["left"] == 0
    assert AnchorTransaction.objects.get().state == "mined"

    # Now a longer outage: every attempt of this run fails; the signed transaction is kept.
    grow_and_witness(witness, "credentials", 2)
    failures["left"] = 99
    outage = run(client)
    assert outage.status == "error" and "injected" in outage.error
    stuck = AnchorTransaction.objects.get(tx_hash=outage.sent_tx)
    assert stuck.state == "signed" and "injected" in stuck.last_error and stuck.send_attempts == 1
    assert len(chain_events(test_chain)) == 1
    # Recovery: the next run re-broadcasts the very same bytes (same hash, same nonce).
    failures["left"] = 0
    recovered = run(client)
    assert recovered.status == "ok" and recovered.sent_tx is None
    stuck.refresh_from_db()
    assert stuck.state == "mined" and stuck.last_error == ""
    assert AnchorTransaction.objects.count() == 2
    assert [size for _, size, _ in chain_events(test_chain)] == [2, 2]


def test_reorganized_anchor_is_detected_and_sent_again(test_chain: InProcessChain) -> None:
    grow_and_witness(make_witness(), "city", 3)
    snapshot = test_chain.tester.take_snapshot()
    first = run(test_chain.chain)
    tx = AnchorTransaction.objects.get(tx_hash=first.sent_tx)
    old_block = tx.block_hash
    test_chain.tester.mine_blocks(2)
    assert run(test_chain.chain).finalized == [tx.tx_hash]

    test_chain.tester.revert_to_snapshot(snapshot)  # the anchor's block is gone
    test_chain.tester.mine_blocks(3)  # a different chain of the same height
    assert chain_events(test_chain) == []

    second = run(test_chain.chain)
    tx.refresh_from_db()
    assert second.reorged == [tx.tx_hash] and second.sent_tx is None
    assert tx.reorgs == [old_block] and tx.state == "mined" and tx.block_hash != old_block
    assert [size for _, size, _ in chain_events(test_chain)] == [3]
    test_chain.tester.mine_blocks(1)
    run(test_chain.chain)
    tx.refresh_from_db()
    assert tx.state == "final"


def test_reorg_whose_nonce_was_taken_leads_to_a_new_anchor(test_chain: InProcessChain) -> None:
    grow_and_witness(make_witness(), "city", 3)
    snapshot = test_chain.tester.take_snapshot()
    first = run(test_chain.chain)
    test_chain.tester.revert_to_snapshot(snapshot)
    # The reorganized chain carries another transaction with the anchor's nonce.
    owner = test_chain.owner
    other = owner.sign_transaction(
        {
            "to": owner.address,
            "value": 0,
            "gas": 21000,
            "maxFeePerGas": 10**10,
            "maxPriorityFeePerGas": 10**9,
            "nonce": AnchorTransaction.objects.get().nonce,
            "chainId": test_chain.w3.eth.chain_id,
        }
    )
    test_chain.w3.eth.send_raw_transaction(other.raw_transaction)

    second = run(test_chain.chain)
    assert second.dropped == [first.sent_tx]
    assert second.sent_tx not in (None, first.sent_tx) and second.covered_logs == ["city"]
    assert AnchorTransaction.objects.get(tx_hash=first.sent_tx).state == "dropped"
    assert [size for _, size, _ in chain_events(test_chain)] == [3]


def test_chain_outage_delays_anchoring_and_never_blocks_sequencing() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    dead = AnchorChain(
        connect(url, timeout=1), account=Account.create(), label=f"anchoring RPC {url}"
    )
    grow_and_witness(make_witness(), "city", 2)
    result = run(dead)
    assert result.status == "error" and f"{url} unreachable" in result.error
    assert not AnchorTransaction.objects.exists()
    services.append("city", "test.after-outage", {"n": 1})  # the ledger goes on
    sequencer.sequence_all()
    assert Entry.objects.filter(log__name="city").count() == 3


def test_wrong_chain_and_no_funds_send_nothing(test_chain: InProcessChain) -> None:
    grow_and_witness(make_witness(), "city", 2)
    wrong = test_chain.client(expected_chain_id=1)
    assert "ANCHOR_CHAIN_ID is 1" in run(wrong).error
    poor_owner = Account.create()
    test_chain.fund(poor_owner, 10**15)
    test_chain.chain.transfer_ownership(poor_owner.address)
    poor = test_chain.client(poor_owner)
    # Drain it to zero: fees for one send plus all that is left.
    gas_price = test_chain.w3.eth.get_block("latest")["baseFeePerGas"] * 2
    balance = test_chain.w3.eth.get_balance(poor_owner.address)
    drain = poor_owner.sign_transaction(
        {
            "to": test_chain.w3.eth.accounts[0],
            "value": balance - 21000 * gas_price,
            "gas": 21000,
            "maxFeePerGas": gas_price,
            "maxPriorityFeePerGas": gas_price,
            "nonce": 0,
            "chainId": test_chain.w3.eth.chain_id,
        }
    )
    test_chain.w3.eth.send_raw_transaction(drain.raw_transaction)
    assert test_chain.w3.eth.get_balance(poor_owner.address) == 0
    result = run(poor)
    assert result.status == "error" and f"{poor_owner.address} holds 0 wei" in result.error
    assert not AnchorTransaction.objects.exists()


def test_concurrent_run_is_refused_while_one_holds_the_lock(test_chain: InProcessChain) -> None:
    grow_and_witness(make_witness(), "city", 2)
    with anchoring.run_lock() as acquired:
        assert acquired
        busy = anchoring.anchor_witnessed_checkpoints(test_chain.chain, 2)
    assert busy.status == "busy" and not AnchorTransaction.objects.exists()
    assert run(test_chain.chain).sent_tx is not None


def test_receipt_anchor_names_first_final_anchor_with_consistency_proof(
    test_chain: InProcessChain,
) -> None:
    witness = make_witness()
    small = grow_and_witness(witness, "city", 3)
    log = Log.objects.get(name="city")
    assert anchor_for_receipt(log, 3) is None  # nothing final yet
    grow_and_witness(witness, "city", 4)
    run(test_chain.chain, confirmations=1)
    anchor = anchor_for_receipt(log, small.size)
    assert anchor is not None and anchor["final"] and anchor["tree_size"] == 7
    anchored_body, _ = note.open_note(anchor["checkpoint_note"], [log.verifier_key])
    anchored = note.parse_checkpoint(anchored_body)
    assert merkle.verify_consistency(
        3,
        7,
        [bytes.fromhex(h) for h in anchor["consistency_proof"]],
        bytes(small.root_hash),
        anchored.root_hash,
    )
    assert anchor_candidates(test_chain.chain.chain_id(), test_chain.chain.contract.address) == []
    # The receipts the API hands out name that anchor too.
    fresh = Log.objects.get(name="city")  # `log` above was read before the tree grew
    served = receipts.receipt(fresh, Entry.objects.get(log=fresh, index=0))
    assert served is not None and served["anchor"] is not None
    assert served["anchor"]["tree_size"] == 7
    assert served["anchor"]["transaction_hash"] == anchor["transaction_hash"]
    # ... and so does the public ledger page.
    page = Client().get("/ledger/").content.decode()
    assert anchor["transaction_hash"] in page and "final" in page


def test_stuck_transaction_is_replaced_with_higher_fees(test_chain: InProcessChain) -> None:
    grow_and_witness(make_witness(), "city", 2)
    test_chain.tester.disable_auto_mine_transactions()
    first = run(test_chain.chain)
    tx = AnchorTransaction.objects.get()
    assert tx.state == "pending"
    assert run(test_chain.chain).sent_tx is None  # pending, not stuck yet: left alone
    AnchorTransaction.objects.filter(pk=tx.pk).update(
        sent_at=timezone.now() - anchoring.REPLACE_AFTER - timedelta(seconds=1)
    )
    run(test_chain.chain)
    replaced = AnchorTransaction.objects.get()
    assert replaced.tx_hash != first.sent_tx and replaced.nonce == tx.nonce
    assert [e["hash"] for e in replaced.previous_tx_hashes] == [first.sent_tx]
    assert replaced.max_fee_per_gas > tx.max_fee_per_gas
    assert replaced.max_priority_fee_per_gas > tx.max_priority_fee_per_gas
    test_chain.tester.enable_auto_mine_transactions()
    test_chain.tester.mine_blocks(2)
    run(test_chain.chain)
    replaced.refresh_from_db()
    assert replaced.state == "final" and test_chain.w3.eth.get_transaction_receipt(replaced.tx_hash)
    assert [size for _, size, _ in chain_events(test_chain)] == [2]


def test_mined_original_of_a_replacement_is_adopted(
    test_chain: InProcessChain, monkeypatch: pytest.MonkeyPatch
) -> None:
    grow_and_witness(make_witness(), "city", 2)
    test_chain.tester.disable_auto_mine_transactions()
    first = run(test_chain.chain)
    AnchorTransaction.objects.update(sent_at=timezone.now() - anchoring.REPLACE_AFTER * 2)
    real_broadcast = AnchorChain.broadcast

    def refuse(self: AnchorChain, signed: object) -> None:
        raise ChainUnreachable("anchoring RPC unreachable while sending the transaction: injected")

    monkeypatch.setattr(AnchorChain, "broadcast", refuse)
    assert run(test_chain.chain).status == "error"  # the replacement never reached the node
    test_chain.tester.enable_auto_mine_transactions()
    test_chain.tester.mine_blocks(1)  # ...and the original gets mined
    monkeypatch.setattr(AnchorChain, "broadcast", real_broadcast)
    result = run(test_chain.chain, confirmations=1)
    tx = AnchorTransaction.objects.get()
    assert result.dropped == [] and tx.tx_hash == first.sent_tx and tx.state == "final"
    assert len(tx.previous_tx_hashes) == 1 and tx.previous_tx_hashes[0]["hash"] != first.sent_tx
    assert run(test_chain.chain).sent_tx is None  # nothing anchored twice


# -- a chain that is not the one an anchor was written to ---------------------------------------


def _point_settings_at(settings, monkeypatch: pytest.MonkeyPatch, target: InProcessChain) -> None:  # type: ignore[no-untyped-def]
    """Configure anchoring for ``target`` the way ``make run`` does for its local node."""
    monkeypatch.setattr(anchoring_config, "connect", lambda url, timeout: target.w3)
    settings.ANCHOR_RPC_URL = "http://127.0.0.1:8545"
    settings.ANCHOR_CHAIN_ID = str(target.w3.eth.chain_id)
    settings.ANCHOR_CONTRACT = target.chain.contract_address
    settings.ANCHOR_PRIVATE_KEY = target.owner.key.hex()
    forget_current_chain()


def test_anchors_of_a_replaced_chain_stop_being_final_and_are_anchored_again(
    test_chain: InProcessChain, settings, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """`make run` twice on one var/: the second local node has the same chain id, the same
    contract address (same deployer, nonce 0) but another genesis block."""
    witness = make_witness()
    grow_and_witness(witness, "city", 3)
    grow_and_witness(witness, "credentials", 2)
    _point_settings_at(settings, monkeypatch, test_chain)
    run(test_chain.chain, confirmations=1)
    old = AnchorTransaction.objects.get()
    genesis_a = test_chain.chain.identity().genesis_hash
    assert old.state == "final" and old.genesis_hash == genesis_a
    city = Log.objects.get(name="city")
    first_entry = Entry.objects.get(log=city, index=0)
    assert receipts.receipt(city, first_entry)["anchor"]["transaction_hash"] == old.tx_hash

    chain_b = new_in_process_chain(owner=test_chain.owner, genesis_label=b"chain B")
    genesis_b = chain_b.chain.identity().genesis_hash
    assert chain_b.w3.eth.chain_id == test_chain.w3.eth.chain_id and genesis_b != genesis_a
    assert chain_b.chain.contract_address == test_chain.chain.contract_address
    _point_settings_at(settings, monkeypatch, chain_b)

    # Before any run: receipts, the ledger page and /healthz already see the other chain.
    assert receipts.receipt(city, first_entry)["anchor"] is None
    assert Client().get("/ledger/").context["anchors"] == []
    health = anchoring_health()
    assert health["genesis_hash"] == genesis_b and health["other_chain_transactions"] == 1
    assert "another chain" in health["detail"]

    result = run(chain_b.chain, confirmations=1)
    old.refresh_from_db()
    assert result.other_chain == [old.tx_hash]
    assert old.state == "other_chain" and old.items.count() == 2  # history kept, not final
    new = AnchorTransaction.objects.exclude(pk=old.pk).get()
    assert new.tx_hash == result.sent_tx and new.state == "final" and new.genesis_hash == genesis_b
    assert new.nonce == 1  # a fresh account on the fresh chain (nonce 0 deployed the contract)
    assert sorted(result.covered_logs) == ["city", "credentials"]
    assert [(e.origin, e.tree_size) for e in chain_b.chain.events()] == [
        (i.origin, i.tree_size) for i in new.items.order_by("position")
    ]
    # The same signed bytes on a fresh node of the same chain id have the same hash: the rows
    # differ by the chain they were written to.
    assert (old.genesis_hash, new.genesis_hash) == (genesis_a, genesis_b)
    served = receipts.receipt(city, first_entry)
    assert served is not None and served["anchor"]["transaction_hash"] == new.tx_hash
    assert served["anchor"]["state"] == "final" and served["anchor"]["block_hash"] == new.block_hash
    listed = Client().get("/ledger/").context["anchors"]
    assert [(a["log"], a["state"]) for a in listed] == [("city", "final"), ("credentials", "final")]
    assert {a["block_hash"] for a in listed} == {new.block_hash}
    assert anchoring_health()["other_chain_transactions"] == 0
    again = run(chain_b.chain, confirmations=1)
    assert again.sent_tx is None and again.other_chain == []


def test_anchors_recorded_before_chains_were_are_checked_on_the_chain(
    test_chain: InProcessChain,
) -> None:
    """Rows from before the migration have no genesis hash: re-checked, never trusted blindly."""
    grow_and_witness(make_witness(), "city", 2)
    run(test_chain.chain, confirmations=1)
    AnchorTransaction.objects.update(genesis_hash=None)
    same_chain = run(test_chain.chain, confirmations=1)
    tx = AnchorTransaction.objects.get()
    assert same_chain.other_chain == [] and same_chain.sent_tx is None
    assert tx.state == "final" and tx.genesis_hash == test_chain.chain.identity().genesis_hash

    AnchorTransaction.objects.update(genesis_hash=None)
    chain_b = new_in_process_chain(owner=test_chain.owner, genesis_label=b"chain B")
    other = run(chain_b.chain, confirmations=1)
    tx.refresh_from_db()
    assert other.other_chain == [tx.tx_hash] and tx.state == "other_chain"
    assert other.covered_logs == ["city"]
    renewed = AnchorTransaction.objects.exclude(pk=tx.pk).get()
    assert renewed.tx_hash == other.sent_tx and renewed.state == "final"
