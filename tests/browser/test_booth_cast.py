"""The booth's cast flow in Chromium, end to end: the wallet's token fetched in the booth, a
checked (spoiled) ballot published, a fresh one cast with the ballot key's signature, the receipt
downloaded, the ledger inclusion verified in the browser, and the saved receipt re-checked on
the receipt page. A second citizen does the cast flow with the keyboard only.

The ledger runs synchronously: the sequencing kick (after each cast commits) sequences and signs
a checkpoint right away, and the observer cosigns on the second look at a ballot, so the booth's
polling first sees "not witnessed yet", then the witnessed checkpoint.
"""

from __future__ import annotations

import base64
import json
import re
from collections import Counter
from typing import Any

import pytest
from django.utils import translation

from civic.roles import Role
from civic_tlog import note
from civic_votecrypto.ballot import decode_ballot, verify_ballot
from ledger import selectors as ledger_selectors
from ledger import sequencer
from ledger import services as ledger_services
from ledger.models import Log
from tests.browser.conftest import Drive, page_errors
from tests.browser.test_eligibility_token import seed_of
from tests.identity.support_identity import PASSWORD, login, make_resident, make_user
from tests.voting.ballot_box_support import box_settings, open_box  # noqa: F401
from voting.models import CastBallot, EligibilityGrant
from voting.selectors import ballot_box as box
from voting.selectors.eligibility import ballot_authorization_is_valid
from voting.views import booth_messages, receipt_messages

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("box_settings")]
OBSERVER_TIME = 1_790_000_000


