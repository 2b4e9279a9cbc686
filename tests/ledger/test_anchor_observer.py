"""The observer's anchor checks (``civic_observer.anchors``) on an in-process chain: no Django,
no database; logs and checkpoints built with the pure ledger core."""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import pytest
from eth_account import Account

from civic_observer import anchors
from civic_tlog import merkle, note
from ledger.anchoring.chain import AnchorChain, AnchorItem, load_artifact
from tests.ledger.anchor_fixtures import InProcessChain, in_process_chain  # noqa: F401 (fixture)

ORIGIN = "observer.test/ledger/city"


@dataclasses.dataclass
class FakeLog:
    """A log as the city signs it: entries, a key, checkpoint notes per size."""

    signer: str
    verifier: str
    leaves: list[bytes]

    def note_at(self, size: int, root: bytes | None = None) -> str:
        root = merkle.root_from_leaf_hashes(self.leaves[:size]) if root is None else root
        return note.sign_note(note.format_checkpoint(ORIGIN, size, root), self.signer)

    def view(self, size: int) -> anchors.LogView:
        """What an observer that verified up to ``size`` knows."""
        return anchors.LogView(
            name="city",
            origin=ORIGIN,
            verifier_key=self.verifier,
            size=size,
            root_at=lambda n: merkle.root_from_leaf_hashes(self.leaves[:n]),
            notes=tuple(self.note_at(n) for n in range(1, size + 1)),  # accepted each size
        )


@pytest.fixture
def city_log() -> FakeLog:
    signer, verifier = note.generate_signer(ORIGIN)
    return FakeLog(signer, verifier, [merkle.leaf_hash(f"entry {i}".encode()) for i in range(8)])


def anchor(chain: AnchorChain, *items: tuple[str, int, str]) -> str:
    signed = chain.sign_batch(
        [AnchorItem(origin, size, anchors.note_hash(text)) for origin, size, text in items],
        chain.pending_nonce(),
    )
    chain.broadcast(signed)
    return signed.tx_hash


def judge(test_chain: InProcessChain, views: dict, **kwargs: object) -> list[str]:
    found = anchors.read_anchors(test_chain.w3, test_chain.chain.contract_address)
    report = anchors.check_anchors(found, views, **kwargs)  # type: ignore[arg-type]
    return [f.status for f in report.findings]


def test_event_abi_matches_the_built_contract() -> None:
    built = next(e for e in load_artifact()["abi"] if e.get("name") == "Anchored")
    assert built == anchors.ANCHORED_EVENT_ABI


def test_honest_anchors_verify_and_later_ones_wait(
    test_chain: InProcessChain, city_log: FakeLog
) -> None:
    chain = test_chain.chain
    anchor(chain, (ORIGIN, 5, city_log.note_at(5)), ("other.example/log", 1, "whatever"))
    anchor(chain, (ORIGIN, 8, city_log.note_at(8)))
    view = {ORIGIN: city_log.view(5)}
    # The size-8 note is not known to the observer and is beyond its view: judged later.
    assert judge(test_chain, view) == ["verified", "unknown-log", "ahead"]
    # Published by the city but still beyond the observer's size: also "ahead".
    assert judge(test_chain, view, published_notes=[city_log.note_at(8)]) == [
        "verified",
        "unknown-log",
        "ahead",
    ]
    # Once the observer verified size 8, the published note opens and matches.
    later = {ORIGIN: city_log.view(8)}
    assert judge(test_chain, later, published_notes=[city_log.note_at(8)]) == [
        "verified",
        "unknown-log",
        "verified",
    ]


