"""The import contracts (pyproject.toml, [tool.importlinter]) hold, and `lint-imports` really fails
when one is broken: each case below plants one forbidden import in a copy of the tree."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
CONFIG = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", "pyproject.toml", "--no-cache", "--no-logo"],
        cwd=tree,
        env={**os.environ, "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def tree_copy(tmp_path: Path) -> Path:
    """The Python sources of every root package, and the config, in a throw-away folder."""
    for package in CONFIG["root_packages"]:
        shutil.copytree(
            REPO_ROOT / package,
            tmp_path / package,
            ignore=shutil.ignore_patterns("__pycache__", "static", "locale", "*.json", "*.mjs"),
        )
    shutil.copy(REPO_ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def plant(tree: Path, module: str, line: str) -> None:
    path = tree / module
    path.write_text(path.read_text() + f"\n{line}  # planted by the test\n")


def test_the_tree_keeps_every_contract(tree_copy: Path) -> None:
    result = lint_imports(tree_copy)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Contracts: {len(CONFIG['contracts'])} kept, 0 broken." in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("civic_tlog/merkle.py", "import django", "Pure packages import nothing from Django"),
        ("civic_votecrypto/group.py", "from ledger import models", "Pure packages import nothing"),
        ("civic_observer/cli.py", "import identity.keys", "The observer depends only on"),
        ("civic_tlog/note.py", "import civic_votecrypto.group", "independent of each other"),
        ("identity/core/jcs.py", "from identity import models", "Identity layers"),
        ("identity/selectors/dids.py", "from identity.services import dids", "Identity layers"),
        ("voting/models.py", "from voting.services import elections", "Voting layers"),
        ("voting/api.py", "from identity.selectors import dids", "Voting reaches identity only"),
        ("identity/models.py", "from voting import models", "Identity knows nothing of elections"),
        ("ledger/models.py", "import voting.models", "The ledger knows nothing of identity"),
        ("civic/errors.py", "import ledger.models", "The platform protocol"),
        ("ledger/services.py", "from ledger.anchoring import selectors", "Ledger layers"),
        ("ledger/selectors.py", "from ledger import services", "Ledger layers"),
        ("ledger/anchoring/chain.py", "from ledger.anchoring import services", "Anchoring layers"),
    ],
)
def test_a_planted_forbidden_import_breaks_its_contract(
    tree_copy: Path, module: str, line: str, contract: str
) -> None:
    plant(tree_copy, module, line)
    result = lint_imports(tree_copy)
    assert result.returncode != 0
    broken = [ln for ln in result.stdout.splitlines() if " BROKEN" in ln]
    assert any(contract in ln for ln in broken), result.stdout
