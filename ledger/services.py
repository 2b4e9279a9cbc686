"""Write use cases of the ledger: append, sign checkpoints, register observers, take cosignatures.

``append`` only writes an outbox row inside the caller's transaction: a record and its ledger
entry commit together or not at all. Sequencing happens later (``ledger.sequencer``), queued by
task name right after commit and run again by the periodic task, so a lost broker message only
delays it.
"""

from __future__ import annotations

import logging
import re
import threading
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import rfc8785
from celery import current_app
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q

from civic_tlog import merkle, note
from ledger import keystore
from ledger.errors import (
    BadSignature,
    ConflictingCheckpoint,
    ForeignCheckpoint,
    InvalidEntry,
    InvalidObserverKey,
    MalformedCheckpoint,
    ObserverExists,
    UnknownCheckpoint,
    UnknownLog,
    UnknownObserver,
)
from ledger.models import Checkpoint, Cosignature, Log, Observer, OutboxEntry

logger = logging.getLogger(__name__)

LOG_NAME_RE = re.compile(r"^(city|credentials|election-[a-z0-9][a-z0-9-]{0,54})$")
KIND_RE = re.compile(r"^[a-z][a-z0-9_.-]{0,63}$")
MAX_ENTRY_BYTES = 0xFFFF  # an entry bundle stores each entry's length in two bytes
CITY_LOG = "city"
CREDENTIALS_LOG = "credentials"
# The registered name of ``ledger.tasks.sequence_pending``: queued by name, so this module never
# imports the tasks module (which imports this one).
SEQUENCE_PENDING_TASK = "ledger.sequence_pending"


# -- logs ----------------------------------------------------------------------------------------


def origin_prefix() -> str:
    return settings.LEDGER_ORIGIN_PREFIX.rstrip("/")


def default_witness_threshold() -> int:
    return int(settings.LEDGER_WITNESS_THRESHOLD)


def ensure_log(name: str, witness_threshold: int | None = None) -> Log:
    """The log called ``name``, created with its own signing key the first time."""
    if not LOG_NAME_RE.match(name):
        raise UnknownLog(f"{name!r} is not a ledger log name (city, credentials, election-<id>)")
    log = Log.objects.filter(name=name).first()
    if log is not None:
        if witness_threshold is not None and log.witness_threshold != witness_threshold:
            Log.objects.filter(pk=log.pk).update(witness_threshold=witness_threshold)
            log.witness_threshold = witness_threshold
        return log
    origin = f"{origin_prefix()}/{name}"
    verifier = keystore.ensure_signer_key(origin, origin)
    try:
        with transaction.atomic():
            return Log.objects.create(
                name=name,
                origin=origin,
                signer_key_ref=origin,
                verifier_key=verifier,
                witness_threshold=(
                    default_witness_threshold() if witness_threshold is None else witness_threshold
                ),
            )
    except IntegrityError:  # created concurrently: use the winner's row
        return Log.objects.get(name=name)


def entry_bytes(kind: str, payload: dict[str, Any]) -> bytes:
    """The leaf data: RFC 8785 canonical JSON, so anyone can re-derive the same bytes."""
    if not isinstance(kind, str) or not KIND_RE.match(kind):
        raise InvalidEntry(f"entry kind {kind!r} must match {KIND_RE.pattern}")
    if not isinstance(payload, dict):
        raise InvalidEntry("entry payload must be a JSON object")
    try:
        data = rfc8785.dumps({"kind": kind, "payload": payload, "v": 1})
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise InvalidEntry(f"payload is not canonicalizable JSON: {exc}") from exc
    if len(data) > MAX_ENTRY_BYTES:
        raise InvalidEntry(f"entry is {len(data)} bytes; the limit is {MAX_ENTRY_BYTES}")
    return data


def append(
    log_name: str, kind: str, payload: dict[str, Any], *, debounce: bool = False
) -> OutboxEntry:
    """Queue one entry for ``log_name``; call it inside the transaction that stores the record.

    ``debounce``: the sequencing kick after commit is shared with the other appends of this
    process within ``SEQUENCING_DEBOUNCE_S`` (for hot paths such as the ballot box).
    """
    data = entry_bytes(kind, payload)
    log = ensure_log(log_name)
    row = OutboxEntry.objects.create(
        log=log, kind=kind, entry=data, leaf_hash=merkle.leaf_hash(data)
    )
    request_sequencing(debounce=debounce)
    return row


