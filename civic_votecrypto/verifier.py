"""Election verifier: re-checks a complete election record in numbered steps.

In the spirit of ElectionGuard 2.1's verification steps, adapted to this protocol (each step
is specified in docs/protocol-trustees.md § Verifier steps):

    V1  parameters            V6  ballot structure and codes   V11 tally decryption
    V2  manifest, base hash   V7  ballot proofs (batched)      V12 results match the manifest
    V3  trustee keys, proofs  V8  unique ballots               V13 challenged ballots
    V4  ceremony complaints   V9  aggregation            V14 ballot bookkeeping (v2)
    V5  joint key, H_E        V10 decryption shares

Every step runs even when an earlier one failed (each compares published values with values
it recomputes), and every failure names the object: a trustee, a ballot id, a contest/option.
Later steps use the recomputed values (H_P, H_M, H_B, K, H_E), never a published one, so a
forged published hash fails its own step and cannot make a later step pass.
Ballot work (V6, V7, V9) is split into chunks that run in worker processes with ``--jobs``.

CLI: ``python -m civic_votecrypto.verifier RECORD.json [--jobs N] [--backend native]``; exit code
0 = every step passed, 1 = a step failed, 2 = the record could not be read at all.
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from . import group, hashing
from .ballot import ElectionContext, EncryptedBallot, check_structure, verify_challenged_ballot
from .batch import BatchVerifier
from .decryption import (
    PartialDecryptionError,
    SelectionKey,
    check_result,
    selection_keys,
    sum_many,
    verify_tally_share,
)
from .dkg import (
    CeremonyError,
    CeremonyParameters,
    CeremonyTranscript,
    commitment_equations,
    verify_announcement,
)
from .elgamal import Ciphertext
from .errors import CryptoError
from .group import Point
from .manifest import Manifest
from .record import (
    GROUP_NAME,
    RECORD_VERSION,
    WEIGHTS_UNIFORM,
    BallotMeta,
    CastBallot,
    DeferredCastBallot,
    ElectionRecord,
    RecordError,
    load,
)

STEP_TITLES: dict[int, str] = {
    1: "Parameters",
    2: "Manifest and election base hash",
    3: "Trustee keys and proofs",
    4: "Key ceremony complaints",
    5: "Joint key and extended base hash",
    6: "Ballot structure and confirmation codes",
    7: "Ballot proofs",
    8: "Unique ballots",
    9: "Aggregation of cast ballots",
    10: "Decryption shares",
    11: "Tally decryption",
    12: "Results match the manifest",
    13: "Challenged ballots",
    14: "Ballot bookkeeping (record v2)",
}
DEFAULT_CHUNK = 256
"""The smallest automatic work unit (``auto_chunk_size``)."""


@dataclass(frozen=True)
class Failure:
    obj: str
    reason: str


@dataclass
class StepResult:
    number: int
    title: str
    failures: list[Failure] = field(default_factory=list)
    checked: str = ""

    @property
    def ok(self) -> bool:
        return not self.failures

    def fail(self, obj: str, reason: str) -> None:
        self.failures.append(Failure(obj, reason))


@dataclass
class Report:
    steps: list[StepResult]
    totals: dict[SelectionKey, Ciphertext] | None = None
    """The aggregate V9 recomputed from the record's counting ballots, weights applied (a
    selection no ballot has is absent); None when V9 could not sum the ballots."""
    extra: list[Any] = field(default_factory=list)
    """What the ``hook`` of ``verify_record`` returned for each chunk, in chunk order."""

    @property
    def ok(self) -> bool:
        return all(s.ok for s in self.steps)

    def step(self, number: int) -> StepResult:
        return next(s for s in self.steps if s.number == number)

    @property
    def failed_steps(self) -> list[int]:
        return [s.number for s in self.steps if not s.ok]

    def lines(self) -> list[str]:
        out = []
        for s in self.steps:
            status = "ok" if s.ok else "FAILED"
            suffix = f" ({s.checked})" if s.checked else ""
            out.append(f"V{s.number:<3}{s.title:<42}{status}{suffix}")
            out.extend(f"      - {f.obj}: {f.reason}" for f in s.failures[:20])
            if len(s.failures) > 20:
                out.append(f"      ... and {len(s.failures) - 20} more")
        out.append(
            "RESULT: " + ("all steps passed" if self.ok else f"FAILED at steps {self.failed_steps}")
        )
        return out


# -- ballot chunks (run in worker processes) ---------------------------------------------------
def _ballot_name(index: int, ballot_id: str) -> str:
    return f"ballot {ballot_id!r} (ballots.cast[{index}])"


def _point_hex(p: Point) -> str | None:
    return None if p.infinity else p.hex()


def _point_from(h: str | None) -> Point:
    return group.IDENTITY if h is None else Point.from_hex(h)


ChunkHook = tuple[Callable[[Any, list[tuple[int, CastBallot, EncryptedBallot]]], Any], Any]
"""(function, parameters): more per-ballot work done in the same workers as V6-V9, on the
decoded ballots; ``function(parameters, [(index, cast entry, ballot), ...])`` runs once per
chunk (a module-level function: it travels by reference) and its results come back in chunk
order in ``Report.extra``. The observer's audit checks tokens and signatures this way."""


