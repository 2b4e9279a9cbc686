"""Tally benchmark: aggregate and threshold-decrypt N one-of-five ballots with 2-of-3 trustees.

``tally_decrypt_benchmark(n)`` returns the seconds for the timed part (``bench/crypto.py``
reports it as ``tally_decrypt_s_100k``); ``python bench/tally.py [N]`` prints a JSON breakdown
plus the baby-step giant-step figures (table build, worst-case lookup at 10,000,000).

Timed: summing the N ciphertexts of each option (native backend), both present trustees'
partial decryptions with Chaum–Pedersen proofs, verification of those proofs, Lagrange
combination and the discrete logs. Not timed: the key ceremony and making the ballots. The
ballots' ciphertexts are drawn from pools of 256 fresh encryptions of 0 and of 1 made with
the native backend (making 500,000 distinct encryptions would only measure encryption);
the aggregation still adds every one of the N·5 ciphertexts.
"""

from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from civic_votecrypto import decryption, dkg, dlog, elgamal, group, hashing  # noqa: E402
from civic_votecrypto.manifest import Manifest  # noqa: E402
from civic_votecrypto.record import election_context  # noqa: E402

OPTIONS = 5
POOL = 256


def _setup(n_ballots: int, seed: int) -> tuple[Any, ...]:
    manifest = Manifest.from_json(
        {
            "election_id": "bench",
            "title": "Benchmark",
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
    )
    h_p = hashing.parameter_hash()
    h_b = hashing.election_base_hash(
        h_p, hashing.manifest_hash(h_p, manifest.canonical_bytes()), 3, 2
    )
    transcript, key_shares = dkg.run_ceremony(dkg.CeremonyParameters(3, 2, h_b))
    ctx = election_context(manifest, transcript)
    key = ctx.joint_key
    zeros = [elgamal.encrypt(key, 0, group.random_scalar()) for _ in range(POOL)]
    ones = [elgamal.encrypt(key, 1, group.random_scalar()) for _ in range(POOL)]
    rng = random.Random(seed)
    choices = [rng.randrange(OPTIONS) for _ in range(n_ballots)]
    columns: list[list[elgamal.Ciphertext]] = [[] for _ in range(OPTIONS)]
    for choice in choices:
        for option in range(OPTIONS):
            pool = ones if option == choice else zeros
            columns[option].append(pool[rng.randrange(POOL)])
    expected = {("q", f"o{i}"): choices.count(i) for i in range(OPTIONS)}
    return manifest, transcript, key_shares, ctx, columns, expected


def tally_decrypt_breakdown(n_ballots: int = 100_000, seed: int = 7) -> dict[str, Any]:
    with group.use_backend("native"):
        manifest, transcript, key_shares, ctx, columns, expected = _setup(n_ballots, seed)
        dlog.table_for(max(dlog.DEFAULT_BOUND, n_ballots))  # built once per process, like a server
        start = time.perf_counter()
        tally = decryption.EncryptedTally(
            {("q", f"o{i}"): decryption.aggregate_ciphertexts(columns[i]) for i in range(OPTIONS)},
            n_ballots,
        )
        aggregated = time.perf_counter()
        present = [k for k in key_shares if k.index in (1, 3)]  # trustee 2 absent
        shares = [decryption.decrypt_share(ctx.extended_hash, k, tally) for k in present]
        shared = time.perf_counter()
        result = decryption.decrypt_tally(
            ctx.extended_hash, tally, shares, transcript.verification_keys(), 2
        )
        end = time.perf_counter()
    if result.counts != expected:
        raise AssertionError(f"tally mismatch: {result.counts} != {expected}")
    return {
        "ballots": n_ballots,
        "trustees": "2 of 3 (trustee 2 absent)",
        "backend": "native",
        "tally_decrypt_s": round(end - start, 4),
        "aggregate_s": round(aggregated - start, 4),
        "partial_decryptions_s": round(shared - aggregated, 4),
        "verify_combine_dlog_s": round(end - shared, 4),
    }


def tally_decrypt_benchmark(n_ballots: int = 100_000) -> float:
    """Seconds to aggregate and decrypt n one-of-five ballots with 2 of 3 trustees."""
    return float(tally_decrypt_breakdown(n_ballots)["tally_decrypt_s"])


def dlog_benchmark(bound: int = 10_000_000) -> dict[str, float]:
    """Table build time and the worst-case lookup (m = bound: the most giant steps)."""
    start = time.perf_counter()
    table = dlog.build_table(bound)
    built = time.perf_counter()
    point = group.base_mul(bound)
    lookup_start = time.perf_counter()
    recovered = table.log((point.x, point.y))
    found = time.perf_counter()
    if recovered != bound:
        raise AssertionError("BSGS returned a wrong value")
    return {
        "dlog_bound": bound,
        "dlog_baby_steps": table.baby_steps,
        "dlog_table_build_s": round(built - start, 4),
        "dlog_worst_lookup_ms": round((found - lookup_start) * 1000, 3),
    }


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    print(json.dumps({**tally_decrypt_breakdown(n), **dlog_benchmark()}))
