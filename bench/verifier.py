"""Election verifier benchmark: how long V1-V13 take on a record of N one-of-five ballots.

``python bench/verifier.py [--ballots N] [--backend native|py-ecc|both]`` builds (or loads from
``var/bench/``) an election record with N cast one-of-five ballots (2-of-3 trustees, one
absent at decryption; ballots made with the native backend for speed, identical bytes), then
runs the verifier with ``--jobs 1`` and ``--jobs 2`` on each backend (``--repeat R`` keeps the
fastest of R runs). Each run is a fresh process (no table or cache carried over) and is timed
from loading the record to the report; interpreter start-up is not counted. Prints progress on stderr and ONE JSON object last on
stdout: ``verify_s_jobs1``, ``verify_s_jobs2``, ``speedup``, ``ballots``, ``backend`` for the
primary backend (native when measured), and every measured backend under ``backends``.

The machine's other load disturbs the wall-clock figures (``cpu_count`` and the 1-minute load
average are printed with them): on a shared two-core machine the jobs-2 speedup is a floor.
``cpu_s_jobs1/2`` (CPU seconds summed over the verifier and its workers) do not depend on that
load: their difference is the price of going parallel.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from civic_votecrypto import ballot, decryption, dkg, group, hashing, record  # noqa: E402
from civic_votecrypto.hashing import DeterministicScalars  # noqa: E402
from civic_votecrypto.manifest import Manifest  # noqa: E402

CACHE_DIR = ROOT / "var" / "bench"
CACHE_VERSION = "v1"
OPTIONS = 5
MANIFEST = {
    "election_id": "bench-verifier",
    "title": "Verifier benchmark",
    "contests": [
        {
            "id": "q",
            "type": "one_of_n",
            "title": "One of five",
            "allow_blank": False,
            "options": [{"id": f"o{i}", "title": f"Option {i}"} for i in range(OPTIONS)],
        }
    ],
}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def build_record(n_ballots: int) -> record.ElectionRecord:
    """2-of-3 ceremony, N one-of-five ballots, trustees 1 and 3 decrypt (2 absent)."""
    rng = DeterministicScalars(b"bench-verifier", str(n_ballots))
    manifest = Manifest.from_json(MANIFEST)
    h_p = hashing.parameter_hash()
    h_b = hashing.election_base_hash(
        h_p, hashing.manifest_hash(h_p, manifest.canonical_bytes()), 3, 2
    )
    transcript, key_shares = dkg.run_ceremony(dkg.CeremonyParameters(3, 2, h_b), rng=rng)
    ctx = record.election_context(manifest, transcript)
    cast = []
    with group.use_backend("native"):
        started = time.perf_counter()
        for k in range(n_ballots):
            choice = {"q": {f"o{k * 7 % OPTIONS}": 1}}
            enc = ballot.encrypt_ballot(ctx, f"ballot-{k}", choice, seed=k.to_bytes(32, "big"))
            cast.append(record.CastBallot(enc))
            if k and k % 1000 == 0:
                log(f"  {k} ballots ({time.perf_counter() - started:.1f} s)")
        seed = b"\x42" * 32
        audit = ballot.encrypt_ballot(ctx, "ballot-audit", {"q": {"o1": 1}}, seed=seed)
        challenged = [ballot.challenge_ballot(audit, seed, {"q": {"o1": 1}})]
        tally = decryption.aggregate_ballots(manifest, [c.ballot for c in cast])
        shares = [
            decryption.decrypt_share(ctx.extended_hash, k, tally, rng=rng)
            for k in key_shares
            if k.index in (1, 3)
        ]
        result = decryption.decrypt_tally(
            ctx.extended_hash, tally, shares, transcript.verification_keys(), 2
        )
    return record.assemble_record(
        ctx, transcript, cast, challenged, tally, shares, result.counts, result.trustees_used
    )


def record_path(n_ballots: int) -> Path:
    """Cached record (rebuilt if missing or unreadable)."""
    path = CACHE_DIR / f"verifier-record-{CACHE_VERSION}-{n_ballots}.json"
    if path.exists():
        try:
            record.load(path)
            log(f"using cached record {path}")
            return path
        except record.RecordError:
            log(f"cached record {path} unreadable, rebuilding")
    log(f"building a record with {n_ballots} one-of-five ballots (native backend) ...")
    started = time.perf_counter()
    rec = build_record(n_ballots)
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    record.dump(rec, tmp)
    tmp.replace(path)
    log(f"  built in {time.perf_counter() - started:.1f} s: {path}")
    return path


def child(path: str, backend: str, jobs: int) -> int:
    """One timed run in this (fresh) process; prints {"seconds", "ok", "failed_steps"}."""
    from civic_votecrypto.verifier import decode_jobs, verify_record  # noqa: PLC0415

    group.set_backend(backend)
    cpu_before = _cpu_seconds()
    started = time.perf_counter()
    rec = record.load(path, jobs=decode_jobs(jobs))  # as the verifier CLI does
    report = verify_record(rec, jobs=jobs)
    seconds = time.perf_counter() - started
    cpu = _cpu_seconds() - cpu_before
    print(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "ok": report.ok,
                      "failed_steps": report.failed_steps}))  # fmt: skip
    return 0


def _cpu_seconds() -> float:
    """CPU time of this process and its finished workers: the load-independent cost."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    workers = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + workers.ru_utime + workers.ru_stime


