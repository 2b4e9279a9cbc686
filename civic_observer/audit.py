"""``audit-election``: re-verify a published election from its record and the election log.

The observer trusts neither the record nor the server: it loads the record strictly (a repeated
JSON key is refused), runs every verifier step (V1-V14, ``civic_votecrypto.verifier``), then
checks the record against the election log as the observer itself holds it (its mirror, made
and cosigned by ``follow``, or a file of entries) and against the cryptography of casting:

    R1 record            strict loading (exact keys, no duplicate key, canonical encodings)
    R2 city signature    Ed25519 over the record hash (RFC 8785 of the record minus the signature)
    V1..V14              the verifier's steps (docs/protocol-trustees.md §6)
    A1 log identity      the record's log (name, origin, key) is the one the observer pinned
    A2 closing checkpoint  box_frozen's signed checkpoint: log signature, size and root, and
                         consistent with the observer's own cosigned view / --checkpoint
    A3 ballots and log   every counting ballot is in the log and every ballot entry of the log
                         is in the record (none missing, none extra), payloads match, the last
                         ballot.cast per ballot key counts (log order), counts = box_frozen's
    A4 eligibility       every ballot's RFC 9474 token verifies under the published key of its
                         district; ballot keys per district never exceed the tokens issued
    A5 key signatures    every ballot key's Ed25519 signature over the cast / spoil message
    A6 re-tally          the tally recomputed from the ballots the LOG says count
    A7 anchor            (with --chain-rpc) an on-chain anchor covers the closing checkpoint

Every failure names the step and the object (``ballots.cast[17] (tracking code ...)``). The
report (``civic-audit-report/1``, docs/protocol-trustees.md §9) is signed with the observer's
Ed25519 key: signature = Ed25519(``"civic/audit-report/v1" || 0x00 || RFC8785(report without
"signature")``).
"""

from __future__ import annotations

import base64
import hashlib
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tqdm import tqdm

from civic_observer.state import AcceptedCheckpoint
from civic_tlog import merkle, note
from civic_votecrypto import eligibility, group, record, strict_json, verifier
from civic_votecrypto.decryption import selection_keys, sum_many
from civic_votecrypto.elgamal import Ciphertext
from civic_votecrypto.errors import CryptoError, EncodingError

REPORT_FORMAT = "civic-audit-report/1"
REPORT_SIGNATURE_CONTEXT = b"civic/audit-report/v1"
MAX_FAILURES_PER_STEP = 100  # the report lists this many objects per step, then a count
CHUNK = 256
TOOL = "civic-observer 0.1.0"

STEP_TITLES = {
    "R1": "Record loads strictly",
    "R2": "City signature over the record",
    **{f"V{n}": title for n, title in verifier.STEP_TITLES.items()},
    "A1": "Election log identity",
    "A2": "Closing checkpoint (box_frozen)",
    "A3": "Ballots match the election log",
    "A4": "Eligibility tokens",
    "A5": "Ballot key signatures",
    "A6": "Re-tally from the log's counting ballots",
    "A7": "Anchor on the chain",
}


@dataclass
class AuditStep:
    id: str
    title: str
    failures: list[tuple[str, str]] = field(default_factory=list)
    detail: str = ""

    @property
    def ok(self) -> bool:
        return not self.failures

    def fail(self, obj: str, reason: str) -> None:
        self.failures.append((obj, reason))

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "status": "PASS" if self.ok else "FAIL",
            "detail": self.detail,
            "failures": [
                {"object": o, "reason": r} for o, r in self.failures[:MAX_FAILURES_PER_STEP]
            ],
            "failure_count": len(self.failures),
        }


@dataclass
class LogCopy:
    """The election log as this observer holds it (never the record's word for it)."""

    entries: list[bytes]
    source: str
    accepted: AcceptedCheckpoint | None = None  # the observer's own cosigned checkpoint
    pinned: tuple[str, str] | None = None  # (origin, verifier key) pinned by ``follow``


