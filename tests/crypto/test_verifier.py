"""The election verifier: a valid record passes; each tampered object fails the right step."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from civic_votecrypto import group, record, verifier
from civic_votecrypto.group import N

from .election_factory import simulate, standard

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return json.loads(record.dumps(standard().record))


def run(doc: dict[str, Any], **kwargs: Any) -> verifier.Report:
    return verifier.verify_record(record.load_record(doc), **kwargs)


def test_valid_record_passes_every_step(document) -> None:
    report = run(document)
    assert report.ok, report.lines()
    assert [s.number for s in report.steps] == list(range(1, 15))
    assert report.lines()[-1] == "RESULT: all steps passed"


def test_parallel_chunks_agree_with_one_process(document) -> None:
    report = run(document, jobs=2, chunk_size=1)
    assert report.ok, report.lines()
    assert "4 chunks, 2 processes" in report.step(7).checked


@pytest.mark.parametrize("fork", [True, False], ids=["inherited-ballots", "pickled-ballots"])
def test_parallel_chunks_find_the_same_bad_ballot(
    document, fork: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Workers that inherit the ballots (fork) or receive them (spawn) give identical reports."""
    if not fork:
        monkeypatch.setattr(verifier.multiprocessing, "get_all_start_methods", lambda: ["spawn"])
    bad = _flip_proof_bit(document)
    parallel = run(bad, jobs=2, chunk_size=1)
    alone = run(bad)
    assert [s.failures for s in parallel.steps] == [s.failures for s in alone.steps]
    assert parallel.failed_steps == [7] and "4 chunks, 2 processes" in parallel.step(7).checked
    assert verifier._inherited == []


@pytest.mark.parametrize(
    ("count", "size", "jobs", "expected"),
    [
        (10_000, 2048, 2, [1667] * 4 + [1666] * 2),  # not 4 x 2048 + 1808 on two processes
        (10_000, 2048, 1, [2000] * 5),
        (5, 2, 2, [2, 1, 1, 1]),
        (3, 2048, 2, [3]),
        (2, 1, 8, [1, 1]),
        (0, 256, 2, []),
    ],
)
def test_chunks_are_even_and_a_multiple_of_the_processes(
    count: int, size: int, jobs: int, expected: list[int]
) -> None:
    bounds = verifier.chunk_bounds(count, size, jobs)
    assert [b - a for a, b in bounds] == expected
    assert [a for a, _ in bounds[1:]] == [b for _, b in bounds[:-1]]  # contiguous, in order
    assert all(b - a <= size for a, b in bounds)


def test_ballot_chunks_pause_the_collector_and_restore_it(document) -> None:
    import gc  # noqa: PLC0415

    seen: list[bool] = []
    original = verifier._check_ballot_chunk

    def spy(task: dict[str, Any]) -> dict[str, Any]:
        seen.append(gc.isenabled())
        return original(task)

    verifier._check_ballot_chunk = spy
    try:
        assert run(document).ok
    finally:
        verifier._check_ballot_chunk = original
    assert seen and not any(seen)
    assert gc.isenabled()


def test_native_backend_gives_the_same_verdicts(document) -> None:
    """Cross-check: both backends accept the good record and reject the same tampered one."""
    bad = _flip_proof_bit(document)
    with group.use_backend("native"):
        assert run(document).ok
        native_failed = run(bad).failed_steps
    assert native_failed == run(bad).failed_steps == [7]


def _flip_proof_bit(doc: dict[str, Any]) -> dict[str, Any]:
    bad = copy.deepcopy(doc)
    branch = bad["ballots"]["cast"][1]["ballot"]["contests"][0]["selections"][2]["proof"][
        "branches"
    ][0]
    v = int(branch["v"], 16) ^ 1
    assert v < N
    branch["v"] = f"{v:064x}"
    return bad


def _failures(report: verifier.Report, step: int) -> str:
    return " | ".join(f"{f.obj}: {f.reason}" for f in report.step(step).failures)


