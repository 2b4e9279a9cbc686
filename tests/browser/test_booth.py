"""The booth in a real browser: the Web Worker encrypts, the voter audits, the receipt checks out."""

from __future__ import annotations

import json

import pytest

from civic.roles import Role
from civic_votecrypto.ballot import decode_ballot, verify_ballot
from tests.browser.conftest import Drive, page_errors
from tests.identity.support_identity import make_user
from voting.demo import seed_demo_election
from voting.selectors import elections as selectors

pytestmark = pytest.mark.django_db(transaction=True)


def test_booth_encrypts_in_the_worker_audits_and_the_receipt_verifies(drive: Drive) -> None:
    election = seed_demo_election(make_user("returning-officer", Role.OFFICIAL))
    result = drive(
        "booth.mjs",
        slug=election.slug,
        answer="Yes",
        overBudget=["Plant 200 trees", "New playground", "Benches and lighting"],
        choose=["Amina", "Sofie", "Plant 200 trees", "Benches and lighting"],
    )
    assert result["headings"] == 1
    assert page_errors(result["consoleErrors"]) == []

    # An over-budget ballot is refused in the booth, and no ballot is shown.
    assert "could not be encrypted" in result["overBudgetError"]
    assert result["resultHiddenAfterError"]

    # Encryption ran in the module worker bundle; nothing was posted to the server.
    assert result["workerLoaded"]
    assert result["choicesSent"] == 0
    assert result["progress"]["value"] == result["progress"]["max"] != "0"

    # The downloaded receipt holds a ballot Python verifies, with the code the page showed.
    receipt = json.loads(result["receipt"])
    assert receipt["context"] == election.context
    ballot = decode_ballot(receipt["ballot"])
    verify_ballot(selectors.crypto_context(election), ballot)
    assert result["trackingCode"] == receipt["tracking_code"]

    # The audit opens exactly what was chosen, read from the revealed seed alone.
    assert "exactly the choices" in result["auditVerdict"]
    opened = {(row[0], row[1]): row[2] for row in result["auditRows"]}
    chosen = {
        ("Youth council: approve up to two candidates", "Amina"),
        ("Youth council: approve up to two candidates", "Sofie"),
        ("Parks budget: pick projects worth at most 5 units", "Plant 200 trees"),
        ("Parks budget: pick projects worth at most 5 units", "Benches and lighting"),
        ("Should the city library open on Sundays?", "Yes"),
    }
    assert len(opened) == 9
    for key, value in opened.items():
        assert value == ("1" if key in chosen else "0"), key
    assert result["formBack"]

    # The receipt page re-verifies every proof and knows the election; a tampered one fails.
    assert "The receipt is valid" in result["receiptStatus"]
    assert all(check.startswith("✔") for check in result["receiptChecks"]), result["receiptChecks"]
    assert "NOT valid" in result["tamperedStatus"]
