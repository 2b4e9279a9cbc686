"""The officials' proposal form: plain HTML fields (no JSON), a formset of questions.

The forms only parse what was typed into a :class:`~voting.services.authoring.Proposal`; every
rule lives in ``voting.services.authoring.check_proposal``, whose field-keyed errors
:func:`apply_errors` puts back next to the fields, so the pages and the API refuse the same things
with the same words. Times are typed in the city's time zone (the views activate it).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.forms import formset_factory
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from civic_votecrypto.limits import MAX_TRUSTEES
from civic_votecrypto.manifest import QUESTION_TYPES
from voting.selectors.elections import trustee_accounts
from voting.services.authoring import Proposal

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"
QUESTION_TYPE_LABELS = {
    "yes_no_abstain": gettext_lazy("Yes / no / abstain"),
    "one_of_n": gettext_lazy("One of several options"),
    "approval": gettext_lazy("Approval (choose between a minimum and a maximum)"),
    "score": gettext_lazy("Score each option"),
    "budget": gettext_lazy("Participatory budget (projects with costs, a cap)"),
}
PARAM_FIELDS = {
    "one_of_n": ("allow_blank",),
    "approval": ("min_selections", "max_selections"),
    "score": ("max_score", "max_total"),
    "budget": ("budget",),
    "yes_no_abstain": (),
}
QUESTION_LIMIT = 64


class LocalDateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self) -> None:
        super().__init__(format=DATETIME_FORMAT)


class TrusteeChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return obj.get_username()


class ProposalForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Title"), max_length=200)
    slug = forms.CharField(
        label=gettext_lazy("Address (slug)"),
        max_length=64,
        required=False,
        help_text=gettext_lazy("Part of the election's web address. Leave it empty to make it from the title."),
    )
    description = forms.CharField(
        label=gettext_lazy("Description"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=gettext_lazy("Markdown: **bold**, *italic*, lists, links. HTML is shown as text."),
    )
    district = forms.CharField(
        label=gettext_lazy("District"), max_length=100, required=False, help_text=gettext_lazy("Leave empty for the whole city.")
    )
    opens_at = forms.DateTimeField(label=gettext_lazy("Voting opens"), widget=LocalDateTimeInput(), input_formats=[DATETIME_FORMAT, "%Y-%m-%d %H:%M"])
    closes_at = forms.DateTimeField(label=gettext_lazy("Voting closes"), widget=LocalDateTimeInput(), input_formats=[DATETIME_FORMAT, "%Y-%m-%d %H:%M"])
    trustees = TrusteeChoiceField(
        label=gettext_lazy("Trustees"),
        queryset=trustee_accounts(),
        to_field_name="username",
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=gettext_lazy("They hold the key shares; they are numbered 1 to n in the order shown."),
    )
    threshold = forms.IntegerField(
        label=gettext_lazy("Trustees needed to decrypt (t)"), required=False, min_value=0, max_value=MAX_TRUSTEES
    )
    required_observer_reports = forms.IntegerField(
        label=gettext_lazy("Observer reports needed to show results as verified"), min_value=0, max_value=100, initial=1
    )

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["trustees"].queryset = trustee_accounts()
        zone = settings.CIVIC_TIME_ZONE
        for name in ("opens_at", "closes_at"):
            self.fields[name].help_text = _("Time in %(zone)s.") % {"zone": zone}
        if settings.CIVIC_DISTRICTS:
            choices = [("", _("The whole city"))] + [(d, d) for d in settings.CIVIC_DISTRICTS]
            self.fields["district"] = forms.ChoiceField(label=_("District"), choices=choices, required=False)
        if editing:
            del self.fields["slug"]


class QuestionForm(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    qid = forms.CharField(
        label=gettext_lazy("Question id"), max_length=128, required=False, help_text=gettext_lazy("Leave empty to make it from the question.")
    )
    type = forms.ChoiceField(label=gettext_lazy("Type"), initial="yes_no_abstain", choices=[(t, QUESTION_TYPE_LABELS[t]) for t in QUESTION_TYPES])
    title = forms.CharField(label=gettext_lazy("Question"), max_length=1000, required=False)
    options = forms.CharField(
        label=gettext_lazy("Options"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy(
            "One option per line: its title, or “id | title”. Budget projects: “title | cost” or "
            "“id | title | cost”. Yes/no/abstain: leave empty for the usual three."
        ),
    )
    allow_blank = forms.BooleanField(label=gettext_lazy("Allow a blank answer (one of several)"), required=False)
    min_selections = forms.IntegerField(label=gettext_lazy("Approval: fewest choices"), required=False)
    max_selections = forms.IntegerField(label=gettext_lazy("Approval: most choices"), required=False)
    max_score = forms.IntegerField(label=gettext_lazy("Score: highest score per option"), required=False)
    max_total = forms.IntegerField(label=gettext_lazy("Score: most points in all"), required=False)
    budget = forms.IntegerField(label=gettext_lazy("Budget: the cap"), required=False)


QuestionFormSet = formset_factory(
    QuestionForm, extra=0, can_delete=True, max_num=QUESTION_LIMIT, absolute_max=QUESTION_LIMIT, validate_max=True
)


def _option_lines(text: str, kind: str) -> list[dict[str, Any]]:
    options: list[dict[str, Any]] = []
    for k, line in enumerate((raw.strip() for raw in text.splitlines()), start=1):
        if not line:
            continue
        parts = [part.strip() for part in line.split("|")]
        cost: Any = None
        if kind == "budget" and len(parts) >= 2:
            cost_text = parts.pop()
            cost = int(cost_text) if cost_text.isdigit() else cost_text
        if len(parts) >= 2:
            oid, title = parts[0], " | ".join(parts[1:])
        else:
            title = parts[0]
            oid = slugify(title)[:64] or f"option-{k}"
        option: dict[str, Any] = {"id": oid, "title": title}
        if kind == "budget":
            option["cost"] = cost
        options.append(option)
    return options


def question_json(data: dict[str, Any], position: int) -> dict[str, Any]:
    """One question form's cleaned data as a manifest contest (unset parameters stay None)."""
    kind = data["type"]
    title = data.get("title") or ""
    options = _option_lines(data.get("options") or "", kind)
    if kind == "yes_no_abstain" and not options:
        options = [{"id": "yes", "title": _("Yes")}, {"id": "no", "title": _("No")}, {"id": "abstain", "title": _("Abstain")}]
    contest: dict[str, Any] = {
        "id": (data.get("qid") or "").strip() or slugify(title)[:40].strip("-") or f"q{position + 1}",
        "type": kind,
        "title": title,
        "options": options,
    }
    for name in PARAM_FIELDS[kind]:
        contest[name] = bool(data.get(name)) if name == "allow_blank" else data.get(name)
    return contest


