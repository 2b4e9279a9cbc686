"""The results page in a real browser: reached from the election list, every question type's
totals in a table beside a chart image with a text alternative, turnout, no observer report yet,
and the accessibility audit in English and Norwegian (the decryption page too)."""

from __future__ import annotations

from typing import Any

import pytest

from civic.roles import Role
from tests.browser.conftest import Drive, page_errors
from tests.voting.ballot_box_support import box_settings  # noqa: F401
from tests.voting.tally_support import (
    EVERY_TYPE,
    account,
    close,
    eager_celery,  # noqa: F401
    encrypt,
    inline_sequencer,  # noqa: F401
    open_tally_election,
    store_ballot,
    tally_share_envelope,
)
from voting.models import Election
from voting.services import decryption_shares

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("box_settings", "eager_celery", "inline_sequencer"),
]

VOTES = [
    {
        "sundays": {"yes": 1},
        "q": {"a": 1},
        "events": {"concert": 1, "market": 1},
        "plans": {"p1": 5, "p2": 3},
        "budget": {"trees": 1},
    },
    {
        "sundays": {"no": 1},
        "q": {"c": 1},
        "events": {"market": 1},
        "plans": {"p1": 2},
        "budget": {"trees": 1, "bikes": 1},
    },
    {
        "sundays": {"yes": 1},
        "q": {"a": 1},
        "events": {},
        "plans": {"p2": 4},
        "budget": {"bikes": 1},
    },
]
EXPECTED = {
    "sundays": {"yes": 2, "no": 1, "abstain": 0},
    "q": {"a": 2, "b": 0, "c": 1},
    "events": {"concert": 1, "market": 2, "race": 0},
    "plans": {"p1": 7, "p2": 7},
    "budget": {"trees": 2, "bikes": 2},
}


def test_results_page_shows_every_question_type_accessibly(drive: Drive) -> None:
    official = account("clerk", Role.OFFICIAL)
    te = open_tally_election("results-vote", official, contests=EVERY_TYPE)
    for n, choices in enumerate(VOTES):
        store_ballot(te.election, encrypt(te.election, choices), f"key{n}")
    close(te.election, official)
    for index in (1, 2):
        decryption_shares.submit_share(
            slug=te.slug, user=te.trustees[index - 1], document=tally_share_envelope(te, index)
        )
    assert te.refresh().state == Election.State.PUBLISHED

    result: dict[str, Any] = drive("results_page.mjs", slug=te.slug)
    assert "error" not in result, result
    assert result["path"] == f"/voting/{te.slug}/results/"
    by_contest = {q["contest"]: q for q in result["questions"]}
    assert list(by_contest) == [c["id"] for c in EVERY_TYPE]
    for contest in EVERY_TYPE:
        found = by_contest[contest["id"]]
        assert found["heading"] == contest["title"] and found["charts"] == 1
        assert contest["title"] in found["chartName"] and "table" in found["chartName"]
        assert found["bars"] == len(contest["options"]) and contest["title"] in found["caption"]
        titles = {o["id"]: o["title"] for o in contest["options"]}
        assert [(r["option"], r["count"]) for r in found["rows"]] == [
            (titles[o], n) for o, n in EXPECTED[contest["id"]].items()
        ]
        assert {r["scope"] for r in found["rows"]} == {"row"}
    assert result["turnout"].startswith("3 ballots counted; no voting token was issued.")
    assert "No observer has reported on this election yet." in result["reports"]
    assert result["anchor"] == "No anchor covers the results yet."
    for language in ("en", "nb"):
        for found in result["findings"][language]:
            where = (language, found["path"])
            assert found["lang"] == language, where
            assert len(found["h1"]) == 1 and found["h1"][0], where
            assert found["unlabelled"] == [] and found["duplicateIds"] == [], where
    assert page_errors(result["consoleErrors"]) == []
