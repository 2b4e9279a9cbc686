"""A complete simulated election through the real code paths, for demos, tests and benchmarks.

``simulate_election`` drives every step the way the people involved would:

- an official authors the election (``voting.services.authoring``) and starts the key ceremony;
- each trustee runs the trustee program's network client against this application in-process
  (``run_ceremony_in_process``: httpx through a WSGI transport, the real ceremony API);
- residents become eligible the real way, over the identity and eligibility HTTP API in-process
  (Django's test client): bind a did:key, claim residency, an official approves the claim, the
  wallet presents the credential and receives an RFC 9474 blind-signed token, unblinded here;
- ballots are encrypted with the native backend and cast (and challenged) through
  ``voting.services.ballot_box``, some residents re-vote, and a few invalid casts are refused;
- the official closes the box; the freeze, chunked aggregation and publishing Celery tasks run
  inline (eager) and the ledger's sequencer runs in-process;
- the trustees who are present run the trustee program's ``decrypt`` client in-process
  (``trustee_client.run_decryption``: it re-sums the published ballots before decrypting), and
  the server combines the first ``threshold`` valid shares and publishes the results.

The simulation keeps the choices of every counting ballot, so a caller can compare the
published totals with the known votes.
"""

from __future__ import annotations

import base64
import copy
import json
import logging
import os
import random
import secrets
import tempfile
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Protocol

import httpx
from celery.exceptions import AlwaysEagerIgnored
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from django.utils import timezone

from civic.celery import app as celery_app
from civic.errors import DomainError
from civic.roles import Role
from civic.services import create_user_with_role
from civic_votecrypto import group, trustee_client, trustee_file
from civic_votecrypto.ballot import challenge_ballot, encrypt_ballot, new_seed
from identity.core import blind_rsa, credentials, did_key
from identity.core.jcs import canonicalize
from ledger import sequencer
from voting.models import Election, Tally
from voting.selectors import ballot_box as box
from voting.selectors.elections import crypto_context
from voting.selectors.eligibility import token_message
from voting.services import aggregation, authoring, ballot_box, box_freeze, lifecycle, results
from voting.services import elections as election_services
from voting.services.api_credentials import create_credential

MAX_VOTERS = 1_000_000
MAX_TRUSTEES = 10
SIM_OFFICIAL = "simulation-clerk"
SIM_DISTRICT = "central"
IN_PROCESS_HOST = "localhost"
MAX_FREEZE_ATTEMPTS = 5
IN_PROCESS_SERVER = "https://localhost"  # https: no redirect when DEBUG is off
MAX_CEREMONY_STEPS = 40

SIM_CONTESTS: list[dict[str, Any]] = [
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
        "id": "park",
        "type": "one_of_n",
        "title": "Which park gets the new playground?",
        "allow_blank": False,
        "options": [
            {"id": "north", "title": "North park"},
            {"id": "harbour", "title": "Harbour park"},
            {"id": "hill", "title": "Hill park"},
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
]

Choices = dict[str, dict[str, int]]


class SimulationError(ValueError):
    """A plan the simulation cannot run (bad arguments), or a step that did not finish."""


class Progress(Protocol):
    def update(self, n: int = 1) -> Any: ...

    def close(self) -> Any: ...


ProgressFactory = Callable[[str, int], Progress]


class _Silent:
    def update(self, n: int = 1) -> None:
        return None

    def close(self) -> None:
        return None


def no_progress(_description: str, _total: int) -> Progress:
    return _Silent()


@dataclass(frozen=True)
class Plan:
    """What to simulate. Shares are fractions of the voters; ``absent`` trustees never decrypt."""

    voters: int
    revote_share: float = 0.1
    challenge_share: float = 0.05
    trustees: int = 3
    threshold: int = 2
    absent: int = 1
    seed: int | None = None
    slug: str = ""
    title: str = ""
    invalid_casts: int = 2

    def check(self) -> None:
        """Every argument problem at once, as one message."""
        problems = []
        if not 1 <= self.voters <= MAX_VOTERS:
            problems.append(f"--voters must be between 1 and {MAX_VOTERS}")
        for name, share in (
            ("--revote-share", self.revote_share),
            ("--challenge-share", self.challenge_share),
        ):
            if not 0.0 <= share <= 1.0:
                problems.append(f"{name} must be between 0 and 1")
        if not 1 <= self.trustees <= MAX_TRUSTEES:
            problems.append(f"--trustees must be between 1 and {MAX_TRUSTEES}")
        if not 1 <= self.threshold <= self.trustees:
            problems.append("--threshold must be between 1 and --trustees")
        elif not 0 <= self.absent <= self.trustees - self.threshold:
            problems.append("--absent must leave at least --threshold trustees present")
        if self.slug and Election.objects.filter(slug=self.slug).exists():
            problems.append(f"an election {self.slug!r} exists already")
        if problems:
            raise SimulationError("; ".join(problems))


@dataclass
class Outcome:
    """What happened: the election, the known totals of the counting ballots, and counts."""

    election: Election
    expected: dict[str, dict[str, int]]
    cast: int = 0
    revotes: int = 0
    challenged: int = 0
    refused: list[str] = field(default_factory=list)
    decrypted_by: list[int] = field(default_factory=list)

    @property
    def slug(self) -> str:
        return self.election.slug


# -- trustees: the trustee program's network client, in-process ----------------------------------
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


def _passphrase(key_dir: Path, username: str) -> str:
    path = key_dir / f"{username}.passphrase"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(18))
    return path.read_text().strip()


