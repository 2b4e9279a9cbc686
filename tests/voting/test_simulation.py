"""manage.py simulate_election: a whole election through the real services ends published with
the totals of the votes the simulation cast; bad arguments are refused. Runs on whichever
database the suite runs on (SQLite by default, PostgreSQL with DATABASE_URL)."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from civic.roles import Role
from ledger.models import OutboxEntry
from tests.identity.support_identity import identity_settings  # noqa: F401
from tests.voting.ballot_box_support import box_settings  # noqa: F401
from tests.voting.tally_support import account
from voting.models import CastBallot, DecryptionShare, Election, EligibilityGrant
from voting.simulation import SIM_CONTESTS, Plan, SimulationError, simulate_election

pytestmark = [
    pytest.mark.django_db(transaction=True),  # the close's tasks run on commit, as in production
    pytest.mark.slow,
    pytest.mark.usefixtures("box_settings", "identity_settings"),
]


def test_a_simulated_election_publishes_the_totals_of_the_votes_it_cast() -> None:
    plan = Plan(
        voters=6, revote_share=0.34, challenge_share=0.34, trustees=3, threshold=2, absent=1, seed=7
    )
    outcome = simulate_election(plan, official=account("sim-clerk", Role.OFFICIAL))
    election = Election.objects.get(slug=outcome.slug)
    assert election.state == Election.State.PUBLISHED
    assert election.tally.results["contests"] == outcome.expected
    assert election.tally.results["trustees"] == [1, 2]  # trustee 3 stayed absent
    assert outcome.decrypted_by == [1, 2]
    assert DecryptionShare.objects.filter(election=election).count() == 2
    # every voter got one real token through the eligibility path; 2 re-voted, 2 challenged first
    assert EligibilityGrant.objects.filter(election=election).count() == 6
    assert (outcome.revotes, outcome.challenged, outcome.cast) == (2, 2, 8)
    ballots = CastBallot.objects.filter(election=election)
    assert ballots.filter(kind=CastBallot.Kind.CAST).count() == 8
    assert ballots.filter(kind=CastBallot.Kind.CAST, counting=True).count() == 6
    assert ballots.filter(kind=CastBallot.Kind.SPOILED).count() == 2
    # the invalid casts were refused and stored nothing
    assert outcome.refused == ["bad_key_signature", "proof_invalid"]
    assert election.tally.frozen["counting"] == 6
    for contest in SIM_CONTESTS:  # one-choice questions: one vote per counting ballot
        if contest["type"] != "approval":
            assert sum(outcome.expected[contest["id"]].values()) == 6
    kinds = set(
        OutboxEntry.objects.filter(log__name=election.log_name).values_list("kind", flat=True)
    )
    assert {"ballot.cast", "ballot.spoiled", "election.box_frozen", "election.results"} <= kinds


def test_the_same_seed_casts_the_same_votes() -> None:
    official = account("sim-clerk", Role.OFFICIAL)
    first = simulate_election(Plan(voters=3, seed=11, invalid_casts=0), official=official)
    second = simulate_election(Plan(voters=3, seed=11, invalid_casts=0), official=official)
    assert first.slug != second.slug and first.expected == second.expected


def test_the_command_prints_only_the_slug_and_shows_progress_on_stderr() -> None:
    out, err = StringIO(), StringIO()
    call_command(
        "simulate_election", "--voters", "2", "--trustees", "2", "--threshold", "1",
        "--absent", "1", "--seed", "3", "--slug", "sim-command", stdout=out, stderr=err,
    )  # fmt: skip
    assert out.getvalue() == "sim-command\n"
    assert "sim-command: published" in err.getvalue()
    election = Election.objects.get(slug="sim-command")
    assert election.state == Election.State.PUBLISHED
    assert election.tally.results["trustees"] == [1]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--voters", "0"], "--voters must be between 1 and"),
        (["--voters", "3", "--revote-share", "1.5"], "--revote-share must be between 0 and 1"),
        (
            ["--voters", "3", "--challenge-share", "-0.1"],
            "--challenge-share must be between 0 and 1",
        ),
        (
            ["--voters", "3", "--trustees", "3", "--threshold", "4"],
            "--threshold must be between 1 and --trustees",
        ),
        (
            ["--voters", "3", "--threshold", "2", "--absent", "2"],
            "--absent must leave at least --threshold",
        ),
        (["--voters", "3", "--trustees", "0"], "--trustees must be between 1 and"),
        (["--voters", "many"], "invalid int value"),
        ([], "--voters"),
    ],
)
def test_bad_arguments_are_refused_with_a_message(argv: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        call_command("simulate_election", *argv, stdout=StringIO(), stderr=StringIO())
    assert not Election.objects.exists()


def test_a_slug_that_exists_is_refused(settings: Any) -> None:
    call_command(
        "simulate_election",
        "--voters",
        "1",
        "--slug",
        "sim-taken",
        stdout=StringIO(),
        stderr=StringIO(),
    )
    with pytest.raises(CommandError, match="exists already"):
        call_command(
            "simulate_election",
            "--voters",
            "1",
            "--slug",
            "sim-taken",
            stdout=StringIO(),
            stderr=StringIO(),
        )
    with pytest.raises(SimulationError, match="exists already"):
        simulate_election(Plan(voters=1, slug="sim-taken"))
