"""The election lifecycle: which state may follow which, and the ledger event each step writes.

draft -> ceremony -> scheduled -> open -> closed -> tallying -> published, and cancelled from any
state before open. Every step is one call of :func:`transition` inside the caller's transaction:
it locks the election row, refuses a step the table does not allow, and appends an event to the
election's own ledger log carrying the hashes of what the step fixes, so the record of the
lifecycle is public and witnessed like every log. Who may take a step, and when, is decided by the
use case that calls it: the step functions below (officials' steps check the role; the
scheduler's and the ceremony's steps are the system's), voting.services.elections.open_election
and voting.services.scheduler.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import rfc8785
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ledger import services as ledger
from voting.errors import ElectionStateError, ProposalInvalid
from voting.models import Election
from voting.selectors.elections import trustee_list_json
from voting.services import jobs
from voting.services.authoring import check_proposal, proposal_of, require_official

State = Election.State

TRANSITIONS: dict[str, frozenset[str]] = {
    State.DRAFT: frozenset({State.CEREMONY, State.CANCELLED}),
    State.CEREMONY: frozenset({State.SCHEDULED, State.CANCELLED}),
    State.SCHEDULED: frozenset({State.OPEN, State.CANCELLED}),
    State.OPEN: frozenset({State.CLOSED}),
    State.CLOSED: frozenset({State.TALLYING}),
    State.TALLYING: frozenset({State.PUBLISHED}),
    State.PUBLISHED: frozenset(),
    State.CANCELLED: frozenset(),
}

# Once the ceremony has started, the manifest, the trustees and the window are fixed.
FROZEN_STATES = frozenset(set(State.values) - {State.DRAFT})


def election_log_name(election: Election) -> str:
    """The election's own ledger log (ledger.services.LOG_NAME_RE: ``election-<id>``)."""
    return f"election-{election.pk}"


def json_sha256(document: Any) -> str:
    """SHA-256 (hex) of a JSON document's RFC 8785 bytes: what an event says it fixes."""
    return hashlib.sha256(rfc8785.dumps(document)).hexdigest()


def window_json(election: Election) -> dict[str, str | None]:
    """The voting window as the events hash it: ISO 8601 instants in UTC."""

    def instant(value: Any) -> str | None:
        return value.astimezone(UTC).isoformat() if value is not None else None

    return {"opens_at": instant(election.opens_at), "closes_at": instant(election.closes_at)}


def can_transition(election: Election, to: str) -> bool:
    return to in TRANSITIONS[election.state]


@transaction.atomic
def transition(
    election: Election, to: str, *, reason: str = "", fixes: dict[str, Any] | None = None
) -> Election:
    """Move ``election`` to state ``to`` and log it; refuse a step the lifecycle does not allow.

    ``fixes`` names what this step fixes (e.g. ``{"manifest": <the manifest JSON>}``): the event
    carries the SHA-256 of each, so anyone holding the document can check it is the one fixed.
    The ceremony step creates the election's log and records its identity on the city log.
    """
    locked = Election.objects.select_for_update().get(pk=election.pk)
    if to not in TRANSITIONS[locked.state]:
        raise ElectionStateError(f"an election that is {locked.state} cannot become {to}")
    previous = locked.state
    if to == State.CEREMONY and not locked.log_name:
        log = ledger.ensure_log(election_log_name(locked))
        locked.log_name = log.name
        ledger.record_city_event(
            "election.log_created",
            {
                "election": locked.slug,
                "log": log.name,
                "origin": log.origin,
                "verifier_key": log.verifier_key,
            },
        )
    locked.state = to
    locked.state_reason = reason
    locked.save(update_fields=["state", "state_reason", "log_name", "updated_at"])
    payload: dict[str, Any] = {
        "election": locked.slug,
        "from": previous,
        "to": to,
        "at": timezone.now().astimezone(UTC).isoformat(),
    }
    if reason:
        payload["reason"] = reason
    for name, document in sorted((fixes or {}).items()):
        payload[f"{name}_sha256"] = json_sha256(document)
    if locked.log_name:
        ledger.append(locked.log_name, f"election.{to}", payload)
    else:  # cancelled as a draft: there is no election log yet
        ledger.record_city_event(f"election.{to}", payload)
    if to == State.CLOSED:  # the box is fixed once this commits: freeze it and start the tally
        jobs.enqueue(jobs.FREEZE_TASK, locked.pk)
    election.state, election.state_reason, election.log_name = to, reason, locked.log_name
    return locked


# --- The steps, each one use case: who may take it, when, and what it fixes. ------------------

REASON_MAX_CHARS = 1000


def _reason(reason: Any) -> str:
    text = reason.strip() if isinstance(reason, str) else ""
    if not text:
        raise ProposalInvalid({"reason": _("Give a reason: it is published in the election's log.")})
    if len(text) > REASON_MAX_CHARS:
        raise ProposalInvalid({"reason": _("At most %(n)d characters.") % {"n": REASON_MAX_CHARS}})
    return text


def _locked(election: Election, *states: str) -> Election:
    locked = Election.objects.select_for_update().get(pk=election.pk)
    if locked.state not in states:
        raise ElectionStateError(
            _("This step needs an election that is %(needed)s; this one is %(state)s.")
            % {
                "needed": " / ".join(str(State(s).label) for s in states),
                "state": State(locked.state).label,
            }
        )
    return locked


@transaction.atomic
def start_ceremony(user: Any, election: Election, *, now: datetime | None = None) -> Election:
    """An official freezes a draft and starts the key ceremony.

    The draft is checked again (trustees may have lost their role, time may have passed), then
    the manifest, the window and the trustee list are fixed: their hashes go into the
    ``election.ceremony`` event, and no service changes them afterwards.
    """
    require_official(user)
    locked = _locked(election, State.DRAFT)
    check_proposal(proposal_of(locked), existing=locked, now=now)
    fixes = {"manifest": locked.manifest, "window": window_json(locked), "trustees": trustee_list_json(locked)}
    return transition(locked, State.CEREMONY, fixes=fixes)


@transaction.atomic
def complete_ceremony(election: Election) -> Election:
    """The ceremony produced a verified context (publish_election_context): schedule the vote."""
    locked = _locked(election, State.CEREMONY)
    if locked.context is None:
        raise ElectionStateError(_("The key ceremony has not published the election's context yet."))
    return transition(locked, State.SCHEDULED, fixes={"context": locked.context})


@transaction.atomic
def cancel(user: Any, election: Election, reason: Any) -> Election:
    """An official cancels an election before it opens; the reason is logged."""
    require_official(user)
    text = _reason(reason)
    locked = _locked(election, State.DRAFT, State.CEREMONY, State.SCHEDULED)
    return transition(locked, State.CANCELLED, reason=text)


@transaction.atomic
def close_early(user: Any, election: Election, reason: Any, *, now: datetime | None = None) -> Election:
    """An official closes an open election before its time, only with a reason, which is logged."""
    require_official(user)
    text = _reason(reason)
    locked = _locked(election, State.OPEN)
    closed_at = (now or timezone.now()).astimezone(UTC).isoformat()
    return transition(locked, State.CLOSED, reason=text, fixes={"window": {**window_json(locked), "closed_at": closed_at}})


@transaction.atomic
def close_if_due(election: Election, now: datetime) -> bool:
    """The scheduler's close: an open election whose closing time has come. Idempotent."""
    locked = Election.objects.select_for_update().get(pk=election.pk)
    if locked.state != State.OPEN or locked.closes_at is None or locked.closes_at > now:
        return False
    transition(locked, State.CLOSED, fixes={"window": window_json(locked)})
    return True
