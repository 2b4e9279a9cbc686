"""Every journey of one election in Chromium (issue 13), checked with axe-core on every page in
every language of settings.LANGUAGES.

One election carries all of them, as in a city: the official writes the proposal (every question
type) and starts the ceremony; the three trustees run the trustee program's ``ceremony`` command
against the live server; the scheduler opens the election; a citizen signs up, makes the DID in the
browser, claims residency, is approved by the official, votes in the booth (checks one encryption,
casts another) and saves the receipt; the official watches the turnout and closes; two trustees
run ``decrypt``; the results are published; the citizen finds them and checks that the saved
receipt's ballot was counted; an observer follows the ledger with the observer program, audits
the election with ``audit-election --server … --post`` and sees the signed report on the results
page.

It runs twice: on a desktop, where the citizen uses the booth by keyboard alone, and on a phone
(360 CSS px, touch-sized, reduced motion asked for), by pointer. Every page is checked as it is
(live state) and opened afresh in each language at the zoom width (640 px: a 1280 px screen at
200 %), with axe's WCAG 2.2 A/AA rules, the page's language, and the layout (no sideways
scrolling, no control off screen or overlapping another); on the phone, nothing may move.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.utils import timezone, translation

from civic.roles import Role
from ledger import sequencer
from ledger import services as ledger_services
from tests.browser.conftest import languages, page_errors
from tests.browser.test_booth_cast import synchronous_ledger  # noqa: F401
from tests.identity.support_identity import PASSWORD, make_user
from tests.support import REPO_ROOT
from tests.voting.ballot_box_support import box_settings  # noqa: F401
from tests.voting.ceremony_support import token_for
from tests.voting.record_support import plain_http  # noqa: F401
from tests.voting.tally_support import eager_celery  # noqa: F401
from tests.voting.test_ceremony_network import PASSPHRASE, Trustees, finish
from voting.models import AuditReport, CastBallot, Election, EligibilityGrant
from voting.services import scheduler
from voting.views import booth_messages

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.slow,
    pytest.mark.usefixtures("box_settings", "synchronous_ledger", "eager_celery", "plain_http"),
]
CLI_TIMEOUT_S = 120
TRUSTEES = ["tove", "ulf", "vera"]
QUESTIONS = [
    {"type": "yes_no_abstain", "id": "sundays", "title": "Open the library on Sundays?"},
    {
        "type": "one_of_n",
        "id": "park",
        "title": "Which park gets the playground?",
        "options": ["a | Park A", "b | Park B", "c | Park C"],
    },
    {
        "type": "approval",
        "id": "events",
        "title": "Which summer events?",
        "options": ["concert | Concert", "market | Market", "race | Race"],
        "fields": {"Approval: fewest choices": 0, "Approval: most choices": 2},
    },
    {
        "type": "score",
        "id": "plans",
        "title": "Score the plans",
        "options": ["p1 | Plan one", "p2 | Plan two"],
        "fields": {"Score: highest score per option": 5, "Score: most points in all": 8},
    },
    {
        "type": "budget",
        "id": "budget",
        "title": "Spend 10 on",
        "options": ["trees | Trees | 4", "bikes | Bike lanes | 6"],
        "fields": {"Budget: the cap": 10},
    },
]
# The checked (spoiled) ballot and the cast one: the same choices, encrypted twice.
CHOICES = {
    "sundays": {"yes": 1},
    "park": {"a": 1},
    "events": {"concert": 1, "market": 1},
    "plans": {"p1": 3},
    "budget": {"trees": 1},
}
EXPECTED = {
    "sundays": {"Yes": 1, "No": 0, "Abstain": 0},
    "park": {"Park A": 1, "Park B": 0, "Park C": 0},
    "events": {"Concert": 1, "Market": 1, "Race": 0},
    "plans": {"Plan one": 3, "Plan two": 0},
    "budget": {"Trees": 1, "Bike lanes": 0},
}
VIEWS = {
    "desktop": {"viewport": {"width": 1280, "height": 800}, "zoomWidth": 640, "keyboard": True},
    "phone": {
        "viewport": {"width": 360, "height": 740},
        "zoomWidth": 360,
        "keyboard": False,
        "reducedMotion": True,
        "axeEveryLanguage": False,  # the desktop run did: here the other languages' layout
    },
}


def run(argv: list[str], token: str | None = None) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if k != "CIVIC_TRUSTEE_TOKEN"}
    if token:
        env["CIVIC_TRUSTEE_TOKEN"] = token
    done = subprocess.run(
        [sys.executable, *argv], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
        timeout=CLI_TIMEOUT_S, check=False,
    )  # fmt: skip
    return done.returncode, done.stdout, done.stderr


def window() -> tuple[str, str]:
    """Voting opens now (to the minute, in the city's time zone) and closes a week later."""
    city = ZoneInfo(settings.CIVIC_TIME_ZONE)
    opens = timezone.now().astimezone(city).replace(second=0, microsecond=0)
    return opens.strftime("%Y-%m-%dT%H:%M"), (opens + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M")


def assert_accessible(findings: list[dict[str, Any]], view: dict[str, Any]) -> None:
    """axe found nothing on any page in any language; lang right; layout and motion sound."""
    problems = []
    for found in findings:
        where = f"{found['label']} ({found['path']})"
        if found["violations"]:
            problems.append((where, "live", found["violations"]))
        if found["layout"]:
            problems.append((where, "layout", found["layout"]))
        if view.get("reducedMotion") and (found["motion"]["moving"] or found["motion"]["running"]):
            problems.append((where, "motion", found["motion"]))
        if found["languages"]:  # an address opened in every language (else it was already)
            assert {found["lang"], *found["languages"]} == set(languages()), where
        for language, seen in found["languages"].items():
            if seen["lang"] != language:
                problems.append((where, language, f"lang={seen['lang']!r}"))
            if seen["violations"] or (
                seen["violations"] is None and view.get("axeEveryLanguage", True)
            ):
                problems.append((where, language, seen["violations"]))
            if seen["layout"]:
                problems.append((where, f"{language} at {view['zoomWidth']} px", seen["layout"]))
    opened = {f["path"] for f in findings if f["languages"]}
    assert opened == {f["path"] for f in findings}, "every page is opened in every language"
    assert {f["lang"] for f in findings} == {"en"}
    assert problems == [], json.dumps(problems, indent=1, ensure_ascii=False)


@pytest.mark.parametrize("view_name", list(VIEWS))
def test_every_journey_of_an_election(view_name: str, journey: Any, tmp_path: Path) -> None:
    view = VIEWS[view_name]
    make_user("clerk", Role.OFFICIAL)
    trustees = [make_user(name, Role.TRUSTEE) for name in TRUSTEES]
    tokens = [token_for(account) for account in trustees]
    opens_at, closes_at = window()
    with translation.override("en"):
        booth_texts = booth_messages()
    slug = "harbour-bath"
    run_ = journey(
        "journeys.mjs",
        **view,
        languages=languages(),
        password=PASSWORD,
        official="clerk",
        slug=slug,
        citizen={"username": "ada", "email": "ada@example.org", "password": "correct horse 2026"},
        claim={"legal_name": "Ada Lovelace", "address": "1 Quay", "district": "north"},
        proposal={
            "title": "Harbour bath",
            "description": "Should the city build a **harbour bath**?",
            "opensAt": opens_at,
            "closesAt": closes_at,
            "trustees": TRUSTEES,
            "threshold": 2,
            "questions": QUESTIONS,
        },
        checked=CHOICES,
    )

    # The trustees run the ceremony with the trustee program, each on "their own machine".
    run_.until("ceremony")
    election = Election.objects.get(slug=slug)
    assert election.state == Election.State.CEREMONY
    party = Trustees(run_.base, slug, tmp_path)
    processes = [party.start(i, tokens[i - 1]) for i in (1, 2, 3)]
    for code, out, err in (finish(p) for p in processes):
        assert code == 0 and "Traceback" not in err, (out, err)
    election.refresh_from_db()
    assert election.state == Election.State.SCHEDULED
    run_.resume()

    # Its opening time has come: the scheduler (a periodic job) opens it.
    run_.until("scheduled")
    assert scheduler.run_schedule().opened == [slug]
    run_.resume()

    # The official closed it: the eager chain froze and summed; trustees 1 and 3 decrypt.
    run_.until("closed")
    assert Election.objects.get(slug=slug).state == Election.State.TALLYING
    (party.tmp / "pass").write_text(PASSPHRASE + "\n")
    for index in (1, 3):
        code, out, err = run(
            ["-m", "civic_votecrypto.trustee", "decrypt", "--server", run_.base, "--election", slug,
             "--key-file", str(party.key_file(index)), "--passphrase-file", str(party.tmp / "pass")],
            tokens[index - 1],
        )  # fmt: skip
        assert code == 0, (out, err)
    election.refresh_from_db()
    assert election.state == Election.State.PUBLISHED
    sequencer.sequence_all()
    ledger_services.sign_checkpoints()
    run_.resume()

    # The observer: a key of its own, registered with the city; it follows the ledger once.
    run_.until("follow")
    state = tmp_path / "observer"
    code, out, err = run(
        ["-m", "civic_observer", "init", "--state", str(state), "--name", "observer.news"]
    )
    assert code == 0, err
    ledger_services.register_observer(out.strip().splitlines()[-1])
    code, out, err = run(
        ["-m", "civic_observer", "follow", "--server", run_.base, "--state", str(state), "--once"]
    )
    assert code == 0, (out, err)
    run_.resume(logName=election.log_name)

    run_.until("audit")
    code, out, err = run(
        ["-m", "civic_observer", "audit-election", "--server", run_.base, "--election", slug,
         "--state", str(state), "--post", "--no-progress", "--jobs", "1"]
    )  # fmt: skip
    assert code == 0 and "AUDIT PASSED" in out and "report posted" in out, (out, err)
    run_.resume()
    result = run_.finish()
    assert_accessible(result["findings"], view)

    # The official's part.
    assert "The draft was saved" in result["proposal"]["saved"]
    assert result["proposal"]["previewTypes"] == [q["type"] for q in QUESTIONS]
    assert [c["type"] for c in election.manifest["contests"]] == [q["type"] for q in QUESTIONS]
    assert list(election.trustees.values_list("user__username", flat=True)) == TRUSTEES
    assert "key ceremony has started" in result["ceremonyStarted"]
    assert "Scheduled" in result["scheduledState"]
    assert result["ceremonyOutcome"] == "The ceremony is complete."
    assert result["turnout"].startswith("1 ")
    assert "Closed" in result["closedState"] or "Tallying" in result["closedState"]
    assert result["tallyProgress"].startswith("Published.")
    assert result["officialResultsPath"] == f"/voting/{slug}/results/"

    # The citizen's part: the DID made in the browser carries the credential.
    resident = result["resident"]
    assert (
        resident["did"].startswith("did:key:") and "credential was issued" in resident["decision"]
    )
    assert [(row[0], row[3]) for row in resident["credentials"]] == [("north", "active")]
    voted = result["vote"]
    assert voted["checkedCode"] != voted["castCode"]
    assert voted["auditVerdict"] == booth_texts["audit_ok"]
    spoiled = CastBallot.objects.get(tracking_code=voted["checkedCode"])
    counted = CastBallot.objects.get(tracking_code=voted["castCode"])
    assert spoiled.kind == CastBallot.Kind.SPOILED and counted.counting
    # The booth got the voting token on the way (one, blindly signed), and both ballots used it.
    assert EligibilityGrant.objects.filter(election=election).count() == 1
    assert spoiled.ballot_key_id == counted.ballot_key_id
    assert voted["inclusion"]["verified"] == "true"
    assert voted["inclusion"]["status"] == booth_texts["verified"]
    # Verdicts are said in words and a sign, never by colour alone.
    assert voted["inclusion"]["checks"] and all(
        c.startswith("✔ ") for c in voted["inclusion"]["checks"]
    )
    # Focus moves to the heading of what just happened, and it shows (keyboard and pointer).
    assert voted["focus"] == {
        "afterEncrypt": "result-heading",
        "afterAudit": "audit-heading",
        "afterEncryptAgain": "result-heading",
        "afterCast": "cast-heading",
    }
    assert voted["inclusion"]["focus"] == "inclusion-heading"
    if view["keyboard"]:
        hidden = [f for f in voted["focusLog"] if not f["visible"]]
        assert hidden == [], hidden
    # The live regions are there and announced encryption, casting and verification, in order.
    assert {r["id"]: (r["role"], r["live"]) for r in voted["liveRegions"]} == {
        "booth-status": ("status", "polite"),
        "booth-error": ("alert", None),
    }
    said = [t for t in voted["statusLog"] if t]
    for key in ("encrypting", "audited", "casting", "cast", "verifying", "verified"):
        assert booth_texts[key] in said, (key, said)
    assert said.index(booth_texts["casting"]) < said.index(booth_texts["verified"])

    # After the close: the results, the ballot counted on the tracking and receipt pages.
    found = result["citizenResults"]
    assert {q["contest"]: dict(q["rows"]) for q in found["questions"]} == EXPECTED
    assert found["turnout"].startswith("1 ballot counted of 1 voting token issued (100.0 %).")
    saved = json.loads(voted["receipt"])
    assert saved["tracking_code"] == voted["castCode"] and "ledger_receipt" in saved
    assert result["tracked"]["status"] == "counting"
    assert result["tracked"]["heading"] == voted["castCode"]
    assert result["receiptCheck"]["ledgerStatus"] == "counting"
    assert result["receiptCheck"]["status"].endswith(voted["castCode"])
    assert all(c.startswith("✔") for c in result["receiptCheck"]["checks"])

    # The observer's part: the log mirrored and cosigned; the signed report on the results page.
    assert (
        election.log_name in result["ledgerRow"] and "not witnessed yet" not in result["ledgerRow"]
    )
    report = AuditReport.objects.get(election=election)
    assert report.passed and report.observer.name == "observer.news"
    assert result["verified"].startswith("Verified")
    assert result["reports"] == [
        {"observer": "observer.news", "verdict": "Passed: every check holds"}
    ]

    assert page_errors(result["consoleErrors"]) == []
    assert_accessible(result["findings"], view)


def test_axe_runs_under_a_strict_content_security_policy(drive: Any) -> None:
    """The booth and receipt pages may forbid inline scripts: axe must still run there."""
    result = drive("axe_csp.mjs", path="/voting/verify/")
    assert result["inlineRan"] is False  # the CSP is in force: addScriptTag(content) is refused
    assert result["axeLoaded"] == "4.14.1"
    assert result["violations"] == []
    assert any("Content Security Policy" in e for e in result["consoleErrors"])


def test_nothing_moves_for_who_asked_for_reduced_motion(drive: Any) -> None:
    """The journeys find nothing moving today; this shows the check sees motion, and that the
    site's stylesheet stops what a page may add once the visitor asks for reduced motion."""
    result = drive("motion.mjs", path="/voting/")
    moving, still = result["moving"], result["still"]
    assert moving["reduced"] is False and still["reduced"] is True
    assert "div#mover: animation civic-test-spin" in moving["moving"]
    assert "div#mover: transition opacity" in moving["moving"] and moving["running"] >= 1
    assert still["moving"] == [] and still["running"] == 0
