"""Eligibility has one owner (issue 9): identity's models point at nothing of voting's. (That no
identity module imports voting is an import contract in pyproject.toml, checked by make lint.)"""

from __future__ import annotations


def test_identity_models_have_no_foreign_key_to_voting() -> None:
    from django.apps import apps

    for model in apps.get_app_config("identity").get_models():
        for field in model._meta.get_fields():
            related = getattr(field, "related_model", None)
            assert related is None or related._meta.app_label != "voting", (model, field)