def _duplicate_ballot(doc):
    doc["ballots"]["cast"].append(copy.deepcopy(doc["ballots"]["cast"][2]))


def _wrong_aggregate(doc):
    contests = doc["tally"]["contests"]["mayor"]
    contests["cand-1"] = copy.deepcopy(contests["cand-2"])


def _wrong_decryption_share(doc):
    share = next(s for s in doc["tally_shares"] if s["trustee"] == 3)
    share["contests"]["parks"]["pond"]["share"] = share["contests"]["parks"]["trees"]["share"]


def _wrong_result(doc):
    doc["results"]["contests"]["mayor"]["cand-3"] += 1


def _bad_trustee_proof(doc):
    proof = doc["ceremony"]["commitments"][1]["proofs"][0]
    proof["response"] = f"{(int(proof['response'], 16) + 1) % N:064x}"


def _challenged_wrong_nonce(doc):
    seed = bytearray.fromhex(doc["ballots"]["challenged"][0]["seed"])
    seed[0] ^= 0x80
    doc["ballots"]["challenged"][0]["seed"] = seed.hex()


def _ballot_from_another_election(doc):
    doc["ballots"]["cast"][0]["ballot"]["contests"][1]["selections"][0]["ciphertext"] = (
        copy.deepcopy(
            doc["ballots"]["cast"][1]["ballot"]["contests"][1]["selections"][0]["ciphertext"]
        )
    )


def _wrong_joint_key(doc):
    doc["joint_key"] = doc["ceremony"]["commitments"][0]["commitments"][0]


CASES: list[tuple[str, Callable[[dict], None], int, str]] = [
    ("ballot proof bit", lambda d: d.update(_flip_proof_bit(d)), 7, "ballot 'ballot-1'"),
    ("duplicate ballot", _duplicate_ballot, 8, "duplicate ballot id (also ballots.cast[2])"),
    ("wrong aggregate", _wrong_aggregate, 9, "tally mayor/cand-1"),
    (
        "wrong decryption share",
        _wrong_decryption_share,
        10,
        "trustee 3 (tally_shares[1]): trustee 3: decryption proof fails for parks/pond",
    ),
    ("wrong result count", _wrong_result, 11, "result mayor/cand-3: count 3"),
    ("bad trustee proof", _bad_trustee_proof, 3, "trustee 2 commitments"),
    (
        "challenged ballot wrong nonce",
        _challenged_wrong_nonce,
        13,
        "challenged ballot 'ballot-audit'",
    ),
    (
        "ciphertext swapped into a ballot",
        _ballot_from_another_election,
        6,
        "ballot code does not match",
    ),
    ("wrong joint key", _wrong_joint_key, 5, "joint_key: is not the sum"),
]


@pytest.mark.parametrize(("name", "tamper", "step", "named"), CASES, ids=[c[0] for c in CASES])
def test_tampered_object_fails_the_right_step(document, name, tamper, step, named) -> None:
    doc = copy.deepcopy(document)
    tamper(doc)
    report = run(doc)
    assert not report.ok
    assert min(report.failed_steps) == step, report.lines()
    assert named in _failures(report, step), report.lines()


def test_duplicate_ballot_also_breaks_the_aggregate(document) -> None:
    doc = copy.deepcopy(document)
    _duplicate_ballot(doc)
    report = run(doc)
    assert report.failed_steps == [8, 9, 12]  # and 5 ballots cannot give 4 mayor votes
    assert "tally.ballot_count" in _failures(report, 9)
    assert "contest mayor" in _failures(report, 12)


def test_wrong_result_is_also_inconsistent_with_the_manifest(document) -> None:
    doc = copy.deepcopy(document)
    _wrong_result(doc)
    report = run(doc)
    assert report.failed_steps == [11, 12]
    assert "contest mayor: weighted total 5 outside [4, 4]" in _failures(report, 12)


