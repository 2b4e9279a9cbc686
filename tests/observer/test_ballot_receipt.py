"""check-receipt on the booth's ballot receipt: a genuine one passes; a flipped proof bit, a
wrong hash, another ballot's entry, an entry of another kind, a tampered checkpoint each fail
naming the check; without a ledger receipt it says inclusion cannot be checked offline yet;
bad files exit 2. Built in pure code (civic_votecrypto ballots, a civic_tlog log) so it also runs
in the standalone observer install."""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from civic_observer.cli import main
from civic_tlog import note
from civic_votecrypto import ballot as ballots
from civic_votecrypto import group
from civic_votecrypto.manifest import Manifest
from tests.observer.observer_fakes import FakeLog, civic_entry, running

SLUG = "harbour-park"
OBSERVERS = [note.generate_cosigner(f"observer.test/{i}") for i in range(2)]
MANIFEST = {
    "election_id": SLUG,
    "title": "Harbour park",
    "contests": [
        {
            "id": "park",
            "type": "yes_no_abstain",
            "title": "A park at the harbour?",
            "options": [{"id": i, "title": i.title()} for i in ("yes", "no", "abstain")],
        }
    ],
}
PASSING = [
    "election context",
    "ballot encoding",
    "tracking code",
    "binding and code",
    "proofs",
    "cast",
    "ledger entry",
    "leaf hash",
    "log signature",
    "tree size",
    "inclusion proof",
    "cosignatures",
]


def _event(ballot: ballots.EncryptedBallot, kind: str = "ballot.cast") -> bytes:
    payload: dict[str, Any] = {
        "election": SLUG,
        "tracking_code": ballot.tracking_code,
        "ballot_sha256": ballots.ballot_sha256(ballot.to_json()),
        "district": None,
    }
    payload |= {"supersedes": None} if kind == "ballot.cast" else {"challenged_sha256": "00" * 32}
    return civic_entry(kind, payload)


class World:
    """An election context, two real ballots, and the election's log holding their events
    (and one entry of another kind carrying the first ballot's code and hash)."""

    def __init__(self) -> None:
        secret = group.random_scalar()
        joint = group.base_mul(secret)
        self.ctx = ballots.ElectionContext.build(Manifest.from_json(MANIFEST), joint, 1, 1, [joint])
        self.mine = ballots.encrypt_ballot(self.ctx, "ballot-mine", {"park": {"yes": 1}})
        self.other = ballots.encrypt_ballot(self.ctx, "ballot-other", {"park": {"no": 1}})
        self.log = FakeLog.create(f"election-{SLUG}", 3)  # election.* events before the box opened
        self.index = len(self.log.entries)
        self.log.entries.append(_event(self.mine))
        self.other_index = len(self.log.entries)
        self.log.entries.append(_event(self.other))
        self.wrong_kind_index = len(self.log.entries)
        payload = json.loads(_event(self.mine))["payload"]
        self.log.entries.append(civic_entry("election.closed", payload))
        self.log.append(2)
        self.log.observers = [vkey for _, vkey in OBSERVERS]
        self.log.witness_threshold = 2
        for skey, _ in OBSERVERS:
            self.log.cosignatures.append(
                (self.log.body, note.cosign(self.log.body, skey, 1_763_700_000))
            )

    def receipt(self, *, ledger_index: int | None = None) -> dict[str, Any]:
        index = self.index if ledger_index is None else ledger_index
        ballot = self.mine.to_json()
        return {
            "context": self.ctx.to_json(),
            "ballot": ballot,
            "tracking_code": self.mine.tracking_code,
            "cast": {
                "election": SLUG,
                "tracking_code": self.mine.tracking_code,
                "log": self.log.name,
                "ballot_sha256": ballots.ballot_sha256(ballot),
                "status": "counting",
                "received_at": datetime(2026, 5, 4, 9, 30, tzinfo=UTC).isoformat(),
                "position": {"index": self.index},
            },
            "ledger_receipt": {**self.log.receipt(index), "anchor": None},
        }


@pytest.fixture(scope="module")
def world() -> World:
    return World()


def _check(tmp_path: Path, data: Any, *extra: str) -> int:
    path = tmp_path / "ballot-receipt.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return main(["check-receipt", str(path), *extra])


