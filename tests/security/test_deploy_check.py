"""`manage.py check --deploy` passes with the production settings (DEBUG off, the secret key
from the environment or a file, HSTS, secure cookies, HTTPS redirect), and fails when one of them
is weakened; a production response carries the security headers and the CSP.

Each configuration is a fresh process (settings are read from the environment once); they run
side by side, each doing the check and then one request through the test client."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import REPO_ROOT

pytestmark = pytest.mark.slow
HOST = "vote.example.org"
PROBE = (
    """
import io, json, sys, django
django.setup()
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import Client
out = io.StringIO()
try:
    call_command("check", deploy=True, fail_level="WARNING", stdout=out, stderr=out)
    passed = True
except SystemCheckError as exc:
    passed, out = False, io.StringIO(str(exc))
r = Client(HTTP_X_FORWARDED_PROTO="https").get("/api/nope", HTTP_HOST=sys.argv[1])
print(json.dumps({"passed": passed, "output": out.getvalue(), "status": r.status_code,
    "headers": {k.lower(): v for k, v in r.headers.items()}, "debug": settings.DEBUG,
    "cookies": [settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE, settings.SESSION_COOKIE_HTTPONLY]}))
"""
)


def production_env(tmp_path: Path, name: str, **overrides: str) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("SECURE_", "DEBUG", "SECRET_KEY"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="civic.settings",
        CIVIC_VAR_DIR=str(tmp_path / name),
        DATABASE_URL="postgres://civic@db.internal:5432/civic",  # never connected to
        REDIS_URL="redis://cache.internal:6379/0",
        ALLOWED_HOSTS=HOST,
        CSRF_TRUSTED_ORIGINS=f"https://{HOST}",
        SECRET_KEY=secrets.token_urlsafe(64),
    )
    env.update(overrides)
    return {k: v for k, v in env.items() if v != ""}


def test_check_deploy_passes_with_the_production_settings_and_fails_when_weakened(
    tmp_path: Path,
) -> None:
    key_file = tmp_path / "secret"
    key_file.write_text(secrets.token_urlsafe(64) + "\n")
    configs = {
        "production": {},
        "key from a file": {"SECRET_KEY": "", "SECRET_KEY_FILE": str(key_file)},
        "weakened": {"SECRET_KEY": "short", "SECURE_HSTS_SECONDS": "0", "SECURE_SSL_REDIRECT": "0"},
        "debug": {"DEBUG": "1"},
    }
    procs = {
        name: subprocess.Popen(
            [sys.executable, "-c", PROBE, HOST],
            cwd=REPO_ROOT,
            env=production_env(tmp_path, f"v{i}", **extra),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for i, (name, extra) in enumerate(configs.items())
    }
    seen = {}
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, (name, err)
        seen[name] = json.loads(out.strip().splitlines()[-1])

    production = seen["production"]
    assert production["passed"], production["output"]
    assert seen["key from a file"]["passed"], seen["key from a file"]["output"]
    weakened = seen["weakened"]["output"]
    assert not seen["weakened"]["passed"]
    assert all(
        issue in weakened for issue in ("security.W009", "security.W004", "security.W008")
    ), weakened
    assert not seen["debug"]["passed"] and "security.W018" in seen["debug"]["output"]

    headers = production["headers"]
    assert production["status"] == 404 and production["debug"] is False
    assert headers["strict-transport-security"] == "max-age=31536000; includeSubDomains; preload"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "same-origin"
    policy = headers["content-security-policy"]
    assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    assert production["cookies"] == [True, True, True]
