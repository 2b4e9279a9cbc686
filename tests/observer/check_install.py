"""Run by make test-observer-standalone with the standalone venv's Python, outside the checkout.

The three pure packages must come from that install (not from the source tree), every one of
their modules must import there, and Django must be neither installed nor pulled in.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
import sys

PACKAGES = ("civic_tlog", "civic_votecrypto", "civic_observer")


def main() -> int:
    problems: list[str] = []
    if importlib.util.find_spec("django") is not None:
        problems.append("django is installed: the observer must not need it")
    for name in PACKAGES:
        package = importlib.import_module(name)
        if not package.__file__ or not package.__file__.startswith(sys.prefix):
            problems.append(f"{name} is not from the install: {package.__file__}")
        for module in pkgutil.iter_modules(package.__path__, f"{name}."):
            if module.name.endswith(".__main__"):
                continue  # runs the command line on import
            importlib.import_module(module.name)
    if "django" in sys.modules:
        problems.append("importing the pure packages imported django")
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"{len(PACKAGES)} packages from {sys.prefix}: " + ("FAILED" if problems else "ok"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
