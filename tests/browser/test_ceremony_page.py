"""The ceremony page and the trustee's page in Chromium: the public sees the rounds, the verdicts
and the joint key; a trustee creates a credential and sees it once; the air-gap upload."""

from __future__ import annotations

import hashlib

import pytest
from django.test import Client

from civic.roles import Role
from tests.browser.conftest import Drive, page_errors
from tests.voting.ceremony_support import (
    PASSWORD,
    BadShareTrustee,
    Party,
    election_in_ceremony,
    post_message,
    token_for,
    user,
)
from voting.models import ApiCredential, CeremonyMessage, Election

pytestmark = pytest.mark.django_db(transaction=True)


def test_ceremony_page_and_a_credential_shown_once(drive: Drive) -> None:
    accounts = [user(f"br{i}", Role.TRUSTEE) for i in (1, 2, 3)]
    done = election_in_ceremony("browser-done", accounts, threshold=2)
    tokens = [token_for(a) for a in accounts]
    party = Party.of(done, cheaters={3: BadShareTrustee})
    client = Client()
    for stage in (party.announcement, party.commitment, party.complaints):
        for i in (1, 2, 3):
            assert post_message(client, done.slug, stage(i), tokens[i - 1]).status_code == 201
    done.refresh_from_db()
    assert done.state == Election.State.SCHEDULED

    running = election_in_ceremony("browser-running", accounts, threshold=2)
    live = Party.of(running)
    right, wrong = live.announcement(1), live.announcement(2)

    result = drive(
        "ceremony_page.mjs",
        done=done.slug,
        running=running.slug,
        trustee="br1",
        password=PASSWORD,
        rightMessage=right,
        wrongMessage=wrong,
    )

    # The public page: every round of every trustee, the upheld complaint, the joint key.
    assert result["outcome"] == "The ceremony is complete."
    assert [row[1:] for row in result["rounds"]] == [["done", "done", "done"]] * 3
    assert result["rounds"][0][0] == "1. br1"
    assert result["jointKey"] == done.context["joint_key"]
    assert len(result["verdicts"]) == 1 and "upheld, trustee 3 is disqualified" in result["verdicts"][0]
    assert result["visitorHasUpload"] == 0

    # The credential: shown once, stored only as its hash, listed by key id afterwards.
    key_id, secret = result["token"].split(".")
    row = ApiCredential.objects.get(key_id=key_id)
    assert row.label == "offline laptop" and row.secret_sha256 == hashlib.sha256(secret.encode()).hexdigest()
    assert "shown only once" in result["notice"]
    assert any(key_id in line and "offline laptop" in line for line in result["listed"])
    assert any("Election browser-done" in line and "trustee 1" in line for line in result["ceremonies"])
    assert result["tokenShownAgain"] == 0 and result["tokenInPage"] is False

    # The air gap: a wrong file is refused next to the field, the right one stored.
    assert "you are trustee 1" in result["uploadError"]
    assert "checked and stored" in result["uploaded"]
    assert list(CeremonyMessage.objects.filter(election=running).values_list("trustee__index", "kind")) == [
        (1, "announcement")
    ]
    assert "done" in result["runningRounds"]
    # The refused upload answers 400 (the form with its error), which Chromium logs; nothing else.
    refused = [e for e in page_errors(result["consoleErrors"]) if "/ceremony/upload/" in e and "400" in e]
    assert len(refused) == 1
    assert [e for e in page_errors(result["consoleErrors"]) if e not in refused] == []