@dataclass
class AuditReport:
    steps: list[AuditStep]
    election: str | None = None
    record_sha256: str | None = None
    log: dict[str, Any] | None = None
    ballots: dict[str, int] = field(default_factory=dict)
    created_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    observer: dict[str, str] | None = None
    signature: str | None = None

    @property
    def ok(self) -> bool:
        return all(s.ok for s in self.steps)

    @property
    def failed(self) -> list[str]:
        return [s.id for s in self.steps if not s.ok]

    def unsigned_json(self) -> dict[str, Any]:
        return {
            "format": REPORT_FORMAT,
            "election": self.election,
            "record_sha256": self.record_sha256,
            "log": self.log,
            "ballots": self.ballots,
            "result": "pass" if self.ok else "fail",
            "steps": [s.to_json() for s in self.steps],
            "created_at": self.created_at,
            "tool": TOOL,
            "observer": self.observer,
        }

    def to_json(self) -> dict[str, Any]:
        return {**self.unsigned_json(), "signature": self.signature}

    def sign(self, signer: note.Signer) -> None:
        self.observer = {"name": signer.name, "verifier_key": str(signer.verifier)}
        self.signature = base64.b64encode(
            signer.sign_raw(report_message(self.unsigned_json()))
        ).decode()

    def lines(self) -> list[str]:
        out = []
        for s in self.steps:
            out.append(
                f"[{'PASS' if s.ok else 'FAIL'}] {s.id:<4}{s.title}: {s.detail}".rstrip(": ")
            )
            out.extend(f"       - {o}: {r}" for o, r in s.failures[:20])
            if len(s.failures) > 20:
                out.append(f"       ... and {len(s.failures) - 20} more")
        out.append("AUDIT PASSED" if self.ok else f"AUDIT FAILED at steps {', '.join(self.failed)}")
        return out


def report_message(unsigned: dict[str, Any]) -> bytes:
    """The bytes an audit report's signature covers."""
    return REPORT_SIGNATURE_CONTEXT + b"\x00" + strict_json.canonical(unsigned)


def verify_report(document: dict[str, Any]) -> bool:
    """Check a report's signature under the observer key it names (the server does the same)."""
    try:
        vkey = note.parse_verifier_key(document["observer"]["verifier_key"])
        signature = base64.b64decode(document["signature"], validate=True)
        unsigned = {k: v for k, v in document.items() if k != "signature"}
        return vkey.verify_raw(report_message(unsigned), signature)
    except (KeyError, TypeError, ValueError, note.NoteError):
        return False


# -- the per-ballot pass (hashes, tokens, signatures), in the verifier's worker processes -------
BallotItem = tuple[str, int, Any, Any, record.BallotMeta]  # kind, index, ballot, challenged, meta


def ballot_name(kind: str, index: int, meta: record.BallotMeta) -> str:
    return f"ballots.{kind}[{index}] (tracking code {meta.tracking_code})"


def _check_items(params: dict[str, Any], items: list[tuple[BallotItem, bytes]]) -> dict[str, Any]:
    """sha256 of each ballot's RFC 8785 bytes (given with the item), its token and its key
    signature: A4 and A5 for some ballots."""
    keys = {
        kid: (eligibility.load_rsa_key(pem), district)
        for kid, (pem, district) in params["keys"].items()
    }
    slug = params["slug"]
    hashes: list[tuple[str, int, str, str | None]] = []
    tokens: list[tuple[str, str]] = []
    signatures: list[tuple[str, str]] = []
    for (kind, index, _, challenged, meta), ballot_bytes in items:
        name = ballot_name(kind, index, meta)
        if kind == "cast":
            signed = eligibility.cast_message(slug, ballot_bytes)
            extra = None
        else:
            challenged_bytes = strict_json.canonical(challenged.to_json())
            signed = eligibility.spoil_message(slug, challenged_bytes)
            extra = hashlib.sha256(challenged_bytes).hexdigest()
        hashes.append((kind, index, hashlib.sha256(ballot_bytes).hexdigest(), extra))
        if not eligibility.verify_key_signature(meta.ballot_key, signed, meta.signature):
            signatures.append((name, "the ballot key's signature does not verify"))
        try:
            key_id, prefix, token_signature = eligibility.token_fields(meta.token)
        except (EncodingError, KeyError) as exc:
            tokens.append((name, f"malformed token: {exc}"))
            continue
        if key_id not in keys:
            tokens.append((name, f"token key {key_id[:16]}... is not a published eligibility key"))
            continue
        key, district = keys[key_id]
        if district != meta.district:
            tokens.append(
                (name, f"district {meta.district!r}, but its token key is {district!r}'s")
            )
        if not eligibility.verify_token(key, slug, meta.ballot_key, prefix, token_signature):
            tokens.append((name, "the eligibility token does not verify (RFC 9474)"))
    return {"hashes": hashes, "tokens": tokens, "signatures": signatures}