def question_initial(contest: dict[str, Any]) -> dict[str, Any]:
    """A stored contest back as the question form's initial data."""
    lines = []
    for option in contest.get("options", []):
        line = f"{option['id']} | {option['title']}"
        if contest.get("type") == "budget":
            line += f" | {option.get('cost')}"
        lines.append(line)
    initial = {"qid": contest.get("id"), "type": contest.get("type"), "title": contest.get("title"), "options": "\n".join(lines)}
    for names in PARAM_FIELDS.values():
        for name in names:
            if name in contest:
                initial[name] = contest[name]
    return initial


def kept_question_forms(formset: Any) -> list[QuestionForm]:
    """The question forms that count, in order: not marked for deletion and not left blank."""
    kept = []
    for form in formset.forms:
        data = getattr(form, "cleaned_data", None) or {}
        if data.get("DELETE") or not ((data.get("title") or "").strip() or (data.get("options") or "").strip()):
            continue
        kept.append(form)
    return kept


def proposal_from_forms(form: ProposalForm, formset: Any, *, slug: str = "") -> Proposal:
    """The typed proposal (both forms already valid)."""
    data = form.cleaned_data
    questions = [question_json(q.cleaned_data, i) for i, q in enumerate(kept_question_forms(formset))]
    trustees = [user.get_username() for user in data.get("trustees") or []]
    return Proposal(
        title=data["title"],
        slug=data.get("slug", "") or slug,
        description=data.get("description") or "",
        district=data.get("district") or "",
        questions=questions,
        opens_at=data["opens_at"],
        closes_at=data["closes_at"],
        trustees=trustees,
        threshold=data.get("threshold"),
        required_observer_reports=data["required_observer_reports"],
    )


QUESTION_FIELD = {"id": "qid"}


def apply_errors(form: ProposalForm, formset: Any, detail: Any) -> list[str]:
    """Put the service's field-keyed errors next to their fields; return the ones of the whole
    question list (shown above it)."""
    general: list[str] = []
    if not isinstance(detail, dict):
        form.add_error(None, str(detail))
        return general
    kept = kept_question_forms(formset)
    for key, message in detail.items():
        if key == "questions":
            general.append(str(message))
        elif key.startswith("questions."):
            _prefix, index, *rest = key.split(".")
            target = kept[int(index)] if index.isdigit() and int(index) < len(kept) else None
            name = QUESTION_FIELD.get(rest[0], rest[0]) if rest else None
            if target is None:
                general.append(str(message))
            else:
                target.add_error(name if name in target.fields else None, str(message))
        elif key in form.fields:
            form.add_error(key, str(message))
        else:
            form.add_error(None, str(message))
    return general


class ReasonForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))
