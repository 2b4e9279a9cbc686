"""Officials write proposals: create, edit and delete drafts, choose trustees and t, and have
every field checked against the crypto manifest before anything is stored.

A proposal becomes the ``civic_votecrypto`` manifest JSON (``election_id`` = the slug), the
window (stored UTC), the ordered trustees and t. Checking runs the crypto library's own parsers
(``Manifest.from_json``, ``election_from_manifest``) on the assembled manifest, after friendlier
checks of our own that name the exact field and speak the user's language, so a form shows the
problem next to the field instead of the ceremony failing weeks later.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from civic.roles import Role, user_has_role
from civic_votecrypto.election import election_from_manifest
from civic_votecrypto.errors import CryptoError
from civic_votecrypto.limits import MAX_TRUSTEES
from civic_votecrypto.manifest import (
    MAX_CONTESTS,
    MAX_OPTIONS,
    MAX_SCORE,
    QUESTION_TYPES,
    YES_NO_ABSTAIN_IDS,
    Contest,
    Manifest,
    is_identifier,
    is_title,
)
from civic_votecrypto.proofs import MAX_RANGE_BRANCHES
from voting.errors import ElectionStateError, NotAllowed, ProposalInvalid
from voting.models import Election, ElectionTrustee
from voting.selectors.elections import trustee_accounts

# An opening time typed as "now" is a little in the past by the time the form arrives.
WINDOW_LEEWAY = timedelta(minutes=5)
TITLE_MAX_CHARS = 200
DISTRICT_MAX_CHARS = 100
SLUG_MAX_CHARS = 64
MAX_OBSERVER_REPORTS = 100
MAX_LIMIT = MAX_RANGE_BRANCHES - 1
# Path segments of /voting/... pages that an election's slug must not shadow.
RESERVED_SLUGS = frozenset({"official", "verify", "booth", "new", "credentials"})


def city_zone() -> ZoneInfo:
    """The city's time zone (settings.CIVIC_TIME_ZONE): windows are typed and shown in it."""
    return ZoneInfo(settings.CIVIC_TIME_ZONE)


@dataclass
class Proposal:
    """What an official writes; ``questions`` are contests in the manifest's JSON form."""

    title: str = ""
    description: str = ""
    district: str = ""
    questions: Any = field(default_factory=list)
    opens_at: datetime | None = None
    closes_at: datetime | None = None
    trustees: Any = field(default_factory=list)  # usernames, index order 1..n
    threshold: Any = None
    required_observer_reports: Any = 1
    slug: str = ""


@dataclass(frozen=True)
class CheckedProposal:
    slug: str
    manifest: dict[str, Any]
    trustees: list[AbstractBaseUser]