def cast_ballot_checks(
    params: dict[str, Any], ballots: list[tuple[int, record.CastBallot, Any]]
) -> dict[str, Any]:
    """The verifier hook (``verifier.ChunkHook``): A4 and A5 for a chunk of cast ballots, in
    the worker that has just decoded and checked them, and each entry's RFC 8785 bytes for
    the record hash (R2), so every ballot is canonicalised once. A deferred ballot is
    canonicalised from its JSON as loaded (after a strict decoding it is the same value as
    ``to_json``)."""
    items = []
    entries = []
    for index, cast, ballot in ballots:
        source = cast.raw if isinstance(cast, record.DeferredCastBallot) else ballot.to_json()
        ballot_bytes = record.ballot_canonical(source)  # decoded strictly: ASCII strings only
        entries.append(record.cast_entry_canonical(cast, ballot_bytes))
        if cast.meta is not None:
            items.append((("cast", index, ballot, None, cast.meta), ballot_bytes))
    return {**_check_items(params, items), "entries": entries}


# -- the audit -----------------------------------------------------------------------------------
class _Audit:
    def __init__(
        self,
        rec: record.ElectionRecord,
        document: dict[str, Any],
        log: LogCopy | None,
        *,
        checkpoint_note: str | None,
        city_key: bytes | None,
        log_key: str | None,
        anchors: Callable[[], list[Any]] | None,
        anchor_notes: Sequence[str],
        jobs: int,
        progress: bool,
    ) -> None:
        self.rec = rec
        self.document = document  # the record as parsed JSON (for its hash)
        self.logcopy = log
        self.checkpoint_note = checkpoint_note
        self.city_key = city_key
        self.log_key = log_key
        self.anchors = anchors
        self.anchor_notes = list(anchor_notes)
        self.jobs = jobs
        self.progress = progress
        self.steps = {sid: AuditStep(sid, title) for sid, title in STEP_TITLES.items()}
        self.hashes: dict[tuple[str, int], tuple[str, str | None]] = {}
        self.log_counting: set[str] | None = None
        self.frozen_checkpoint: note.Checkpoint | None = None
        self.report: verifier.Report | None = None
        self.record_sha256: bytes | None = None

    def step(self, sid: str, check: Callable[[AuditStep], None]) -> None:
        s = self.steps[sid]
        try:
            check(s)
        except (
            CryptoError, ValueError, KeyError, IndexError, TypeError, AttributeError, note.NoteError,
        ) as exc:  # fmt: skip
            s.fail("record", f"{type(exc).__name__}: {exc}")

    def run(self) -> list[AuditStep]:
        rec = self.rec
        total = 2 * (len(rec.cast) + len(rec.challenged)) + 8
        with tqdm(
            total=total, desc="audit", unit="ballot", disable=not self.progress, file=sys.stderr
        ) as bar:
            self.steps[
                "R1"
            ].detail = f"{rec.version}: {len(rec.cast)} cast, {len(rec.challenged)} challenged"
            v2 = rec.version == record.RECORD_VERSION
            hook: verifier.ChunkHook | None = None
            if v2:
                assert rec.eligibility is not None  # noqa: S101 - every v2 record has one
                keys = {k.key_id: (k.public_key, k.district) for k in rec.eligibility.keys}
                hook = (cast_ballot_checks, {"slug": rec.slug, "keys": keys})
            # V6-V9, A4 and A5 of the cast ballots in one pass, each ballot decoded once, in
            # its worker (a RecordError from a ballot that does not decode leaves to R1)
            report = verifier.verify_record(
                rec, jobs=self.jobs, hook=hook, progress=lambda n: bar.update(2 * n)
            )
            self.report = report
            if v2:
                self.record_sha256 = self._record_hash(report)
            self.step("R2", self.r2_signature)
            for s in report.steps:
                step = self.steps[f"V{s.number}"]
                step.detail = s.checked
                step.failures = [(f.obj, f.reason) for f in s.failures]
            bar.update(len(rec.challenged) + 1)
            if not v2:
                for sid in ("A1", "A2", "A3", "A4", "A5", "A6"):
                    self.steps[sid].fail("record", "a v1 record has no log or eligibility data")
            else:
                self.step("A4", lambda s: self.a4_a5_ballots(s, bar.update))
                self.step("A1", self.a1_identity)
                self.step("A2", self.a2_checkpoint)
                self.step("A3", self.a3_log_ballots)
                self.step("A6", self.a6_retally)
            bar.update(4)
            if self.anchors is not None:
                self.step("A7", self.a7_anchor)
            bar.update(bar.total - bar.n)
        steps = list(self.steps.values())
        return [s for s in steps if s.id != "A7" or self.anchors is not None]

    def _record_hash(self, report: verifier.Report) -> bytes:
        """The record hash from the entries' bytes the workers made (one canonicalisation of
        each ballot); when no worker pass ran (V5 failed), from the whole document."""
        entries = [part for chunk in report.extra for part in chunk["entries"]]
        if len(entries) == len(self.rec.cast):
            return record.record_hash_from(self.document, entries)
        return record.record_hash(self.document)

    # R2
    def r2_signature(self, step: AuditStep) -> None:
        rec = self.rec
        if rec.version != record.RECORD_VERSION:
            step.fail("record", "a v1 record carries no city signature")
            return
        digest = self.record_sha256
        assert digest is not None  # noqa: S101 - set for every v2 record
        step.detail = f"record sha256 {digest.hex()}"
        if rec.city_signature is None:
            step.fail("city_signature", "the record is not signed")
            return
        if not record.verify_city_signature(digest, rec.city_signature):
            step.fail("city_signature", "does not verify over the record hash")
        if self.city_key is not None and rec.city_signature.public_key != self.city_key:
            step.fail("city_signature.public_key", "is not the city key given with --city-key")

    # A4 + A5 share one pass over the ballots
    def a4_a5_ballots(self, a4: AuditStep, update: Callable[[int], Any]) -> None:
        rec = self.rec
        a5 = self.steps["A5"]
        assert rec.eligibility is not None and rec.slug is not None  # noqa: S101
        keys = {k.key_id: (k.public_key, k.district) for k in rec.eligibility.keys}
        for k in rec.eligibility.keys:
            try:
                loaded = eligibility.load_rsa_key(k.public_key)
            except EncodingError as exc:
                a4.fail(f"eligibility key {k.key_id[:16]}...", str(exc))
                continue
            if eligibility.rsa_key_id(loaded) != k.key_id:
                a4.fail(f"eligibility key {k.key_id[:16]}...", "key_id is not SHA-256 of its SPKI")
        params = {"slug": rec.slug, "keys": keys}
        # the cast ballots were checked in the verifier's workers (the hook); only when V5
        # left the verifier no context to check ballots with are they checked here
        results = list(self.report.extra) if self.report is not None else []
        if not results and rec.cast:
            results = [
                cast_ballot_checks(params, [(i, c, c.ballot) for i, c in enumerate(rec.cast)])
            ]
        items: list[tuple[BallotItem, bytes]] = [
            (("challenged", i, ch.ballot, ch, m), strict_json.canonical(ch.ballot.to_json()))
            for i, (ch, m) in enumerate(zip(rec.challenged, rec.challenged_meta, strict=True))
        ]
        results.append(_check_items(params, items))
        update(len(items))
        for result in results:
            for kind, index, sha, extra in result["hashes"]:
                self.hashes[(kind, index)] = (sha, extra)
            for obj, why in result["tokens"]:
                a4.fail(obj, why)
            for obj, why in result["signatures"]:
                a5.fail(obj, why)
        keys_by_district: dict[str | None, set[bytes]] = {}
        metas = [c.meta for c in rec.cast if c.meta] + list(rec.challenged_meta)
        for meta in metas:
            keys_by_district.setdefault(meta.district, set()).add(meta.ballot_key)
        issued = dict(rec.eligibility.tokens_issued)
        for district, ballot_keys in keys_by_district.items():
            limit = issued.get(district, 0)
            if len(ballot_keys) > limit:
                a4.fail(
                    f"district {district!r}",
                    f"{len(ballot_keys)} ballot keys voted, only {limit} tokens were issued",
                )
        a4.detail = (
            f"{len(metas)} tokens under {len(keys)} key(s); ballot keys per district "
            + ", ".join(
                f"{d or 'all'}: {len(k)}/{issued.get(d, 0)}" for d, k in keys_by_district.items()
            )
        )
        a5.detail = f"{len(metas)} signatures"

    # A1
    def a1_identity(self, step: AuditStep) -> None:
        log = self.rec.log
        assert log is not None  # noqa: S101
        step.detail = f"{log.name} ({log.origin})"
        note.parse_verifier_key(log.verifier_key)
        if self.logcopy is None:
            step.fail("log", "no copy of the election log: give --state or --log-entries")
            return
        if self.log_key is not None and self.log_key != log.verifier_key:
            step.fail("log.verifier_key", "is not the key given with --log-key")
        if self.logcopy.pinned is not None and self.logcopy.pinned != (
            log.origin,
            log.verifier_key,
        ):
            step.fail("log", f"origin or key differ from those this observer pinned for {log.name}")
        if self.logcopy.pinned is None and self.log_key is None:
            step.detail += "; key taken from the record (pin it with --log-key or follow)"
        step.detail += f"; {len(self.logcopy.entries)} entries from {self.logcopy.source}"

    # A2
    def a2_checkpoint(self, step: AuditStep) -> None:
        log = self.rec.log
        assert log is not None  # noqa: S101
        claimed = log.box_frozen_payload["checkpoint"]
        cp, _ = note.open_checkpoint(log.checkpoint_note, log.verifier_key, log.origin)
        self.frozen_checkpoint = cp
        step.detail = f"size {cp.size}, root {cp.root_hash.hex()[:16]}..."
        if log.box_frozen_payload["election"] != self.rec.slug:
            step.fail("log.box_frozen.payload.election", f"is not this election ({self.rec.slug})")
        if cp.size != claimed["size"] or cp.root_hash.hex() != claimed["root_hash"]:
            step.fail("log.box_frozen.checkpoint_note", "is not the checkpoint box_frozen names")
        if cp.size > log.box_frozen_index:
            step.fail("log.box_frozen", "the checkpoint covers the box_frozen entry itself")
        positions = [c.meta.log_index for c in self.rec.cast if c.meta] + [
            m.log_index for m in self.rec.challenged_meta
        ]
        if positions and max(positions) >= cp.size:
            step.fail("log.box_frozen", "the checkpoint does not cover every ballot entry")
        if self.logcopy is None:
            step.fail("log", "no copy of the election log to check the checkpoint against")
            return
        entries = self.logcopy.entries
        if len(entries) <= log.box_frozen_index:
            step.fail(
                "log",
                f"the log copy has {len(entries)} entries, box_frozen is at {log.box_frozen_index}",
            )
            return
        if merkle.root_from_entries(entries[: cp.size]) != cp.root_hash:
            step.fail(
                "log.box_frozen.checkpoint_note",
                "root differs from this observer's copy of the log",
            )
        accepted = self.logcopy.accepted
        if accepted is not None:
            if accepted.size <= log.box_frozen_index:
                step.fail(
                    "observer view",
                    f"this observer's cosigned checkpoint (size {accepted.size}) does not cover "
                    "the box_frozen entry yet: run follow again",
                )
            elif merkle.root_from_entries(entries[: accepted.size]) != accepted.root:
                step.fail("observer view", "the mirror does not match the cosigned checkpoint")
            else:
                step.detail += f"; consistent with this observer's cosigned size {accepted.size}"
        if self.checkpoint_note is not None:
            given, _ = note.open_checkpoint(self.checkpoint_note, log.verifier_key, log.origin)
            if given.size < cp.size:
                step.fail("--checkpoint", f"size {given.size} is older than the box_frozen one")
            elif given.size > len(entries):
                step.fail("--checkpoint", f"size {given.size} is beyond the log copy")
            elif merkle.root_from_entries(entries[: given.size]) != given.root_hash:
                step.fail("--checkpoint", "is inconsistent with the log copy (a fork)")
            else:
                step.detail += f"; consistent with the given checkpoint of size {given.size}"

    # A3
    def a3_log_ballots(self, step: AuditStep) -> None:
        rec = self.rec
        log = rec.log
        assert log is not None  # noqa: S101
        if self.logcopy is None:
            step.fail("log", "no copy of the election log")
            return
        entries = self.logcopy.entries
        by_index: dict[int, tuple[str, int, record.BallotMeta]] = {}
        for i, c in enumerate(rec.cast):
            if c.meta is not None:
                by_index[c.meta.log_index] = ("cast", i, c.meta)
        for i, m in enumerate(rec.challenged_meta):
            by_index[m.log_index] = ("challenged", i, m)
        seen: set[int] = set()
        current: dict[str, int] = {}  # counting tracking codes by log order -> index
        log_cast = log_spoiled = 0
        frozen_seen = False
        for idx, raw in enumerate(entries):
            try:
                entry = strict_json.loads(raw)
                kind, payload = entry["kind"], entry["payload"]
            except (EncodingError, KeyError, TypeError):
                continue  # not a Civic event (the log verifier judges entries, not the audit)
            if idx == log.box_frozen_index:
                frozen_seen = True
                if kind != "election.box_frozen" or payload != dict(log.box_frozen_payload):
                    step.fail(f"log entry {idx}", "is not the record's box_frozen entry")
                continue
            if kind not in ("ballot.cast", "ballot.spoiled") or not isinstance(payload, dict):
                continue
            code = payload.get("tracking_code") if isinstance(payload, dict) else None
            where = f"log entry {idx} ({kind}, tracking code {code})"
            if payload.get("election") != rec.slug:
                continue  # another election's event (should not be in this log)
            if idx > log.box_frozen_index:
                step.fail(where, "a ballot entry after the box was frozen")
                continue
            if kind == "ballot.cast":
                log_cast += 1
                old = payload.get("supersedes")
                if old is not None:
                    if old not in current:
                        step.fail(
                            where, f"supersedes {old}, which is not a counting ballot before it"
                        )
                    current.pop(old, None)
                current[code] = idx
            else:
                log_spoiled += 1
            mine = by_index.get(idx)
            want = "cast" if kind == "ballot.cast" else "challenged"
            if mine is None or mine[0] != want:
                step.fail(where, "is missing from the record")
                continue
            seen.add(idx)
            _, i, meta = mine
            name = ballot_name(want, i, meta)
            sha, extra = self.hashes.get((want, i), (None, None))
            expected = {
                "election": rec.slug,
                "tracking_code": meta.tracking_code,
                "ballot_sha256": sha,
            }
            if want == "cast":
                expected["supersedes"] = meta.supersedes
            else:
                expected["challenged_sha256"] = extra
            if "district" in payload:
                expected["district"] = meta.district
            if payload != expected:
                diff = sorted(
                    k for k in set(payload) | set(expected) if payload.get(k) != expected.get(k)
                )
                step.fail(name, f"differs from its log entry {idx} in {diff}")
        if not frozen_seen:
            step.fail("log", f"no entry at the box_frozen index {log.box_frozen_index}")
        for idx, (kind, i, meta) in sorted(by_index.items()):
            if idx not in seen:
                step.fail(ballot_name(kind, i, meta), f"is not in the election log (index {idx})")
        record_counting = {c.meta.tracking_code for c in rec.cast if c.meta and c.counting}
        self.log_counting = set(current)
        for code in sorted(record_counting - self.log_counting):
            step.fail(f"ballot {code}", "counts in the record, but not by log order")
        for code in sorted(self.log_counting - record_counting):
            step.fail(f"ballot {code}", "counts by log order, but not in the record")
        frozen = log.box_frozen_payload
        for name, value in (
            ("counting", len(current)),
            ("cast", log_cast),
            ("spoiled", log_spoiled),
        ):
            if frozen[name] != value:
                step.fail(
                    f"log.box_frozen.payload.{name}", f"is {frozen[name]}, the log has {value}"
                )
        step.detail = (
            f"{log_cast} ballot.cast ({len(current)} counting), {log_spoiled} ballot.spoiled "
            f"in log entries 0..{log.box_frozen_index}"
        )

    # A6
    def a6_retally(self, step: AuditStep) -> None:
        rec = self.rec
        if self.log_counting is None:
            step.fail("log", "the counting ballots could not be read from the log (A3)")
            return
        keys = selection_keys(rec.manifest)
        totals = self.report.totals if self.report is not None else None
        count = 0
        changes: list[tuple[int, record.CastBallot]] = []  # (+1 or -1, ballot) against V9's sum
        for c in rec.cast:
            by_log = c.meta is not None and c.meta.tracking_code in self.log_counting
            count += by_log
            if totals is None:
                if by_log:
                    changes.append((1, c))
            elif by_log != c.counting:
                changes.append((1 if by_log else -1, c))
        if count != rec.tally.ballot_count:
            step.fail("tally.ballot_count", f"is {rec.tally.ballot_count}, the log counts {count}")
        for key in keys:
            total = _retally(key, (totals or {}).get(key), changes)
            published = rec.tally.ciphertexts[key]
            if (total.alpha, total.beta) != (published.alpha, published.beta):
                step.fail(
                    f"tally {key[0]}/{key[1]}", "differs from the sum of the log's counting ballots"
                )
        step.detail = f"{count} counting ballots re-summed; results checked by V11"

    # A7
    def a7_anchor(self, step: AuditStep) -> None:
        from civic_observer.anchors import AnchorReadError, note_hash  # noqa: PLC0415

        log = self.rec.log
        if log is None or self.frozen_checkpoint is None or self.logcopy is None:
            step.fail("log", "no closing checkpoint or log copy to compare an anchor with")
            return
        try:
            found = self.anchors() if self.anchors else []
        except AnchorReadError as exc:
            step.fail("chain", str(exc))
            return
        notes = {note_hash(n): n for n in [log.checkpoint_note, *self.anchor_notes] if n}
        entries = self.logcopy.entries
        covering = []
        for anchor in found:
            if anchor.origin != log.origin or anchor.tree_size < self.frozen_checkpoint.size:
                continue
            text = notes.get(anchor.checkpoint_hash)
            if text is None:
                continue
            cp, _ = note.open_checkpoint(text, log.verifier_key, log.origin)
            if cp.size != anchor.tree_size:
                step.fail(
                    f"anchor tx {anchor.tx_hash}", "anchored note's size differs from the event"
                )
            elif cp.size > len(entries):
                continue
            elif merkle.root_from_entries(entries[: cp.size]) != cp.root_hash:
                step.fail(
                    f"anchor tx {anchor.tx_hash}",
                    "anchored checkpoint contradicts the log copy (fork)",
                )
            else:
                covering.append(anchor)
        if not covering:
            step.fail("log.box_frozen", "no anchor on the chain covers the closing checkpoint")
            return
        best = min(covering, key=lambda a: a.tree_size)
        step.detail = (
            f"anchored at size {best.tree_size} in block {best.block_number} "
            f"(tx {best.tx_hash}, {best.confirmations} confirmations)"
        )


