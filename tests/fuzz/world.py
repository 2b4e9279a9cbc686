"""A small city with real data in every state the API can be asked about, for the fuzzer and the
authorization matrix: accounts of every role (and a citizen of another district), their sessions
and API credentials, elections in every state that persists (draft, ceremony, scheduled, open,
published, cancelled), a residency claim pending, an issued credential, a registered observer, a
stored ceremony message, tally shares, ballots and ledger entries.

Everything is made through the real use cases (voting.simulation's in-process trustees and
residents for the published election), so the fuzzer's requests reach the code behind 401/403 and
404. Used by tests/fuzz (SQLite or PostgreSQL, a transactional test database) and bench/fuzz.py.
"""

from __future__ import annotations

import base64
import tempfile
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.test import Client
from django.utils import timezone

from civic.roles import Role
from civic.services import create_user_with_role
from civic_tlog import note
from civic_votecrypto import dkg, group
from civic_votecrypto.election import election_from_manifest
from civic_votecrypto.manifest import Manifest
from identity.core import did_key
from identity.models import IssuedCredential
from identity.services import dids
from ledger import sequencer
from ledger import services as ledger_services
from ledger.models import Log, OutboxEntry
from voting.models import AuditReport, CastBallot, Election
from voting.services import authoring, lifecycle, record_export
from voting.services import elections as election_services
from voting.services.api_credentials import create_credential
from voting.simulation import (
    SIM_CONTESTS,
    Plan,
    _Browser,
    simulate_election,
)

PASSWORD = "a long passphrase 42"
HOME_DISTRICT = "central"  # voting.simulation's residents live here
OTHER_DISTRICT = "harbour"
CSRF_TOKEN = "fuzzcsrf" * 4  # 32 characters: Django's unmasked secret form

# The roles a request is made as. "citizen-elsewhere" is a citizen whose credential is for another
# district than the elections of HOME_DISTRICT.
ROLES = ("anonymous", "citizen", "official", "trustee", "observer", "citizen-elsewhere")


@dataclass
class World:
    users: dict[str, AbstractBaseUser | None]
    sessions: dict[str, str] = field(default_factory=dict)
    bearer: dict[str, str] = field(default_factory=dict)
    slugs: dict[str, str] = field(default_factory=dict)  # state -> slug
    values: dict[str, list[Any]] = field(default_factory=dict)  # path parameter -> real values

    def cookies(self, role: str) -> dict[str, str]:
        """A browser's: the session and its CSRF cookie."""
        if role == "anonymous":
            return {}
        return {settings.SESSION_COOKIE_NAME: self.sessions[role], settings.CSRF_COOKIE_NAME: CSRF_TOKEN}

    def headers(self, role: str) -> dict[str, str]:
        """The CSRF token a page sends with a write, and a script's Bearer credential: official
        and trustee send both, as a script of theirs may, so every view finds the credential it
        accepts."""
        if role == "anonymous":
            return {}
        headers = {"X-CSRFToken": CSRF_TOKEN}
        if role in self.bearer:
            headers["Authorization"] = f"Bearer {self.bearer[role]}"
        return headers

    def client(self, role: str) -> Client:
        """A Django test client logged in as ``role`` (anonymous: logged out)."""
        client = Client()
        user = self.users.get(role)
        if user is not None:
            client.force_login(user)
        return client


def _account(username: str, role: Role) -> AbstractBaseUser:
    return create_user_with_role(
        username=username, email=f"{username}@fuzz.invalid", password=PASSWORD, role=role
    )


def _session(user: AbstractBaseUser) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def _proposal(
    slug: str, trustees: list[AbstractBaseUser], district: str = "", *, opens_now: bool = False
) -> authoring.Proposal:
    now = timezone.now() - (timedelta(days=1) if opens_now else timedelta(0))
    return authoring.Proposal(
        slug=slug,
        title=f"Fuzz {slug}",
        description="An election of the fuzzing city.",
        district=district,
        questions=[dict(c) for c in SIM_CONTESTS],
        opens_at=now + timedelta(days=1),
        closes_at=now + timedelta(days=2),
        trustees=[t.get_username() for t in trustees],
        threshold=2,
        required_observer_reports=1,
    )


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _claimant(username: str, district: str, clerk: _Browser | None) -> tuple[AbstractBaseUser, int]:
    """A citizen with a bound did:key and a residency claim for ``district``: approved by
    ``clerk`` (an official's browser) when given, else left pending. (account, claim id)"""
    user = _account(username, Role.CITIZEN)
    browser = _Browser(user)
    private_key, did = did_key.generate()
    challenge = browser.post("/api/identity/did/challenge")
    message = dids.binding_message(did, challenge["challenge"], challenge["domain"])
    browser.post(
        "/api/identity/did/bind",
        {"did": did, "challenge": challenge["challenge"], "signature": _b64url(private_key.sign(message))},
    )
    claim = browser.post(
        "/api/identity/claims",
        {"legal_name": f"{username} Resident", "address": "1 Main St", "district": district},
    )
    if clerk is not None:
        clerk.post(f"/api/identity/claims/{claim['id']}/approve", {})
    return user, claim["id"]


