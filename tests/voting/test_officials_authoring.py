"""Proposals: every field checked against the crypto manifest, refusals next to the field, the
sanitized Markdown, slugs, drafts editable and deletable, frozen once the ceremony started."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from civic.roles import Role
from tests.identity.support_identity import identity_settings, make_user  # noqa: F401
from tests.voting.support_officials import QUESTIONS, draft, proposal, trustees
from voting.errors import ElectionStateError, NotAllowed, ProposalInvalid
from voting.markdown import render_markdown
from voting.models import Election, ElectionTrustee
from voting.services import authoring, lifecycle

pytestmark = pytest.mark.django_db


@pytest.fixture
def official():
    trustees()
    return make_user("clerk", Role.OFFICIAL)


def errors_of(official, **overrides) -> dict[str, str]:
    with pytest.raises(ProposalInvalid) as caught:
        authoring.create_draft(official, proposal(**overrides))
    assert not Election.objects.exists(), "a refused proposal stores nothing"
    return caught.value.detail


def q(i: int, **changes):
    question = {**QUESTIONS[i], **changes}
    return question


def test_a_valid_proposal_becomes_a_draft_with_its_manifest_and_ordered_trustees(official) -> None:
    election = draft(official, trustees=["keeper3", "keeper1"], threshold=1)
    assert election.state == Election.State.DRAFT and election.slug == "sunday-library"
    assert election.manifest["election_id"] == "sunday-library"
    assert [c["id"] for c in election.manifest["contests"]] == ["library", "parks"]
    rows = ElectionTrustee.objects.filter(election=election).order_by("index")
    assert [(r.index, r.user.username) for r in rows] == [(1, "keeper3"), (2, "keeper1")]


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"title": "  "}, "title", "title"),
        ({"questions": []}, "questions", "at least one question"),
        ({"questions": [q(0, options=[])]}, "questions.0.options", "at least one option"),
        ({"questions": [q(0, title="")]}, "questions.0.title", "Write the question"),
        ({"questions": [q(1, options=[{"id": "a", "title": "A", "cost": 1}, {"id": "a", "title": "B", "cost": 2}])]}, "questions.0.options", "appears twice"),
        ({"questions": [q(0), q(0)]}, "questions.1.id", "already has the id"),
        ({"questions": [q(1, budget=1)]}, "questions.0.budget", "No project fits"),
        ({"questions": [q(0, type="ranked")]}, "questions.0.type", "question types"),
        ({"questions": [q(0, options=[{"id": "yes", "title": "Yes"}])]}, "questions.0.options", "the options yes, no and abstain"),
        ({"questions": [q(0, options=[{"id": i, "title": i} for i in ("yes", "no", "maybe")])]}, "questions.0.options", "the options yes, no and abstain"),
        ({"questions": [{"id": "c", "type": "approval", "title": "Pick", "min_selections": 2, "max_selections": 1, "options": [{"id": "a", "title": "A"}, {"id": "b", "title": "B"}]}]}, "questions.0.max_selections", "maximum"),
        ({"questions": [{"id": "s", "type": "score", "title": "Score", "max_score": 0, "max_total": 3, "options": [{"id": "a", "title": "A"}]}]}, "questions.0.max_score", "highest score"),
        ({"questions": [{"id": "o", "type": "one_of_n", "title": "One", "options": [{"id": "a", "title": "A"}]}]}, "questions.0.allow_blank", "blank"),
        ({"questions": [q(0, id="bad id!")]}, "questions.0.id", "question id"),
        ({"questions": "not a list"}, "questions", "at least one question"),
        ({"questions": [["x"]]}, "questions.0", "object"),
        ({"threshold": 4}, "threshold", "larger than the number of trustees"),
        ({"threshold": 0}, "threshold", "t ≥ 1"),
        ({"threshold": None}, "threshold", "how many"),
        ({"trustees": []}, "trustees", "at least one trustee"),
        ({"trustees": ["keeper1", "keeper1"]}, "trustees", "only once"),
        ({"trustees": ["clerk"]}, "trustees", "Not a trustee account"),
        ({"opens_at": timezone.now() - timedelta(days=1)}, "opens_at", "past"),
        ({"closes_at": timezone.now()}, "closes_at", "close after it opens"),
        ({"opens_at": None}, "opens_at", "when voting opens"),
        ({"required_observer_reports": -1}, "required_observer_reports", "0 to"),
        ({"slug": "Not A Slug"}, "slug", "address"),
        ({"slug": "official"}, "slug", "address"),
        ({"description": "x" * 20001}, "description", "at most"),
    ],
)
def test_bad_proposals_are_refused_next_to_the_field(official, overrides, field, words) -> None:
    detail = errors_of(official, **overrides)
    assert field in detail, detail
    assert words.lower() in detail[field].lower(), detail


def test_errors_come_in_the_users_language(official) -> None:
    from django.utils import translation

    with translation.override("nb"):
        detail = errors_of(official, trustees=[])
    assert "trustees" in detail  # the catalogue is regenerated after the merge; the key is stable


def test_districts_come_from_the_city_when_configured(official, settings) -> None:
    settings.CIVIC_DISTRICTS = ["north", "south"]
    assert "district" in errors_of(official, district="east")
    assert draft(official, district="north").district == "north"


def test_slugs_are_unique_and_refused_if_taken(official) -> None:
    draft(official)
    with pytest.raises(ProposalInvalid) as caught:
        authoring.create_draft(official, proposal())
    assert "taken" in caught.value.detail["slug"]
    assert Election.objects.count() == 1
    assert draft(official, slug="sunday-library-2").slug == "sunday-library-2"


def test_only_officials_write_drafts(official) -> None:
    for role in (Role.CITIZEN, Role.TRUSTEE, Role.OBSERVER):
        with pytest.raises(NotAllowed):
            authoring.create_draft(make_user(f"x-{role}", role), proposal())
    assert not Election.objects.exists()


def test_drafts_are_edited_and_deleted_but_frozen_once_the_ceremony_started(official) -> None:
    election = draft(official)
    authoring.update_draft(official, election, proposal(title="Sunday library hours", trustees=["keeper2"], threshold=1))
    election.refresh_from_db()
    assert election.title == "Sunday library hours" and election.slug == "sunday-library"
    assert election.manifest["title"] == "Sunday library hours"
    assert list(election.trustees.values_list("index", "user__username")) == [(1, "keeper2")]
    with pytest.raises(ProposalInvalid):
        authoring.update_draft(official, election, proposal(threshold=9))
    election.refresh_from_db()
    assert election.threshold == 1

    lifecycle.start_ceremony(official, election)
    frozen = Election.objects.get(pk=election.pk)
    for change in (lambda: authoring.update_draft(official, frozen, proposal(title="Changed")),
                   lambda: authoring.delete_draft(official, frozen)):
        with pytest.raises(ElectionStateError):
            change()
    frozen.refresh_from_db()
    assert frozen.title == "Sunday library hours" and frozen.state == Election.State.CEREMONY

    other = draft(official, title="Another")
    authoring.delete_draft(official, other)
    assert not Election.objects.filter(slug="another").exists()


def test_markdown_is_rendered_and_sanitized() -> None:
    html = render_markdown(
        "# Title\n\n<script>alert(1)</script>\n\n<a href=\"#\" onclick=\"steal()\">x</a>\n\n"
        "[click](javascript:alert(1)) [ok](https://example.org) **bold**"
    )
    assert "<h1>Title</h1>" in html and "<strong>bold</strong>" in html
    assert "<script" not in html and "&lt;script&gt;" in html  # raw HTML comes out as text
    assert not re.search(r"<[^>]*onclick", html)
    assert not re.search(r"<a[^>]*javascript", html)
    assert '<a href="https://example.org" rel="noopener noreferrer nofollow">ok</a>' in html
