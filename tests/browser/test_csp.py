"""The strict Content-Security-Policy in Chromium: the booth's whole flow (encrypt, check, cast,
inclusion verified) and the receipt check run with no CSP violation reported (the pages'
securitypolicyviolation events and the console), and every page served carries the policy."""

from __future__ import annotations

import pytest
from django.utils import translation

from civic.roles import Role
from tests.browser.conftest import Drive
from tests.browser.test_booth_cast import citizen, synchronous_ledger  # noqa: F401
from tests.identity.support_identity import PASSWORD, login, make_user
from tests.voting.ballot_box_support import box_settings, open_box  # noqa: F401
from voting.models import CastBallot
from voting.views import receipt_messages

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("box_settings")]


@pytest.mark.usefixtures("synchronous_ledger")
def test_booth_and_receipt_pages_run_under_the_strict_policy(drive: Drive) -> None:
    official = make_user("clerk", Role.OFFICIAL)
    election = open_box("csp-vote", official)
    ada = citizen("ada", login(official))
    with translation.override("en"):
        valid = receipt_messages()["valid"]
    result = drive(
        "csp_pages.mjs", slug=election.slug, password=PASSWORD, passphrase="a passphrase for the test",
        citizen=ada, valid=valid,
    )  # fmt: skip
    assert result["violations"] == []
    assert result["restored"]["isError"] is False
    assert result["verified"] == "true" and result["receiptStatus"].startswith(valid)
    assert CastBallot.objects.get(tracking_code=result["code"]).counting
    # the import map ran by its nonce (the only inline script), and every page had the policy
    assert result["importMapNonce"]
    pages = [d for d in result["documents"] if d["status"] == 200]
    assert {p["url"].split("/", 3)[3] for p in pages} >= {
        "",
        "voting/",
        f"voting/{election.slug}/booth/",
        "voting/verify/",
    }
    for document in pages:
        policy = document["csp"]
        assert policy and "script-src 'self'" in policy, document
        scripts = next(d for d in policy.split("; ") if d.startswith("script-src"))
        assert "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts, document
