"""Voting's domain errors (platform DomainErrors, answered by the one JSON handler)."""

from __future__ import annotations

from civic.errors import DomainError


class ElectionStateError(DomainError):
    """The election is not in the state this action needs."""

    code, status = "election_state", 409


class ElectionNotOpen(ElectionStateError):
    """Tokens are issued only while the election is open (state and time window)."""

    code = "election_not_open"


class TokenAlreadyIssued(DomainError):
    """One eligibility token per citizen per election."""

    code, status = "token_already_issued", 409


class IneligibleBallot(DomainError):
    """The ballot key carries no valid eligibility token for this election."""

    code, status = "ineligible_ballot", 403


class NotAllowed(DomainError):
    """The user lacks the role this step needs (the services check it, not only the views)."""

    code, status = "forbidden", 403


class ProposalInvalid(DomainError):
    """A proposal the crypto manifest or the lifecycle would refuse; ``detail`` maps each field
    (``title``, ``questions.0.options`` ...) to its message, so forms show it next to the field."""

    code, status = "invalid", 400


class SlugTaken(ProposalInvalid):
    code, status = "slug_taken", 409
