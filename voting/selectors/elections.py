"""Elections: the one rule for "is this election open?", listings, and the crypto context."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q, QuerySet
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


# Past the key ceremony: the context is published and the public may see the election.
PUBLIC_STATES = frozenset(
    {
        Election.State.SCHEDULED,
        Election.State.OPEN,
        Election.State.CLOSED,
        Election.State.TALLYING,
        Election.State.PUBLISHED,
    }
)


def is_public(election: Election) -> bool:
    """Booth and context API: only elections past the ceremony, with their context."""
    return election.state in PUBLIC_STATES and election.context is not None


def public_elections() -> QuerySet[Election]:
    """Elections past the ceremony (their context is public), and those cancelled after it."""
    published = Q(state__in=PUBLIC_STATES) | Q(state=Election.State.CANCELLED)
    return Election.objects.filter(published).exclude(context=None).order_by("opens_at", "pk")


def elections_for_district(district: str | None) -> QuerySet[Election]:
    """What a citizen of ``district`` sees: its elections and the city-wide ones (None: all)."""
    elections = public_elections()
    if district is None:
        return elections
    return elections.filter(Q(district="") | Q(district=district))


def official_elections() -> QuerySet[Election]:
    """Every election, drafts included, for the officials' desk."""
    return Election.objects.select_related("created_by").order_by("-updated_at")


def drafts_of(user: AbstractBaseUser) -> QuerySet[Election]:
    """An official's own drafts."""
    return Election.objects.filter(state=Election.State.DRAFT, created_by=user).order_by("-updated_at")


def trustee_accounts() -> QuerySet[AbstractBaseUser]:
    """Active accounts holding the trustee role: the ones an official may choose."""
    perm = Q(groups__permissions__codename="act_as_trustee") | Q(user_permissions__codename="act_as_trustee")
    return get_user_model().objects.filter(perm, is_active=True).distinct().order_by("username")


def trustee_list_json(election: Election) -> list[dict[str, object]]:
    """The ordered trustees as the ceremony event hashes them: [{"index", "username"}]."""
    rows = election.trustees.select_related("user").order_by("index")
    return [{"index": row.index, "username": row.user.get_username()} for row in rows]


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