def require_official(user: Any) -> None:
    if not user_has_role(user, Role.OFFICIAL):
        raise NotAllowed(_("Only city officials may do this."))


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_question(i: int, q: Any, errors: dict[str, str], seen_ids: set[str]) -> None:
    """Our own checks of one question, each naming its field; the crypto parser runs after."""
    key = f"questions.{i}"
    if not isinstance(q, dict):
        errors[key] = _("A question must be an object.")
        return
    kind = q.get("type")
    if kind not in QUESTION_TYPES:
        errors[f"{key}.type"] = _("Choose one of the question types: %(types)s.") % {"types": ", ".join(QUESTION_TYPES)}
        return
    qid = q.get("id")
    if not is_identifier(qid):
        errors[f"{key}.id"] = _("The question id must be 1 to 128 letters, digits or . _ : -")
    elif qid in seen_ids:
        errors[f"{key}.id"] = _("Another question already has the id “%(id)s”.") % {"id": qid}
    else:
        seen_ids.add(qid)
    title = q.get("title")
    if not isinstance(title, str) or not title.strip():
        errors[f"{key}.title"] = _("Write the question.")
    elif not is_title(title):
        errors[f"{key}.title"] = _("The question is too long or holds control characters.")
    options = q.get("options")
    if not isinstance(options, list) or not options:
        errors[f"{key}.options"] = _("Add at least one option.")
        return
    if len(options) > MAX_OPTIONS:
        errors[f"{key}.options"] = _("A question has at most %(n)d options.") % {"n": MAX_OPTIONS}
        return
    option_ids: list[str] = []
    for option in options:
        if not isinstance(option, dict):
            errors[f"{key}.options"] = _("Every option must be an object with an id and a title.")
            return
        oid, otitle = option.get("id"), option.get("title")
        if not is_identifier(oid):
            errors[f"{key}.options"] = _("Option ids must be 1 to 128 letters, digits or . _ : - (got “%(id)s”).") % {"id": oid}
            return
        if not isinstance(otitle, str) or not otitle.strip() or not is_title(otitle):
            errors[f"{key}.options"] = _("Option “%(id)s” needs a title without control characters.") % {"id": oid}
            return
        if oid in option_ids:
            errors[f"{key}.options"] = _("The option id “%(id)s” appears twice.") % {"id": oid}
            return
        option_ids.append(oid)
    n = len(options)
    if kind == "yes_no_abstain" and tuple(option_ids) != YES_NO_ABSTAIN_IDS:
        errors[f"{key}.options"] = _("A yes/no/abstain question has exactly the options yes, no and abstain, in that order.")
    elif kind == "one_of_n" and not isinstance(q.get("allow_blank"), bool):
        errors[f"{key}.allow_blank"] = _("Say whether a blank answer is allowed.")
    elif kind == "approval":
        lo, hi = q.get("min_selections"), q.get("max_selections")
        if not _is_int(lo) or not 0 <= lo <= n:
            errors[f"{key}.min_selections"] = _("The minimum must be a whole number from 0 to %(n)d.") % {"n": n}
        elif not _is_int(hi) or not max(lo, 1) <= hi <= n:
            errors[f"{key}.max_selections"] = _("The maximum must be a whole number from %(lo)d to %(n)d.") % {"lo": max(lo, 1), "n": n}
    elif kind == "score":
        most, total = q.get("max_score"), q.get("max_total")
        if not _is_int(most) or not 1 <= most <= MAX_SCORE:
            errors[f"{key}.max_score"] = _("The highest score must be a whole number from 1 to %(n)d.") % {"n": MAX_SCORE}
        elif not _is_int(total) or not 1 <= total <= min(most * n, MAX_LIMIT):
            errors[f"{key}.max_total"] = _("The total must be a whole number from 1 to %(n)d.") % {"n": min(most * n, MAX_LIMIT)}
    elif kind == "budget":
        costs = [option.get("cost") for option in options]
        cap = q.get("budget")
        if not all(_is_int(c) and 1 <= c <= MAX_LIMIT for c in costs):
            errors[f"{key}.options"] = _("Every project needs a cost, a whole number from 1 to %(n)d.") % {"n": MAX_LIMIT}
        elif not _is_int(cap) or not 1 <= cap <= MAX_LIMIT:
            errors[f"{key}.budget"] = _("The cap must be a whole number from 1 to %(n)d.") % {"n": MAX_LIMIT}
        elif cap < min(costs):
            errors[f"{key}.budget"] = _("No project fits under this cap: the cheapest costs %(cost)d.") % {"cost": min(costs)}
    if not any(k.startswith(f"{key}.") or k == key for k in errors):
        try:
            Contest.from_json(q)
        except CryptoError as exc:  # anything the crypto format still refuses
            errors[key] = _("The ballot format refuses this question: %(reason)s") % {"reason": exc}


def _check_window(p: Proposal, errors: dict[str, str], now: datetime) -> None:
    if not isinstance(p.opens_at, datetime):
        errors["opens_at"] = _("Say when voting opens.")
    elif p.opens_at < now - WINDOW_LEEWAY:
        errors["opens_at"] = _("Voting cannot open in the past.")
    if not isinstance(p.closes_at, datetime):
        errors["closes_at"] = _("Say when voting closes.")
    elif isinstance(p.opens_at, datetime) and p.closes_at <= p.opens_at:
        errors["closes_at"] = _("Voting must close after it opens.")
    elif p.closes_at <= now:
        errors["closes_at"] = _("Voting cannot close in the past.")