def run_ceremony_in_process(
    election: Election, trustees: Sequence[AbstractBaseUser], key_dir: Path
) -> None:
    """Every trustee's ceremony client, stepped in turn until all are done."""
    key_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    with in_process_transport() as transport:
        runs, servers = [], []
        for user in trustees:
            token = create_credential(user, "in-process ceremony").token
            server = trustee_client.CeremonyServer(
                IN_PROCESS_SERVER, election.slug, token, transport=transport
            )
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
            for _ in range(MAX_CEREMONY_STEPS):
                for n, run in enumerate(runs):
                    if n not in done and run.step().done:
                        done.add(n)
                if len(done) == len(runs):
                    return
            raise RuntimeError("the in-process key ceremony did not finish")
        finally:
            for server in servers:
                server.close()


# -- residents: the wallet's flow over HTTP, in-process -------------------------------------------
def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class _Browser:
    """One signed-in account's requests into this application (https, the local host)."""

    def __init__(self, user: AbstractBaseUser) -> None:
        self.client = Client(HTTP_HOST=IN_PROCESS_HOST)
        self.client.force_login(user)

    def get(self, url: str) -> dict[str, Any]:
        return self._answer(self.client.get(url, secure=True), url)

    def post(self, url: str, body: Any = None) -> dict[str, Any]:
        response = self.client.post(
            url,
            data=json.dumps(body if body is not None else {}),
            content_type="application/json",
            secure=True,
        )
        return self._answer(response, url)

    @staticmethod
    def _answer(response: Any, url: str) -> dict[str, Any]:
        if response.status_code >= 300:
            raise SimulationError(
                f"{url} answered {response.status_code}: {response.content[:300]!r}"
            )
        return response.json()


@dataclass
class Voter:
    """What a resident's booth holds for the election: the ballot key and the unblinded token."""

    key: Ed25519PrivateKey
    token: dict[str, str]

    @property
    def public(self) -> str:
        return _b64url(self.key.public_key().public_bytes_raw())

    def sign(self, context: bytes, slug: str, document: dict[str, Any]) -> str:
        return _b64url(self.key.sign(box.signed_message(context, slug, canonicalize(document))))


def _resident(username: str, clerk: _Browser) -> tuple[_Browser, Any, str, dict[str, Any]]:
    """A citizen account with a bound did:key and an approved residency credential."""
    user = create_user_with_role(
        username=username, email=f"{username}@simulation.invalid", password=None, role=Role.CITIZEN
    )  # type: ignore[arg-type]
    browser = _Browser(user)
    private_key, did = did_key.generate()
    challenge = browser.post("/api/identity/did/challenge")
    message = "\n".join(
        ["civic-did-binding/v1", challenge["domain"], did, challenge["challenge"]]
    ).encode()
    browser.post(
        "/api/identity/did/bind",
        {
            "did": did,
            "challenge": challenge["challenge"],
            "signature": _b64url(private_key.sign(message)),
        },
    )
    claim = browser.post(
        "/api/identity/claims",
        {"legal_name": f"{username} Resident", "address": "1 Main St", "district": SIM_DISTRICT},
    )
    approved = clerk.post(f"/api/identity/claims/{claim['id']}/approve", {})
    document = browser.get(f"/api/identity/credentials/{approved['id']}")
    return browser, private_key, did, document


