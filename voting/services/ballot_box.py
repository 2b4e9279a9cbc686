"""The ballot box: check a cast (or challenged) ballot completely, then store it and append its
hash to the election's log in one transaction.

Nothing here sees an account, a session or an address: the credential is the RFC 9474 token over
the ballot key plus that key's signature over the ballot. Every refusal happens before the
transaction starts, so a refused request stores nothing. Casts under one ballot key take turns on
the key's row lock; the last one stored is the one that counts, and its ledger entry is appended
after the earlier one's, so "the last in log order counts" holds too.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Mapping
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.conf import settings
from django.db import (
    DatabaseError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    connection,
    transaction,
)
from django.utils import timezone
from django.utils.translation import gettext as _

from civic import ratelimit
from civic.errors import NotFound
from civic_votecrypto import group
from civic_votecrypto.ballot import (
    BatchVerifier,
    ChallengedBallot,
    EncryptedBallot,
    ballot_term_count,
    ballot_weigher,
    check_structure,
    decode_ballot,
    verify_ballot,
    verify_challenged_ballot,
)
from civic_votecrypto.batch import WeightStream
from civic_votecrypto.errors import BallotError, CryptoError, EncodingError
from identity.core import base64url
from identity.core.jcs import JCSError, canonicalize
from ledger import services as ledger
from voting.errors import (
    BadKeySignature,
    BallotAlreadyReceived,
    BallotProofInvalid,
    ChallengeMismatch,
    ElectionNotOpen,
    ElectionStateError,
    IneligibleBallot,
    MalformedCast,
    WrongBallotContext,
)
from voting.models import BallotKey, CastBallot, Election
from voting.selectors import ballot_box as box
from voting.selectors.elections import election_is_open
from voting.selectors.eligibility import ballot_authorization_is_valid

logger = logging.getLogger(__name__)

CAST_KEYS = frozenset({"ballot", "ballot_key", "token", "signature"})
SPOIL_KEYS = frozenset({"challenged", "ballot_key", "token", "signature"})
TOKEN_KEYS = frozenset({"key_id", "prefix", "signature"})
BALLOT_KEY_BYTES = 32
SIGNATURE_BYTES = 64
TRACKING_CODE_CHARS = 29  # six groups of four base32 letters and five dashes (§7.4)


@dataclass(frozen=True)
class Received:
    """A receipt and whether this request stored the ballot (201) or found it already (200)."""

    receipt: dict[str, Any]
    created: bool


# -- the crypto backend ---------------------------------------------------------------------------
_backend_checked = threading.Event()


def ensure_backend() -> None:
    """Switch the process to CIVIC_BALLOT_BOX_BACKEND once (servers: libsecp256k1); keep the
    py-ecc reference, with a warning, if the native library cannot load. Results are identical."""
    if _backend_checked.is_set():
        return
    wanted = settings.CIVIC_BALLOT_BOX_BACKEND
    if wanted and type(group.get_backend()).__name__ != "NativeBackend" and wanted == "native":
        try:
            group.set_backend("native")
        except (ImportError, OSError) as exc:
            logger.warning("ballot box: native backend unavailable (%s); using py-ecc", exc)
    _backend_checked.set()


# -- checks (no database writes) ------------------------------------------------------------------
def box_election(slug: str) -> Election:
    """The election a cast names; 404 unless it exists past its key ceremony."""
    election = box.box_election_cached(slug, settings.CIVIC_BALLOT_BOX_ELECTION_CACHE_S)
    if election is None or election.context is None:
        raise NotFound(_("There is no election with this address."))
    return election


def _check_open(election: Election) -> None:
    if not election_is_open(election):
        raise ElectionNotOpen(_("This election is not open for voting."))
    if not election.log_name:
        raise ElectionStateError(_("This election has no ledger log."))


def cast_body_limit(election: Election) -> int:
    """The body limit of a cast (or spoil) to this election: its largest ballot, capped."""
    return box.cast_body_limit(election, settings.CIVIC_BALLOT_BOX_MAX_BODY_BYTES)


def _fields(body: Any, keys: frozenset[str]) -> Mapping[str, Any]:
    if not isinstance(body, Mapping) or set(body) != keys:
        raise MalformedCast(
            _("The body must be a JSON object with exactly the keys %(keys)s.")
            % {"keys": ", ".join(sorted(keys))}
        )
    token = body["token"]
    if not isinstance(token, Mapping) or set(token) != TOKEN_KEYS:
        raise MalformedCast(
            _("token must be an object with exactly the keys key_id, prefix, signature.")
        )
    return body


def _b64(value: Any, length: int, name: str) -> bytes:
    try:
        raw = base64url.decode(value, max_length=2 * length)
    except (ValueError, TypeError):
        raw = b""
    if len(raw) != length:
        raise MalformedCast(
            _("%(name)s must be base64url of %(length)d bytes.") % {"name": name, "length": length}
        )
    return raw


def _check_still_open(election: Election) -> None:
    """The one rule again, inside the cast's transaction and after its rows are written (so after
    this transaction holds its key-share lock on the election row): a close that committed
    meanwhile rolls the cast back, and a close still to come waits for this cast to commit. So the
    box is fixed once ``election.closed`` commits, and freezing counts exactly what is in it."""
    if not election_is_open(Election.objects.get(pk=election.pk)):
        raise ElectionNotOpen(_("This election is not open for voting."))


def _canonical(document: Any, name: str) -> bytes:
    try:
        return canonicalize(document)
    except (JCSError, TypeError, ValueError) as exc:
        raise MalformedCast(_("%(name)s is not canonicalizable JSON.") % {"name": name}) from exc


def _authorize(
    election: Election, body: Mapping[str, Any], context: bytes, canonical: bytes
) -> tuple[bytes, str]:
    """Token valid for this election's key over this ballot key, then the key's signature."""
    ballot_key = _b64(body["ballot_key"], BALLOT_KEY_BYTES, "ballot_key")
    signature = _b64(body["signature"], SIGNATURE_BYTES, "signature")
    if not ballot_authorization_is_valid(
        election, ballot_key, body["token"], box.eligibility_key(election, body["token"])
    ):
        raise IneligibleBallot(
            _("The eligibility token is not valid for this election and this ballot key.")
        )
    try:
        Ed25519PublicKey.from_public_bytes(ballot_key).verify(
            signature, box.signed_message(context, election.slug, canonical)
        )
    except (InvalidSignature, ValueError) as exc:
        raise BadKeySignature(
            _("The ballot key's signature over this ballot does not verify.")
        ) from exc
    return ballot_key, body["signature"]


def _decode(document: Any) -> EncryptedBallot:
    try:
        return decode_ballot(document)
    except CryptoError as exc:
        raise MalformedCast(
            _("The ballot is not a well-formed civic-ballot-v1 ballot: %(reason)s")
            % {"reason": exc}
        ) from exc


def _check_binding(election: Election, ballot: EncryptedBallot) -> None:
    ctx = box.box_context(election).ctx
    if ballot.context_hash != ctx.extended_hash:
        raise WrongBallotContext(
            _("The ballot is encrypted for another election context (context_hash).")
        )
    try:
        check_structure(ctx, ballot)
    except BallotError as exc:
        raise WrongBallotContext(
            _("The ballot does not match this election's questions: %(reason)s") % {"reason": exc}
        ) from exc


def verify_proofs(election: Election, ballot: EncryptedBallot) -> None:
    """Every range and limit proof as one batch (one multi-scalar multiplication).

    The batch weights come in a block sized to one ballot (it needs fewer weights than it has
    terms) rather than the default 256, which cost a measured tenth of the verification."""
    ensure_backend()
    ctx = box.box_context(election).ctx
    terms = ballot_term_count(ctx.manifest)
    verifier = BatchVerifier(fixed_bases=[ctx.joint_key], weight=WeightStream(block=max(16, terms)))
    verifier.add_weighted(ballot.ballot_id, lambda: ballot_weigher(ctx, ballot), terms)
    if verifier.verify():
        return
    try:
        verify_ballot(ctx, ballot)  # one proof at a time, to name the bad one
    except CryptoError as exc:
        raise BallotProofInvalid(
            _("A proof of the ballot does not verify: %(reason)s") % {"reason": exc}
        ) from exc
    raise BallotProofInvalid(_("The ballot's proofs do not verify."))


# -- storing --------------------------------------------------------------------------------------
def _locked_key(election: Election, public_key: str) -> BallotKey:
    """The ballot key's row, created if new, locked until the transaction ends."""
    # INSERT ... ON CONFLICT DO UPDATE ... RETURNING: one round trip, and the row stays locked
    # (inserted or updated) until commit, so casts under one key take turns.
    [row] = BallotKey.objects.bulk_create(
        [BallotKey(election=election, public_key=public_key)],
        update_conflicts=True,
        unique_fields=["election", "public_key"],
        update_fields=["public_key"],
    )
    if row.pk is None:  # a backend that cannot return the id: lock it by a read
        row = BallotKey.objects.select_for_update().get(election=election, public_key=public_key)
    return row