def _check_trustees(p: Proposal, errors: dict[str, str]) -> list[AbstractBaseUser]:
    names = p.trustees
    if not isinstance(names, list) or not names:
        errors["trustees"] = _("Choose at least one trustee.")
        return []
    if not all(isinstance(name, str) for name in names):
        errors["trustees"] = _("Trustees are named by their usernames.")
        return []
    if len(set(names)) != len(names):
        errors["trustees"] = _("A trustee can be chosen only once.")
        return []
    if len(names) > MAX_TRUSTEES:
        errors["trustees"] = _("At most %(n)d trustees.") % {"n": MAX_TRUSTEES}
        return []
    accounts = {u.get_username(): u for u in trustee_accounts().filter(username__in=names)}
    unknown = [name for name in names if name not in accounts]
    if unknown:
        errors["trustees"] = _("Not a trustee account: %(names)s.") % {"names": ", ".join(unknown)}
        return []
    return [accounts[name] for name in names]


def _check_threshold(p: Proposal, n: int, errors: dict[str, str]) -> None:
    t = p.threshold
    if not _is_int(t):
        errors["threshold"] = _("Say how many trustees (t) are needed to decrypt.")
    elif t < 1:
        errors["threshold"] = _("At least one trustee must be needed to decrypt (t ≥ 1).")
    elif n and t > n:
        errors["threshold"] = _("t cannot be larger than the number of trustees (%(n)d).") % {"n": n}


def _slug_for(p: Proposal, existing: Election | None, errors: dict[str, str]) -> str:
    if existing is not None:
        return existing.slug
    slug = (p.slug.strip() if isinstance(p.slug, str) else "") or slugify(p.title if isinstance(p.title, str) else "")
    slug = slug[:SLUG_MAX_CHARS].strip("-")
    if not slug or slugify(slug) != slug or not is_identifier(slug) or slug in RESERVED_SLUGS:
        errors["slug"] = _("Choose an address made of lower-case letters a-z, digits and hyphens.")
    elif Election.objects.filter(slug=slug).exists():
        errors["slug"] = _("The address “%(slug)s” is taken by another election: change the title or the address.") % {"slug": slug}
    return slug


def check_proposal(p: Proposal, *, existing: Election | None = None, now: datetime | None = None) -> CheckedProposal:
    """Every check a draft must pass; raises ProposalInvalid mapping fields to messages."""
    now = now or timezone.now()
    errors: dict[str, str] = {}
    title = p.title.strip() if isinstance(p.title, str) else ""
    if not title:
        errors["title"] = _("Give the proposal a title.")
    elif len(title) > TITLE_MAX_CHARS or not is_title(title):
        errors["title"] = _("The title has at most %(n)d characters and no control characters.") % {"n": TITLE_MAX_CHARS}
    slug = _slug_for(p, existing, errors)
    if not isinstance(p.description, str):
        errors["description"] = _("The description is Markdown text.")
    elif len(p.description) > settings.CIVIC_DESCRIPTION_MAX_CHARS:
        errors["description"] = _("The description has at most %(n)d characters.") % {"n": settings.CIVIC_DESCRIPTION_MAX_CHARS}
    district = p.district.strip() if isinstance(p.district, str) else None
    if district is None or len(district) > DISTRICT_MAX_CHARS:
        errors["district"] = _("The district is a name of at most %(n)d characters.") % {"n": DISTRICT_MAX_CHARS}
    elif settings.CIVIC_DISTRICTS and district and district not in settings.CIVIC_DISTRICTS:
        errors["district"] = _("Choose one of the city's districts, or the whole city.")
    questions = p.questions
    if not isinstance(questions, list) or not questions:
        errors["questions"] = _("Add at least one question.")
        questions = []
    elif len(questions) > MAX_CONTESTS:
        errors["questions"] = _("A proposal has at most %(n)d questions.") % {"n": MAX_CONTESTS}
        questions = []
    seen: set[str] = set()
    for i, question in enumerate(questions):
        _check_question(i, question, errors, seen)
    _check_window(p, errors, now)
    trustees = _check_trustees(p, errors)
    _check_threshold(p, len(trustees), errors)
    reports = p.required_observer_reports
    if not _is_int(reports) or not 0 <= reports <= MAX_OBSERVER_REPORTS:
        errors["required_observer_reports"] = _("A whole number from 0 to %(n)d.") % {"n": MAX_OBSERVER_REPORTS}
    manifest_json = {"election_id": slug, "title": title, "contests": questions}
    if not errors:
        try:
            manifest = Manifest.from_json(manifest_json)
            election_from_manifest(manifest, len(trustees), p.threshold)
        except CryptoError as exc:
            errors["questions"] = _("The ballot format refuses this proposal: %(reason)s") % {"reason": exc}
        else:
            manifest_json = manifest.to_json()
    if errors:
        raise ProposalInvalid(errors)
    return CheckedProposal(slug=slug, manifest=manifest_json, trustees=trustees)


