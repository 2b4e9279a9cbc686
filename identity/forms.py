"""Identity HTML forms: the residency claim, official decisions, credential status changes."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from identity.selectors import claims as claim_selectors


class ClaimForm(forms.Form):
    legal_name = forms.CharField(label=_("Legal name"), max_length=200)
    address = forms.CharField(label=_("Address"), max_length=300)
    district = forms.CharField(label=_("District"), max_length=100)
    document = forms.FileField(
        label=_("Supporting document (optional)"),
        required=False,
        help_text=_("PDF, PNG or JPEG, at most 2 MiB: for example a tenancy agreement."),
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,image/png,image/jpeg"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        districts = claim_selectors.configured_districts()
        if districts:
            self.fields["district"] = forms.ChoiceField(
                label=_("District"), choices=[("", "—")] + [(d, d) for d in districts]
            )
        for name, field in self.fields.items():
            field.widget.attrs.setdefault(
                "autocomplete", {"legal_name": "name", "address": "street-address"}.get(name, "off")
            )

    def clean_document(self) -> Any:
        document = self.cleaned_data.get("document")
        limit = settings.CIVIC_CLAIM_DOCUMENT_MAX_BYTES
        if document and document.size > limit:
            raise forms.ValidationError(_("The file is too large (at most 2 MiB)."))
        return document


class DecisionForm(forms.Form):
    DECISIONS = [("approve", _("Approve and issue the credential")), ("reject", _("Reject"))]

    decision = forms.ChoiceField(label=_("Decision"), choices=DECISIONS, widget=forms.RadioSelect)
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required when rejecting; the citizen sees it."),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("decision") == "reject" and not (cleaned.get("reason") or "").strip():
            self.add_error("reason", _("Give the reason for the rejection."))
        return cleaned


class StatusChangeForm(forms.Form):
    ACTIONS = [
        ("suspend", _("Suspend")),
        ("reinstate", _("Reinstate")),
        ("revoke", _("Revoke (final)")),
    ]

    credential = forms.IntegerField(widget=forms.HiddenInput)
    action = forms.ChoiceField(label=_("Action"), choices=ACTIONS)
    reason = forms.CharField(label=_("Reason"), max_length=2000)