def test_forged_anchor_is_a_fork_with_evidence(
    test_chain: InProcessChain, city_log: FakeLog, tmp_path: Path
) -> None:
    forged = city_log.note_at(5, root=merkle.leaf_hash(b"other history"))
    tx_hash = anchor(test_chain.chain, (ORIGIN, 5, forged))
    views = {ORIGIN: city_log.view(6)}
    found = anchors.read_anchors(test_chain.w3, test_chain.chain.contract_address)
    hidden = anchors.check_anchors(found, views)
    assert [f.status for f in hidden.findings] == ["unopenable"] and not hidden.ok
    offline = anchors.check_anchors(found, views, city_notes_available=False)
    assert [f.status for f in offline.findings] == ["unresolved"] and offline.ok
    shown = anchors.check_anchors(found, views, published_notes=[forged])
    assert [f.status for f in shown.findings] == ["fork"]
    paths = anchors.save_anchor_evidence(tmp_path, shown, views)
    evidence = json.loads(paths[0].read_text())
    assert evidence["kind"] == "anchor-fork" and evidence["anchored_note"] == forged
    assert evidence["chain_anchor"]["tx_hash"] == tx_hash
    assert evidence["chain_anchor"]["sender"] == test_chain.owner.address
    assert (
        evidence["observer"]["root_at_anchored_size"]
        == merkle.root_from_leaf_hashes(city_log.leaves[:5]).hex()
    )
    assert any("FORK" in line for line in anchors.format_anchor_report(shown))


def test_anchored_note_not_from_the_log_or_with_other_size_is_invalid(
    test_chain: InProcessChain, city_log: FakeLog
) -> None:
    stranger_signer, _ = note.generate_signer(ORIGIN)
    by_stranger = note.sign_note(note.format_checkpoint(ORIGIN, 4, b"\x00" * 32), stranger_signer)
    real_four = city_log.note_at(4)
    anchor(test_chain.chain, (ORIGIN, 4, by_stranger), (ORIGIN, 3, real_four))
    statuses = judge(
        test_chain, {ORIGIN: city_log.view(6)}, published_notes=[by_stranger, real_four]
    )
    assert statuses == ["invalid", "invalid"]


def test_a_flipped_bit_in_the_note_does_not_open_the_anchor(
    test_chain: InProcessChain, city_log: FakeLog
) -> None:
    honest = city_log.note_at(5)
    anchor(test_chain.chain, (ORIGIN, 5, honest))
    flipped = honest[:-3] + chr(ord(honest[-3]) ^ 1) + honest[-2:]
    view = dataclasses.replace(city_log.view(6), notes=())
    assert judge(test_chain, {ORIGIN: view}, published_notes=[flipped]) == ["unopenable"]
    assert judge(test_chain, {ORIGIN: view}, published_notes=[honest]) == ["verified"]


def test_reader_keeps_only_the_city_accounts(test_chain: InProcessChain, city_log: FakeLog) -> None:
    first_owner = test_chain.owner.address
    anchor(test_chain.chain, (ORIGIN, 5, city_log.note_at(5)))
    successor = Account.create()
    test_chain.fund(successor)
    test_chain.chain.transfer_ownership(successor.address)
    anchor(test_chain.client(successor), (ORIGIN, 6, city_log.note_at(6)))
    contract = test_chain.chain.contract_address
    everyone = anchors.read_anchors(test_chain.w3, contract)
    assert [(a.tree_size, a.sender) for a in everyone] == [(5, first_owner), (6, successor.address)]
    only_new = anchors.read_anchors(test_chain.w3, contract, anchoring_account=successor.address)
    assert [a.tree_size for a in only_new] == [6]
    test_chain.tester.mine_blocks(2)
    assert anchors.read_anchors(test_chain.w3, contract)[1].confirmations == 3


def test_reader_errors_are_clear(test_chain: InProcessChain) -> None:
    with pytest.raises(anchors.AnchorReadError, match="not an address"):
        anchors.read_anchors(test_chain.w3, "0x12")
    with pytest.raises(anchors.AnchorReadError, match="no contract at"):
        anchors.read_anchors(test_chain.w3, Account.create().address)
    with pytest.raises(anchors.AnchorReadError, match="cannot read anchors"):
        anchors.read_anchors(
            anchors.connect("http://127.0.0.1:9", timeout=1), Account.create().address
        )
    with pytest.raises(anchors.AnchorReadError, match="http"):
        anchors.connect("file:///etc/passwd")


# -- receipts ------------------------------------------------------------------------------------


