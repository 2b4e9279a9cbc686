"""Eligibility has one owner (issue 9): identity imports nothing from voting, so the dependency
runs one way, voting -> identity. The old initial migration is history and may name voting."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.support import REPO_ROOT

HISTORY = {Path("identity/migrations/0001_initial.py")}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_identity_never_imports_voting() -> None:
    offenders = {
        str(path.relative_to(REPO_ROOT)): sorted(m for m in imported_modules(path) if m.split(".")[0] == "voting")
        for path in (REPO_ROOT / "identity").rglob("*.py")
        if path.relative_to(REPO_ROOT) not in HISTORY
    }
    assert {name: mods for name, mods in offenders.items() if mods} == {}


def test_identity_models_have_no_foreign_key_to_voting() -> None:
    from django.apps import apps

    for model in apps.get_app_config("identity").get_models():
        for field in model._meta.get_fields():
            related = getattr(field, "related_model", None)
            assert related is None or related._meta.app_label != "voting", (model, field)