def issue_voter(username: str, slug: str, clerk: _Browser) -> Voter:
    """Resident -> presentation -> blinded token request -> finalized RFC 9474 token."""
    browser, private_key, did, credential = _resident(username, clerk)
    keys = browser.get(f"/api/voting/elections/{slug}/eligibility-key")["keys"]
    key = keys[0] if len(keys) == 1 else next(k for k in keys if k["district"] == SIM_DISTRICT)
    public_key = blind_rsa.public_key_from_pem(key["public_key_pem"])
    ballot_key = Ed25519PrivateKey.generate()
    input_msg = blind_rsa.prepare(token_message(slug, ballot_key.public_key().public_bytes_raw()))
    blinding = blind_rsa.blind(public_key, input_msg)
    challenge = browser.post(f"/api/voting/elections/{slug}/token-challenge")
    vp = credentials.sign_presentation(
        credentials.presentation(did, [credential]),
        private_key,
        did_key.verification_method_id(did),
        challenge=challenge["challenge"],
        domain=challenge["domain"],
    )
    answer = browser.post(
        f"/api/voting/elections/{slug}/tokens",
        {
            "blinded_message": _b64url(blinding.blinded_msg),
            "presentation": vp,
            "key_id": key["key_id"],
        },
    )
    signature = blind_rsa.finalize(
        public_key, input_msg, _b64url_decode(answer["blind_signature"]), blinding.inv
    )
    token = {
        "key_id": answer["key_id"],
        "prefix": _b64url(input_msg[:32]),
        "signature": _b64url(signature),
    }
    return Voter(ballot_key, token)


# -- choices ---------------------------------------------------------------------------------------
def random_choices(contests: list[dict[str, Any]], rng: random.Random) -> Choices:
    """A valid random choice per contest (yes/no/abstain and one-of-n: one; approval: up to max)."""
    choices: Choices = {}
    for contest in contests:
        ids = [o["id"] for o in contest["options"]]
        if contest["type"] == "approval":
            picked = set(
                rng.sample(
                    ids, rng.randint(contest.get("min_selections", 0), contest["max_selections"])
                )
            )
        else:
            picked = {rng.choice(ids)}
        choices[contest["id"]] = {o: int(o in picked) for o in ids}
    return choices


def _add(totals: dict[str, dict[str, int]], choices: Choices) -> None:
    for contest, options in choices.items():
        for option, value in options.items():
            totals[contest][option] += value


# -- the inline task runner ------------------------------------------------------------------------
@contextmanager
def inline_tasks() -> Iterator[None]:
    """Celery tasks queued meanwhile run in this process (errors raised), as in the embedded
    default without a worker; restored afterwards."""
    saved = (celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates)
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    try:
        with warnings.catch_warnings():
            # the ledger's sequencing kick goes by name (send_task, never eager): the simulation
            # runs the sequencer itself before it closes the box
            warnings.simplefilter("ignore", AlwaysEagerIgnored)
            yield
    finally:
        celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = saved


def _account(username: str, role: Role) -> AbstractBaseUser:
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        user = create_user_with_role(
            username=username,
            email=f"{username}@simulation.invalid",
            password=secrets.token_urlsafe(18),
            role=role,
        )
    return user


