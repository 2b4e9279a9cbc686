"""Identity's domain errors: the platform's DomainError, with the codes only identity raises.

Invalid input, a missing record and a state conflict are the platform's generic errors
(:mod:`civic.errors`), re-exported here so identity code has one place to import them from.
"""

from __future__ import annotations

from civic.errors import Conflict, DomainError, InvalidInput, NotFound

__all__ = ["BindingRefused", "Conflict", "DIDRequired", "DomainError", "InvalidInput", "NotFound", "PresentationRefused"]


class BindingRefused(DomainError):
    """A binding request of the right form that its key or its challenge refuses."""

    code, status = "binding_refused", 422


class DIDRequired(DomainError):
    """The citizen must bind a DID before this action."""

    code, status = "did_required", 409


class PresentationRefused(DomainError):
    """A presentation does not prove a valid residency credential of this citizen's current DID."""

    code, status = "not_eligible", 403
