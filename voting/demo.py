"""The demo city's election: a manifest with several question types and a 2-of-3 key ceremony.

The ceremony runs in one process here only because it is a demo; real trustees run
`python -m civic_votecrypto.trustee` on their own machines and exchange only public messages.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser

from civic_votecrypto import dkg
from civic_votecrypto.election import election_from_manifest
from civic_votecrypto.manifest import Manifest
from voting.models import Election
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


def seed_demo_election(created_by: AbstractBaseUser) -> Election:
    """Create, key and open the demo election once; later calls return it unchanged."""
    existing = Election.objects.filter(slug=DEMO_SLUG).first()
    if existing is not None and existing.state != Election.State.DRAFT:
        return existing
    election = existing or services.create_election(
        slug=DEMO_SLUG, title=DEMO_MANIFEST["title"], district="", created_by=created_by
    )
    if election.context is None:
        manifest = Manifest.from_json(DEMO_MANIFEST)
        params = election_from_manifest(manifest, trustees=3, threshold=2).params
        transcript, _shares = dkg.run_ceremony(params, ["Trustee A", "Trustee B", "Trustee C"])
        election = services.publish_election_context(election=election, manifest=manifest, transcript=transcript)
    return services.open_election(election)