def check_ballot_chunk(task: dict[str, Any]) -> dict[str, Any]:
    """V6 + V7 + V9 for a chunk of cast ballots; picklable in and out, backend-safe.

    Deferred ballots (``record.DeferredCastBallot``) are decoded here, in the worker: the
    first that does not decode ends the chunk with ``decode_error`` (path, message). Only
    results travel back: failures, the chunk's partial sums as hex, the hook's results.
    """
    with collector_paused():
        return _check_ballot_chunk(task)


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while a chunk is checked: its many small objects (points,
    proofs, terms) are freed by reference counting, and each automatic collection would
    walk them all again (about a tenth of the chunk's time); collections resume after it."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _check_ballot_chunk(task: dict[str, Any]) -> dict[str, Any]:
    if group.get_backend().name != task["backend"]:
        group.set_backend(task["backend"])
    ctx = ElectionContext(
        Manifest.from_json(task["manifest"]),
        Point.from_hex(task["joint_key"]),
        *(
            bytes.fromhex(task["hashes"][name])
            for name in ("parameter_hash", "manifest_hash", "base_hash", "extended_hash")
        ),
    )
    chunk = task["ballots"] if "ballots" in task else _inherited[task["start"] : task["stop"]]
    ballots: list[tuple[int, CastBallot, EncryptedBallot, int]] = []
    for index, cast, weight in chunk:
        if isinstance(cast, DeferredCastBallot):
            try:
                b = cast.decode()
            except RecordError as exc:
                return {"decode_error": (exc.path, str(exc)[len(exc.path) + 2 :])}
        else:
            b = cast.ballot
        ballots.append((index, cast, b, weight))
    structure: list[tuple[str, str]] = []
    batch = BatchVerifier(fixed_bases=[ctx.joint_key])
    from .ballot import ballot_term_count, ballot_weigher  # noqa: PLC0415

    terms = ballot_term_count(ctx.manifest)
    for index, _, b, _ in ballots:
        try:
            check_structure(ctx, b)
        except CryptoError as exc:
            structure.append((_ballot_name(index, b.ballot_id), str(exc)))
            continue
        batch.add_weighted(
            _ballot_name(index, b.ballot_id), lambda b=b: ballot_weigher(ctx, b), terms
        )
    proofs: list[tuple[str, str]] = []
    if len(batch) and not batch.verify():
        proofs = [(str(ref), why) for ref, why in batch.bad_items()]
    # partial aggregate of this chunk, per selection (weights applied)
    columns: dict[SelectionKey, tuple[list[Point], list[Point], list[int]]] = {
        k: ([], [], []) for k in selection_keys(ctx.manifest)
    }
    for _, _, b, weight in ballots:
        if not weight:
            continue  # superseded: checked, not summed
        for contest in b.contests:
            for sel in contest.selections:
                col = columns.get((contest.contest_id, sel.option_id))
                if col is None:
                    continue  # structure failure already reported in V6
                col[0].append(sel.ciphertext.alpha)
                col[1].append(sel.ciphertext.beta)
                col[2].append(weight)
    sums = {}
    for (contest_id, option_id), (alphas, betas, ws) in columns.items():
        if all(w == 1 for w in ws):
            a, b_ = sum_many(alphas), sum_many(betas)
        else:
            a, b_ = group.msm(ws, alphas), group.msm(ws, betas)
        sums[f"{contest_id}\x00{option_id}"] = (_point_hex(a), _point_hex(b_))
    hook = task.get("hook")
    extra = hook[0](hook[1], [(i, c, b) for i, c, b, _ in ballots]) if hook else None
    return {"structure": structure, "proofs": proofs, "sums": sums, "extra": extra}


_inherited: list[tuple[int, CastBallot, int]] = []
"""The ballots as forked workers see them: set by the parent just before it forks them."""


def _run_chunks(
    common: dict[str, Any],
    entries: list[tuple[int, CastBallot, int]],
    chunk_size: int,
    jobs: int,
    progress: Callable[[int], Any] | None = None,
) -> list[dict[str, Any]]:
    """Check the ballots chunk by chunk, in ``jobs`` worker processes when > 1.

    Where processes fork, workers read the ballots (decoded or still raw JSON) from the
    memory they inherit and each task is just a range, so no ballot is pickled; elsewhere
    each task carries its ballots. ``progress(n)`` after each finished chunk of n ballots.
    """
    global _inherited
    bounds = chunk_bounds(len(entries), chunk_size, jobs)
    out: list[dict[str, Any]] = []

    def done(results: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        for (a, b), result in zip(bounds, results, strict=True):
            out.append(result)
            if progress is not None:
                progress(b - a)
        return out

    if jobs <= 1 or len(bounds) <= 1:
        previous = group.get_backend().name
        try:
            return done(check_ballot_chunk({**common, "ballots": entries[a:b]}) for a, b in bounds)
        finally:
            group.set_backend(previous)
    workers = min(jobs, len(bounds))
    if "fork" not in multiprocessing.get_all_start_methods():
        tasks = [{**common, "ballots": entries[a:b]} for a, b in bounds]
        with ProcessPoolExecutor(max_workers=workers) as pool:
            return done(pool.map(check_ballot_chunk, tasks))
    _inherited = entries
    try:
        context = multiprocessing.get_context("fork")
        with frozen_heap(), ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            tasks = [{**common, "start": a, "stop": b} for a, b in bounds]
            return done(pool.map(check_ballot_chunk, tasks))
    finally:
        _inherited = []


def chunk_bounds(count: int, chunk_size: int, jobs: int) -> list[tuple[int, int]]:
    """[start, stop) of each work unit: at most ``chunk_size`` ballots, as equal as possible,
    and (with several processes) a multiple of ``jobs`` units, so that no process is left
    with one more big unit than the others at the end (10,000 ballots in units of 2,048 on
    two processes would give one 6,144 and the other 3,856)."""
    if count <= 0:
        return []
    units = -(-count // chunk_size)
    if jobs > 1 and units > 1:
        units = -(-units // jobs) * jobs
    units = min(units, count)
    base, extra = divmod(count, units)
    bounds = []
    start = 0
    for u in range(units):
        stop = start + base + (1 if u < extra else 0)
        bounds.append((start, stop))
        start = stop
    return bounds


@contextmanager
def frozen_heap() -> Iterator[None]:
    """Move every object the parent holds (the loaded record) to the collector's permanent
    generation before forking: the workers' collections then never walk the inherited heap
    (which also dirtied its copy-on-write pages), only what they allocate themselves."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def auto_chunk_size(ballots: int, jobs: int) -> int:
    """Ballots per work unit: one unit per process, between 256 and 2048 ballots. A big unit
    amortises the fixed cost of the native bucket multi-scalar multiplication (about 8,000
    combine calls per batch, each with a field inversion: 160 µs per ballot at 256) over
    more ballots; a failing batch is still narrowed down to the bad ballots by bisection."""
    return max(DEFAULT_CHUNK, min(2048, -(-ballots // max(1, jobs))))


def _uniqueness_keys(cast: CastBallot) -> tuple[str, str, list[tuple[str, str, str]]]:
    """(ballot id, code hex, [(contest id, option id, alpha hex)]) of a cast ballot for V8.

    A deferred ballot the verifier's workers decoded is read from its JSON: after a strict
    decoding, each value has exactly one textual form (lowercase hex, one encoding per point),
    so equal strings are equal values and the main process need not decode it again."""
    if isinstance(cast, DeferredCastBallot) and cast.__dict__["_decoded"] is None:
        raw = cast.raw
        return (
            raw["ballot_id"],
            raw["code"],
            [
                (c["contest_id"], s["option_id"], s["ciphertext"]["alpha"])
                for c in raw["contests"]
                for s in c["selections"]
            ],
        )
    b = cast.ballot
    return (
        b.ballot_id,
        b.code.hex(),
        [
            (c.contest_id, s.option_id, s.ciphertext.alpha.hex())
            for c in b.contests
            for s in c.selections
        ],
    )


# -- the steps -----------------------------------------------------------------------------------
class _Verification:
    def __init__(
        self,
        record: ElectionRecord,
        jobs: int,
        chunk_size: int,
        hook: ChunkHook | None = None,
        progress: Callable[[int], Any] | None = None,
    ) -> None:
        self.record = record
        self.jobs = jobs
        self.chunk_size = chunk_size
        self.hook = hook
        self.progress = progress
        self.totals: dict[SelectionKey, Ciphertext] | None = None
        self.extra: list[Any] = []
        self.load_error: RecordError | None = None
        self.steps = {n: StepResult(n, t) for n, t in STEP_TITLES.items()}
        self.qualified: list[int] = []
        self.valid_share_trustees: set[int] = set()
        # Values later steps use are always the ones recomputed here, never the published ones:
        # a published hash that fails its check cannot make a later step pass (§6).
        self.h_p = hashing.parameter_hash()
        self.h_m = hashing.manifest_hash(self.h_p, record.manifest.canonical_bytes())
        self.h_b = hashing.election_base_hash(self.h_p, self.h_m, record.trustees, record.threshold)
        self.ceremony = CeremonyTranscript(
            CeremonyParameters(record.trustees, record.threshold, self.h_b),
            record.ceremony.announcements,
            record.ceremony.commitments,
            record.ceremony.complaints,
        )
        self.joint_key: Point | None = None
        self.h_e: bytes | None = None

    def context(self) -> ElectionContext:
        """The ballots' context from recomputed values (K and H_E of step V5)."""
        if self.joint_key is None or self.h_e is None:
            raise ValueError("step V5 could not recompute the joint key and H_E")
        return ElectionContext(
            self.record.manifest, self.joint_key, self.h_p, self.h_m, self.h_b, self.h_e
        )

    def guarded(self, number: int, check: Callable[[StepResult], None]) -> None:
        """A step that crashes on unexpected data fails itself, never the whole verifier."""
        step = self.steps[number]
        try:
            check(step)
        except (CryptoError, ValueError, KeyError, IndexError, StopIteration) as exc:
            step.fail("record", f"{type(exc).__name__}: {exc}")

    def run(self) -> Report:
        self.guarded(1, self.v1_parameters)
        self.guarded(2, self.v2_manifest)
        self.guarded(3, self.v3_trustees)
        self.guarded(4, self.v4_complaints)
        self.guarded(5, self.v5_joint_key)
        self.guarded(6, self.v6_to_v9_ballots)
        if self.load_error is not None:
            raise self.load_error  # a deferred ballot that does not decode: loading fails
        self.guarded(8, self.v8_unique)
        self.guarded(10, self.v10_shares)
        self.guarded(11, self.v11_decryption)
        self.guarded(12, self.v12_results)
        self.guarded(13, self.v13_challenged)
        self.guarded(14, self.v14_bookkeeping)
        return Report([self.steps[n] for n in sorted(self.steps)], self.totals, self.extra)

    # V1
    def v1_parameters(self, step: StepResult) -> None:
        r = self.record
        if r.group_name != GROUP_NAME:
            step.fail("parameters.group", f"must be {GROUP_NAME!r}")
        if r.generator != group.G:
            step.fail("parameters.generator", "is not the standard secp256k1 generator")
        if r.protocol != hashing.PROTOCOL_VERSION.decode():
            step.fail("parameters.protocol", f"must be {hashing.PROTOCOL_VERSION.decode()!r}")
        if not 1 <= r.threshold <= r.trustees:
            step.fail("parameters", f"threshold {r.threshold} must be in 1..{r.trustees}")
        if r.hashes["parameter_hash"] != self.h_p:
            step.fail("hashes.parameter_hash", "does not match H_P recomputed from the parameters")
        step.checked = f"{r.trustees} trustees, threshold {r.threshold}"

    # V2
    def v2_manifest(self, step: StepResult) -> None:
        r = self.record
        if r.hashes["manifest_hash"] != self.h_m:
            step.fail("hashes.manifest_hash", "does not match H_M of the published manifest")
        if r.hashes["base_hash"] != self.h_b:
            step.fail("hashes.base_hash", "does not match H_B recomputed from H_P, H_M, n, t")
        step.checked = f"{len(r.manifest.contests)} contests"

    # V3
    def v3_trustees(self, step: StepResult) -> None:
        ceremony = self.ceremony
        params = ceremony.params
        indices = list(params.indices)
        if [a.index for a in ceremony.announcements] != indices:
            step.fail("ceremony.announcements", f"must list trustees {indices} in order")
        if [c.index for c in ceremony.commitments] != indices:
            step.fail("ceremony.commitments", f"must list trustees {indices} in order")
        for ann in ceremony.announcements:
            try:
                verify_announcement(params, ann)
            except CeremonyError as exc:
                step.fail(f"trustee {ann.index} announcement", str(exc))
        batch = BatchVerifier()
        for msg in ceremony.commitments:
            batch.add(
                f"trustee {msg.index} commitments", lambda msg=msg: _ceremony_equations(params, msg)
            )
        if not batch.verify():
            for ref, why in batch.bad_items():
                step.fail(str(ref), f"coefficient commitments or their proofs are invalid ({why})")
        step.checked = f"{len(ceremony.announcements)} trustees, {sum(len(c.proofs) for c in ceremony.commitments)} coefficient proofs"

    # V4
    def v4_complaints(self, step: StepResult) -> None:
        ceremony = self.ceremony
        verdicts = []
        for i, complaint in enumerate(ceremony.complaints):
            try:
                verdicts.append(ceremony_verdict(ceremony, complaint))
            except CryptoError as exc:
                step.fail(f"ceremony.complaints[{i}]", f"cannot be judged: {exc}")
        self.qualified = [
            i for i in ceremony.params.indices if i not in {v.guilty for v in verdicts if v.upheld}
        ]
        if len(self.qualified) < ceremony.params.threshold:
            step.fail(
                "ceremony",
                f"only {len(self.qualified)} qualified trustees, threshold is {ceremony.params.threshold}",
            )
        upheld = sorted({v.guilty for v in verdicts if v.upheld})
        step.checked = f"{len(ceremony.complaints)} complaints" + (
            f", disqualified {upheld}" if upheld else ""
        )

    # V5
    def v5_joint_key(self, step: StepResult) -> None:
        r = self.record
        by_index = r.ceremony.commitments_by_index
        qualified = [i for i in self.qualified if i in by_index]
        expected = group.sum_points([by_index[i].commitments[0] for i in qualified])
        if expected != r.joint_key:
            step.fail(
                "joint_key", "is not the sum of the qualified trustees' constant-term commitments"
            )
        commitments = [c for i in qualified for c in by_index[i].commitments]
        h_e = hashing.extended_base_hash(self.h_b, expected, commitments)
        self.joint_key, self.h_e = expected, h_e
        if r.hashes["extended_hash"] != h_e:
            step.fail(
                "hashes.extended_hash",
                "does not match H_E recomputed from H_B, K and the commitments",
            )
        step.checked = f"qualified trustees {qualified}"

    # V6, V7, V9 share one pass over the ballots
    def v6_to_v9_ballots(self, _: StepResult) -> None:
        r = self.record
        v6, v7, v9 = self.steps[6], self.steps[7], self.steps[9]
        try:
            ctx = self.context()
        except ValueError:
            self._decode_deferred()  # no context to check them with, but they must load
            raise
        common = {
            "backend": group.get_backend().name,
            "manifest": r.manifest.to_json(),
            "joint_key": ctx.joint_key.hex(),
            "hashes": {
                "parameter_hash": ctx.parameter_hash.hex(),
                "manifest_hash": ctx.manifest_hash.hex(),
                "base_hash": ctx.base_hash.hex(),
                "extended_hash": ctx.extended_hash.hex(),
            },
        }
        if self.hook is not None:
            common["hook"] = self.hook
        # superseded ballots are checked (V6, V7) but weigh 0: only counting ones are summed
        entries = [(i, c, c.weight if c.counting else 0) for i, c in enumerate(r.cast)]
        chunk_size = self.chunk_size or auto_chunk_size(len(entries), self.jobs)
        results = _run_chunks(common, entries, chunk_size, self.jobs, self.progress)
        errors = [result["decode_error"] for result in results if "decode_error" in result]
        if errors:
            self.load_error = RecordError(*errors[0])  # the first in index order
            return
        chunks = len(results)
        totals: dict[SelectionKey, Ciphertext] = {}
        for result in results:
            self.extra.append(result["extra"])
            for obj, why in result["structure"]:
                v6.fail(obj, why)
            for obj, why in result["proofs"]:
                v7.fail(obj, why)
            for key, (a, b) in result["sums"].items():
                contest_id, option_id = key.split("\x00")
                part = Ciphertext(_point_from(a), _point_from(b))
                k = (contest_id, option_id)
                totals[k] = totals[k] + part if k in totals else part
        self.totals = totals
        v6.checked = v7.checked = (
            f"{len(r.cast)} cast ballots in {chunks} chunks, {max(1, min(self.jobs, chunks))} processes"
        )
        counting = len(r.counting)
        if r.tally.ballot_count != counting:
            v9.fail(
                "tally.ballot_count",
                f"is {r.tally.ballot_count}, the record has {counting} counting cast ballots",
            )
        for k in selection_keys(r.manifest):
            expected = totals.get(k, Ciphertext(group.IDENTITY, group.IDENTITY))
            published = r.tally.ciphertexts[k]
            if expected.alpha != published.alpha or expected.beta != published.beta:
                v9.fail(
                    f"tally {k[0]}/{k[1]}",
                    "is not the (weighted) sum of the cast ballots' ciphertexts",
                )
        v9.checked = f"{len(r.tally.ciphertexts)} aggregate ciphertexts"

    def _decode_deferred(self) -> None:
        """Decode, here, the deferred ballots no worker decoded (loading must still fail)."""
        try:
            for c in self.record.cast:
                if isinstance(c, DeferredCastBallot):
                    c.decode()
        except RecordError as exc:
            self.load_error = exc

    # V8
    def v8_unique(self, step: StepResult) -> None:
        r = self.record
        seen_ids: dict[str, int] = {}
        seen_codes: dict[str, int] = {}  # hex: one form per value
        seen_alphas: dict[str, int] = {}  # hex of the point: one encoding per point
        for i, c in enumerate(r.cast):
            ballot_id, code, alphas = _uniqueness_keys(c)
            name = _ballot_name(i, ballot_id)
            if ballot_id in seen_ids:
                step.fail(name, f"duplicate ballot id (also ballots.cast[{seen_ids[ballot_id]}])")
            seen_ids.setdefault(ballot_id, i)
            if code in seen_codes:
                step.fail(
                    name, f"duplicate confirmation code (also ballots.cast[{seen_codes[code]}])"
                )
            seen_codes.setdefault(code, i)
            for contest_id, option_id, alpha in alphas:
                first = seen_alphas.setdefault(alpha, i)
                if first != i:
                    step.fail(
                        name,
                        f"{contest_id}/{option_id} reuses a ciphertext of ballots.cast[{first}]",
                    )
        # "Also cast" (§6, V8): a challenged ballot shares its ballot id, its confirmation code
        # (so its tracking code) or any selection ciphertext with a cast ballot. Its seed is
        # public, so a cast ballot reusing any of its ciphertexts would reveal that vote.
        challenged_ids: dict[str, int] = {}
        for i, ch in enumerate(r.challenged):
            b = ch.ballot
            name = f"challenged ballot {b.ballot_id!r} (ballots.challenged[{i}])"
            alphas = [s.ciphertext.alpha.hex() for c in b.contests for s in c.selections]
            code = b.code.hex()
            also = (
                seen_ids.get(b.ballot_id)
                if b.ballot_id in seen_ids
                else seen_codes.get(code)
                if code in seen_codes
                else next((seen_alphas[a] for a in alphas if a in seen_alphas), None)
            )
            if also is not None:
                step.fail(name, f"was also cast (ballots.cast[{also}])")
            if b.ballot_id in challenged_ids:
                step.fail(
                    name,
                    f"duplicate ballot id (also ballots.challenged[{challenged_ids[b.ballot_id]}])",
                )
            challenged_ids.setdefault(b.ballot_id, i)
        step.checked = f"{len(r.cast)} cast, {len(r.challenged)} challenged"

    # V10
    def _nothing_to_decrypt(self) -> bool:
        """No counting ballot and no share posted: the results are zero without any trustee
        (docs/protocol-trustees.md, "An election without ballots")."""
        r = self.record
        return r.tally.ballot_count == 0 and not r.tally_shares and not r.result_trustees

    def v10_shares(self, step: StepResult) -> None:
        r = self.record
        if self._nothing_to_decrypt():
            step.checked = "no counting ballot: nothing to decrypt, no share needed"
            return
        context = self.context().extended_hash
        by_index = r.ceremony.commitments_by_index
        qualified = [i for i in self.qualified if i in by_index]
        from .dkg import verification_key  # noqa: PLC0415

        seen: set[int] = set()
        for i, share in enumerate(r.tally_shares):
            name = f"trustee {share.trustee} (tally_shares[{i}])"
            if share.trustee in seen:
                step.fail(name, "more than one tally share from this trustee")
                continue
            seen.add(share.trustee)
            if share.trustee not in qualified:
                step.fail(name, "is not a qualified trustee")
                continue
            key = verification_key(by_index, qualified, share.trustee)
            try:
                verify_tally_share(context, key, r.tally, share)
            except PartialDecryptionError as exc:
                step.fail(name, str(exc))
                continue
            self.valid_share_trustees.add(share.trustee)
        if len(self.valid_share_trustees) < r.threshold:
            step.fail(
                "tally_shares",
                f"{len(self.valid_share_trustees)} valid shares, threshold is {r.threshold}",
            )
        absent = sorted(set(qualified) - seen)
        step.checked = f"{len(r.tally_shares)} shares" + (
            f", absent trustees {absent}" if absent else ""
        )

    # V11
    def v11_decryption(self, step: StepResult) -> None:
        r = self.record
        if self._nothing_to_decrypt():
            for k in selection_keys(r.manifest):
                aggregate = r.tally.ciphertexts[k]
                if not (aggregate.alpha.infinity and aggregate.beta.infinity):
                    step.fail(f"tally {k[0]}/{k[1]}", "ballot_count is 0 but the aggregate is not (O, O)")
                elif r.results[k] != 0:
                    step.fail(f"result {k[0]}/{k[1]}", f"count {r.results[k]} for an empty box")
            step.checked = f"{len(r.results)} counts, all 0 (no ballots, no trustees)"
            return
        used = list(r.result_trustees)
        if len(set(used)) != len(used) or len(used) < r.threshold:
            step.fail("results.trustees", f"must list at least t={r.threshold} distinct trustees")
            return
        bad = [j for j in used if j not in self.valid_share_trustees]
        if bad:
            step.fail("results.trustees", f"trustees {bad} have no valid tally share")
            return
        shares = {s.trustee: s for s in r.tally_shares if s.trustee in used}
        for k in selection_keys(r.manifest):
            partials = {j: shares[j].partials[k].share for j in used}
            if not check_result(r.tally.ciphertexts[k], partials, r.results[k]):
                step.fail(
                    f"result {k[0]}/{k[1]}",
                    f"count {r.results[k]} is not what the tally decrypts to",
                )
        step.checked = f"{len(r.results)} counts, trustees {used}"

    # V12
    def v12_results(self, step: StepResult) -> None:
        r = self.record
        total_weight = sum(c.weight for c in r.counting)
        for contest in r.manifest.contests:
            counts = [r.results[(contest.id, o.id)] for o in contest.options]
            for option, count in zip(contest.options, counts, strict=True):
                if not 0 <= count <= contest.max_value * total_weight:
                    step.fail(
                        f"result {contest.id}/{option.id}",
                        f"count {count} outside [0, {contest.max_value * total_weight}]",
                    )
            lo, hi = contest.limit
            weighted = sum(w * n for w, n in zip(contest.weights, counts, strict=True))
            if not lo * total_weight <= weighted <= hi * total_weight:
                step.fail(
                    f"contest {contest.id}",
                    f"weighted total {weighted} outside [{lo * total_weight}, {hi * total_weight}] for {total_weight} votes",
                )
        step.checked = f"{len(r.manifest.contests)} contests"

    # V13
    def v13_challenged(self, step: StepResult) -> None:
        ctx = self.context()
        for i, ch in enumerate(self.record.challenged):
            try:
                check_structure(ctx, ch.ballot)  # every contest and option, in manifest order
                verify_challenged_ballot(ctx, ch)
            except CryptoError as exc:
                step.fail(
                    f"challenged ballot {ch.ballot.ballot_id!r} (ballots.challenged[{i}])", str(exc)
                )
        step.checked = f"{len(self.record.challenged)} challenged ballots"

    # V14
    def v14_bookkeeping(self, step: StepResult) -> None:
        """Record v2: positions unique, superseded ballots resolved by log order, weights rule."""
        r = self.record
        if r.version != RECORD_VERSION:
            step.checked = "record v1: no ballot bookkeeping to check"
            return
        positions: dict[int, str] = {}
        entries = [
            (f"ballots.cast[{i}]", c.meta) for i, c in enumerate(r.cast) if c.meta is not None
        ] + [(f"ballots.challenged[{i}]", m) for i, m in enumerate(r.challenged_meta)]
        for path, meta in entries:
            name = f"{path} (tracking code {meta.tracking_code})"
            if meta.log_index in positions:
                step.fail(name, f"log_index {meta.log_index} is also {positions[meta.log_index]}")
            positions.setdefault(meta.log_index, path)
            if r.log is not None and meta.log_index >= r.log.box_frozen_index:
                step.fail(name, "log_index is not before the box_frozen entry")
        by_key: dict[bytes, list[tuple[int, int, BallotMeta]]] = {}
        for i, c in enumerate(r.cast):
            if c.meta is not None:
                by_key.setdefault(c.meta.ballot_key, []).append((c.meta.log_index, i, c.meta))
        for ballots in by_key.values():
            ballots.sort()
            previous: str | None = None
            for n, (_, i, meta) in enumerate(ballots):
                name = f"ballots.cast[{i}] (tracking code {meta.tracking_code})"
                want = "counting" if n == len(ballots) - 1 else "superseded"
                if meta.status != want:
                    step.fail(
                        name,
                        f"status is {meta.status}, but it is {'the last' if want == 'counting' else 'not the last'} "
                        "ballot.cast of its ballot key in log order",
                    )
                if meta.supersedes != previous:
                    step.fail(
                        name,
                        f"supersedes {meta.supersedes}, the key's previous ballot is {previous}",
                    )
                previous = meta.tracking_code
        if r.weights_source == WEIGHTS_UNIFORM:
            for i, c in enumerate(r.cast):
                if c.weight != 1:
                    step.fail(
                        f"ballots.cast[{i}]", f"weight {c.weight}, but weights are 1 per ballot"
                    )
        step.checked = (
            f"{len(r.cast)} cast ({len(r.counting)} counting, {len(by_key)} ballot keys), "
            f"{len(r.challenged)} challenged; weights: {r.weights_source}"
        )


def _ceremony_equations(params: Any, msg: Any) -> list[Any]:
    from .errors import ProofError  # noqa: PLC0415

    try:
        return commitment_equations(params, msg)
    except CeremonyError as exc:
        raise ProofError(str(exc)) from None


def ceremony_verdict(ceremony: CeremonyTranscript, complaint: Any) -> Any:
    from .dkg import judge_complaint  # noqa: PLC0415

    return judge_complaint(
        ceremony.params, ceremony.announcements_by_index, ceremony.commitments_by_index, complaint
    )


def verify_record(
    record: ElectionRecord,
    *,
    jobs: int = 1,
    chunk_size: int | None = None,
    hook: ChunkHook | None = None,
    progress: Callable[[int], Any] | None = None,
) -> Report:
    """Run V1..V14 on a loaded record (with the currently selected group backend).

    ``chunk_size`` ballots per work unit (default ``auto_chunk_size``); ``hook`` adds work
    per chunk of decoded ballots in the same workers (see ``ChunkHook``); ``progress(n)``
    is called as chunks of n ballots finish. A record loaded with ``defer_ballots`` has its
    ballots decoded in the workers: one that does not decode raises ``RecordError`` here.
    """
    if chunk_size is not None and chunk_size < 1:
        raise ValueError("chunk_size must be positive")
    return _Verification(record, jobs, chunk_size or 0, hook, progress).run()


def decode_jobs(jobs: int) -> int:
    """Worker processes worth using to decode the record's ballots eagerly (``record.load``).

    Only for callers that load eagerly: shipping decoded ballots back from a worker costs more
    than libsecp256k1's decoding, so the native backend decodes in the main process; py-ecc's
    square roots in Python make parallel decoding pay. The verifier CLI and the observer's
    audit instead defer the ballots (``defer_ballots``) and decode each in the worker that
    checks it.
    """
    return jobs if group.get_backend().name == "py-ecc" else 1


# -- CLI -----------------------------------------------------------------------------------------
def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m civic_votecrypto.verifier",
        description="Verify a Civic election record (steps V1-V14).",
    )
    parser.add_argument("record", help="path to the election record JSON")
    parser.add_argument(
        "--jobs",
        type=int,
        default=os.cpu_count() or 1,
        help="worker processes (default: CPU count)",
    )
    parser.add_argument(
        "--chunk-size",
        type=int,
        default=None,
        help="ballots per work unit (default: two per process, 256..2048)",
    )
    parser.add_argument(
        "--backend", choices=group.BACKEND_NAMES, default="py-ecc", help="group arithmetic backend"
    )
    args = parser.parse_args(argv)
    if args.jobs < 1 or (args.chunk_size is not None and args.chunk_size < 1):
        print("error: --jobs and --chunk-size must be positive", file=sys.stderr)
        return 2
    try:
        group.set_backend(args.backend)
    except ImportError as exc:
        print(f"error: backend {args.backend} unavailable: {exc}", file=sys.stderr)
        return 2
    try:
        with collector_paused():  # see civic_observer.audit.audit_election
            record = load(args.record, defer_ballots=True)
            report = verify_record(record, jobs=args.jobs, chunk_size=args.chunk_size)
    except RecordError as exc:
        print(f"error: cannot load election record: {exc}", file=sys.stderr)
        return 2
    print(f"Election {record.manifest.election_id!r}: {record.manifest.title}")
    for line in report.lines():
        print(line)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