@dataclass(frozen=True)
class EntryTemplate:
    """An entry's bytes with one payload value left open: ``head + JSON(value) + tail``.

    For a store that learns that value only inside its own transaction (the ballot box's
    one-round-trip write learns ``supersedes`` under the ballot key's lock, in SQL). The value
    filled in must be ``null`` or a string that needs no JSON escaping, at most ``max_chars``
    long; then the result is exactly ``entry_bytes(kind, payload | {hole: value})`` (RFC 8785
    places a member by its key, never by its value) and its leaf hash is SHA-256(0x00 || entry).
    """

    kind: str
    head: bytes
    tail: bytes

    def fill(self, value: str | None) -> bytes:
        return self.head + (b"null" if value is None else b'"' + value.encode() + b'"') + self.tail


_HOLE_MARKER = "civic.ledger.entry-template.hole"


def entry_template(kind: str, payload: dict[str, Any], hole: str, max_chars: int) -> EntryTemplate:
    """The :class:`EntryTemplate` of ``payload`` with ``payload[hole]`` open (checked like
    :func:`entry_bytes`, the size limit with the longest value)."""
    data = entry_bytes(kind, {**payload, hole: _HOLE_MARKER})
    marker = rfc8785.dumps(_HOLE_MARKER)
    if data.count(marker) != 1:
        raise InvalidEntry(f"payload already holds the template marker {_HOLE_MARKER!r}")
    head, _, tail = data.partition(marker)
    if len(head) + len(tail) + max(max_chars + 2, 4) > MAX_ENTRY_BYTES:
        raise InvalidEntry(f"entry may exceed {MAX_ENTRY_BYTES} bytes")
    return EntryTemplate(kind, head, tail)


def record_city_event(kind: str, payload: dict[str, Any]) -> OutboxEntry:
    """A public event of the city (the demo seed, an election opened...) on the ``city`` log."""
    return append(CITY_LOG, kind, payload)


class _SequencingRequest:
    """One "sequence after commit" request, shared by every append of a transaction.

    Each append registers its own on-commit callback (so a rolled-back savepoint or transaction
    never loses the request of the appends that did commit); the first callback to run marks the
    request sent, so a committed transaction queues the task once, however many rows it appended.
    """

    __slots__ = ("sent",)

    def __init__(self) -> None:
        self.sent = False


_sequencing_request: ContextVar[_SequencingRequest | None] = ContextVar(
    "ledger_sequencing_request", default=None
)


def _kick_sequencer() -> None:
    """Queue the sequencing task by its name; the broker failing is logged by ``on_commit``."""
    current_app.send_task(SEQUENCE_PENDING_TASK)


def request_sequencing(*, debounce: bool = False) -> None:
    """Ask for sequencing after the current transaction commits (at once outside one).

    Plain: once per committed transaction. ``debounce``: at most one kick per
    ``SEQUENCING_DEBOUNCE_S`` per process, sent at the end of the window, so every committed
    entry is still followed by a kick sent after its commit (and the periodic task runs anyway:
    a lost kick, or a process that exits with one pending, only delays sequencing).
    """
    if debounce:
        transaction.on_commit(_debounced_kick.request, robust=True)
    else:
        _schedule_sequencing()


SEQUENCING_DEBOUNCE_S = 0.2


class _DebouncedKick:
    """One timer per process: the first request arms it, later ones ride on it until it fires."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._armed = False

    def request(self) -> None:
        with self._lock:
            if self._armed:
                return
            self._armed = True
        kick = _kick_sequencer  # looked up now: a test that replaced it gets its replacement
        timer = threading.Timer(SEQUENCING_DEBOUNCE_S, self._fire, args=(kick,))
        timer.daemon = True
        timer.start()

    def _fire(self, kick: Any) -> None:
        with self._lock:
            self._armed = False  # before the kick: a later commit arms a new timer
        try:
            kick()
        except Exception:  # noqa: BLE001 - the periodic task sequences anyway
            logger.exception("ledger: sequencing kick failed; the periodic task will sequence")


_debounced_kick = _DebouncedKick()


def _schedule_sequencing() -> None:
    """Ask for sequencing once per committed transaction, after commit."""
    request = _sequencing_request.get()
    if request is None or request.sent:
        request = _SequencingRequest()
        _sequencing_request.set(request)

    def queue_once() -> None:
        if request.sent:
            return
        request.sent = True
        _kick_sequencer()

    transaction.on_commit(queue_once, robust=True)


# -- checkpoints ---------------------------------------------------------------------------------


def sign_checkpoint(log_id: int) -> Checkpoint | None:
    """Sign the log's current tree if no checkpoint covers that size yet (idempotent)."""
    with transaction.atomic():
        log = Log.objects.select_for_update().get(pk=log_id)
        existing = Checkpoint.objects.filter(log=log, size=log.tree_size).first()
        if existing is not None:
            return None
        root = bytes(log.root_hash)
        body = note.format_checkpoint(log.origin, log.tree_size, root)
        signed = note.sign_note(body, keystore.signer_key(log.signer_key_ref))
        return Checkpoint.objects.create(
            log=log, size=log.tree_size, root_hash=root, body=body, note=signed
        )