def test_missing_shares_below_threshold_fail(document) -> None:
    doc = copy.deepcopy(document)
    doc["tally_shares"] = doc["tally_shares"][:2]
    report = run(doc)
    assert 10 in report.failed_steps and "2 valid shares, threshold is 3" in _failures(report, 10)


# -- CLI ----------------------------------------------------------------------------------------
def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "civic_votecrypto.verifier", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_exit_codes(document, tmp_path: Path) -> None:
    good = tmp_path / "good.json"
    good.write_text(json.dumps(document))
    ok = _cli(str(good), "--jobs", "2", "--chunk-size", "2")
    assert ok.returncode == 0, ok.stderr
    assert "V7  Ballot proofs" in ok.stdout and "RESULT: all steps passed" in ok.stdout

    doc = copy.deepcopy(document)
    _wrong_result(doc)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    failed = _cli(str(bad), "--jobs", "1")
    assert failed.returncode == 1
    assert "V11 Tally decryption" in failed.stdout and "FAILED" in failed.stdout
    assert "result mayor/cand-3" in failed.stdout

    broken = tmp_path / "broken.json"
    broken.write_text("{}")
    unreadable = _cli(str(broken))
    assert unreadable.returncode == 2 and "cannot load election record" in unreadable.stderr
    missing = _cli(str(tmp_path / "nope.json"))
    assert missing.returncode == 2 and "cannot read" in missing.stderr
    usage = _cli(str(good), "--jobs", "0")
    assert usage.returncode == 2


def test_record_with_a_disqualified_cheater_verifies() -> None:
    """Trustee 2 sent trustee 4 a bad share: the complaint is in the record, V4 upholds it,
    trustee 2 is left out of K and H_E, and the election still verifies with 1, 3, 5."""
    election = simulate(present=(1, 3, 5), cheater=2, label="cheater")
    assert [(c.accuser, c.accused) for c in election.transcript.complaints] == [(4, 2)]
    assert election.record.results == election.expected
    doc = json.loads(record.dumps(election.record))
    report = run(doc)
    assert report.ok, report.lines()
    assert "disqualified [2]" in report.step(4).checked
    assert "qualified trustees [1, 3, 4, 5]" in report.step(5).checked
    # dropping the complaint from the record changes QUAL, so K no longer matches
    doc["ceremony"]["complaints"] = []
    assert 5 in run(doc).failed_steps


def _self_complaint(doc):
    proof = doc["tally_shares"][0]["contests"]["mayor"]["cand-1"]["proof"]
    doc["ceremony"]["complaints"].append(
        {"accuser": 1, "accused": 1, "shared_point": doc["joint_key"], "proof": proof}
    )


STRUCTURAL = [
    (
        "missing trustee commitments",
        lambda d: d["ceremony"]["commitments"].pop(),
        3,
        "ceremony.commitments",
    ),
    (
        "missing encrypted share",
        lambda d: d["ceremony"]["commitments"][0]["shares"].pop(),
        3,
        "trustee 1 commitments",
    ),
    ("self accusation", _self_complaint, 4, "cannot accuse itself"),
    (
        "contests out of order",
        lambda d: d["ballots"]["cast"][0]["ballot"]["contests"].reverse(),
        6,
        "ballot-0",
    ),
    (
        "share from unknown trustee",
        lambda d: d["tally_shares"][0].update(trustee=9),
        10,
        "trustee 9",
    ),
    ("threshold changed", lambda d: d["parameters"].update(threshold=1), 2, "hashes.base_hash"),
]


@pytest.mark.parametrize(
    ("name", "tamper", "step", "named"), STRUCTURAL, ids=[c[0] for c in STRUCTURAL]
)
def test_structural_damage_is_reported_not_crashed_on(document, name, tamper, step, named) -> None:
    doc = copy.deepcopy(document)
    tamper(doc)
    report = run(doc)
    assert min(report.failed_steps) == step, report.lines()
    assert named in _failures(report, step)