# -- the election ----------------------------------------------------------------------------------
def simulate_election(
    plan: Plan,
    *,
    official: AbstractBaseUser | None = None,
    trustees: Sequence[AbstractBaseUser] | None = None,
    progress: ProgressFactory = no_progress,
    key_dir: Path | None = None,
    say: Callable[[str], None] = lambda _line: None,
) -> Outcome:
    """Run ``plan`` from draft to published results; the outcome knows the counting votes."""
    plan.check()
    rng = random.Random(plan.seed)
    slug = plan.slug or f"sim-{timezone.now():%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"
    official = official or _account(SIM_OFFICIAL, Role.OFFICIAL)
    if trustees is None:
        trustees = [
            _account(f"{slug}-trustee-{i}"[:150], Role.TRUSTEE) for i in range(1, plan.trustees + 1)
        ]
    elif len(trustees) != plan.trustees:
        raise SimulationError(
            f"the plan names {plan.trustees} trustees, {len(trustees)} accounts given"
        )
    if key_dir is None:
        with tempfile.TemporaryDirectory(prefix="civic-sim-trustees-") as folder:
            return _simulate(plan, slug, official, list(trustees), rng, Path(folder), progress, say)
    return _simulate(plan, slug, official, list(trustees), rng, key_dir, progress, say)


def _simulate(
    plan: Plan,
    slug: str,
    official: AbstractBaseUser,
    trustees: list[AbstractBaseUser],
    rng: random.Random,
    key_dir: Path,
    progress: ProgressFactory,
    say: Callable[[str], None],
) -> Outcome:
    now = timezone.now()
    proposal = authoring.Proposal(
        slug=slug,
        title=plan.title or f"Simulated election {slug}",
        description="A simulated election: every ballot was cast by `manage.py simulate_election`.",
        district="",
        questions=copy.deepcopy(SIM_CONTESTS),
        opens_at=now,
        closes_at=now + timedelta(days=1),
        trustees=[user.get_username() for user in trustees],
        threshold=plan.threshold,
        required_observer_reports=1,
    )
    with inline_tasks():
        say(f"{slug}: authoring and key ceremony ({plan.threshold} of {plan.trustees} trustees)")
        election = authoring.create_draft(official, proposal)
        election = lifecycle.start_ceremony(official, election)
        run_ceremony_in_process(election, trustees, key_dir)
        election.refresh_from_db()
        if election.state != Election.State.SCHEDULED:
            raise SimulationError(f"the key ceremony left {slug} {election.state}")
        election = election_services.open_election(election)
        outcome = Outcome(
            election, {c["id"]: {o["id"]: 0 for o in c["options"]} for c in SIM_CONTESTS}
        )
        _vote(plan, outcome, rng, official, progress)
        sequencer.sequence_all()
        say(
            f"{slug}: closing, freezing and summing {outcome.cast - outcome.revotes} counting ballots"
        )
        lifecycle.close_early(official, election, "simulation: every voter has voted")
        tally = _freeze_and_sum(election)
        _decrypt(plan, outcome, trustees, key_dir, progress, say)
        results.publish_results(tally.pk)  # idempotent, as above
        sequencer.sequence_all()
    election.refresh_from_db()
    if election.state != Election.State.PUBLISHED:
        raise SimulationError(f"{slug} ended {election.state}, not published")
    return outcome


def _vote(
    plan: Plan,
    outcome: Outcome,
    rng: random.Random,
    official: AbstractBaseUser,
    progress: ProgressFactory,
) -> None:
    election = outcome.election
    slug = election.slug
    ctx = crypto_context(election)
    clerk = _Browser(official)
    revoters = set(rng.sample(range(plan.voters), round(plan.voters * plan.revote_share)))
    challengers = set(rng.sample(range(plan.voters), round(plan.voters * plan.challenge_share)))
    bar = progress("voters", plan.voters)
    try:
        with group.use_backend("native"):
            for n in range(plan.voters):
                voter = issue_voter(f"{slug}-voter-{n + 1}"[:150], slug, clerk)
                if n in challengers:
                    _challenge(election, ctx, voter, random_choices(SIM_CONTESTS, rng))
                    outcome.challenged += 1
                final = random_choices(SIM_CONTESTS, rng)
                if n in revoters:
                    _cast(election, ctx, voter, random_choices(SIM_CONTESTS, rng))
                    outcome.revotes += 1
                    outcome.cast += 1
                _cast(election, ctx, voter, final)
                outcome.cast += 1
                _add(outcome.expected, final)
                if n < plan.invalid_casts:
                    outcome.refused.append(_refused_cast(election, ctx, voter, n))
                bar.update(1)
    finally:
        bar.close()