def _retally(
    key: tuple[str, str], base: Ciphertext | None, changes: Sequence[tuple[int, record.CastBallot]]
) -> Ciphertext:
    """``base`` (V9's sum of the record's counting ballots) plus or minus the weighted
    ciphertexts of the ballots whose counting the log judges otherwise: the sum over exactly
    the ballots the log says count, without adding every ciphertext a second time."""
    alphas: list[Any] = [] if base is None else [base.alpha]
    betas: list[Any] = [] if base is None else [base.beta]
    scalars: list[int] = [] if base is None else [1]
    for sign, c in changes:
        for contest in c.ballot.contests:
            for sel in contest.selections:
                if (contest.contest_id, sel.option_id) == key:
                    scalars.append(sign * c.weight % group.N)
                    alphas.append(sel.ciphertext.alpha)
                    betas.append(sel.ciphertext.beta)
    if all(k == 1 for k in scalars):
        return Ciphertext(sum_many(alphas), sum_many(betas))
    return Ciphertext(group.msm(scalars, alphas), group.msm(scalars, betas))


def audit_election(
    text: str | bytes,
    log: LogCopy | None,
    *,
    checkpoint_note: str | None = None,
    city_key: bytes | None = None,
    log_key: str | None = None,
    anchors: Callable[[], list[Any]] | None = None,
    anchor_notes: Iterable[str] = (),
    jobs: int = 1,
    progress: bool = False,
) -> AuditReport:
    """Audit one record (its bytes); never raises for a bad record: R1 fails instead.

    The cyclic garbage collector pauses for the audit: the parsed record is millions of
    acyclic objects that reference counting frees, and collections triggered while they are
    allocated would walk them again and again (a third of the main process's time)."""
    with verifier.collector_paused():
        return _audit_election(
            text,
            log,
            checkpoint_note=checkpoint_note,
            city_key=city_key,
            log_key=log_key,
            anchors=anchors,
            anchor_notes=anchor_notes,
            jobs=jobs,
            progress=progress,
        )


