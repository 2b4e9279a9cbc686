"""Accessibility of the identity pages in Chromium, in English and in Norwegian: axe-core's
WCAG 2.2 A/AA rules, plus what axe does not check (one h1, unique ids, the chosen language).
The journeys (test_journeys.py) check every page they visit in every language the same way."""

from __future__ import annotations

from typing import Any

import pytest

from civic.roles import Role
from identity.models import ResidencyClaim
from identity.selectors import dids as did_selectors
from identity.services import claims
from tests.browser.conftest import Drive, page_errors
from tests.identity.support_identity import (
    PASSWORD,
    Wallet,
    bind,
    login,
    make_resident,
    make_user,
)

pytestmark = pytest.mark.django_db(transaction=True)


def test_identity_pages_are_accessible_in_english_and_norwegian(drive: Drive) -> None:
    official = make_user("auditor", Role.OFFICIAL)
    make_resident("rita", "west", login(official))  # a credential row on the desk
    waiting = make_user("sam", Role.CITIZEN)
    assert bind(login(waiting), Wallet.new()).status_code == 201
    claim = claims.submit_claim(
        waiting, legal_name="Sam Stone", address="9 Pier", district="west"
    )
    make_user("nora", Role.CITIZEN)
    official_pages = [
        "/identity/",
        "/identity/official/claims/",
        f"/identity/official/claims/{claim.pk}/",
        "/identity/official/credentials/",
    ]

    result = drive(
        "accessibility.mjs",
        official="auditor",
        citizen="nora",
        password=PASSWORD,
        officialPages=official_pages,
        claim={"legal_name": "Nora Nilsen", "address": "Bryggen 3", "district": "west"},
    )

    expected = set(official_pages) | {"/identity/wallet/", "/identity/claim/"}
    for language in ("en", "nb"):
        findings: list[dict[str, Any]] = result["findings"][language]
        assert {found["path"] for found in findings} == expected
        for found in findings:
            where = (language, found["path"])
            assert found["lang"] == language, where
            assert len(found["h1"]) == 1 and found["h1"][0], where
            assert found["violations"] == [], (where, found["violations"])
            assert found["duplicateIds"] == [], where
            assert page_errors(found["consoleErrors"]) == [], where
        # Pages with forms do have controls (axe's label rule is not vacuous there).
        controls = {found["path"]: found["controls"] for found in findings}
        for path in ("/identity/claim/", f"/identity/official/claims/{claim.pk}/"):
            assert controls[path] >= 3, (language, path)

    # In Norwegian the pages still work: a DID made and bound, a claim sent, a backup made.
    assert result["officialLang"] == result["citizenLang"] == "nb"
    citizen = ResidencyClaim.objects.get(legal_name="Nora Nilsen").user
    current = did_selectors.current_did(citizen)
    assert current is not None and current.did == result["boundDid"] == result["localDid"]
    assert result["afterClaim"]["lang"] == "nb" and result["afterClaim"]["message"].strip()
    assert result["exported"] == {"text": result["texts"]["exported"], "isError": False}
    assert result["backupName"] == "civic-wallet-backup.json"