def _store(election: Election, p: Proposal, checked: CheckedProposal) -> None:
    election.title = checked.manifest["title"]
    election.description = p.description
    election.district = p.district.strip()
    election.manifest = checked.manifest
    election.opens_at, election.closes_at = p.opens_at, p.closes_at
    election.threshold = p.threshold
    election.required_observer_reports = p.required_observer_reports
    election.save()
    ElectionTrustee.objects.filter(election=election).delete()
    ElectionTrustee.objects.bulk_create(
        ElectionTrustee(election=election, user=user, index=i) for i, user in enumerate(checked.trustees, start=1)
    )


@transaction.atomic
def create_draft(user: AbstractBaseUser, proposal: Proposal) -> Election:
    """A new draft, visible to officials only; its slug comes from the title unless given."""
    require_official(user)
    checked = check_proposal(proposal)
    election = Election(slug=checked.slug, created_by=user, state=Election.State.DRAFT)
    try:
        with transaction.atomic():
            _store(election, proposal, checked)
    except IntegrityError as exc:  # the same slug, created concurrently
        raise ProposalInvalid({"slug": _("The address “%(slug)s” is taken by another election.") % {"slug": checked.slug}}) from exc
    return election


def _locked_draft(election: Election) -> Election:
    locked = Election.objects.select_for_update().get(pk=election.pk)
    if locked.state != Election.State.DRAFT:
        raise ElectionStateError(_("The manifest, the window and the trustees are fixed once the key ceremony has started."))
    return locked


@transaction.atomic
def update_draft(user: AbstractBaseUser, election: Election, proposal: Proposal) -> Election:
    """Replace a draft's fields; refused once the ceremony started (services guard, not the model)."""
    require_official(user)
    locked = _locked_draft(election)
    checked = check_proposal(proposal, existing=locked)
    _store(locked, proposal, checked)
    return locked


@transaction.atomic
def delete_draft(user: AbstractBaseUser, election: Election) -> None:
    """Drafts were never public, so deleting one leaves no trace to keep."""
    require_official(user)
    _locked_draft(election).delete()


def proposal_of(election: Election) -> Proposal:
    """The stored draft as a Proposal (to prefill the edit form and answer the API)."""
    manifest = election.manifest or {"contests": []}
    return Proposal(
        title=election.title,
        description=election.description,
        district=election.district,
        questions=list(manifest.get("contests", [])),
        opens_at=election.opens_at,
        closes_at=election.closes_at,
        trustees=[t.user.get_username() for t in election.trustees.select_related("user").order_by("index")],
        threshold=election.threshold,
        required_observer_reports=election.required_observer_reports,
        slug=election.slug,
    )
