"""Every error the ledger's use cases raise, in one module both the write and the read side use.

Each is a :class:`civic.errors.DomainError`, so the platform's one handler answers it as
``{"error": code, "detail": detail, "status": status}``: views raise, they never translate.
"""

from __future__ import annotations

from civic.errors import DomainError


class LedgerError(DomainError):
    """A ledger request that cannot be honoured; ``code`` is the JSON error code."""

    code = "ledger_error"
    status = 400


class UnknownLog(LedgerError):
    code, status = "unknown_log", 404


class InvalidEntry(LedgerError):
    code = "invalid_entry"


class UnknownObserver(LedgerError):
    """A cosignature is its own authorization: an unknown signer is refused like a bad login."""

    code, status = "unknown_observer", 403


class BadSignature(LedgerError):
    code, status = "bad_signature", 403


class MalformedCheckpoint(LedgerError):
    code = "malformed_checkpoint"


class ForeignCheckpoint(LedgerError):
    """A well-formed checkpoint of another log (its origin line is not this log's)."""

    code, status = "foreign_checkpoint", 422


class UnknownCheckpoint(LedgerError):
    code, status = "unknown_checkpoint", 404


class ConflictingCheckpoint(LedgerError):
    code, status = "conflicting_checkpoint", 409


class InvalidObserverKey(LedgerError):
    """A key of the documented form that is not a valid cosignature/v1 key (its key id)."""

    code, status = "invalid_verifier_key", 422


class ObserverExists(LedgerError):
    code, status = "observer_exists", 409


class NotFound(LedgerError):
    code, status = "not_found", 404


class BeyondTree(LedgerError):
    """A size, index or tile past what this log has sequenced."""

    code, status = "beyond_tree", 404


class InvalidSizes(LedgerError):
    code = "invalid_sizes"


class SizesOutOfOrder(InvalidSizes):
    """Two well-formed sizes in the wrong order (old > new): a rule, not a form."""

    status = 422


class NoCheckpoint(LedgerError):
    """The log exists but has not signed a checkpoint yet."""

    code, status = "no_checkpoint", 404


class MalformedTilePath(LedgerError):
    code = "malformed_tile_path"