@pytest.fixture
def synchronous_ledger(box_settings: None, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    """Sequencing and checkpoint signing on every kick; a cosignature on a ballot's second GET."""
    signer, verifier = note.generate_cosigner("observer.test")
    ledger_services.register_observer(verifier)

    def kick() -> None:
        sequencer.sequence_all()
        ledger_services.sign_checkpoints()

    looks: Counter[str] = Counter()
    tracking_view = box.tracking_view

    def witnessing_view(ballot: CastBallot) -> dict[str, Any]:
        looks[ballot.tracking_code] += 1
        if looks[ballot.tracking_code] >= 2:
            log = Log.objects.get(name=ballot.election.log_name)
            latest = ledger_selectors.latest_checkpoint(log)
            if latest is not None:
                body = note.open_checkpoint(
                    ledger_selectors.checkpoint_note(latest), log.verifier_key, log.origin
                )[1]
                ledger_services.add_cosignature(
                    log.name, body, note.cosign(body, signer, OBSERVER_TIME)
                )
        return tracking_view(ballot)

    monkeypatch.setattr(ledger_services, "_kick_sequencer", kick)
    monkeypatch.setattr(box, "tracking_view", witnessing_view)


def citizen(name: str, official_client: Any) -> dict[str, str]:
    resident = make_resident(name, "north", official_client)
    return {
        "username": name,
        "did": resident.wallet.did,
        "secretKey": seed_of(resident.wallet.private_key).hex(),
    }


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def voting_setup() -> tuple[Any, dict[str, str]]:
    """An open election (real ceremony, ledger log) and a citizen with a credential."""
    official = make_user("clerk", Role.OFFICIAL)
    election = open_box("cast-vote", official)
    return election, citizen("ada", login(official))


@pytest.mark.usefixtures("synchronous_ledger")
def test_booth_gets_the_token_checks_casts_and_verifies_the_inclusion(drive: Drive) -> None:
    election, ada = voting_setup()
    with translation.override("en"):
        texts, booth_texts = receipt_messages(), booth_messages()
    result = drive(
        "booth_cast.mjs",
        part="pointer",
        slug=election.slug,
        password=PASSWORD,
        passphrase="a passphrase for the test",
        first=ada,
        texts=texts,
    )
    assert page_errors(result["consoleErrors"]) == []
    assert result["restored"]["isError"] is False
    assert result["recordsBefore"] == ["did"]  # no token before the booth

    # The booth got the token through the wallet module: it is stored with its ballot key.
    ballot_record = {r["id"]: r for r in result["recordsAfter"]}[f"ballot:{election.slug}"]
    ballot_key = b64url_decode(ballot_record["publicKey"])
    assert ballot_authorization_is_valid(election, ballot_key, ballot_record["token"])
    assert EligibilityGrant.objects.filter(election=election).count() == 1

    # The checked ballot: the audit matched, it was published as spoiled under the same key.
    assert result["audit"]["verdict"] == booth_texts["audit_ok"]
    assert result["audit"]["spoiled"] == f"{booth_texts['spoiled']} {result['checkedCode']}"
    assert result["audit"]["focus"] == "audit-heading" and result["audit"]["formBack"]
    assert result["audit"]["error"] is False
    spoiled = CastBallot.objects.get(tracking_code=result["checkedCode"])
    assert spoiled.kind == CastBallot.Kind.SPOILED and not spoiled.counting
    assert spoiled.ballot_key.public_key == ballot_record["publicKey"]
    assert spoiled.document["choices"] == {"q": {"o1": 1}}

    # The fresh ballot was cast, counts, and is the one the page showed.
    assert result["castCode"] != result["checkedCode"]
    counted = CastBallot.objects.get(tracking_code=result["castCode"])
    assert counted.kind == CastBallot.Kind.CAST and counted.counting
    assert counted.ballot_key_id == spoiled.ballot_key_id
    verify_ballot(box.box_context(election).ctx, decode_ballot(counted.document))
    assert (
        result["cast"]["code"] == result["castCode"] and result["cast"]["focus"] == "cast-heading"
    )
    assert result["focusAfterEncrypt"] == "result-heading"
    assert box.turnout(election)["counting"] == 1 and box.turnout(election)["spoiled"] == 1

    # Every ballot box request went without a cookie; no secret key left the browser.
    box_requests = result["boxRequests"]
    assert {r["method"] for r in box_requests} == {"GET", "POST"}
    assert all(r["cookie"] is None for r in box_requests), box_requests
    secret = ballot_record["secretKey"]
    assert all(
        secret not in r["body"] and ada["secretKey"] not in r["body"] for r in result["requests"]
    )

    # The receipt downloaded after casting is the formats.md shape, binding the box's answer.
    cast_receipt = json.loads(result["castReceipt"])
    assert set(cast_receipt) == {"context", "ballot", "tracking_code", "cast"}
    assert (
        cast_receipt["context"] == election.context
        and cast_receipt["tracking_code"] == result["castCode"]
    )
    assert cast_receipt["cast"]["ballot_sha256"] == counted.sha256
    assert set(cast_receipt["cast"]) == {
        "election",
        "tracking_code",
        "log",
        "ballot_sha256",
        "status",
        "received_at",
        "position",
    }

    # The inclusion: polled until witnessed, verified in the browser, every check passed.
    inclusion = result["inclusion"]
    assert inclusion["verified"] == "true", inclusion
    assert (
        inclusion["verdict"] == booth_texts["verified"]
        and inclusion["status"] == booth_texts["verified"]
    )
    assert inclusion["focus"] == "inclusion-heading"
    assert all(check.startswith("✔") for check in inclusion["checks"]), inclusion["checks"]
    names = [check[2:].split(":")[0] for check in inclusion["checks"]]
    assert names == [
        "ledger entry",
        "leaf hash",
        "log signature",
        "tree size",
        "inclusion proof",
        "cosignatures",
    ]
    assert inclusion["anchor"] == booth_texts["no_anchor"]
    assert re.fullmatch(r"Checkpoint: \d+ entries, root [0-9a-f]{64}\.", inclusion["checkpoint"])
    index = counted.outbox.entry_index
    assert (
        inclusion["position"]
        == f"Position in the ledger: entry {index} of log {election.log_name}."
    )
    # The live region said what was happening, in order.
    said = [t for t in result["statusLog"] if t]
    for expected in (
        "encrypting",
        "getting_token",
        "spoiling",
        "audited",
        "casting",
        "cast",
        "waiting",
        "verifying",
        "verified",
    ):
        assert booth_texts[expected] in said, expected
    assert (
        said.index(booth_texts["casting"])
        < said.index(booth_texts["waiting"])
        < said.index(booth_texts["verified"])
    )

    # The complete receipt: the tracking API's ledger receipt verbatim.
    full = json.loads(result["fullReceipt"])
    assert set(full) == {"context", "ballot", "tracking_code", "cast", "ledger_receipt"}
    ledger_receipt = full["ledger_receipt"]
    assert ledger_receipt["index"] == index and "— observer.test" in ledger_receipt["checkpoint"]
    entry = json.loads(base64.b64decode(ledger_receipt["entry"]))
    assert (
        entry["kind"] == "ballot.cast" and entry["payload"]["tracking_code"] == result["castCode"]
    )

    # The receipt page verifies it, and the inclusion from the ledger today.
    page = result["verifyPage"]
    assert page["status"] == f"{texts['valid']} {result['castCode']}", page
    assert all(check.startswith("✔") for check in page["checks"] + page["ledgerChecks"]), page
    receipt_checks = [check[2:].split(":")[0] for check in page["checks"]]
    assert receipt_checks[:6] == [
        "election context",
        "ballot encoding",
        "tracking code",
        "binding and code",
        "proofs",
        "cast",
    ]
    assert "inclusion proof" in receipt_checks and "cosignatures" in receipt_checks
    assert page["ledgerStatus"] == "counting" and str(index) in page["position"]
    assert page["anchor"] == texts["no_anchor"]
    assert re.fullmatch(r"Checkpoint: \d+ entries, root [0-9a-f]{64}\.", page["checkpoint"])
    assert page["focus"] == "receipt-heading"
    assert any(check.startswith("✘ cast:") for check in result["forgedChecks"])
    assert result["forgedAlert"] == texts["invalid"]

    # Another device of the same citizen: the server's refusal (409) in a translated alert.
    refused = result["refused"]
    assert refused["role"] == "alert" and refused["castHidden"]
    assert refused["alert"] == f"{booth_texts['not_cast']} {booth_texts['already_issued']}"
    (logged,) = page_errors(refused["consoleErrors"])
    assert "/tokens: Failed to load resource" in logged and "status of 409" in logged
    assert CastBallot.objects.filter(kind=CastBallot.Kind.CAST).count() == 1


@pytest.mark.usefixtures("synchronous_ledger")
def test_booth_cast_flow_with_the_keyboard_only(drive: Drive) -> None:
    election, bo = voting_setup()
    with translation.override("en"):
        verified = booth_messages()["verified"]
    keyboard = drive(
        "booth_cast.mjs",
        part="keyboard",
        slug=election.slug,
        password=PASSWORD,
        passphrase="a passphrase for the test",
        second=bo,
        title=election.title,
    )
    assert page_errors(keyboard["consoleErrors"]) == []
    # The token came from the wallet page first; the booth used it and asked for none.
    assert keyboard["tokenOutcome"]["isError"] is False
    assert keyboard["tokenPostsBefore"] == keyboard["tokenPostsAfter"] == 1
    held = {r["id"]: r for r in keyboard["heldRecords"]}[f"ballot:{election.slug}"]
    # Keyboard only: the radio picked with the arrows, encrypted, cast, verified, downloaded.
    assert keyboard["picked"] == "c-q-o4"
    assert keyboard["encryptFocus"] == "result-heading" and keyboard["castFocus"] == "cast-heading"
    assert (
        keyboard["inclusion"]["verified"] == "true"
        and keyboard["inclusion"]["focus"] == "inclusion-heading"
    )
    assert keyboard["inclusion"]["status"] == verified
    kb_ballot = CastBallot.objects.get(tracking_code=keyboard["code"])
    assert kb_ballot.counting and kb_ballot.kind == CastBallot.Kind.CAST
    assert kb_ballot.ballot_key.public_key == held["publicKey"] and kb_ballot.token == held["token"]
    assert all(r["cookie"] is None for r in keyboard["boxRequests"]) and keyboard["boxRequests"]
    assert (
        json.loads(keyboard["receipt"])["ledger_receipt"]["index"] == kb_ballot.outbox.entry_index
    )