def _repeat(election: Election, sha256: str, public_key: str, kind: str) -> Received | None:
    """The same ballot again: the same receipt if it came under the same key as the same kind;
    None if it is not in the box."""
    found = box.received_as(election, sha256)
    if found is None:
        return None
    pk, key, existing_kind = found
    if key != public_key or existing_kind != kind:
        raise BallotAlreadyReceived(
            _("This ballot is already in the box under another ballot key or as another kind.")
        )
    row = CastBallot.objects.select_related("outbox").get(pk=pk)
    row.election = election
    return Received(box.cast_receipt(row), created=False)


def _receipt(
    election: Election, kind: str, ballot: EncryptedBallot, sha256: str, received_at: Any
) -> Received:
    """The receipt of a ballot this request stored (no log position yet), without reading it back."""
    status = "counting" if kind == CastBallot.Kind.CAST else "spoiled"
    return Received(
        box.receipt(election, ballot.tracking_code, sha256, status, received_at, None), created=True
    )


def _store_portable(
    election: Election,
    *,
    kind: str,
    ballot: EncryptedBallot,
    document: Any,
    sha256: str,
    public_key: str,
    token: Any,
    signature: str,
    event: dict[str, Any],
    received_at: Any,
) -> None:
    """Any database (SQLite, the embedded default): the ORM, statement by statement."""
    with transaction.atomic():
        key_row = _locked_key(election, public_key)
        previous = None
        if kind == CastBallot.Kind.CAST:
            previous = CastBallot.objects.filter(ballot_key=key_row, counting=True).first()
            if previous is not None:
                CastBallot.objects.filter(pk=previous.pk).update(counting=False)
            event["supersedes"] = previous.tracking_code if previous is not None else None
        outbox = ledger.append(election.log_name, _event_name(kind), event, debounce=True)
        CastBallot.objects.create(
            election=election,
            ballot_key=key_row,
            kind=kind,
            ballot_id=ballot.ballot_id,
            token=dict(token),
            key_signature=signature,
            document=document,
            tracking_code=ballot.tracking_code,
            sha256=sha256,
            received_at=received_at,
            counting=kind == CastBallot.Kind.CAST,
            supersedes=previous,
            outbox=outbox,
        )
        _check_still_open(election)


