"""Eligibility token issuance: tokens/s of ``POST /api/voting/elections/<slug>/tokens``, with the
election's sealed RSA key unsealed once per process (the server's way) and, for comparison,
unsealed for every token (``voting.services.eligibility`` before its key cache).

    python bench/tokens.py [--tokens 30] [--bits 3072] [--database-url URL]

Before anything is timed: an embedded var/ folder (SQLite, unless ``--database-url`` names a
PostgreSQL database, which is dropped and re-created: its name must end in ``_bench``), one open
election (made open directly: a token does not depend on the key ceremony) with its RFC 9474 key of
``--bits`` (the default is the server's CIVIC_BLIND_RSA_BITS default), and 2 x ``--tokens``
residents, each with a bound did:key and an approved residency credential (voting.simulation's
resident, over the identity HTTP API in-process). Timed, per token: the request itself, in-process
through Django's test client — the presentation checked by identity, the grant stored, the blinded
message signed, the ledger commitment appended — as ``issue_voter`` of voting.simulation sends it.
The wallet's blinding and unblinding are outside the timing.

Progress on stderr, ONE JSON object on stdout: ``tokens_per_s`` (cached key) and
``uncached_tokens_per_s``, ``ms_per_token`` (wall) and ``cpu_ms_per_token`` (this process's CPU
time: the figure that holds on a shared machine; with SQLite it includes the database) for both,
and ``unseal_ms``/``unseal_cpu_ms`` (one unsealing).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SLUG = "bench-tokens"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def setup_django(database_url: str | None, bits: int) -> None:
    var = tempfile.mkdtemp(prefix="civic-token-bench-")
    for name in ("DATABASE_URL", "REDIS_URL"):
        os.environ.pop(name, None)
    if database_url:
        if not database_url.rstrip("/").endswith("_bench"):
            raise SystemExit("--database-url must name a *_bench database (it is dropped)")
        import psycopg

        name = database_url.rsplit("/", 1)[1]
        admin = database_url.rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        os.environ["DATABASE_URL"] = database_url
    os.environ.update(
        CIVIC_VAR_DIR=var, DJANGO_SETTINGS_MODULE="civic.settings", DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(32), CIVIC_BLIND_RSA_BITS=str(bits),
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
    )  # fmt: skip
    import django

    django.setup()
    from django.core.management import call_command

    from identity import keys
    from ledger import services as ledger

    ledger._kick_sequencer = lambda: None  # noqa: SLF001 - no worker: the request path only
    call_command("migrate", verbosity=0)
    call_command("ledger_init_logs", verbosity=0)
    keys.ensure_key_file()


def request_token(
    browser: Any, did: str, private_key: Any, credential: dict[str, Any]
) -> tuple[float, float]:
    """One wallet's token request; returns the seconds the POST /tokens took (wall, CPU)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from identity.core import blind_rsa, credentials, did_key
    from voting.selectors.eligibility import token_message
    from voting.simulation import _b64url  # noqa: PLC2701

    [key] = browser.get(f"/api/voting/elections/{SLUG}/eligibility-key")["keys"]
    public_key = blind_rsa.public_key_from_pem(key["public_key_pem"])
    ballot_key = Ed25519PrivateKey.generate().public_key().public_bytes_raw()
    input_msg = blind_rsa.prepare(token_message(SLUG, ballot_key))
    blinding = blind_rsa.blind(public_key, input_msg)
    challenge = browser.post(f"/api/voting/elections/{SLUG}/token-challenge")
    vp = credentials.sign_presentation(
        credentials.presentation(did, [credential]),
        private_key,
        did_key.verification_method_id(did),
        challenge=challenge["challenge"],
        domain=challenge["domain"],
    )
    body = {"blinded_message": _b64url(blinding.blinded_msg), "presentation": vp}
    started, cpu = time.perf_counter(), time.process_time()
    answer = browser.post(f"/api/voting/elections/{SLUG}/tokens", body)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    signature = blind_rsa.finalize(
        public_key, input_msg, blind_rsa_decode(answer["blind_signature"]), blinding.inv
    )
    assert signature  # noqa: S101 - finalize raises on a wrong signature
    return elapsed, cpu


def blind_rsa_decode(text: str) -> bytes:
    import base64

    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=30)
    parser.add_argument("--bits", type=int, default=3072)
    parser.add_argument("--database-url", default=os.environ.get("CIVIC_BENCH_DATABASE_URL"))
    args = parser.parse_args()
    if not 1 <= args.tokens <= 10_000 or args.bits not in (2048, 3072, 4096):
        parser.error("--tokens in 1..10000, --bits one of 2048, 3072, 4096")
    setup_django(args.database_url, args.bits)
    from civic.roles import Role
    from civic.services import create_user_with_role
    from voting.models import Election
    from voting.services import eligibility
    from voting.services.elections import create_election
    from voting.simulation import _Browser, _resident  # noqa: PLC2701

    official = create_user_with_role(
        username="bench-clerk", email="c@bench.invalid", password=None, role=Role.OFFICIAL
    )  # type: ignore[arg-type]
    election = create_election(slug=SLUG, title=SLUG, district="", created_by=official)
    election.state = Election.State.OPEN
    election.save(update_fields=["state"])
    [row] = eligibility.ensure_election_keys(election)
    started, unseal_cpu = time.perf_counter(), time.process_time()
    eligibility.unseal_private_key(row)
    unseal_s, unseal_cpu = time.perf_counter() - started, time.process_time() - unseal_cpu

    clerk = _Browser(official)
    log(f"{2 * args.tokens} residents with residency credentials (not timed) ...")
    residents = [_resident(f"bench-r{i}", clerk) for i in range(2 * args.tokens)]
    out: dict[str, Any] = {"tokens": args.tokens, "rsa_bits": args.bits}
    for mode, people in (("uncached", residents[: args.tokens]), ("cached", residents[args.tokens :])):
        # uncached: a cache of size 0 unseals for every token, as the service did before
        eligibility._unsealed.clear()  # noqa: SLF001
        eligibility._unsealed.limit = 0 if mode == "uncached" else eligibility.UNSEALED_KEYS_MAX  # noqa: SLF001
        log(f"{args.tokens} tokens, {mode} key ...")
        timings = [request_token(b, did, key, cred) for b, key, did, cred in people]
        total, cpu = sum(t[0] for t in timings), sum(t[1] for t in timings)
        prefix = "" if mode == "cached" else "uncached_"
        out[f"{prefix}tokens_per_s"] = round(args.tokens / total, 1)
        out[f"{prefix}ms_per_token"] = round(1000 * total / args.tokens, 1)
        out[f"{prefix}cpu_ms_per_token"] = round(1000 * cpu / args.tokens, 1)
    out["unseal_ms"], out["unseal_cpu_ms"] = round(1000 * unseal_s, 1), round(1000 * unseal_cpu, 1)
    out["database"] = "postgresql" if args.database_url else "sqlite"
    out["cpu_count"], out["load_avg_1m"] = os.cpu_count(), round(os.getloadavg()[0], 2)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
