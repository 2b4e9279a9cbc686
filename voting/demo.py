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
import os
import secrets
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import httpx
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.utils import timezone

from civic.roles import Role
from civic.services import create_user_with_role
from civic_votecrypto import trustee_client, trustee_file
from voting.models import Election
from voting.services import authoring, lifecycle
from voting.services import elections as services
from voting.services.api_credentials import create_credential

DEMO_TRUSTEES = ("trustee-a", "trustee-b", "trustee-c")
DEMO_THRESHOLD = 2
IN_PROCESS_SERVER = "https://localhost"  # https: no redirect when DEBUG is off
MAX_DEMO_STEPS = 40

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


@contextmanager
def in_process_transport() -> Iterator[httpx.WSGITransport]:
    """httpx requests into this process's Django app, on the caller's database connection.

    Django closes "old" connections around every request; in-process, that would be the
    caller's own (and its transaction), so the hooks are off meanwhile, as in Django's test client.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    httpx_log = logging.getLogger("httpx")
    level = httpx_log.level
    httpx_log.setLevel(logging.WARNING)  # one line per request would drown the seed's output
    try:
        yield httpx.WSGITransport(app=WSGIHandler())
    finally:
        httpx_log.setLevel(level)
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


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


def _passphrase(key_dir: Path, username: str) -> str:
    path = key_dir / f"{username}.passphrase"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(18))
    return path.read_text().strip()


def run_demo_ceremony(election: Election, trustees: Sequence[AbstractBaseUser], key_dir: Path) -> None:
    """Every demo trustee's ceremony client, stepped in turn until all are done."""
    key_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    with in_process_transport() as transport:
        runs, servers = [], []
        for user in trustees:
            token = create_credential(user, "demo seed").token
            server = trustee_client.CeremonyServer(IN_PROCESS_SERVER, election.slug, token, transport=transport)
            servers.append(server)
            passphrase = _passphrase(key_dir, user.get_username())
            runs.append(
                trustee_client.CeremonyRun(
                    server,
                    key_dir / f"{user.get_username()}-{election.slug}.key",
                    lambda _confirm, p=passphrase: p,
                    kdf_log2_n=trustee_file.MIN_LOG2_N,
                )
            )
        try:
            done: set[int] = set()
            for _ in range(MAX_DEMO_STEPS):
                for n, run in enumerate(runs):
                    if n not in done and run.step().done:
                        done.add(n)
                if len(done) == len(runs):
                    return
            raise RuntimeError("the demo key ceremony did not finish")
        finally:
            for server in servers:
                server.close()


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
    key_dir = key_dir if key_dir is not None else Path(tempfile.mkdtemp(prefix="civic-demo-trustees-"))
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