def _verdicts(out: str) -> dict[str, bool]:
    found = {}
    for line in out.splitlines():
        line = line.strip()
        if line.startswith("[PASS] ") or line.startswith("[FAIL] "):
            name = line[7:].split(":", 1)[0]
            found[name] = line.startswith("[PASS]")
    return found


def test_a_genuine_ballot_receipt_passes_every_check(
    tmp_path: Path, world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _check(tmp_path, world.receipt()) == 0
    out = capsys.readouterr().out
    assert list(_verdicts(out)) == PASSING and all(_verdicts(out).values())
    assert f"Ballot receipt {world.mine.tracking_code} of election {SLUG}" in out
    assert f"entry {world.index} of election-{SLUG} is the ballot.cast event" in out
    assert "RECEIPT VALID" in out


def test_pinned_keys_pass_and_a_stranger_log_key_fails(
    tmp_path: Path, world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    receipt = world.receipt()
    pins = ["--log-key", world.log.verifier_key]
    for _, vkey in OBSERVERS:
        pins += ["--observer-key", vkey]
    assert _check(tmp_path, receipt, *pins) == 0
    capsys.readouterr()
    _, stranger = note.generate_signer(world.log.origin)
    assert _check(tmp_path, receipt, "--log-key", stranger) == 1
    assert _verdicts(capsys.readouterr().out)["log signature"] is False


def _flip_proof_bit(r: dict[str, Any]) -> None:
    branch = r["ballot"]["contests"][0]["limit_proof"]["branches"][0]
    branch["v"] = format(int(branch["v"], 16) ^ 1, "064x")


def _flip_inclusion_bit(r: dict[str, Any]) -> None:
    proof = r["ledger_receipt"]["inclusion_proof"]
    proof[0] = format(int(proof[0], 16) ^ 1, "064x")


def _other_first(text: str) -> str:
    return ("B" if text[0] == "A" else "A") + text[1:]


def _wrong_hash(r: dict[str, Any]) -> None:
    r["cast"]["ballot_sha256"] = format(int(r["cast"]["ballot_sha256"], 16) ^ 1, "064x")


def _other_tracking_code(r: dict[str, Any]) -> None:
    r["cast"]["tracking_code"] = _other_first(r["cast"]["tracking_code"])


def _tamper_checkpoint(r: dict[str, Any]) -> None:
    text, _ = note.split_note(r["ledger_receipt"]["checkpoint"])
    cp = note.parse_checkpoint(text)
    r["ledger_receipt"]["checkpoint"] = r["ledger_receipt"]["checkpoint"].replace(
        f"\n{cp.size}\n", f"\n{cp.size + 1}\n", 1
    )


def _spoiled_status(r: dict[str, Any]) -> None:
    r["cast"]["status"] = "spoiled"


TAMPERINGS: dict[str, tuple[Callable[[dict[str, Any]], None], set[str]]] = {
    # a changed ballot is also no longer the one the box received and logged
    "flipped proof bit": (_flip_proof_bit, {"proofs", "cast", "ledger entry"}),
    "flipped inclusion proof bit": (_flip_inclusion_bit, {"inclusion proof"}),
    "wrong hash in the box's answer": (_wrong_hash, {"cast"}),
    "other tracking code in the box's answer": (_other_tracking_code, {"cast"}),
    "tampered checkpoint": (_tamper_checkpoint, {"log signature"}),
    "a spoiled ballot proven by a cast event": (_spoiled_status, {"ledger entry"}),
}


@pytest.mark.parametrize("name", TAMPERINGS)
def test_each_tampering_fails_naming_its_check(
    tmp_path: Path, world: World, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    tamper, expected = TAMPERINGS[name]
    receipt = copy.deepcopy(world.receipt())
    tamper(receipt)
    assert _check(tmp_path, receipt) == 1
    captured = capsys.readouterr()
    failed = {check for check, ok in _verdicts(captured.out).items() if not ok}
    assert failed == expected, captured.out
    named = captured.err.split("RECEIPT INVALID: ", 1)[1].strip().split(", ")
    assert set(named) == expected


@pytest.mark.parametrize(
    ("which", "reason"),
    [("other", "tracking code"), ("wrong_kind", "'election.closed' event, not ballot.cast")],
)
def test_a_ledger_receipt_of_another_entry_fails_the_ledger_entry_check(
    tmp_path: Path, world: World, capsys: pytest.CaptureFixture[str], which: str, reason: str
) -> None:
    index = world.other_index if which == "other" else world.wrong_kind_index
    receipt = world.receipt(ledger_index=index)
    receipt["cast"]["position"] = None  # so only the entry itself gives it away
    assert _check(tmp_path, receipt) == 1
    out = capsys.readouterr().out
    verdicts = _verdicts(out)
    assert {check for check, ok in verdicts.items() if not ok} == {"ledger entry"}
    assert reason in out
    # the Merkle part alone is fine: it is a genuine receipt, of the wrong entry
    assert verdicts["inclusion proof"] and verdicts["cosignatures"]


def test_a_wrong_hash_in_the_logged_entry_fails(
    tmp_path: Path, world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    """The box answered the right hash but logged another: the ledger entry check catches it."""
    log = copy.deepcopy(world.log)
    payload = json.loads(log.entries[world.index])["payload"]
    log.entries[world.index] = civic_entry("ballot.cast", {**payload, "ballot_sha256": "ab" * 32})
    log.cosignatures = [
        (log.body, note.cosign(log.body, skey, 1_763_700_000)) for skey, _ in OBSERVERS
    ]
    receipt = world.receipt()
    receipt["ledger_receipt"] = log.receipt(world.index)
    assert _check(tmp_path, receipt) == 1
    out = capsys.readouterr().out
    assert {check for check, ok in _verdicts(out).items() if not ok} == {"ledger entry"}
    assert "the entry logs ballot_sha256 'abab" in out


def test_without_a_ledger_receipt_inclusion_cannot_be_checked_offline(
    tmp_path: Path, world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    receipt = world.receipt()
    del receipt["ledger_receipt"]
    assert _check(tmp_path, receipt) == 1
    captured = capsys.readouterr()
    verdicts = _verdicts(captured.out)
    assert verdicts["proofs"] and verdicts["cast"] and verdicts["ledger receipt"] is False
    assert "cannot be checked offline yet" in captured.out
    assert "RECEIPT INVALID: ledger receipt" in captured.err


def test_server_option_fetches_the_ledger_receipt(
    tmp_path: Path, world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    """--server GETs /api/voting/elections/<slug>/ballots/<code> for the missing part."""
    asked: list[str] = []

    class Tracking:
        def handle(
            self, method: str, path: str, query: dict, body: bytes
        ) -> tuple[int, str, bytes]:
            asked.append(path)
            if path != f"/api/voting/elections/{SLUG}/ballots/{world.mine.tracking_code}":
                return 404, "application/json", b'{"error": "unknown_tracking_code"}'
            tracked = {
                **world.receipt()["cast"],
                "ledger_receipt": world.receipt()["ledger_receipt"],
            }
            return 200, "application/json", json.dumps(tracked).encode()

    receipt = world.receipt()
    del receipt["ledger_receipt"]
    with running(Tracking()) as base:  # type: ignore[arg-type]
        assert _check(tmp_path, receipt, "--server", base) == 0
        assert "RECEIPT VALID" in capsys.readouterr().out
        other = copy.deepcopy(receipt)
        other["tracking_code"] = other["cast"]["tracking_code"] = world.other.tracking_code
        assert _check(tmp_path, other, "--server", base) == 3  # the server: 404
    assert "unknown" not in capsys.readouterr().out
    assert len(asked) == 2


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "is not valid JSON"),
        (
            json.dumps({"context": {}, "ballot": {}, "ledger_receipt": {"version": 1}}),
            "ledger_receipt: receipt has no",
        ),
        (json.dumps(["context", "ballot"]), "is not a valid receipt"),
    ],
)
def test_a_bad_file_is_a_message_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    assert _check(tmp_path, content) == 2
    assert message in capsys.readouterr().err


def test_a_missing_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-receipt", str(tmp_path / "none.json")]) == 2
    assert "receipt file not found" in capsys.readouterr().err


def test_the_ballot_hash_is_sha256_of_rfc8785(world: World) -> None:
    """The hash binding uses the same bytes as the box: RFC 8785 of the ballot object."""
    import hashlib

    import rfc8785

    doc = world.mine.to_json()
    assert ballots.ballot_sha256(doc) == hashlib.sha256(rfc8785.dumps(doc)).hexdigest()
    assert (
        base64.b64decode(world.receipt()["ledger_receipt"]["entry"])
        == world.log.entries[world.index]
    )
