"""The load harness of bench/load.py, short: 20 voters through gunicorn, PostgreSQL, Redis and
Celery (each run its own cluster and its own redis-server, copied from one prepared election),
without a fault and with each fault of issue 14 in the middle of the casting. Asserted: the
invariants, never timings (bench/load.py prints those).

- every voter got a receipt, and every receipted ballot is in the box, in the log and in the
  tally exactly once (the decrypted totals are the receipted ballots' choices); nothing else is;
- every receipt's inclusion proof verifies, and the observer program's audit passes;
- a client that hung up on its cast and sent it again got the same receipt (200), not a second
  ballot; no request was answered 500;
- /healthz told the truth while the fault lasted, and is healthy again afterwards.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from bench.loadkit import stack as load_stack
from bench.loadkit.run import prepare_snapshot, run_load
from tests.support import require_service

pytestmark = pytest.mark.slow
VOTERS = 20


def _tools_available() -> bool:
    try:
        load_stack.pg_bin()
    except load_stack.StackError:
        return False
    return shutil.which("redis-server") is not None


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require_service(_tools_available(), "PostgreSQL server binaries (pg_ctl) and redis-server")
    return prepare_snapshot(VOTERS, tmp_path_factory.mktemp("load") / "snapshot")


def run(snapshot: Path, fault: str) -> dict[str, Any]:
    return run_load(rate=100, users=VOTERS, fault_name=fault, durable=False, down_s=2.0,
                    bound_s=90, timeout_every=5, web_workers=2, snapshot=snapshot)  # fmt: skip


def assert_every_ballot_once(result: dict[str, Any]) -> None:
    assert result["voters"] == VOTERS
    assert result["accepted"] == VOTERS, result["refusals"]
    assert result["in_box"] == result["in_log"] == result["counted"] == VOTERS, result
    assert result["lost"] == result["duplicated"] == result["unreceipted_in_box"] == 0, result
    assert result["results_match_receipts"] is True
    assert result["published"] is True
    assert result["inclusion_proofs_failed"] == 0, result["inclusion_failures"]
    assert result["audit_passed"] is True, result["audit_summary"]
    assert result["errors_500"] == 0
    assert result["timeout_retries"] == VOTERS // 5


def test_load_without_a_fault_keeps_every_ballot_once(snapshot: Path) -> None:
    result = run(snapshot, "none")
    assert_every_ballot_once(result)
    assert result["errors_5xx"] == result["errors_transport"] == 0
    assert result["timeout_retries_same_receipt"] == result["timeout_retries"]
    assert result["faults"] == {}


@pytest.mark.parametrize("fault", ["worker", "redis", "postgres", "gunicorn"])
def test_a_fault_in_the_middle_of_the_load_loses_and_doubles_nothing(snapshot: Path, fault: str) -> None:
    result = run(snapshot, fault)
    assert_every_ballot_once(result)
    expected = {"worker": {"worker-sequencing", "worker-tally"}}.get(fault, {fault})
    assert set(result["faults"]) == expected
    for name, record in result["faults"].items():
        assert record["health"]["truthful"], (name, record["health"])
        assert record["health"]["recovered_after"], (name, record["health"])
    if fault in ("worker", "gunicorn"):  # the database took every cast: no retry could be a first
        assert result["timeout_retries_same_receipt"] == result["timeout_retries"]
