"""The demo city's election: a manifest with several question types, three trustee accounts and a
2-of-3 key ceremony run through the real network path.

Each demo trustee runs the trustee program's network client (civic_votecrypto.trustee_client,
httpx) against this very application, in-process through a WSGI transport, with its own key file
under var/demo_trustees/: the same requests, checks and ledger events as trustees running
`python -m civic_votecrypto.trustee ceremony` on their own machines. Then the election is
scheduled (by the ceremony) and opened.
"""

from __future__ import annotations

import logging
import secrets
import tempfile
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from civic.errors import DomainError
from civic.roles import Role
from civic.services import create_user_with_role
from civic_observer.audit import LogCopy, audit_election
from civic_observer.state import StateError, load_signer
from ledger import selectors as ledger_selectors
from voting.models import AuditReport, Election
from voting.selectors import tally as tally_selectors
from voting.services import audit_reports, authoring, lifecycle, record_export
from voting.services import elections as services
from voting.simulation import (
    IN_PROCESS_SERVER,
    Plan,
    in_process_transport,
    run_ceremony_in_process,
    simulate_election,
)

logger = logging.getLogger(__name__)
__all__ = ["IN_PROCESS_SERVER", "in_process_transport", "run_demo_ceremony"]
run_demo_ceremony = run_ceremony_in_process

DEMO_TRUSTEES = ("trustee-a", "trustee-b", "trustee-c")
DEMO_THRESHOLD = 2

DEMO_SLUG = "demo-2026"
DEMO_MANIFEST = {
    "election_id": DEMO_SLUG,
    "title": "Demo City vote 2026",
    "contests": [
        {
            "id": "library",
            "type": "yes_no_abstain",
            "title": "Should the city library open on Sundays?",
            "options": [
                {"id": "yes", "title": "Yes"},
                {"id": "no", "title": "No"},
                {"id": "abstain", "title": "Abstain"},
            ],
        },
        {
            "id": "council",
            "type": "approval",
            "title": "Youth council: approve up to two candidates",
            "min_selections": 0,
            "max_selections": 2,
            "options": [
                {"id": "amina", "title": "Amina"},
                {"id": "jonas", "title": "Jonas"},
                {"id": "sofie", "title": "Sofie"},
            ],
        },
        {
            "id": "parks",
            "type": "budget",
            "title": "Parks budget: pick projects worth at most 5 units",
            "budget": 5,
            "options": [
                {"id": "trees", "title": "Plant 200 trees", "cost": 2},
                {"id": "playground", "title": "New playground", "cost": 3},
                {"id": "benches", "title": "Benches and lighting", "cost": 1},
            ],
        },
    ],
}


DEMO_DESCRIPTION = """The city asks its residents three questions this year.

- **Library**: should it open on Sundays?
- **Youth council**: approve up to two candidates.
- **Parks**: choose projects within a budget of 5 units.

Read more on the [city's website](https://example.org/demo-city).
"""


def demo_trustee_accounts() -> list[AbstractBaseUser]:
    """The three demo trustees (created with a random password when the city seed did not)."""
    User = get_user_model()
    users = []
    for username in DEMO_TRUSTEES:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = create_user_with_role(
                username=username,
                email=f"{username}@demo.invalid",
                password=secrets.token_urlsafe(12),
                role=Role.TRUSTEE,
            )
        users.append(user)
    return users


def seed_demo_election(
    created_by: AbstractBaseUser,
    trustees: Sequence[AbstractBaseUser] | None = None,
    key_dir: Path | None = None,
) -> Election:
    """Draft, key (over the network path) and open the demo election through the officials' and
    the trustees' use cases, once; later calls return it unchanged, and a seed stopped half-way
    resumes where it stopped. ``created_by`` must be an official.

    draft -> ceremony -> (the trustees' rounds; the last one publishes the context) -> scheduled
    -> open, each step logged on the election's own ledger log like any election's.
    """
    election = Election.objects.filter(slug=DEMO_SLUG).first()
    if election is not None and election.state not in (
        Election.State.DRAFT,
        Election.State.CEREMONY,
        Election.State.SCHEDULED,
    ):
        return election
    trustees = list(trustees) if trustees is not None else demo_trustee_accounts()
    key_dir = (
        key_dir if key_dir is not None else Path(tempfile.mkdtemp(prefix="civic-demo-trustees-"))
    )
    if election is None:
        now = timezone.now()
        proposal = authoring.Proposal(
            slug=DEMO_SLUG,
            title=DEMO_MANIFEST["title"],
            description=DEMO_DESCRIPTION,
            district="",
            questions=DEMO_MANIFEST["contests"],
            opens_at=now,
            closes_at=now + timedelta(days=30),
            trustees=[user.get_username() for user in trustees],
            threshold=DEMO_THRESHOLD,
            required_observer_reports=1,
        )
        election = authoring.create_draft(created_by, proposal)
    if election.state == Election.State.DRAFT:
        election = lifecycle.start_ceremony(created_by, election)
    if election.state == Election.State.CEREMONY:
        run_demo_ceremony(election, trustees, key_dir)
        election.refresh_from_db()
    if election.state == Election.State.SCHEDULED:
        election = services.open_election(election)
    return election