def sign_checkpoints() -> list[Checkpoint]:
    signed = []
    for log_id in Log.objects.values_list("pk", flat=True):
        checkpoint = sign_checkpoint(log_id)
        if checkpoint is not None:
            signed.append(checkpoint)
    return signed


# -- observers -----------------------------------------------------------------------------------


def register_observer(verifier_key: str, registered_by: Any = None) -> Observer:
    """Register an observer by its verifier key; its name is the key's name."""
    verifier_key = verifier_key.strip()
    try:
        verifier = note.parse_verifier_key(verifier_key)
    except note.NoteError as exc:
        raise InvalidObserverKey(f"not a valid verifier key: {exc}") from exc
    if verifier.alg != note.ALG_COSIGNATURE_V1:
        raise InvalidObserverKey("an observer key must be a cosignature/v1 key (type 0x04)")
    name = verifier.name
    if Observer.objects.filter(Q(name=name) | Q(verifier_key=verifier_key)).exists():
        raise ObserverExists(f"an observer named {name!r} or with this key is already registered")
    try:
        with transaction.atomic():
            return Observer.objects.create(
                name=name, verifier_key=verifier_key, registered_by=registered_by
            )
    except IntegrityError as exc:
        raise ObserverExists(f"observer {name!r} is already registered") from exc


@dataclass(frozen=True)
class CosignatureResult:
    checkpoint: Checkpoint
    created: bool
    cosignatures: int
    witnessed: bool


def count_cosignatures(checkpoint: Checkpoint) -> int:
    return checkpoint.cosignatures.filter(observer__active=True).count()


def add_cosignature(log_name: str, checkpoint_body: str, signature_line: str) -> CosignatureResult:
    """Check an observer's cosignature over one of this log's checkpoints and keep it."""
    log = Log.objects.filter(name=log_name).first()
    if log is None:
        raise UnknownLog(f"no ledger log named {log_name!r}")
    try:
        parsed = note.parse_checkpoint(checkpoint_body)
    except note.NoteError as exc:
        raise MalformedCheckpoint(str(exc)) from exc
    if parsed.origin != log.origin:
        raise ForeignCheckpoint(
            f"checkpoint origin {parsed.origin!r} is not this log's {log.origin!r}"
        )
    size, root = parsed.size, parsed.root_hash
    observer, timestamp = _verify_cosignature(checkpoint_body, signature_line)
    checkpoint = Checkpoint.objects.filter(log=log, size=size).first()
    if checkpoint is None:
        raise UnknownCheckpoint(f"this log never signed a checkpoint of size {size}")
    if checkpoint.body != checkpoint_body or bytes(checkpoint.root_hash) != root:
        raise ConflictingCheckpoint(
            f"the checkpoint of size {size} this log signed has a different body or root"
        )
    with transaction.atomic():
        _, created = Cosignature.objects.get_or_create(
            checkpoint=checkpoint,
            observer=observer,
            defaults={"timestamp": timestamp, "signature_line": signature_line.strip()},
        )
    count = count_cosignatures(checkpoint)
    return CosignatureResult(checkpoint, created, count, count >= log.witness_threshold)


def _verify_cosignature(checkpoint_body: str, signature_line: str) -> tuple[Observer, int]:
    """The registered, active observer whose key verifies the line, and the signed timestamp."""
    line = signature_line.strip()
    try:
        signature, _ = note.parse_cosignature(line)
    except note.NoteError as exc:
        raise BadSignature(f"malformed cosignature line: {exc}") from exc
    observer = Observer.objects.filter(name=signature.name, active=True).first()
    if (
        observer is None
        or note.parse_verifier_key(observer.verifier_key).key_id != signature.key_id
    ):
        raise UnknownObserver(
            f"no registered, active observer key {signature.name}+{signature.key_id.hex()}"
        )
    try:
        return observer, note.verify_cosignature(checkpoint_body, line, observer.verifier_key)
    except note.NoteError as exc:
        raise BadSignature(f"the cosignature does not verify over this checkpoint: {exc}") from exc
