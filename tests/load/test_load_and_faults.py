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
from collections.abc import Iterator
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
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    require_service(_tools_available(), "PostgreSQL server binaries (pg_ctl) and redis-server")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CIVIC_LOAD_CHUNK_SIZE", "1")  # 20 chunks: the worker dies amid them
        yield prepare_snapshot(VOTERS, tmp_path_factory.mktemp("load") / "snapshot")


def run(snapshot: Path, fault: str) -> dict[str, Any]:
    """20 voters cast at 20/s (a second of casting: the faults land inside it)."""
    return run_load(rate=20, users=VOTERS, fault_name=fault, durable=False, down_s=1.5,
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


def assert_health_told_the_truth(result: dict[str, Any]) -> None:
    for name, record in result["faults"].items():
        assert record["health"]["truthful"], (name, record["health"])
        assert record["health"]["recovered_after"], (name, record["health"])


def test_the_celery_worker_killed_while_sequencing_and_while_tallying(snapshot: Path) -> None:
    result = run(snapshot, "worker")
    assert_every_ballot_once(result)
    assert set(result["faults"]) == {"worker-sequencing", "worker-tally"}
    sequencing, tallying = result["faults"]["worker-sequencing"], result["faults"]["worker-tally"]
    assert sequencing["pending_before_restart"] > 0  # entries did wait for the dead worker
    assert "sequencing" in " ".join(sequencing["health"]["said"])
    stored, total, combined = tallying["chunks_at_kill"]
    assert total > 1 and not combined  # killed before the tally was complete
    assert_health_told_the_truth(result)
    assert result["timeout_retries_same_receipt"] == result["timeout_retries"]


def test_redis_stopped_postgres_restarted_a_gunicorn_worker_killed(snapshot: Path) -> None:
    """One after the other in the same casting (each in its own window of /healthz polls)."""
    result = run(snapshot, "redis+postgres+gunicorn")
    assert_every_ballot_once(result)
    assert set(result["faults"]) == {"redis", "postgres", "gunicorn"}
    assert_health_told_the_truth(result)
    assert result["faults"]["postgres"]["cast_attempts_during"] > 0
