"""Languages in a real browser: negotiated from the browser's locale, switched with the form on
the page, and the page's JavaScript messages (translated on the server) in the same language."""

from __future__ import annotations

import pytest
from django.utils import translation

from tests.browser.conftest import Drive, page_errors
from voting.views import receipt_messages

pytestmark = pytest.mark.django_db(transaction=True)


def labels(lang: str) -> dict[str, str]:
    with translation.override(lang):
        return {
            "paste": translation.gettext("Or paste the receipt"),
            "check": translation.gettext("Check the receipt"),
            "language": translation.gettext("Language"),
            "change": translation.gettext("Change"),
        }


def test_the_receipt_check_in_spanish_then_norwegian(drive: Drive) -> None:
    with translation.override("es"):
        es = {k: str(v) for k, v in receipt_messages().items() if isinstance(v, str)}
        receipt_check = str(receipt_messages()["checks"]["receipt"])
    with translation.override("nb"):
        nb = {k: str(v) for k, v in receipt_messages().items() if isinstance(v, str)}
    result = drive("languages.mjs", es=labels("es"), nb=labels("nb"))
    assert "error" not in result, result
    first, second = result["first"], result["second"]
    assert first["lang"] == "es" and first["skip"] == "Saltar al contenido principal"
    assert first["checks"][0].startswith(f"✘ {receipt_check}: EncodingError"), first["checks"]
    assert receipt_check == "comprobante"
    assert first["checks"][-1].startswith(f"✘ {es['published_check']}: {es['not_published']}")
    assert first["status"] == es["invalid"]
    assert second["path"] == "/voting/verify/" and second["lang"] == "nb" and second["selected"] == "nb"
    assert second["skip"] == "Hopp til hovedinnholdet"
    assert second["error"].startswith(nb["not_json"]), second["error"]
    assert page_errors(result["consoleErrors"]) == []