def timed_run(path: Path, backend: str, jobs: int) -> tuple[float, float]:
    """(wall seconds, CPU seconds summed over the processes) of one fresh verifier run."""
    proc = subprocess.run(
        [sys.executable, __file__, "--child", str(path), backend, str(jobs)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    if proc.returncode != 0:
        raise SystemExit(f"verifier run failed ({backend}, jobs {jobs}):\n{proc.stderr}")
    outcome = json.loads(proc.stdout.strip().splitlines()[-1])
    if not outcome["ok"]:
        raise SystemExit(f"the record did not verify: failed steps {outcome['failed_steps']}")
    return float(outcome["seconds"]), float(outcome["cpu_seconds"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ballots", type=int, default=1000, help="cast ballots (default 1000)")
    parser.add_argument("--backend", choices=["native", "py-ecc", "both"], default="both")
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs per configuration; the fastest is kept"
    )
    parser.add_argument(
        "--child", nargs=3, metavar=("RECORD", "BACKEND", "JOBS"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.child:
        path, backend, jobs = args.child
        return child(path, backend, int(jobs))
    if args.ballots < 1:
        parser.error("--ballots must be positive")
    load_1m = os.getloadavg()[0]
    path = record_path(args.ballots)
    backends = ["native", "py-ecc"] if args.backend == "both" else [args.backend]
    figures: dict[str, dict[str, float]] = {}
    for backend in backends:
        runs, cpus = {}, {}
        for jobs in (1, 2):
            log(f"verifying with --jobs {jobs} --backend {backend} ...")
            measured = [timed_run(path, backend, jobs) for _ in range(max(1, args.repeat))]
            runs[jobs], cpus[jobs] = min(measured)
            log("  " + ", ".join(f"{w:.2f} s (cpu {c:.2f} s)" for w, c in measured))
        figures[backend] = {
            "verify_s_jobs1": round(runs[1], 3),
            "verify_s_jobs2": round(runs[2], 3),
            "speedup": round(runs[1] / runs[2], 3),
            "ballots_per_s_jobs1": round(args.ballots / runs[1], 1),
            "ballots_per_s_jobs2": round(args.ballots / runs[2], 1),
            "cpu_s_jobs1": round(cpus[1], 3),
            "cpu_s_jobs2": round(cpus[2], 3),
        }
    primary = backends[0]
    summary: dict[str, Any] = {
        **{k: figures[primary][k] for k in ("verify_s_jobs1", "verify_s_jobs2", "speedup")},
        "ballots": args.ballots,
        "backend": primary,
        "repeat": max(1, args.repeat),
        "backends": figures,
        "cpu_count": os.cpu_count(),
        "load_avg_1m_at_start": round(load_1m, 2),
        "load_avg_1m_at_end": round(os.getloadavg()[0], 2),
        "record": str(path.relative_to(ROOT)),
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
