"""Elections: the one rule for "is this election open?", listings, and the crypto context."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from civic_votecrypto.ballot import ElectionContext
from civic_votecrypto.group import Point
from civic_votecrypto.manifest import Manifest
from voting.models import Election


def election_is_open(election: Election) -> bool:
    """THE rule, used everywhere: state OPEN and now within [opens_at, closes_at) where set."""
    now = timezone.now()
    return (
        election.state == Election.State.OPEN
        and (election.opens_at is None or election.opens_at <= now)
        and (election.closes_at is None or now < election.closes_at)
    )


def open_elections() -> list[Election]:
    """Elections open right now by :func:`election_is_open`."""
    return [e for e in Election.objects.filter(state=Election.State.OPEN) if election_is_open(e)]


def public_elections() -> QuerySet[Election]:
    """Elections whose cryptographic context is public (open, closed or tallied)."""
    return Election.objects.exclude(state=Election.State.DRAFT).exclude(context=None)


def election_by_slug(slug: str) -> Election | None:
    return Election.objects.filter(slug=slug).first()


def crypto_context(election: Election) -> ElectionContext:
    """The election's context as the crypto layer's object; its H_E must equal the stored one."""
    raw = election.context
    if raw is None:
        raise ValueError(f"election {election.slug} has no published context")
    ctx = ElectionContext.build(
        Manifest.from_json(raw["manifest"]),
        Point.from_hex(raw["joint_key"]),
        raw["trustees"],
        raw["threshold"],
        [Point.from_hex(c) for c in raw["trustee_commitments"]],
    )
    if ctx.extended_hash.hex() != raw["extended_hash"]:
        raise ValueError(f"election {election.slug}: stored context does not hash to its H_E")
    return ctx