def _ballot_id() -> str:
    return f"sim-{secrets.token_hex(12)}"


def _cast(election: Election, ctx: Any, voter: Voter, choices: Choices) -> None:
    ballot = encrypt_ballot(ctx, _ballot_id(), choices).to_json()
    body = {"ballot": ballot, "ballot_key": voter.public, "token": voter.token,
            "signature": voter.sign(box.CAST_CONTEXT, election.slug, ballot)}  # fmt: skip
    ballot_box.cast_ballot(election, body)


def _challenge(election: Election, ctx: Any, voter: Voter, choices: Choices) -> None:
    seed = new_seed()
    ballot = encrypt_ballot(ctx, _ballot_id(), choices, seed)
    challenged = challenge_ballot(ballot, seed, choices).to_json()
    body = {"challenged": challenged, "ballot_key": voter.public, "token": voter.token,
            "signature": voter.sign(box.SPOIL_CONTEXT, election.slug, challenged)}  # fmt: skip
    ballot_box.spoil_ballot(election, body)


def _refused_cast(election: Election, ctx: Any, voter: Voter, n: int) -> str:
    """An invalid cast the box must refuse: a signature by another key, or a broken proof.
    Returns the refusal's code; a cast that went through is an error of the box."""
    ballot = encrypt_ballot(
        ctx, _ballot_id(), random_choices(SIM_CONTESTS, random.Random(n))
    ).to_json()
    if n % 2 == 0:
        stranger = Voter(Ed25519PrivateKey.generate(), voter.token)
        signature = stranger.sign(box.CAST_CONTEXT, election.slug, ballot)
    else:
        selection = ballot["contests"][0]["selections"][0]
        selection["proof"] = copy.deepcopy(ballot["contests"][0]["selections"][1]["proof"])
        signature = voter.sign(box.CAST_CONTEXT, election.slug, ballot)
    body = {
        "ballot": ballot,
        "ballot_key": voter.public,
        "token": voter.token,
        "signature": signature,
    }
    try:
        ballot_box.cast_ballot(election, body)
    except DomainError as exc:
        return exc.code
    raise SimulationError("the ballot box accepted an invalid ballot")


def _freeze_and_sum(election: Election) -> Tally:
    """The close queued the freeze, which queues the chunks and the combining step; they ran
    inline once the close committed. Each step is idempotent, so they are called here again:
    a no-op after the inline run, the work itself when no commit happened (inside a caller's
    transaction, say) or when the freeze still waited for the sequencer."""
    for _ in range(MAX_FREEZE_ATTEMPTS):
        election.refresh_from_db()
        if election.state != Election.State.CLOSED:
            break
        sequencer.sequence_all()
        box_freeze.freeze_box(election.pk)
    tally = Tally.objects.filter(election=election).first()
    if tally is None:
        raise SimulationError(f"{election.slug}: the box did not freeze")
    for index in range(tally.chunks_total):
        aggregation.compute_chunk(tally.pk, index)
    aggregation.combine(tally.pk)
    return tally


def _decrypt(
    plan: Plan,
    outcome: Outcome,
    trustees: list[AbstractBaseUser],
    key_dir: Path,
    progress: ProgressFactory,
    say: Callable[[str], None],
) -> None:
    """The present trustees run the trustee program's decrypt client against this app."""
    election = outcome.election
    present = trustees[: plan.trustees - plan.absent]
    bar = progress("trustees", len(present))
    try:
        with in_process_transport() as transport:
            for index, user in enumerate(present, start=1):
                election.refresh_from_db()
                if election.state == Election.State.PUBLISHED:
                    break
                token = create_credential(user, "simulation").token
                server = trustee_client.TallyServer(
                    IN_PROCESS_SERVER, election.slug, token, transport=transport
                )
                name = user.get_username()
                try:
                    trustee_client.run_decryption(
                        server,
                        key_dir / f"{name}-{election.slug}.key",
                        lambda n=name: _passphrase(key_dir, n),
                        say=say,
                    )
                finally:
                    server.close()
                outcome.decrypted_by.append(index)
                bar.update(1)
    finally:
        bar.close()
