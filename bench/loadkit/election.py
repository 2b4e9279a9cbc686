"""The Django side of the load harness, run as ``python -m bench.loadkit.election STEP`` with the
private deployment's environment (bench/loadkit/stack.py). Each step prints one JSON object.

``prepare``  migrate; an official drafts the simulation's three-question election; its trustees
             run the trustee program's ceremony client in-process; the election opens. Then N
             residents become citizens with an approved residency credential over the identity
             API in-process (voting.simulation), each with a signed-in session for the load. What
             the voter's browser would compute beforehand is computed here: the wallet's DID key,
             the fresh ballot key, the RFC 9474 blinding of its token message, the encrypted
             ballot (native backend) and the ballot key's signature over it. The token itself is
             obtained during the load, over HTTP, from gunicorn.
``close``    the official closes the election; freezing and summing are the Celery workers' job.
``decrypt``  the present trustees run the trustee program's decrypt client in-process (it re-sums
             the published ballots first); then the results are published (idempotent).
``verify``   the invariants, from the database, the HTTP API and the observer program.
``finish``   ``decrypt`` then ``verify``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import django

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civic.settings")
django.setup()

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.utils import timezone  # noqa: E402

from civic.roles import Role  # noqa: E402
from civic_votecrypto import group  # noqa: E402
from civic_votecrypto.ballot import encrypt_ballot  # noqa: E402
from identity.core import base64url, blind_rsa  # noqa: E402
from identity.core.jcs import canonicalize  # noqa: E402
from ledger import sequencer  # noqa: E402
from ledger import services as ledger_services  # noqa: E402
from ledger.models import Entry, Log, OutboxEntry  # noqa: E402
from voting import simulation as sim  # noqa: E402
from voting.models import CastBallot, Election, Tally  # noqa: E402
from voting.selectors import ballot_box as box  # noqa: E402
from voting.selectors.elections import crypto_context  # noqa: E402
from voting.selectors.eligibility import token_message  # noqa: E402
from voting.services import authoring, eligibility, lifecycle, results  # noqa: E402
from voting.services import elections as election_services  # noqa: E402

SLUG = "load-2026"
OFFICIAL = "load-clerk"
TRUSTEES, THRESHOLD = 3, 2


def _key_dir() -> Path:
    return Path(os.environ["CIVIC_VAR_DIR"]) / "trustee-keys"


def _trustees() -> list[Any]:
    return [sim._account(f"{SLUG}-trustee-{i}", Role.TRUSTEE) for i in range(1, TRUSTEES + 1)]


def prepare(voters: int, seed: int, out: Path) -> dict[str, Any]:
    call_command("migrate", verbosity=0)
    call_command("ledger_init_logs", verbosity=0)
    call_command("identity_init_city_keys", verbosity=0)
    official = sim._account(OFFICIAL, Role.OFFICIAL)
    trustees = _trustees()
    now = timezone.now()
    proposal = authoring.Proposal(
        slug=SLUG, title="Load test election", description="Cast by bench/load.py.", district="",
        questions=sim.SIM_CONTESTS, opens_at=now, closes_at=now + timezone.timedelta(days=1),
        trustees=[t.get_username() for t in trustees], threshold=THRESHOLD,
        required_observer_reports=1,
    )  # fmt: skip
    with sim.inline_tasks():
        election = authoring.create_draft(official, proposal)
        election = lifecycle.start_ceremony(official, election)
        sim.run_ceremony_in_process(election, trustees, _key_dir())
        election.refresh_from_db()
        election = election_services.open_election(election)
    sequencer.sequence_all()
    [key_row] = eligibility.ensure_election_keys(election)
    public_key = blind_rsa.public_key_from_pem(key_row.public_key_pem)
    ctx = crypto_context(election)
    clerk = sim._Browser(official)
    rng = random.Random(seed)
    people = []
    with group.use_backend("native"):
        for n in range(voters):
            browser, did_private, did, credential = sim._resident(f"{SLUG}-voter-{n}", clerk)
            ballot_key = Ed25519PrivateKey.generate()
            raw_key = ballot_key.public_key().public_bytes_raw()
            message = blind_rsa.prepare(token_message(SLUG, raw_key))
            blinding = blind_rsa.blind(public_key, message)
            choices = sim.random_choices(sim.SIM_CONTESTS, rng)
            ballot = encrypt_ballot(ctx, f"load-{n}-{os.urandom(4).hex()}", choices).to_json()
            signed = box.signed_message(box.CAST_CONTEXT, SLUG, canonicalize(ballot))
            people.append({
                "n": n,
                "session": browser.client.cookies["sessionid"].value,
                "did": did,
                "did_key": did_private.private_bytes_raw().hex(),
                "credential": credential,
                "message": message.hex(),
                "blinded": base64url.encode(blinding.blinded_msg),
                "inv": hex(blinding.inv),
                "ballot": ballot,
                "ballot_key": base64url.encode(raw_key),
                "signature": base64url.encode(ballot_key.sign(signed)),
                "choices": choices,
            })  # fmt: skip
    out.write_text(json.dumps({
        "slug": SLUG, "key_id": key_row.key_id, "public_key_pem": key_row.public_key_pem,
        "voters": people,
    }))  # fmt: skip
    return {"slug": SLUG, "voters": len(people)}


def close() -> dict[str, Any]:
    election = Election.objects.get(slug=SLUG)
    official = sim._account(OFFICIAL, Role.OFFICIAL)
    lifecycle.close_early(official, election, "load test: the polls are closed")
    return {"closed": True}


def decrypt() -> dict[str, Any]:
    election = Election.objects.get(slug=SLUG)
    plan = sim.Plan(voters=1, trustees=TRUSTEES, threshold=THRESHOLD, absent=TRUSTEES - THRESHOLD)
    outcome = sim.Outcome(election, {})
    sim._decrypt(plan, outcome, _trustees(), _key_dir(), sim.no_progress, lambda _line: None)
    tally = Tally.objects.get(election=election)
    results.publish_results(tally.pk)  # idempotent: a no-op once the last share published them
    sequencer.sequence_all()
    ledger_services.sign_checkpoints()
    election.refresh_from_db()
    return {"state": election.state, "decrypted_by": outcome.decrypted_by}


# -- verification ------------------------------------------------------------------------------
def _observer(url: str, slug: str, folder: Path) -> dict[str, Any]:
    """The observer program, as an observer runs it: init, registered by the city, audit."""
    state = folder / "observer"
    python = [sys.executable, "-m", "civic_observer"]
    init = subprocess.run([*python, "init", "--state", str(state), "--name", "load.observer"],
                          capture_output=True, text=True, check=True, cwd=ROOT)  # fmt: skip
    ledger_services.register_observer(init.stdout.strip().splitlines()[-1])
    audit = subprocess.run(
        [*python, "audit-election", "--server", url, "--election", slug, "--state", str(state),
         "--no-progress", "--jobs", "1", "--out", str(folder / "report.json")],
        capture_output=True, text=True, cwd=ROOT, timeout=600,
    )  # fmt: skip
    return {"passed": audit.returncode == 0, "exit": audit.returncode,
            "summary": audit.stdout.strip().splitlines()[-3:] if audit.returncode else []}  # fmt: skip


def _inclusion(url: str, slug: str, accepted: dict[str, Any], ballots: dict[int, Any]) -> dict[str, Any]:
    """Every receipt as the booth saves it (docs/protocol.md §7.7: context, ballot, the box's
    answer, the ledger receipt fetched by tracking code over HTTP), checked by the observer
    program's receipt check: the ballot's proofs, the log entry naming it, the inclusion proof,
    the log's signature and the observers' cosignatures."""
    import httpx

    from civic_observer.ballot_receipt import check_ballot_receipt

    bad: list[str] = []
    with httpx.Client(base_url=url, timeout=30) as client:
        context = client.get(f"/api/voting/elections/{slug}/context").json()["context"]
        for code, kept in sorted(accepted.items()):
            answer = client.get(f"/api/voting/elections/{slug}/ballots/{code}")
            if answer.status_code != 200:
                bad.append(f"{code}: HTTP {answer.status_code}")
                continue
            receipt_file = {"context": context, "ballot": ballots[kept["n"]], "tracking_code": code,
                            "cast": kept["receipt"], "ledger_receipt": answer.json()["ledger_receipt"]}  # fmt: skip
            result = check_ballot_receipt(receipt_file)
            failed = [f"{c.name} ({c.detail[:120]})" for c in result.report.checks if not c.ok]
            if failed:
                bad.append(f"{code}: {', '.join(failed)}")
    return {"checked": len(accepted), "failed": len(bad), "failures": bad[:5]}


def verify(receipts_file: Path, voters_file: Path, url: str) -> dict[str, Any]:
    """What the issue asks after every run, from the receipts the clients kept."""
    election = Election.objects.get(slug=SLUG)
    receipts = json.loads(receipts_file.read_text())
    prepared = {p["n"]: p["ballot"] for p in json.loads(voters_file.read_text())["voters"]}
    accepted = {r["tracking_code"]: r for r in receipts if r.get("tracking_code")}
    rows = list(
        CastBallot.objects.filter(election=election, kind=CastBallot.Kind.CAST).values_list(
            "tracking_code", "sha256", "counting"
        )
    )
    box_codes = Counter(code for code, _sha, _counting in rows)
    log = Log.objects.get(name=election.log_name)
    log_codes: Counter[str] = Counter()
    for raw in Entry.objects.filter(log=log, kind=box.BALLOT_CAST_EVENT).values_list("entry", flat=True):
        log_codes[json.loads(bytes(raw))["payload"]["tracking_code"]] += 1
    tally = Tally.objects.filter(election=election).first()
    counted = tally.frozen["counting"] if tally is not None else 0
    totals = (tally.results or {}).get("contests") if tally is not None else None
    expected: dict[str, dict[str, int]] = {
        c["id"]: {o["id"]: 0 for o in c["options"]} for c in sim.SIM_CONTESTS
    }
    for receipt in accepted.values():
        sim._add(expected, receipt["choices"])
    decrypted_count = sum(totals["library"].values()) if totals else None  # one option each
    lost = [c for c in accepted if box_codes[c] != 1 or log_codes[c] != 1]
    duplicated = [c for c, k in (box_codes + log_codes).items() if k > 2]
    duplicated += [c for c in box_codes if box_codes[c] > 1 or log_codes[c] > 1]
    unreceipted = sorted(set(box_codes) - set(accepted))
    retried = [r for r in receipts if r.get("timeout_retry")]
    folder = Path(tempfile.mkdtemp(prefix="civic-load-verify-"))
    audit = _observer(url, SLUG, folder)  # first: its follow round cosigns the checkpoints
    return {
        "accepted": len(accepted),
        "in_box": sum(box_codes.values()),
        "in_log": sum(log_codes.values()),
        "counted": decrypted_count if decrypted_count is not None else -1,
        "frozen_counting": counted,
        "lost": len(lost),
        "duplicated": len(set(duplicated)),
        "unreceipted_in_box": len(unreceipted),
        "results_match_receipts": totals == expected,
        "pending_outbox": OutboxEntry.objects.filter(log=log, sequenced_at__isnull=True).count(),
        "state": election.state,
        "timeout_retries": len(retried),
        "timeout_retries_same_receipt": sum(1 for r in retried if r.get("same_receipt")),
        "inclusion": _inclusion(url, SLUG, accepted, prepared),
        "audit": audit,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("step", choices=["prepare", "close", "decrypt", "verify", "finish"])
    parser.add_argument("--voters", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--file", type=Path)
    parser.add_argument("--voters-file", type=Path)
    parser.add_argument("--url", default="")
    args = parser.parse_args()
    if args.step == "prepare":
        result = prepare(args.voters, args.seed, args.file)
    elif args.step == "close":
        result = close()
    elif args.step == "decrypt":
        result = decrypt()
    elif args.step == "verify":
        result = verify(args.file, args.voters_file, args.url)
    else:  # decrypt, then verify: one process start fewer
        result = {"decrypted": decrypt(), "checks": verify(args.file, args.voters_file, args.url)}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
