"""Offline verification of a ledger receipt (what a voter downloads after casting a ballot).

A receipt proves: these entry bytes are leaf ``index`` of the log whose checkpoint (root,
size) the log signed, and at least ``witness_threshold`` independent observers cosigned that
same checkpoint, so the log cannot show this voter a different history than everyone else.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import Any

from civic_tlog import merkle, note


class ReceiptFormatError(ValueError):
    """The file is not a receipt at all (missing or mistyped fields)."""


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


@dataclass
class ReceiptReport:
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    def add(self, name: str, ok: bool, detail: str) -> bool:
        self.checks.append(Check(name, ok, detail))
        return ok


@dataclass(frozen=True)
class Receipt:
    log: str
    origin: str
    index: int
    entry: bytes
    leaf_hash: bytes
    tree_size: int
    inclusion_proof: list[bytes]
    checkpoint: str
    log_verifier_key: str
    observer_verifier_keys: list[str]
    witness_threshold: int


def _field(data: dict, name: str, kind: type | tuple[type, ...]) -> Any:
    if name not in data:
        raise ReceiptFormatError(f"receipt has no {name!r} field")
    value = data[name]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ReceiptFormatError(f"receipt field {name!r} has the wrong type")
    return value


def _hex(value: str, name: str) -> bytes:
    try:
        return bytes.fromhex(value)
    except ValueError as exc:
        raise ReceiptFormatError(f"receipt field {name!r} is not hex") from exc


def parse_receipt(data: Any) -> Receipt:
    if not isinstance(data, dict):
        raise ReceiptFormatError("a receipt is a JSON object")
    if data.get("version") != 1:
        raise ReceiptFormatError(f"unsupported receipt version {data.get('version')!r}")
    try:
        entry = base64.b64decode(_field(data, "entry", str), validate=True)
    except binascii.Error as exc:
        raise ReceiptFormatError("receipt field 'entry' is not base64") from exc
    proof = _field(data, "inclusion_proof", list)
    keys = _field(data, "observer_verifier_keys", list)
    if not all(isinstance(p, str) for p in proof) or not all(isinstance(k, str) for k in keys):
        raise ReceiptFormatError("inclusion_proof and observer_verifier_keys must be string lists")
    return Receipt(
        log=_field(data, "log", str),
        origin=_field(data, "origin", str),
        index=_field(data, "index", int),
        entry=entry,
        leaf_hash=_hex(_field(data, "leaf_hash", str), "leaf_hash"),
        tree_size=_field(data, "tree_size", int),
        inclusion_proof=[_hex(p, "inclusion_proof") for p in proof],
        checkpoint=_field(data, "checkpoint", str),
        log_verifier_key=_field(data, "log_verifier_key", str),
        observer_verifier_keys=list(keys),
        witness_threshold=_field(data, "witness_threshold", int),
    )


def verify_receipt(
    receipt: Receipt,
    *,
    trusted_log_key: str | None = None,
    trusted_observer_keys: list[str] | None = None,
) -> ReceiptReport:
    """Run every check, recording each one, so a failure says exactly what is wrong.

    Keys given by the caller (``--log-key``/``--observer-key``) replace the receipt's own:
    keys shipped inside a receipt only prove something if they match keys obtained elsewhere.
    """
    report = ReceiptReport()
    computed = merkle.leaf_hash(receipt.entry)
    report.add(
        "leaf hash",
        computed == receipt.leaf_hash,
        f"SHA-256(0x00 || entry) = {computed.hex()}"
        + ("" if computed == receipt.leaf_hash else f", receipt says {receipt.leaf_hash.hex()}"),
    )

    log_key = trusted_log_key or receipt.log_verifier_key
    if trusted_log_key and trusted_log_key.strip() != receipt.log_verifier_key.strip():
        report.add("log key", False, "the receipt's log key is not the one you trust")
    checkpoint: note.Checkpoint | None = None
    body = ""
    try:
        checkpoint, body = note.open_checkpoint(receipt.checkpoint, log_key, receipt.origin)
        report.add(
            "log signature", True, f"checkpoint signed by {note.parse_verifier_key(log_key).name}"
        )
    except note.NoteError as exc:
        report.add("log signature", False, str(exc))

    if checkpoint is not None:
        size_ok = checkpoint.size == receipt.tree_size
        report.add(
            "tree size",
            size_ok,
            f"checkpoint size {checkpoint.size}"
            + ("" if size_ok else f" != receipt {receipt.tree_size}"),
        )
        included = merkle.verify_inclusion(
            computed, receipt.index, checkpoint.size, receipt.inclusion_proof, checkpoint.root_hash
        )
        report.add(
            "inclusion proof",
            included,
            f"entry {receipt.index} is in the tree of size {checkpoint.size}"
            if included
            else f"the proof does not lead from entry {receipt.index} to the checkpoint root",
        )
        _check_cosignatures(report, receipt, body, trusted_observer_keys)
    return report


def _check_cosignatures(
    report: ReceiptReport, receipt: Receipt, body: str, trusted: list[str] | None
) -> None:
    keys = trusted if trusted else receipt.observer_verifier_keys
    try:
        _, lines = note.split_note(receipt.checkpoint)
    except note.NoteError as exc:
        report.add("cosignatures", False, str(exc))
        return
    valid: list[str] = []
    problems: list[str] = []
    for key in keys:
        try:
            verifier = note.parse_verifier_key(key)
        except note.NoteError as exc:
            problems.append(f"unusable observer key {key[:40]!r}: {exc}")
            continue
        mine = [s for s in lines if (s.name, s.key_id) == (verifier.name, verifier.key_id)]
        for sig in mine:
            try:
                note.verify_cosignature(body, sig.line, verifier)
            except note.NoteError as exc:
                problems.append(str(exc))
            else:
                valid.append(verifier.name)
                break
    valid_count = len(set(valid))
    threshold = receipt.witness_threshold
    if threshold < 1:
        problems.append(f"witness_threshold {threshold} is below 1")
    enough = valid_count >= max(threshold, 1)
    detail = (
        f"{valid_count} valid of {threshold} required ({', '.join(sorted(set(valid))) or 'none'})"
    )
    if problems:
        detail += "; " + "; ".join(problems)
    report.add("cosignatures", enough and not problems, detail)