def _audit_election(
    text: str | bytes,
    log: LogCopy | None,
    *,
    checkpoint_note: str | None,
    city_key: bytes | None,
    log_key: str | None,
    anchors: Callable[[], list[Any]] | None,
    anchor_notes: Iterable[str],
    jobs: int,
    progress: bool,
) -> AuditReport:
    r1 = AuditStep("R1", STEP_TITLES["R1"])
    try:
        try:
            document = strict_json.loads(text)
        except EncodingError as exc:
            raise record.RecordError("record", str(exc)) from None
        # ballots are decoded in the verifier's workers, the record hashed from their bytes
        rec = record.load_record(document, defer_ballots=True, hash_record=False)
    except record.RecordError as exc:
        r1.fail(exc.path, str(exc)[len(exc.path) + 2 :])
        return AuditReport([r1])
    audit = _Audit(
        rec,
        document,
        log,
        checkpoint_note=checkpoint_note,
        city_key=city_key,
        log_key=log_key,
        anchors=anchors,
        anchor_notes=list(anchor_notes),
        jobs=jobs,
        progress=progress,
    )
    try:
        steps = audit.run()
    except record.RecordError as exc:  # a ballot the verifier's workers could not decode
        r1.fail(exc.path, str(exc)[len(exc.path) + 2 :])
        return AuditReport([r1])
    report = AuditReport(
        steps,
        election=rec.slug,
        record_sha256=audit.record_sha256.hex() if audit.record_sha256 else None,
        ballots={
            "cast": len(rec.cast),
            "counting": len(rec.counting),
            "challenged": len(rec.challenged),
        },
    )
    if rec.log is not None:
        report.log = {
            "name": rec.log.name,
            "origin": rec.log.origin,
            "box_frozen_index": rec.log.box_frozen_index,
            "checkpoint": dict(rec.log.box_frozen_payload["checkpoint"]),
        }
    return report


def default_jobs() -> int:
    return os.cpu_count() or 1
