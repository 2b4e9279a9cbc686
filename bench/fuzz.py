"""The long fuzzing run: schemathesis against the whole OpenAPI schema, as every role, with real
data behind it (tests/fuzz/world.py: elections in every lasting state, a credential, trustees,
an observer...). The CI test (tests/fuzz/test_fuzz_api.py) runs the same code with 2 examples.

    python bench/fuzz.py [--examples 30] [--pinned 6] [--seed 14] [--roles anonymous,citizen,...]
    CIVIC_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/civic_fuzz_bench python bench/fuzz.py

Embedded by default: a fresh SQLite database in a temporary folder. With CIVIC_BENCH_DATABASE_URL
(a database whose name ends in ``_bench``, dropped and re-created) it runs on PostgreSQL. The
application runs in this process (WSGI), so no port is opened. Checks: not_a_server_error,
status_code_conformance, response_schema_conformance, positive_data_acceptance,
negative_data_rejection (tests/fuzz/runner.py). Derandomized: the same seed draws the same cases.

Progress on stderr; ONE JSON object on stdout: ``operations``, ``requests``, ``failures`` (in all,
and per role, with ``reached``: operations answered past 401/403/404), and each failure's
description. Exit status 1 when any failure was found.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
ROLES = ("anonymous", "citizen", "official", "trustee", "observer")


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def environment() -> None:
    var = Path(tempfile.mkdtemp(prefix="civic-fuzz-bench-"))
    url = os.environ.get("CIVIC_BENCH_DATABASE_URL", "")
    if url:
        if not url.rsplit("/", 1)[-1].endswith("_bench"):
            raise SystemExit("CIVIC_BENCH_DATABASE_URL must name a *_bench database (it is dropped)")
        recreate_database(url)
        os.environ["DATABASE_URL"] = url
    else:
        os.environ.pop("DATABASE_URL", None)
    os.environ.pop("REDIS_URL", None)  # local-memory cache, file-system broker in the temp folder
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "civic.settings",
            "DEBUG": "0",
            "SECURE_SSL_REDIRECT": "0",
            "SECRET_KEY": secrets.token_urlsafe(40),
            "CIVIC_VAR_DIR": str(var),
            "CIVIC_CITY_KEY_FILE": str(var / "city_keys.json"),
            "LEDGER_SIGNER_KEYS_FILE": str(var / "ledger_keys.json"),
            "CIVIC_BLIND_RSA_BITS": "2048",
            "CIVIC_VC_API_RATE": "",
            "ALLOWED_HOSTS": "localhost,testserver",
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
            "LOG_LEVEL": "ERROR",
        }
    )


def recreate_database(url: str) -> None:
    import dj_database_url
    import psycopg

    config = dj_database_url.parse(url)
    admin = psycopg.connect(
        host=config["HOST"] or "127.0.0.1", port=config["PORT"] or 5432, user=config["USER"],
        password=config["PASSWORD"] or None, dbname="postgres", autocommit=True,
    )  # fmt: skip
    with admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{config["NAME"]}"')
        admin.execute(f'CREATE DATABASE "{config["NAME"]}"')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=30, help="per operation and mode")
    parser.add_argument("--pinned", type=int, default=6, help="real path-value combinations per operation")
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--roles", default=",".join(ROLES))
    args = parser.parse_args()
    roles = [r for r in args.roles.split(",") if r]
    unknown = sorted(set(roles) - set(ROLES))
    if unknown or args.examples < 1 or args.pinned < 0:
        parser.error(f"roles are {', '.join(ROLES)}; --examples >= 1, --pinned >= 0")
    environment()
    import django

    django.setup()
    logging.disable(logging.WARNING)
    from django.core.management import call_command

    from identity import keys
    from ledger import services as ledger_services
    from tests.fuzz.runner import fuzz_role, in_process, load_schema
    from tests.fuzz.world import build_world

    call_command("migrate", verbosity=0)
    keys.ensure_key_file()
    ledger_services._kick_sequencer = lambda: None  # noqa: SLF001 (the seed sequences itself)
    started = time.monotonic()
    world = build_world()
    say(f"seeded in {time.monotonic() - started:.1f} s: {world.slugs}")
    per_role = {}
    described = []
    with in_process() as app:
        schema = load_schema(app)
        for role in roles:
            began = time.monotonic()
            report = fuzz_role(
                schema, world, role, examples=args.examples, seed=args.seed, pinned=args.pinned
            )
            per_role[role] = report.as_dict() | {"seconds": round(time.monotonic() - began, 1)}
            say(f"{role}: {json.dumps(per_role[role])}")
            if report.failures:
                described += report.describe().splitlines()
    operations = max(r["operations"] for r in per_role.values())
    print(
        json.dumps(
            {
                "examples_per_operation": args.examples,
                "seed": args.seed,
                "database": "postgresql" if os.environ.get("DATABASE_URL") else "sqlite",
                "operations": operations,
                "requests": sum(r["requests"] for r in per_role.values()),
                "failures": sum(r["failures"] for r in per_role.values()),
                "roles": per_role,
                "failure_list": described,
            }
        )
    )
    return 1 if described else 0


if __name__ == "__main__":
    raise SystemExit(main())