def _receipt(city_log: FakeLog, test_chain: InProcessChain, tx_hash: str, anchored: str) -> dict:
    return {
        "origin": ORIGIN,
        "tree_size": 3,
        "checkpoint": city_log.note_at(3),
        "log_verifier_key": city_log.verifier,
        "anchor": {
            "tree_size": 7,
            "checkpoint_note": anchored,
            "checkpoint_hash": anchors.note_hash(anchored).hex(),
            "consistency_proof": [
                h.hex() for h in merkle.consistency_proof(3, city_log.leaves[:7])
            ],
            "transaction_hash": tx_hash,
            "contract": test_chain.chain.contract_address,
            "anchoring_account": test_chain.owner.address,
        },
    }


def test_receipt_anchor_checks_pass_and_fail_precisely(
    test_chain: InProcessChain, city_log: FakeLog
) -> None:
    anchored = city_log.note_at(7)
    tx_hash = anchor(test_chain.chain, (ORIGIN, 7, anchored))
    receipt = _receipt(city_log, test_chain, tx_hash, anchored)

    def failed(data: dict, **kwargs: object) -> list[str]:
        checks = anchors.verify_receipt_anchor(data, w3=test_chain.w3, **kwargs)  # type: ignore[arg-type]
        return [name for name, ok, _ in checks if not ok]

    checks = anchors.verify_receipt_anchor(receipt, w3=test_chain.w3)
    assert [name for name, ok, _ in checks if ok] == [
        "anchor hash",
        "anchored checkpoint",
        "anchor consistency",
        "anchor on chain",
    ]
    assert failed(receipt) == []
    offline = anchors.verify_receipt_anchor(receipt)
    assert offline[-1] == ("anchor on chain", True, "not checked (no --chain-rpc given)")

    flipped = dict(
        receipt, anchor=dict(receipt["anchor"], checkpoint_note=anchored.replace("7", "6", 1))
    )
    assert failed(flipped) == ["anchor hash"]
    bad_proof = [h.hex() for h in merkle.consistency_proof(2, city_log.leaves[:7])]
    assert failed(dict(receipt, anchor=dict(receipt["anchor"], consistency_proof=bad_proof))) == [
        "anchor consistency"
    ]
    other_tx = anchor(test_chain.chain, (ORIGIN, 6, city_log.note_at(6)))
    assert failed(dict(receipt, anchor=dict(receipt["anchor"], transaction_hash=other_tx))) == [
        "anchor on chain"
    ]
    assert failed(receipt, anchoring_account=Account.create().address) == ["anchor on chain"]
    assert failed(receipt, min_confirmations=50) == ["anchor on chain"]
    assert failed({k: v for k, v in receipt.items() if k != "anchor"}) == ["anchor"]
    bad_rpc = anchors.verify_receipt_anchor(receipt, rpc_url="ftp://example.invalid")
    assert bad_rpc[-1][:2] == ("anchor on chain", False)
    unreachable = anchors.verify_receipt_anchor(receipt, rpc_url="http://127.0.0.1:9")
    assert unreachable[-1][:2] == ("anchor on chain", False) and "cannot read" in unreachable[-1][2]
    stranger = note.generate_signer(ORIGIN)[1]
    assert failed(receipt, log_verifier_key=stranger) == ["anchored checkpoint"]


def test_receipt_cli_glue_only_checks_anchors_when_asked() -> None:
    parser = argparse.ArgumentParser()
    anchors.add_chain_arguments(parser, receipt=True)
    plain = parser.parse_args([])
    assert anchors.receipt_anchor_checks(plain, {"origin": ORIGIN}) == []
    assert anchors.receipt_anchor_checks(plain, ["not", "a", "receipt"]) == []
    with_chain = parser.parse_args(
        ["--chain-rpc", "http://127.0.0.1:9", "--min-confirmations", "3"]
    )
    assert with_chain.min_confirmations == 3
    [(name, ok, _)] = anchors.receipt_anchor_checks(with_chain, {"origin": ORIGIN})
    assert (name, ok) == ("anchor", False)
