"""Observer audit benchmark: ``audit_s`` for a complete v2 record of N ballots.

``python bench/audit.py [--ballots N] [--jobs J] [--backend native|py-ecc]`` builds (or loads
from ``var/bench/``) a signed v2 record of N voters with tests/record_builder.py (2-of-3
trustees, one absent; a yes/no/abstain and a one-of-three question; eligibility tokens signed
directly with the RSA key, which gives the same signatures as blind signing), and its election
log, then runs the whole audit of ``civic-observer audit-election`` (strict loading, V1-V14,
A1-A6: log matching, every token and key signature, re-tally) in this process. Timed from
reading the record bytes to the finished report. Prints progress on stderr and ONE JSON object
on stdout: ``ballots``, ``audit_s`` (wall), ``ballots_per_s``, ``audit_cpu_s`` (CPU seconds of
the audit and its workers, which a busy neighbour changes less than the wall time),
``ballots_per_cpu_s``, ``main_cpu_s`` (of them, the main process: JSON parsing, loading
the bookkeeping, V1-V5, V8, V10-V14, A1-A3, A6; the rest is the workers' single pass over
the ballots: decoding, V6/V7/V9, A4/A5 and the RFC 8785 bytes of the record hash), ``jobs``,
``backend``, ``ok``, ``cpu_count``, ``load_avg_1m``.

The audit goes through each ballot once, in the worker processes (``--jobs``): decoded there
(the main process never decompresses a point of a cast ballot), its proofs batched with the
other ballots of its chunk into one multi-scalar multiplication, its token and key signature
checked, its RFC 8785 bytes made once for the signature and the record hash. Figures on the
shared 2-core machine (native backend, load average 3-7 from other work): see
docs/operations.md § Election audits.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from civic_observer.audit import LogCopy, audit_election  # noqa: E402
from civic_votecrypto import group  # noqa: E402

CACHE_DIR = ROOT / "var" / "bench"
CACHE_VERSION = "v1"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def build(n: int) -> tuple[Path, Path]:
    record_path = CACHE_DIR / f"audit-record-{CACHE_VERSION}-{n}.json"
    log_path = CACHE_DIR / f"audit-log-{CACHE_VERSION}-{n}.json"
    if record_path.exists() and log_path.exists():
        log(f"using cached {record_path}")
        return record_path, log_path
    from tests import record_builder  # noqa: PLC0415

    log(f"building a v2 record of {n} voters (native backend) ...")
    started = time.perf_counter()
    with group.use_backend("native"):
        election = record_builder.build(n, (), (), blind=False, label=f"bench-{n}")
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    record_path.write_text(election.text)
    entries = [base64.b64encode(e).decode() for e in election.entries]
    log_path.write_text(json.dumps({"log": record_builder.LOG_NAME, "entries": entries}))
    log(f"  built in {time.perf_counter() - started:.1f} s")
    return record_path, log_path


def _cpu() -> float:
    """CPU seconds (user + system) of this process and its finished workers."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ballots", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--backend", choices=("native", "py-ecc"), default="native")
    args = parser.parse_args()
    record_path, log_path = build(args.ballots)
    entries = [base64.b64decode(e) for e in json.loads(log_path.read_text())["entries"]]
    group.set_backend(args.backend)
    cpu_before = _cpu()
    own = resource.getrusage(resource.RUSAGE_SELF)
    main_before = own.ru_utime + own.ru_stime
    started = time.perf_counter()
    text = record_path.read_bytes()
    report = audit_election(text, LogCopy(entries, "bench"), jobs=args.jobs)
    seconds = time.perf_counter() - started
    cpu = _cpu() - cpu_before
    own = resource.getrusage(resource.RUSAGE_SELF)
    main_cpu = own.ru_utime + own.ru_stime - main_before
    if not report.ok:
        log("\n".join(report.lines()))
    print(
        json.dumps(
            {
                "ballots": args.ballots,
                "audit_s": round(seconds, 3),
                "ballots_per_s": round(args.ballots / seconds, 1),
                "audit_cpu_s": round(cpu, 3),
                "ballots_per_cpu_s": round(args.ballots / cpu, 1),
                "main_cpu_s": round(main_cpu, 3),
                "jobs": args.jobs,
                "backend": args.backend,
                "ok": report.ok,
                "cpu_count": os.cpu_count(),
                "load_avg_1m": round(os.getloadavg()[0], 2),
            }
        )
    )
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
