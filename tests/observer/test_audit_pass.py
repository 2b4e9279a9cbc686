"""The audit's single pass over the ballots: deferred decoding in the verifier's workers, A4/A5
and the record hash from the same workers, A6 from V9's sum. Every verdict must be the one a
straightforward audit gives: the same report with one process or two, a ballot that does not
decode fails loading (R1) with the path eager loading names, A6 follows the log, not the record.
Runs in the observer's standalone venv: no Django.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from civic_observer import audit
from civic_votecrypto import group, record, strict_json
from tests import record_builder as rb


@pytest.fixture(autouse=True)
def native_backend() -> Iterator[None]:
    with group.use_backend("native"):
        yield


@pytest.fixture(scope="module")
def election() -> rb.BuiltElection:
    return rb.standard()


def audit_of(election: rb.BuiltElection, text: str, jobs: int = 1) -> audit.AuditReport:
    return audit.audit_election(text, audit.LogCopy(election.entries, "test"), jobs=jobs)


def steps(report: audit.AuditReport) -> list[dict[str, Any]]:
    return report.unsigned_json()["steps"]


def test_one_process_or_two_give_the_same_report(election: rb.BuiltElection) -> None:
    one, two = audit_of(election, election.text, 1), audit_of(election, election.text, 2)
    assert one.ok and two.ok, two.lines()
    assert one.record_sha256 == two.record_sha256 == election.record.record_sha256.hex()
    assert [{**s, "detail": ""} for s in steps(one)] == [{**s, "detail": ""} for s in steps(two)]
    doc = election.copy_document()
    doc["ballots"]["cast"][1]["weight"] = 2  # a tampering every step judges the same way
    text = election.resign(doc)
    one, two = audit_of(election, text, 1), audit_of(election, text, 2)
    assert not one.ok and one.failed == two.failed
    assert [s["failures"] for s in steps(one)] == [s["failures"] for s in steps(two)]


def _undecodable(election: rb.BuiltElection) -> tuple[str, record.RecordError]:
    """A record (re-signed) whose ballots.cast[4] has a commitment off the curve, and the
    error eager loading gives for it."""
    doc = election.copy_document()
    branch = doc["ballots"]["cast"][4]["ballot"]["contests"][1]["selections"][2]["proof"]
    point = branch["branches"][0]["a"]
    for last in "0123456789abcdef":  # some x next to the original is not on the curve
        branch["branches"][0]["a"] = point[:-1] + last
        try:
            record.load_record(strict_json.loads(strict_json.canonical(doc)))
        except record.RecordError as exc:
            return election.resign(doc), exc
    raise AssertionError("no neighbouring x-coordinate is off the curve")


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_ballot_that_does_not_decode_fails_loading_naming_it(
    election: rb.BuiltElection, jobs: int
) -> None:
    text, eager = _undecodable(election)
    assert eager.path == "ballots.cast[4].ballot"
    report = audit_of(election, text, jobs)
    assert [s.id for s in report.steps] == ["R1"] and report.failed == ["R1"]
    assert report.steps[0].failures == [(eager.path, str(eager)[len(eager.path) + 2 :])]


def test_the_retally_follows_the_log_not_the_record(election: rb.BuiltElection) -> None:
    doc = election.copy_document()
    cast = doc["ballots"]["cast"]
    key = next(c["ballot_key"] for c in cast if c["status"] == "superseded")
    mine = [c for c in cast if c["ballot_key"] == key]
    mine[0]["status"], mine[1]["status"] = "counting", "superseded"  # the old vote counts again
    report = audit_of(election, election.resign(doc), 2)
    # the published tally is the sum of the ballots the log counts: V9 (the record's counting
    # ballots) fails, A6 (V9's sum corrected by the two ballots the log judges otherwise) holds
    assert "V9" in report.failed and "A6" not in report.failed


def test_a_tally_that_is_not_the_sum_fails_the_retally(election: rb.BuiltElection) -> None:
    doc = election.copy_document()
    contest = next(iter(doc["tally"]["contests"]))
    options = doc["tally"]["contests"][contest]
    first, second = list(options)[:2]
    options[first], options[second] = options[second], options[first]
    report = audit_of(election, election.resign(doc), 2)
    for step in ("V9", "A6"):
        found = [o for o, _ in next(s for s in report.steps if s.id == step).failures]
        assert found == [f"tally {contest}/{first}", f"tally {contest}/{second}"], step