# -- the demo city's published election ------------------------------------------------------------
DEMO_PUBLISHED_SLUG = "demo-2025"
DEMO_PUBLISHED_TITLE = "Demo City vote 2025 (published)"
DEMO_PUBLISHED_VOTERS = 40
DEMO_PUBLISHED_SEED = 2025


def demo_published_election() -> Election | None:
    """The demo city's published election, once the seed has made it."""
    return (
        Election.objects.filter(
            slug__startswith=DEMO_PUBLISHED_SLUG,
            title=DEMO_PUBLISHED_TITLE,
            state=Election.State.PUBLISHED,
        )
        .order_by("pk")
        .first()
    )


def seed_demo_published_election(
    created_by: AbstractBaseUser,
    trustees: Sequence[AbstractBaseUser] | None = None,
    key_dir: Path | None = None,
) -> Election:
    """Last year's election, simulated once through the real services (voting.simulation) with
    40 residents, re-votes and challenged ballots, 2 of the 3 demo trustees decrypting: the demo
    city's published election with results. Later calls return it unchanged.

    A run stopped half-way leaves an unpublished election behind (the simulated residents'
    secrets lived only in memory): it is cancelled and the simulation runs again under the next
    free slug (demo-2025-2, ...).
    """
    ours = Election.objects.filter(slug__startswith=DEMO_PUBLISHED_SLUG, title=DEMO_PUBLISHED_TITLE)
    election = demo_published_election()
    if election is not None:
        demo_observer_report(election)
        return election
    for stopped in ours.exclude(state=Election.State.CANCELLED):
        logger.warning(
            "demo: %s stopped as %s; cancelling it and simulating again",
            stopped.slug,
            stopped.state,
        )
        try:
            lifecycle.cancel(created_by, stopped, "the demo seed stopped half-way")
        except DomainError as exc:
            logger.warning("demo: %s could not be cancelled: %s", stopped.slug, exc)
    slug, n = DEMO_PUBLISHED_SLUG, 1
    while Election.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{DEMO_PUBLISHED_SLUG}-{n}"
    key_dir = (
        key_dir if key_dir is not None else Path(tempfile.mkdtemp(prefix="civic-demo-trustees-"))
    )
    plan = Plan(
        voters=DEMO_PUBLISHED_VOTERS,
        trustees=len(DEMO_TRUSTEES),
        threshold=DEMO_THRESHOLD,
        absent=1,
        seed=DEMO_PUBLISHED_SEED,
        slug=slug,
        title=DEMO_PUBLISHED_TITLE,
    )
    trustees = list(trustees) if trustees is not None else demo_trustee_accounts()
    outcome = simulate_election(plan, official=created_by, trustees=trustees, key_dir=key_dir)
    demo_observer_report(outcome.election)
    return outcome.election


def demo_observer_state() -> Path:
    """The demo observer's state folder: scripts/run_demo.sh runs ``civic_observer init`` there
    and registers its key (``ledger_register_observer``) before it seeds the demo city, and the
    demo's observer node (Procfile.dev) follows the ledger from it."""
    return Path(settings.VAR_DIR) / "observer"


def demo_observer_report(election: Election, state: Path | None = None) -> AuditReport | None:
    """The demo observer's report on the published demo election, made and stored once.

    What ``civic-observer audit-election --post`` does, in-process: the record the server
    streams (voting.services.record_export), the observer's audit of it
    (civic_observer.audit.audit_election) against a copy of the election log's entries (read
    from the city's database: at seeding the observer node has not mirrored the log yet), signed
    with the key in the demo observer's state folder, and stored through
    voting.services.audit_reports.submit_report, which verifies it like any posted report (a
    registered, active observer's key; its signature; this record's hash).

    Once: when this observer already reported on the election, that report is returned and
    nothing is audited. Without the observer's key, or with a key the city has not registered,
    nothing is stored (a warning says so) and None is returned; the next seed adds the report.
    """
    state = state if state is not None else demo_observer_state()
    try:
        signer = load_signer(state)
    except StateError as exc:
        logger.warning("demo: no observer report on %s: %s", election.slug, exc)
        return None
    observer = ledger_selectors.observer_with_key(str(signer.verifier))
    if observer is None:
        logger.warning(
            "demo: no observer report on %s: the observer key in %s is not registered "
            "(manage.py ledger_register_observer)",
            election.slug,
            state,
        )
        return None
    earlier = tally_selectors.observer_report_of(election, observer)
    if earlier is not None:
        return earlier
    text = "".join(record_export.stream_record(election)).encode("utf-8")
    log_copy = LogCopy(
        tally_selectors.election_log_entries(election), "the city's database, at the demo seed"
    )
    report = audit_election(text, log_copy)
    if not report.ok:
        logger.error(
            "demo: the observer's audit of %s failed:\n%s", election.slug, "\n".join(report.lines())
        )
    report.sign(signer)
    submission = audit_reports.submit_report(slug=election.slug, document=report.to_json())
    logger.info(
        "demo: %s's report on %s stored (%s)",
        observer.name,
        election.slug,
        "pass" if submission.report.passed else "fail",
    )
    return submission.report
