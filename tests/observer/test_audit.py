"""``audit-election`` on a complete election built in pure code (tests/record_builder.py).

The honest record passes every step; each tampering (re-signed by the city, so only the other
checks can catch it) fails the audit naming the step and the object. Runs in the observer's
standalone venv: no Django.
"""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from civic_observer import audit
from civic_observer.anchors import ChainAnchor, note_hash
from civic_observer.cli import main
from civic_tlog import merkle, note
from civic_votecrypto import group
from tests import record_builder as rb
from tests.observer.observer_fakes import FakeCivic, FakeLog, running


@pytest.fixture(autouse=True)
def native_backend() -> Iterator[None]:
    with group.use_backend("native"):
        yield


@pytest.fixture(scope="module")
def election() -> rb.BuiltElection:
    return rb.standard()


@pytest.fixture
def state(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    folder = tmp_path / "observer"
    assert main(["init", "--state", str(folder), "--name", "observer.test/audit"]) == 0
    capsys.readouterr()
    return folder


def log_file(tmp_path: Path, entries: list[bytes]) -> Path:
    path = tmp_path / "log.json"
    path.write_text(
        json.dumps({"log": rb.LOG_NAME, "entries": [base64.b64encode(e).decode() for e in entries]})
    )
    return path


def run_cli(tmp_path: Path, state: Path, text: str, entries: list[bytes], *extra: str) -> int:
    record_path = tmp_path / "record.json"
    record_path.write_text(text)
    args = ["audit-election", "--record", str(record_path), "--state", str(state)]
    args += ["--log-entries", str(log_file(tmp_path, entries)), "--no-progress", "--jobs", "1"]
    return main([*args, "--out", str(tmp_path / "report.json"), *extra])


def audit_of(election: rb.BuiltElection, text: str, **kwargs: Any) -> audit.AuditReport:
    entries = kwargs.pop("entries", election.entries)
    return audit.audit_election(text, audit.LogCopy(entries, "test"), **kwargs)


def failures(report: audit.AuditReport, step: str) -> list[str]:
    found = next(s for s in report.steps if s.id == step)
    return [f"{o}: {r}" for o, r in found.failures]


def test_the_honest_election_passes_and_the_report_is_signed(
    election: rb.BuiltElection, state: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(tmp_path, state, election.text, election.entries) == 0
    out = capsys.readouterr().out
    assert "AUDIT PASSED" in out and "[FAIL]" not in out
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["format"] == "civic-audit-report/1" and report["result"] == "pass"
    assert [s["id"] for s in report["steps"]] == [
        "R1", "R2", *(f"V{n}" for n in range(1, 15)), "A1", "A2", "A3", "A4", "A5", "A6",
    ]  # fmt: skip
    assert report["ballots"] == {"cast": 7, "counting": 6, "challenged": 1}
    assert report["observer"]["verifier_key"] == (state / "observer.vkey").read_text().strip()
    assert audit.verify_report(report)
    report["result"] = "fail"
    assert not audit.verify_report(report)


def test_a_changed_ballot_fails_naming_it(election: rb.BuiltElection) -> None:
    doc = election.copy_document()
    entry = doc["ballots"]["cast"][3]
    selection = entry["ballot"]["contests"][0]["selections"][0]
    selection["ciphertext"]["beta"], selection["ciphertext"]["alpha"] = (
        selection["ciphertext"]["alpha"],
        selection["ciphertext"]["beta"],
    )
    report = audit_of(election, election.resign(doc))
    assert not report.ok
    name = f"ballots.cast[3] (tracking code {entry['tracking_code']})"
    assert any(f.startswith(name) and "log entry" in f for f in failures(report, "A3"))
    assert any(f.startswith(name) for f in failures(report, "A5"))  # the key signed another ballot
    assert {"V6", "A3", "A5"} <= set(report.failed)
    assert "R2" not in report.failed  # the city re-signed it: the signature alone proves nothing


def test_a_dropped_ballot_fails(election: rb.BuiltElection) -> None:
    doc = election.copy_document()
    dropped = doc["ballots"]["cast"].pop(0)
    report = audit_of(election, election.resign(doc))
    index = dropped["log_index"]
    assert any(
        f.startswith(f"log entry {index} (ballot.cast, tracking code {dropped['tracking_code']})")
        and "missing from the record" in f
        for f in failures(report, "A3")
    )
    assert "V9" in report.failed  # the tally no longer matches the remaining ballots


def test_an_added_ballot_fails(election: rb.BuiltElection) -> None:
    other = rb.build(1, (), (), label="stuffed")  # same ceremony and key: a valid-looking ballot
    extra = other.copy_document()["ballots"]["cast"][0]
    extra["log_index"] = 0  # the log has no ballot there
    doc = election.copy_document()
    doc["ballots"]["cast"].append(extra)
    report = audit_of(election, election.resign(doc))
    name = f"ballots.cast[7] (tracking code {extra['tracking_code']})"
    assert f"{name}: is not in the election log (index 0)" in failures(report, "A3")
    # its token is genuine, but one more ballot key voted than tokens were issued
    assert failures(report, "A4") == [
        "district None: 7 ballot keys voted, only 6 tokens were issued"
    ]


def test_an_altered_partial_decryption_fails(election: rb.BuiltElection) -> None:
    doc = election.copy_document()
    share = doc["tally_shares"][0]
    partial = share["contests"]["park"]["yes"]
    partial["proof"]["response"] = "%064x" % (int(partial["proof"]["response"], 16) ^ 1)
    report = audit_of(election, election.resign(doc))
    assert any(
        f.startswith(f"trustee {share['trustee']} (tally_shares[0])")
        for f in failures(report, "V10")
    )


def test_an_altered_result_fails(election: rb.BuiltElection) -> None:
    doc = election.copy_document()
    doc["results"]["contests"]["park"]["yes"] += 1
    report = audit_of(election, election.resign(doc))
    assert any(f.startswith("result park/yes") for f in failures(report, "V11"))


def test_a_duplicated_key_fails_at_loading(
    election: rb.BuiltElection, state: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = election.copy_document()
    results = json.dumps(doc["results"])
    forged = results.replace('"yes": ', '"yes": 99, "yes": ', 1)
    text = election.text.replace(json.dumps(doc["results"]), forged)
    assert text != election.text
    assert run_cli(tmp_path, state, text, election.entries) == 1
    out = capsys.readouterr().out
    assert "[FAIL] R1" in out and "duplicate object key 'yes'" in out


def test_superseded_ballots_are_resolved_by_log_order(election: rb.BuiltElection) -> None:
    doc = election.copy_document()
    cast = doc["ballots"]["cast"]
    key = next(c["ballot_key"] for c in cast if c["status"] == "superseded")
    mine = [c for c in cast if c["ballot_key"] == key]
    assert [c["status"] for c in mine] == ["superseded", "counting"]
    mine[0]["status"], mine[1]["status"] = "counting", "superseded"  # the old vote counts again
    report = audit_of(election, election.resign(doc))
    assert any("counts in the record, but not by log order" in f for f in failures(report, "A3"))
    assert any("is not the last" in f or "the last" in f for f in failures(report, "V14"))
    assert "A6" in report.failed or "V9" in report.failed


def test_an_election_without_ballots_passes_with_zero_results() -> None:
    empty = rb.empty()
    report = audit_of(empty, empty.text)
    assert report.ok, report.lines()
    assert set(empty.record.results.values()) == {0}
    assert report.ballots == {"cast": 0, "counting": 0, "challenged": 0}


def test_eligibility_tokens_and_counts(election: rb.BuiltElection) -> None:
    doc = election.copy_document()
    entry = doc["ballots"]["cast"][2]
    entry["token"] = doc["ballots"]["cast"][4]["token"]  # another voter's token
    doc["eligibility"]["tokens_issued"][0]["count"] = 5
    report = audit_of(election, election.resign(doc))
    name = f"ballots.cast[2] (tracking code {entry['tracking_code']})"
    found = failures(report, "A4")
    assert f"{name}: the eligibility token does not verify (RFC 9474)" in found
    assert "district None: 6 ballot keys voted, only 5 tokens were issued" in found


def test_the_closing_checkpoint_must_match_the_log(election: rb.BuiltElection) -> None:
    entries = list(election.entries)
    entries[1] = rb.entry_bytes("election.open", {"election": "rewritten"})  # a forked history
    report = audit_of(election, election.text, entries=entries)
    assert any("root differs" in f for f in failures(report, "A2"))
    fork = note.sign_note(
        note.format_checkpoint(rb.ORIGIN, len(entries), merkle.root_from_entries(entries)),
        election.log_signer,
    )
    report = audit_of(election, election.text, checkpoint_note=fork)
    assert any("inconsistent with the log copy" in f for f in failures(report, "A2"))


def test_a_forged_city_signature_fails(election: rb.BuiltElection) -> None:
    doc = election.copy_document()
    doc["weights"]["source"] = "declared by the city"
    report = audit_of(election, json.dumps(doc))  # changed after signing
    assert failures(report, "R2") == ["city_signature: does not verify over the record hash"]


def _anchor(election: rb.BuiltElection, checkpoint: str, size: int) -> ChainAnchor:
    return ChainAnchor(
        origin=rb.ORIGIN, tree_size=size, checkpoint_hash=note_hash(checkpoint), sender="0x1",
        contract="0x2", chain_id=31337, tx_hash="0xabc", block_number=7, block_hash="0xdef",
        log_index=0, confirmations=3,
    )  # fmt: skip


def test_the_anchor_on_the_chain_covers_the_closing_checkpoint(election: rb.BuiltElection) -> None:
    size = election.document["log"]["box_frozen"]["payload"]["checkpoint"]["size"]
    good = _anchor(election, election.checkpoint_note, size)
    report = audit_of(election, election.text, anchors=lambda: [good])
    assert report.ok and "A7" in [s.id for s in report.steps]
    other = _anchor(election, "some other note\n", size)
    report = audit_of(election, election.text, anchors=lambda: [other])
    assert failures(report, "A7") == [
        "log.box_frozen: no anchor on the chain covers the closing checkpoint"
    ]


class ElectionServer(FakeCivic):
    """The fake ledger plus the record endpoint and the audit-report sink."""

    def __init__(self, election: rb.BuiltElection, log: FakeLog, refuse: bool = False):
        super().__init__(log)
        self.text = election.text
        self.refuse = refuse
        self.reports: list[dict[str, Any]] = []

    def handle(self, method: str, path: str, query: dict, body: bytes) -> tuple[int, str, bytes]:
        base = f"/api/voting/elections/{rb.SLUG}"
        if method == "GET" and path == f"{base}/record":
            return 200, "application/json", self.text.encode()
        if method == "POST" and path == f"{base}/audit-reports":
            if self.refuse:
                return 400, "application/json", b'{"error": "bad_report", "detail": "no"}'
            self.reports.append(json.loads(body))
            return 201, "application/json", b'{"stored": true}'
        return super().handle(method, path, query, body)


def test_server_mode_mirrors_the_log_and_posts_the_report(
    election: rb.BuiltElection, state: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    vkey = (state / "observer.vkey").read_text().strip()
    log = FakeLog(rb.LOG_NAME, rb.ORIGIN, election.log_signer, election.log_verifier)
    log.entries = list(election.entries)
    log.observers.append(vkey)
    app = ElectionServer(election, log)
    with running(app) as url:
        args = ["audit-election", "--server", url, "--election", rb.SLUG, "--state", str(state)]
        assert main([*args, "--no-progress", "--post"]) == 0
        out = capsys.readouterr().out
        assert "AUDIT PASSED" in out and "consistent with this observer's cosigned size" in out
        assert len(app.reports) == 1 and audit.verify_report(app.reports[0])
        assert log.cosignatures  # follow cosigned the election log on the way
        app.refuse = True
        assert main([*args, "--no-progress", "--post"]) == 3
        assert "the server refused the report: HTTP 400 no" in capsys.readouterr().err


def test_usage_errors_exit_2(state: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit-election", "--record", "x.json", "--post", "--state", str(state)]) == 2
    assert main(["audit-election", "--server", "http://x", "--state", str(state)]) == 2
    assert main(["audit-election", "--record", "/nonexistent.json", "--state", str(state)]) == 2
    capsys.readouterr()


def test_report_json_is_stable(election: rb.BuiltElection) -> None:
    report = audit_of(election, election.text)
    unsigned = copy.deepcopy(report.unsigned_json())
    assert unsigned["result"] == "pass" and unsigned["election"] == rb.SLUG
    assert all(s["failure_count"] == 0 for s in unsigned["steps"])
