"""The trustee's page forms: an API credential's label (the officials' credentials page uses it
too), and a ceremony message file (the air gap)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from civic.errors import InvalidInput
from civic.http import parse_strict_json


class CredentialForm(forms.Form):
    label = forms.CharField(
        label=_("Label (which machine it is for)"), max_length=100, required=False, strip=True
    )


class CeremonyUploadForm(forms.Form):
    message = forms.FileField(label=_("Message file (JSON) written by the trustee program"))

    def clean_message(self) -> Any:
        upload = self.cleaned_data["message"]
        limit = settings.CIVIC_CEREMONY_MAX_MESSAGE_BYTES
        if upload.size > limit:
            raise forms.ValidationError(_("The file must be at most %(limit)d bytes.") % {"limit": limit})
        raw = upload.read(limit + 1)
        try:
            document = parse_strict_json(raw)
        except InvalidInput as exc:
            raise forms.ValidationError(_("This is not a JSON message file: %(why)s") % {"why": exc.detail}) from None
        if not isinstance(document, dict):
            raise forms.ValidationError(_("A message file holds one JSON object."))
        return document