# The function re-checks the one rule after its writes (see _check_still_open) and raises this.
NOT_OPEN_SQLSTATE = "CV001"
STORE_SQL = "SELECT * FROM voting_store_ballot(%s, %s, %s, %s, %s::jsonb, %s, %s::jsonb, %s, %s, %s, %s, %s, %s, %s)"


def _store_pg(
    election: Election,
    *,
    kind: str,
    ballot: EncryptedBallot,
    document: Any,
    sha256: str,
    public_key: str,
    token: Any,
    signature: str,
    event: dict[str, Any],
    received_at: Any,
) -> None:
    """PostgreSQL: the same writes as ``_store_portable`` in one round trip, the function of
    migration 0007 (outside a transaction the call is its own; inside one, a savepoint)."""
    name = _event_name(kind)
    if kind == CastBallot.Kind.CAST:
        template = ledger.entry_template(name, event, "supersedes", max_chars=TRACKING_CODE_CHARS)
        head, tail = template.head, template.tail
    else:
        head, tail = ledger.entry_bytes(name, event), None
    params = [
        election.pk, public_key, str(kind), ballot.ballot_id, json.dumps(dict(token)), signature,
        json.dumps(document), ballot.tracking_code, sha256, received_at, election.log_name, name,
        head, tail,
    ]  # fmt: skip
    reconnected = False
    for _attempt in range(3):
        try:
            with (
                transaction.atomic() if connection.in_atomic_block else nullcontext(),
                connection.cursor() as cursor,
            ):
                try:
                    cursor.execute(STORE_SQL, params)
                except DatabaseError as exc:
                    if getattr(exc.__cause__, "sqlstate", None) == NOT_OPEN_SQLSTATE:
                        raise ElectionNotOpen(_("This election is not open for voting.")) from exc
                    raise
                ballot_pk, _outbox_pk, _supersedes = cursor.fetchone()
        except (OperationalError, InterfaceError):
            # A pooled connection that broke (no health check per request, settings.py): drop it
            # and call once more. The call is one transaction, so it either stored nothing or
            # stored the ballot, and then the retry meets the unique constraint: same receipt.
            if reconnected or connection.in_atomic_block:
                raise
            reconnected = True
            connection.close()
            continue
        if ballot_pk is not None:
            ledger.request_sequencing(debounce=True)
            return
        ledger.ensure_log(election.log_name)  # the first ballot of a log that was never made
    raise ElectionStateError(_("This election has no ledger log."))


