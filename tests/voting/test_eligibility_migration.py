"""Moving the eligibility tables from identity to voting keeps every key and grant (issue 9).

A database migrated by the old code (keys and grants in identity's tables) is migrated forward
and its rows are read back through voting's models; then backward and forward again.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.conf import settings
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from voting.models import EligibilityGrant, EligibilityKey

OLD = [("identity", "0001_initial"), ("voting", "0002_election_context")]
NEW = [("identity", "0002_eligibility_moves_to_voting"), ("voting", "0003_eligibility_from_identity")]


def migrate(targets: list[tuple[str, str]]) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return MigrationExecutor(connection)


@pytest.fixture
def back_to_latest() -> Iterator[None]:
    """Whatever happens in the test, leave the schema at the latest migrations."""
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_the_moved_models_are_the_live_ones() -> None:
    """The historical models read above are the tables the live models use."""
    assert EligibilityKey._meta.db_table == "voting_eligibilitykey"
    assert EligibilityGrant._meta.db_table == "voting_eligibilitygrant"


@pytest.mark.django_db(transaction=True)
def test_keys_and_grants_made_by_the_old_code_survive_the_move(back_to_latest: None) -> None:
    old = migrate(OLD).loader.project_state(OLD).apps
    user = old.get_model(settings.AUTH_USER_MODEL).objects.create(username="voter")
    election = old.get_model("voting", "Election").objects.create(
        slug="old-e", title="Old", created_by=user, state="open"
    )
    old.get_model("identity", "ElectionSigningKey").objects.create(
        election=election, variant="RSABSSA-SHA384-PSS-Randomized", key_id="ab" * 32,
        public_key_pem="PEM", private_key_sealed="sealed",
    )
    old.get_model("identity", "EligibilityGrant").objects.create(
        election=election, user=user, did="did:key:z6Mkold", commitment="c" * 64, commitment_salt="s" * 64
    )

    new = migrate(NEW).loader.project_state(NEW).apps
    assert set(connection.introspection.table_names()) >= {"voting_eligibilitykey", "voting_eligibilitygrant"}
    assert "identity_electionsigningkey" not in connection.introspection.table_names()
    key = new.get_model("voting", "EligibilityKey").objects.get()
    assert (key.election.slug, key.key_id, key.private_key_sealed) == ("old-e", "ab" * 32, "sealed")
    grant = new.get_model("voting", "EligibilityGrant").objects.get()
    assert (grant.election.slug, grant.user.username, grant.did) == ("old-e", "voter", "did:key:z6Mkold")

    # One grant per citizen per election still holds, under voting's constraint names.
    constraints = connection.introspection.get_constraints(connection.cursor(), "voting_eligibilitygrant")
    assert {"voting_one_token_per_citizen", "voting_one_token_per_did"} <= set(constraints)

    # And the step reverses: the rows go back to identity's tables.
    back = migrate(OLD).loader.project_state(OLD).apps
    assert back.get_model("identity", "ElectionSigningKey").objects.get().key_id == "ab" * 32
    assert back.get_model("identity", "EligibilityGrant").objects.get().did == "did:key:z6Mkold"
