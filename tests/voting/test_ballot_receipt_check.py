"""A real ballot receipt, as the booth saves it after casting through the Django ballot box
(context, ballot, tracking code, the box's answer, the ledger receipt from the tracking API),
passes ``civic-observer check-receipt``; so does the receipt of a spoiled ballot; and a receipt
carrying another voter's ledger receipt fails the binding."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from civic.roles import Role
from civic_observer.cli import main
from civic_tlog import note
from ledger import sequencer
from ledger import services as ledger_services
from ledger.models import Log
from tests.crypto.test_vectors import schema_validator
from tests.identity.support_identity import identity_settings, login, make_user  # noqa: F401
from tests.voting.ballot_box_support import (
    box_settings,  # noqa: F401
    cast_body,
    make_ballot,
    new_seed,
    new_voter,
    open_box,
    post,
    spoil_body,
)
from voting.models import Election

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("box_settings")]


@pytest.fixture
def official() -> Any:
    return make_user("clerk", Role.OFFICIAL)


@pytest.fixture
def city(official: Any, settings: Any) -> Election:
    settings.CIVIC_DISTRICTS = ["north", "south"]
    return open_box("city-vote", official)


def witness(election: Election) -> str:
    """Sequence the box's entries and have one observer cosign the log's checkpoint."""
    sequencer.sequence_all()
    log = Log.objects.get(name=election.log_name)
    signer, verifier = note.generate_cosigner("observer.test")
    ledger_services.register_observer(verifier)
    checkpoint = ledger_services.sign_checkpoint(log.pk)
    ledger_services.add_cosignature(
        log.name, checkpoint.body, note.cosign(checkpoint.body, signer, 1_700_000_000)
    )
    return verifier


def booth_receipt(
    client: Client, election: Election, ballot_json: dict[str, Any], answer: dict[str, Any]
) -> dict[str, Any]:
    context = client.get(f"/api/voting/elections/{election.slug}/context").json()["context"]
    tracked = client.get(
        f"/api/voting/elections/{election.slug}/ballots/{answer['tracking_code']}"
    ).json()
    return {
        "context": context,
        "ballot": ballot_json,
        "tracking_code": answer["tracking_code"],
        "cast": answer,
        "ledger_receipt": tracked["ledger_receipt"],
    }


def check(tmp_path: Path, receipt: dict[str, Any], *extra: str) -> int:
    path = tmp_path / "receipt.json"
    path.write_text(json.dumps(receipt))
    return main(["check-receipt", str(path), *extra])


def test_receipts_from_the_ballot_box_pass_check_receipt(
    city: Election, official: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    official_client = login(official)
    client = Client()
    mine, theirs = (
        new_voter(official_client, city.slug, "north"),
        new_voter(official_client, city.slug, "south"),
    )
    ballots = f"/api/voting/elections/{city.slug}/ballots"
    cast = make_ballot(city, 1)
    answer = post(client, ballots, cast_body(city.slug, mine, cast.to_json())).json()
    other = make_ballot(city, 2)
    other_answer = post(client, ballots, cast_body(city.slug, theirs, other.to_json())).json()
    seed = new_seed()
    audited = make_ballot(city, 3, seed=seed)
    spoiled_answer = post(
        client, f"{ballots}/spoiled", spoil_body(city.slug, mine, audited, seed, 3)
    ).json()
    assert spoiled_answer["status"] == "spoiled"
    observer_key = witness(city)
    log_key = Log.objects.get(name=city.log_name).verifier_key  # as an observer pins it

    receipt = booth_receipt(client, city, cast.to_json(), answer)
    schema_validator("ballot-receipt.json").validate(receipt)  # docs/schemas: the booth's file
    assert check(tmp_path, receipt, "--observer-key", observer_key, "--log-key", log_key) == 0, (
        capsys.readouterr()
    )
    out = capsys.readouterr().out
    assert "RECEIPT VALID" in out and "is the ballot.cast event of this ballot" in out
    assert "keys were taken from the receipt" not in out

    spoiled = booth_receipt(client, city, audited.to_json(), spoiled_answer)
    assert check(tmp_path, spoiled) == 0, capsys.readouterr()
    assert "is the ballot.spoiled event of this ballot" in capsys.readouterr().out

    # another voter's (genuine) ledger receipt does not prove this ballot
    swapped = {
        **receipt,
        "ledger_receipt": booth_receipt(client, city, other.to_json(), other_answer)[
            "ledger_receipt"
        ],
    }
    assert check(tmp_path, swapped) == 1
    captured = capsys.readouterr()
    assert "[FAIL] ledger entry" in captured.out and "RECEIPT INVALID: ledger entry" in captured.err