def _event_name(kind: str) -> str:
    return box.BALLOT_CAST_EVENT if kind == CastBallot.Kind.CAST else box.BALLOT_SPOILED_EVENT


def _store(
    election: Election,
    *,
    kind: str,
    ballot: EncryptedBallot,
    document: Any,
    sha256: str,
    ballot_key: bytes,
    token: Any,
    signature: str,
    event: dict[str, Any],
) -> Received:
    """Store the ballot and its ledger entry together; a ballot already in the box (sent twice,
    even at once) answers its stored receipt, a ballot id of another ballot is refused."""
    public_key = base64url.encode(ballot_key)
    received_at = timezone.now()
    store = _store_pg if connection.vendor == "postgresql" else _store_portable
    try:
        store(
            election, kind=kind, ballot=ballot, document=document, sha256=sha256, public_key=public_key,
            token=token, signature=signature, event=event, received_at=received_at,
        )  # fmt: skip
    except IntegrityError as exc:
        repeat = _repeat(election, sha256, public_key, kind)
        if repeat is not None:
            return repeat
        raise BallotAlreadyReceived(
            _("A ballot with this ballot id is already in the box.")
        ) from exc
    return _receipt(election, kind, ballot, sha256, received_at)


def cast_ballot(election: Election, body: Any) -> Received:
    """POST /ballots: every check of docs/protocol.md §13.2 in order, then store and log."""
    _check_open(election)
    fields = _fields(body, CAST_KEYS)
    document = fields["ballot"]
    canonical = _canonical(document, "ballot")
    ballot_key, signature = _authorize(election, fields, box.CAST_CONTEXT, canonical)
    # Counted only once the key's own signature verified: nobody can spend another voter's budget.
    ratelimit.hit_ballot_key(election.slug, ballot_key)
    sha256 = hashlib.sha256(canonical).hexdigest()
    # No look-up of a resend here: a ballot already in the box has valid proofs, so it passes
    # the checks again and the store's unique constraint answers it with its stored receipt
    # (one round trip saved on every new cast, the common case).
    ballot = _decode(document)
    _check_binding(election, ballot)
    verify_proofs(election, ballot)
    event = {
        "election": election.slug,
        "tracking_code": ballot.tracking_code,
        "ballot_sha256": sha256,
        "district": box.token_district(election, fields["token"]),
    }
    return _store(
        election,
        kind=CastBallot.Kind.CAST,
        ballot=ballot,
        document=document,
        sha256=sha256,
        ballot_key=ballot_key,
        token=fields["token"],
        signature=signature,
        event=event,
    )


def spoil_ballot(election: Election, body: Any) -> Received:
    """POST /ballots/spoiled: a challenged ballot (§8) whose revealed seed reproduces it."""
    _check_open(election)
    fields = _fields(body, SPOIL_KEYS)
    document = fields["challenged"]
    canonical = _canonical(document, "challenged")
    ballot_key, signature = _authorize(election, fields, box.SPOIL_CONTEXT, canonical)
    ratelimit.hit_ballot_key(election.slug, ballot_key)
    try:
        challenged = ChallengedBallot.from_json(document)
    except (CryptoError, KeyError, TypeError, AttributeError) as exc:
        raise MalformedCast(
            _("The body is not a well-formed challenged ballot: %(reason)s") % {"reason": exc}
        ) from exc
    ballot = challenged.ballot
    _check_binding(election, ballot)
    ensure_backend()
    try:
        verify_challenged_ballot(box.box_context(election).ctx, challenged)
    except (BallotError, EncodingError) as exc:
        raise ChallengeMismatch(
            _("The revealed seed and choices do not reproduce this ballot: %(reason)s")
            % {"reason": exc}
        ) from exc
    except CryptoError as exc:
        raise BallotProofInvalid(
            _("A proof of the ballot does not verify: %(reason)s") % {"reason": exc}
        ) from exc
    sha256 = hashlib.sha256(_canonical(document["ballot"], "ballot")).hexdigest()
    event = {
        "election": election.slug,
        "tracking_code": ballot.tracking_code,
        "ballot_sha256": sha256,
        "challenged_sha256": hashlib.sha256(canonical).hexdigest(),
        "district": box.token_district(election, fields["token"]),
    }
    return _store(
        election,
        kind=CastBallot.Kind.SPOILED,
        ballot=ballot,
        document=document,
        sha256=sha256,
        ballot_key=ballot_key,
        token=fields["token"],
        signature=signature,
        event=event,
    )