def _keyed(election: Election) -> Election:
    """The key ceremony's outcome, made with the pure DKG in one go (the simulated election below
    runs the trustees' real clients; here only the resulting state matters): scheduled."""
    manifest = Manifest.from_json(election.manifest)
    with group.use_backend("native"):
        transcript, _shares = dkg.run_ceremony(
            election_from_manifest(manifest, election.trustees.count(), election.threshold).params
        )
    election_services.publish_election_context(
        election=election, manifest=manifest, transcript=transcript
    )
    lifecycle.complete_ceremony(election)
    election.refresh_from_db()
    return election


def build_world(key_dir: Path | None = None) -> World:
    """Seed the city (seconds: a key ceremony by the trustees' own clients and a simulated election)."""
    key_dir = key_dir or Path(tempfile.mkdtemp(prefix="civic-fuzz-trustees-"))
    official = _account("fuzz-official", Role.OFFICIAL)
    trustees = [_account(f"fuzz-trustee-{i}", Role.TRUSTEE) for i in (1, 2, 3)]
    observer = _account("fuzz-observer", Role.OBSERVER)
    clerk = _Browser(official)
    citizen, citizen_claim = _claimant("fuzz-citizen", HOME_DISTRICT, clerk)
    elsewhere, _elsewhere_claim = _claimant("fuzz-citizen-elsewhere", OTHER_DISTRICT, clerk)
    _waiting, waiting_claim = _claimant("fuzz-citizen-waiting", HOME_DISTRICT, None)
    _signer, verifier = note.generate_cosigner("observer.fuzz.example")
    ledger_services.register_observer(verifier)

    slugs: dict[str, str] = {}
    draft = authoring.create_draft(official, _proposal("fuzz-draft", trustees))
    slugs["draft"] = draft.slug
    ceremony = authoring.create_draft(official, _proposal("fuzz-ceremony", trustees))
    slugs["ceremony"] = lifecycle.start_ceremony(official, ceremony).slug
    scheduled = authoring.create_draft(official, _proposal("fuzz-scheduled", trustees))
    slugs["scheduled"] = _keyed(lifecycle.start_ceremony(official, scheduled)).slug
    opened = authoring.create_draft(official, _proposal("fuzz-open", trustees, HOME_DISTRICT, opens_now=True))
    slugs["open"] = election_services.open_election(
        _keyed(lifecycle.start_ceremony(official, opened))
    ).slug
    cancelled = authoring.create_draft(official, _proposal("fuzz-cancelled", trustees))
    cancelled = lifecycle.start_ceremony(official, cancelled)
    slugs["cancelled"] = lifecycle.cancel(official, cancelled, "fuzzing: cancelled").slug
    outcome = simulate_election(
        Plan(voters=2, revote_share=0.5, challenge_share=0.5, invalid_casts=0, seed=14,
             slug="fuzz-published"),
        official=official, trustees=trustees, key_dir=key_dir,
    )  # fmt: skip
    slugs["published"] = outcome.slug
    sequencer.sequence_all()
    ledger_services.sign_checkpoints()
    published = Election.objects.get(slug=outcome.slug)
    record_export.seal_record(published)  # its box_frozen entry is sequenced now
    sequencer.sequence_all()
    ballot = CastBallot.objects.filter(election=published).order_by("pk").first()
    entry = OutboxEntry.objects.filter(log__name=published.log_name).exclude(entry_index=None).first()
    users: dict[str, AbstractBaseUser | None] = {
        "anonymous": None,
        "citizen": citizen,
        "official": official,
        "trustee": trustees[0],
        "observer": observer,
        "citizen-elsewhere": elsewhere,
    }
    world = World(
        users=users,
        bearer={
            "official": create_credential(official, "fuzz").token,
            "trustee": create_credential(trustees[0], "fuzz").token,
        },
        slugs=slugs,
    )
    world.sessions = {role: _session(user) for role, user in users.items() if user is not None}
    credential = IssuedCredential.objects.filter(claim__user=citizen).first()
    report = AuditReport.objects.filter(election=published).first()
    world.values = {
        "slug": [slugs[s] for s in ("published", "open", "scheduled", "ceremony", "draft", "cancelled")],
        "log": sorted(Log.objects.values_list("name", flat=True))[:4],
        "index": [1, 0],
        "leaf_hash": [bytes(entry.leaf_hash).hex()] if entry else [],
        "tracking_code": [ballot.tracking_code] if ballot else [],
        "pk": [credential.pk if credential else 1, citizen_claim, waiting_claim],
        "report_id": [report.pk] if report else [],
        "kind": ["announcement", "commitments"],
        "step": ["ceremony", "cancel", "close"],
    }
    return world
