"""Crypto benchmark for a one-of-five ballot (five 0..1 range proofs plus the limit proof).

Prints progress to stderr and ONE JSON object as the last stdout line:

- ``naive_ballots_per_s``: py-ecc, every proof verified on its own, no precomputed tables
- ``batch_ballots_per_s``: py-ecc, one batch (random linear combination + one MSM), tables for G and K
- ``native_ballots_per_s``: the same batch path on the native backend (libsecp256k1), one core
- ``encrypt_ms``: Python (py-ecc) encryption of the ballot with all proofs
- ``js_encrypt_ms``: ``node bench/js_encrypt.mjs`` if that script exists, else null
- ``tally_decrypt_s_100k``: aggregate and decrypt 100,000 ballots with 2 of 3 trustees
  (``bench/tally.py`` of the trustees code), else null

Rates and milliseconds are CPU time of this single-threaded process (``time.process_time``),
i.e. time on one core, so other load on a shared machine does not distort them; the same
figures by wall clock are in ``wall``. Verification timings start from decoded ballot objects; ``decode_ms`` reports strict JSON
decoding (all point decompressions) separately. ``--quick`` uses small counts.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from civic_votecrypto import ballot as B  # noqa: E402
from civic_votecrypto import group  # noqa: E402
from civic_votecrypto.hashing import DeterministicScalars  # noqa: E402
from civic_votecrypto.manifest import Manifest  # noqa: E402

MANIFEST = {
    "election_id": "bench",
    "title": "Benchmark",
    "contests": [
        {
            "id": "q",
            "type": "one_of_n",
            "title": "One of five",
            "allow_blank": False,
            "options": [{"id": f"o{i}", "title": f"Option {i}"} for i in range(5)],
        }
    ],
}


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def make_context() -> B.ElectionContext:
    secret = DeterministicScalars(b"bench", "key")()
    return B.ElectionContext.build(Manifest.from_json(MANIFEST), group.base_mul(secret), 1, 1)


def make_ballots(ctx: B.ElectionContext, count: int) -> list[B.EncryptedBallot]:
    with group.use_backend("native"):  # identical bytes, just faster to produce
        return [
            B.encrypt_ballot(ctx, f"ballot-{i}", {"q": {f"o{i % 5}": 1}}, i.to_bytes(32, "big"))
            for i in range(count)
        ]


WALL: dict[str, float] = {}


class Timer:
    """CPU and wall time of a block; ``cpu`` is what the figures report."""

    def __enter__(self) -> Timer:
        self._cpu, self._wall = time.process_time(), time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.cpu = time.process_time() - self._cpu
        self.wall = time.perf_counter() - self._wall


def per_second(count: int, seconds: float) -> float:
    return round(count / seconds, 1)


def bench_encrypt(ctx: B.ElectionContext, repeats: int) -> float:
    with group.use_backend("py-ecc"):
        group.fixed_base(group.G)
        group.fixed_base(ctx.joint_key)
        B.encrypt_ballot(ctx, "warm", {"q": {"o1": 1}})
        with Timer() as t:
            for i in range(repeats):
                B.encrypt_ballot(ctx, f"e{i}", {"q": {f"o{i % 5}": 1}})
        WALL["encrypt_ms"] = round(t.wall / repeats * 1000, 2)
        return t.cpu / repeats * 1000


def bench_naive(ctx: B.ElectionContext, ballots: list[B.EncryptedBallot]) -> float:
    with group.use_backend("py-ecc"):
        with Timer() as t:
            for b in ballots:
                B.verify_ballot(ctx, b)
        WALL["naive_ballots_per_s"] = per_second(len(ballots), t.wall)
        return per_second(len(ballots), t.cpu)


def bench_batch(
    ctx: B.ElectionContext, ballots: list[B.EncryptedBallot], backend: str
) -> tuple[float, float]:
    with group.use_backend(backend):
        with Timer() as tables:  # a fresh table (the cached ones may exist already)
            if backend == "py-ecc":
                group.PyEccFixedBase(ctx.joint_key)
        with Timer() as t:
            bad = B.verify_ballots(ctx, ballots)
    if bad:
        raise AssertionError(f"benchmark ballots failed: {bad[:3]}")
    WALL[f"{backend}_ballots_per_s"] = per_second(len(ballots), t.wall)
    return per_second(len(ballots), t.cpu), tables.cpu


def bench_decode(ballots: list[B.EncryptedBallot], backend: str) -> float:
    docs = [b.to_json() for b in ballots]
    with group.use_backend(backend):
        with Timer() as t:
            for d in docs:
                B.decode_ballot(d)
        return t.cpu / len(docs) * 1000


def bench_js() -> tuple[float | None, str]:
    script = ROOT / "bench" / "js_encrypt.mjs"
    node = shutil.which("node")
    if not script.exists() or node is None:
        return None, "bench/js_encrypt.mjs or node not found"
    proc = subprocess.run(
        [node, str(script)], cwd=ROOT, capture_output=True, text=True, timeout=600, check=False
    )
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    if proc.returncode != 0 or not lines:
        return None, f"node exited {proc.returncode}: {proc.stderr.strip()[-300:]}"
    last = lines[-1].strip()
    try:
        value: Any = json.loads(last)
    except json.JSONDecodeError:
        return None, f"unparsable output: {last[:200]}"
    if isinstance(value, dict):
        value = value.get("js_encrypt_ms", value.get("encrypt_ms"))
    return (
        (float(value), "node bench/js_encrypt.mjs")
        if isinstance(value, int | float)
        else (None, "no figure")
    )


def bench_tally(count: int) -> tuple[float | None, str]:
    try:
        sys.path.insert(0, str(ROOT / "bench"))
        from tally import tally_decrypt_benchmark  # noqa: PLC0415
    except ImportError as exc:
        return None, f"trustees tally benchmark unavailable: {exc}"
    return round(
        tally_decrypt_benchmark(count), 3
    ), f"bench/tally.py, {count} ballots, 2 of 3 trustees"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Civic crypto benchmark")
    parser.add_argument("--quick", action="store_true", help="small counts (smoke test)")
    args = parser.parse_args(argv)
    naive_n, batch_n, native_n, enc_n = (3, 20, 100, 2) if args.quick else (20, 300, 3000, 10)
    tally_n = 2_000 if args.quick else 100_000

    ctx = make_context()
    log(f"making {max(batch_n, native_n)} one-of-five ballots ...")
    ballots = make_ballots(ctx, max(batch_n, native_n))
    # A verifier loads the record once and then only verifies: move the loaded objects out of
    # the cyclic GC's way, as a long-running verifier process would (CPython gc.freeze).
    gc.collect()
    gc.freeze()

    log("encrypt (py-ecc) ...")
    encrypt_ms = bench_encrypt(ctx, enc_n)
    log(f"  {encrypt_ms:.1f} ms/ballot")
    log(f"naive verify of {naive_n} ballots (py-ecc) ...")
    naive = bench_naive(ctx, ballots[:naive_n])
    log(f"  {naive} ballots/s")
    log(f"batch verify of {batch_n} ballots (py-ecc) ...")
    batch, pyecc_tables_s = bench_batch(ctx, ballots[:batch_n], "py-ecc")
    log(f"  {batch} ballots/s ({batch / naive:.1f}x naive)")
    log(f"batch verify of {native_n} ballots (native) ...")
    native, _ = bench_batch(ctx, ballots[:native_n], "native")
    log(f"  {native} ballots/s")
    decode_pyecc = bench_decode(ballots[:20], "py-ecc")
    decode_native = bench_decode(ballots[:200], "native")
    js_ms, js_note = bench_js()
    log(f"js: {js_ms} ({js_note})")
    log(f"tally of {tally_n} ballots ...")
    tally_s, tally_note = bench_tally(tally_n)
    log(f"  {tally_s} s ({tally_note})")

    result = {
        "ballot": "one_of_n with 5 options: 5 range proofs [0,1] + limit proof [1,1]",
        "naive_ballots_per_s": naive,
        "batch_ballots_per_s": batch,
        "native_ballots_per_s": native,
        "batch_speedup_vs_naive": round(batch / naive, 1),
        "encrypt_ms": round(encrypt_ms, 2),
        "js_encrypt_ms": js_ms,
        "tally_decrypt_s_100k": tally_s if tally_n == 100_000 else None,
        "tally_decrypt_s": tally_s,
        "tally_ballots": tally_n,
        "decode_ms_py_ecc": round(decode_pyecc, 3),
        "decode_ms_native": round(decode_native, 3),
        "py_ecc_table_build_s_per_base": round(pyecc_tables_s, 3),
        "counts": {"naive": naive_n, "batch": batch_n, "native": native_n, "encrypt": enc_n},
        "wall": WALL,
        "notes": {
            "timing": "rates are CPU time of one single-threaded process; wall-clock in 'wall'",
            "gc": "gc.freeze() after loading the ballots (a verifier's loaded record is long-lived)",
            "batch_weights": "uniform 128-bit (both backends at these sizes; z1 + lambda*z2 with 64-bit halves only for small native batches): 2^-128 batch error",
            "native_msm": "bucket method over libsecp256k1 pubkey_combine for batches of >= native.BUCKET_MSM_MIN_POINTS terms, ballots in chunks of 2048 (verify_ballots default)",
            "js": js_note,
            "tally": f"{tally_note} (wall clock, measured by bench/tally.py)",
            "cpu_count": os.cpu_count(),
            "load_average_1_5_15_min_at_end": [round(x, 2) for x in os.getloadavg()],
        },
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
