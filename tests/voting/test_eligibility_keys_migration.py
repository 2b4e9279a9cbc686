"""One eligibility key per district (issue 11): a database with the one-key-per-election schema
keeps its keys and grants (as the district-blank key, grants without district), then holds a key
per district; and the step reverses while each election has one key."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

OLD = [("voting", "0006_ballot_box")]
NEW = [("voting", "0007_eligibility_keys_per_district")]
VARIANT = "RSABSSA-SHA384-PSS-Randomized"


def migrate(targets: list[tuple[str, str]]) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return MigrationExecutor(connection)


@pytest.fixture
def back_to_latest() -> Iterator[None]:
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_existing_keys_become_the_blank_district_key_and_districts_then_fit(
    back_to_latest: None,
) -> None:
    old = migrate(OLD).loader.project_state(OLD).apps
    user = old.get_model(settings.AUTH_USER_MODEL).objects.create(username="voter")
    election = old.get_model("voting", "Election").objects.create(
        slug="old-e", title="Old", created_by=user, state="open"
    )
    old.get_model("voting", "EligibilityKey").objects.create(
        election=election,
        variant=VARIANT,
        key_id="ab" * 32,
        public_key_pem="PEM",
        private_key_sealed="sealed",
    )
    old.get_model("voting", "EligibilityGrant").objects.create(
        election=election,
        user=user,
        did="did:key:z6Mkold",
        commitment="c" * 64,
        commitment_salt="s" * 64,
    )

    new = migrate(NEW).loader.project_state(NEW).apps
    keys = new.get_model("voting", "EligibilityKey")
    key = keys.objects.get()
    assert (key.election.slug, key.district, key.key_id, key.private_key_sealed) == (
        "old-e",
        "",
        "ab" * 32,
        "sealed",
    )
    grant = new.get_model("voting", "EligibilityGrant").objects.get()
    assert (grant.did, grant.district) == ("did:key:z6Mkold", "")

    # now several keys per election, one per district
    city = new.get_model("voting", "Election").objects.create(
        slug="city", title="City", created_by_id=user.pk, state="open"
    )
    for district, key_id in (("north", "01" * 32), ("south", "02" * 32)):
        keys.objects.create(
            election=city,
            district=district,
            variant=VARIANT,
            key_id=key_id,
            public_key_pem="P",
            private_key_sealed="s",
        )
    assert keys.objects.filter(election=city).count() == 2
    with pytest.raises(IntegrityError), transaction.atomic():
        keys.objects.create(
            election=city,
            district="north",
            variant=VARIANT,
            key_id="03" * 32,
            public_key_pem="P",
            private_key_sealed="s",
        )
    constraints = connection.introspection.get_constraints(
        connection.cursor(), "voting_eligibilitykey"
    )
    assert "voting_one_key_per_district" in constraints

    # back: possible once each election has one key again; the old rows are still there
    keys.objects.filter(election=city).delete()
    back = migrate(OLD).loader.project_state(OLD).apps
    assert back.get_model("voting", "EligibilityKey").objects.get().key_id == "ab" * 32
    assert back.get_model("voting", "EligibilityGrant").objects.get().did == "did:key:z6Mkold"
