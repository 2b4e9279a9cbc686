"""The demo city's election: a manifest with several question types and a 2-of-3 key ceremony.

The ceremony runs in one process here only because it is a demo; real trustees run
`python -m civic_votecrypto.trustee` on their own machines and exchange only public messages.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from civic.roles import Role
from civic.services import create_user_with_role
from civic_votecrypto import dkg
from civic_votecrypto.election import election_from_manifest
from civic_votecrypto.manifest import Manifest
from voting.models import Election
from voting.services import authoring, lifecycle
from voting.services import elections as services

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
DEMO_TRUSTEES = ("demo-trustee-1", "demo-trustee-2", "demo-trustee-3")


def demo_trustees() -> list[AbstractBaseUser]:
    """Three trustee accounts without a password (the in-process demo ceremony needs no login)."""
    accounts = []
    for username in DEMO_TRUSTEES:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            user = create_user_with_role(username=username, email=f"{username}@demo.invalid", password=None, role=Role.TRUSTEE)
        accounts.append(user)
    return accounts


def seed_demo_election(created_by: AbstractBaseUser) -> Election:
    """Draft, key and open the demo election through the officials' services, once; later calls
    return it unchanged. ``created_by`` must be an official.

    draft -> ceremony -> (the verified context is published) -> scheduled -> open, each step
    logged on the election's own ledger log like any election's.
    """
    election = Election.objects.filter(slug=DEMO_SLUG).first()
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
            trustees=[user.get_username() for user in demo_trustees()],
            threshold=2,
            required_observer_reports=1,
        )
        election = authoring.create_draft(created_by, proposal)
    if election.state == Election.State.DRAFT:
        election = lifecycle.start_ceremony(created_by, election)
    if election.state == Election.State.CEREMONY:
        if election.context is None:
            manifest = Manifest.from_json(election.manifest)
            params = election_from_manifest(manifest, trustees=3, threshold=2).params
            transcript, _shares = dkg.run_ceremony(params, ["Trustee A", "Trustee B", "Trustee C"])
            election = services.publish_election_context(election=election, manifest=manifest, transcript=transcript)
        election = lifecycle.complete_ceremony(election)
    if election.state == Election.State.SCHEDULED:
        election = services.open_election(election)
    return election
