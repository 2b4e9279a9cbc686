"""Whole-election benchmark on PostgreSQL: casting through the service layer, the tally, and the
observer's audit of the record, for each size of ``--sizes`` (default 10000,100000).

    python bench/election.py [--sizes 10000,100000] [--jobs 2] [--cast-jobs 4] [--cast-max 10000]
                             [--database-url URL]

Ballots are prepared before anything is timed and cached in ``var/bench/`` between runs: for
each size, one 2-of-3 key ceremony and eligibility key, then N voters, each with its own Ed25519
ballot key, its own RFC 9474 token (signed directly with the eligibility key: the same
signatures as blind signing) and its own freshly encrypted one-of-five ballot (native backend,
``--jobs`` processes): N genuine, distinct, valid ballots, never one ciphertext reused.

The bench database (default postgres://postgres@127.0.0.1:5432/civic_sim_bench, created if
missing, emptied and migrated at each run) gets the election through the real lifecycle with
the cached ceremony, the eligibility key sealed as the server seals it, and one eligibility
grant per voter (the tokens issued). Timed:

- ``cast_per_s``: ballots through ``voting.services.ballot_box.cast_ballot`` (all checks:
  structure, token, key signature, proofs; store and log), from ``--cast-jobs`` processes at
  once (default twice the cores: what gunicorn.conf.py's default workers x threads serve
  concurrently; each its own database connection, as the web processes have), over the last
  ``--cast-max`` ballots of the size (default 10,000) — into a box that already holds the others.
  A cast waits mostly on PostgreSQL's commit (one round trip, its WAL flush), so concurrent casts,
  as a server sees them, overlap those waits. ``cast_jobs`` in the JSON says how many.
- Before those, the first N - ``--cast-max`` ballots of a larger size are LOADED, not cast: stored
  by the box's own store step (``ballot_box._store``: the same rows, outbox entries and ledger
  entries as a cast) without the checks before it, in ``--cast-jobs`` processes, untimed as
  casting (``load_s``). This is preparation, not a figure: every one of those ballots is a
  genuine prepared ballot, and the audit below checks each one's token, signature and proofs.
- ``tally_s``: close, freeze, every chunk, combine, two trustees' shares checked by
  ``submit_share`` (the trustees' own share computation, ``trustee_s``, is not in it), publish.
- ``record_s``: the server's record export (``voting.services.record_export``: sealing, then
  the streamed record, as ``GET .../record`` sends it).
- ``audit_s``: the observer's audit (``civic_observer.audit.audit_election``, ``--jobs``
  workers) of that record and the election log's entries read from the ledger.

Progress on stderr, ONE JSON object on stdout.
"""

from __future__ import annotations

import argparse
import base64
import gzip
import hashlib
import json
import os
import secrets
import sys
import tempfile
import time
from contextlib import nullcontext
from multiprocessing import Pool
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CACHE_DIR = ROOT / "var" / "bench"
CACHE_VERSION = "v1"
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/civic_sim_bench"
OPTIONS = [f"o{i}" for i in range(5)]
TRUSTEES, THRESHOLD = 3, 2


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def slug_of(n: int) -> str:
    return f"bench-election-{n}"


def manifest_json(n: int) -> dict[str, Any]:
    return {
        "election_id": slug_of(n),
        "title": f"Bench election of {n}",
        "contests": [{
            "id": "q", "type": "one_of_n", "title": "One of five", "allow_blank": False,
            "options": [{"id": o, "title": o} for o in OPTIONS],
        }],
    }  # fmt: skip


# -- preparing ballots (pure code, worker processes) ------------------------------------------------
def _transcript(setup: dict[str, Any]) -> Any:
    from civic_votecrypto import dkg
    from civic_votecrypto.election import election_from_manifest
    from civic_votecrypto.manifest import Manifest

    manifest = Manifest.from_json(setup["manifest"])
    t = setup["transcript"]
    return manifest, dkg.CeremonyTranscript(
        election_from_manifest(manifest, TRUSTEES, THRESHOLD).params,
        tuple(dkg.TrusteeAnnouncement.from_json(a) for a in t["announcements"]),
        tuple(dkg.TrusteeCommitments.from_json(c) for c in t["commitments"]),
        tuple(dkg.Complaint.from_json(c) for c in t["complaints"]),
    )


_WORKER: dict[str, Any] = {}


def _init_worker(setup: dict[str, Any]) -> None:
    from cryptography.hazmat.primitives import serialization

    from civic_votecrypto import group, record

    group.set_backend("native")
    manifest, transcript = _transcript(setup)
    _WORKER["ctx"] = record.election_context(manifest, transcript)
    _WORKER["rsa"] = serialization.load_pem_private_key(setup["rsa_pem"].encode(), password=None)
    _WORKER["slug"] = setup["manifest"]["election_id"]


def _voter(i: int) -> dict[str, Any]:
    """One voter: a fresh ballot key, its token, a fresh ballot, the key's signature over it."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from civic_votecrypto import eligibility, strict_json
    from civic_votecrypto.ballot import encrypt_ballot
    from identity.core import blind_rsa

    slug, rsa_key = _WORKER["slug"], _WORKER["rsa"]
    key = Ed25519PrivateKey.generate()
    public = key.public_key().public_bytes_raw()
    prefix = secrets.token_bytes(32)
    token_sig = rsa_key.sign(
        prefix + eligibility.token_message(slug, public),
        padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=48),
        hashes.SHA384(),
    )
    option = OPTIONS[secrets.randbelow(len(OPTIONS))]
    ballot = encrypt_ballot(
        _WORKER["ctx"], f"b-{i}-{secrets.token_hex(6)}", {"q": {option: 1}}
    ).to_json()
    signature = key.sign(eligibility.cast_message(slug, strict_json.canonical(ballot)))
    token = {
        "key_id": blind_rsa.key_id(rsa_key.public_key()),
        "prefix": b64url(prefix),
        "signature": b64url(token_sig),
    }
    return {"ballot_key": b64url(public), "token": token, "ballot": ballot, "signature": b64url(signature),
            "option": option}  # fmt: skip


def prepare(n: int, jobs: int, *, load: bool = True) -> dict[str, Any]:
    """The size's setup and voters, from the cache (made first if missing); with ``load=False``
    only made, not read (an empty dict)."""
    path = CACHE_DIR / f"election-{CACHE_VERSION}-{n}.json.gz"
    if path.exists():
        if not load:
            return {}
        log(f"[{n}] using cached ballots {path}")
        with gzip.open(path, "rt") as handle:
            return json.load(handle)
    from cryptography.hazmat.primitives import serialization

    from civic_votecrypto import dkg, group
    from civic_votecrypto.election import election_from_manifest
    from civic_votecrypto.manifest import Manifest
    from identity.core import blind_rsa

    log(f"[{n}] preparing {n} distinct ballots in {jobs} processes (cached afterwards) ...")
    started = time.perf_counter()
    manifest = Manifest.from_json(manifest_json(n))
    with group.use_backend("native"):
        transcript, shares = dkg.run_ceremony(
            election_from_manifest(manifest, TRUSTEES, THRESHOLD).params
        )
    rsa_key = blind_rsa.generate_key(2048)
    setup = {
        "manifest": manifest.to_json(),
        "transcript": {
            "announcements": [a.to_json() for a in transcript.announcements],
            "commitments": [c.to_json() for c in transcript.commitments],
            "complaints": [c.to_json() for c in transcript.complaints],
        },
        "shares": [s.to_secret_json() for s in shares],
        "rsa_pem": rsa_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode(),
    }
    voters = []
    with Pool(jobs, initializer=_init_worker, initargs=(setup,)) as pool:
        for done, voter in enumerate(pool.imap(_voter, range(n), chunksize=64), start=1):
            voters.append(voter)
            if done % max(1, n // 20) == 0:
                log(f"  {done}/{n} ({time.perf_counter() - started:.0f} s)")
    data = {"setup": setup, "voters": voters}
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    with gzip.open(partial, "wt") as handle:
        json.dump(data, handle)
    partial.rename(path)
    log(f"[{n}] prepared in {time.perf_counter() - started:.0f} s")
    return data


# -- casting and loading (worker processes, forked with the election set up) -------------------------
_CAST: dict[str, Any] = {}  # set in the parent before the fork: the voters and the election's pk
CAST_SLICE = 100


def _store_unchecked(election: Any, body: dict[str, Any]) -> None:
    """What cast_ballot stores for this body, through its own store step, without its checks
    (preparation only: the audit checks every ballot)."""
    from voting.models import CastBallot
    from voting.selectors import ballot_box as box
    from voting.services import ballot_box

    document = body["ballot"]
    canonical = ballot_box._canonical(document, "ballot")  # noqa: SLF001
    ballot = ballot_box._decode(document)  # noqa: SLF001
    sha256 = hashlib.sha256(canonical).hexdigest()
    event = {
        "election": election.slug,
        "tracking_code": ballot.tracking_code,
        "ballot_sha256": sha256,
        "district": box.token_district(election, body["token"]),
    }
    ballot_box._store(  # noqa: SLF001
        election, kind=CastBallot.Kind.CAST, ballot=ballot, document=document, sha256=sha256,
        ballot_key=ballot_box._b64(body["ballot_key"], ballot_box.BALLOT_KEY_BYTES, "ballot_key"),  # noqa: SLF001
        token=body["token"], signature=body["signature"], event=event,
    )  # fmt: skip


def _cast_slice(task: tuple[int, int, bool]) -> int:
    """Cast (``checked``) or load ballots ``start:stop`` in this worker; returns how many."""
    from django.db import transaction

    from voting.models import Election
    from voting.services import ballot_box

    start, stop, checked = task
    election = _CAST.get("election")
    if election is None:
        election = _CAST["election"] = Election.objects.get(pk=_CAST["election_pk"])
    bodies = [
        {k: v[k] for k in ("ballot", "ballot_key", "token", "signature")}
        for v in _CAST["voters"][start:stop]
    ]
    if checked:  # one request, one transaction each, as the web processes cast
        for body in bodies:
            ballot_box.cast_ballot(election, body)
    else:  # preparation: one commit per slice
        with transaction.atomic():
            for body in bodies:
                _store_unchecked(election, body)
    return stop - start


def cast_all(
    n: int, election_pk: int, voters: list[dict[str, Any]], start: int, stop: int, jobs: int,
    checked: bool,
) -> float:  # fmt: skip
    """Ballots start:stop through ``jobs`` forked processes; the wall seconds it took."""
    import multiprocessing

    from django.db import connections

    from voting.models import Election
    from voting.selectors import ballot_box as box
    from voting.services import ballot_box

    what = "casting" if checked else "loading (untimed preparation)"
    log(f"[{n}] {what} ballots {start}..{stop} in {jobs} processes ...")
    _CAST.clear()
    _CAST.update(voters=voters, election_pk=election_pk)
    # Warm, as a serving web process is: the election's crypto context (points decoded, fixed-base
    # tables) and its eligibility keys, cached per process, are made here and inherited by the fork.
    election = Election.objects.get(pk=election_pk)
    ballot_box.ensure_backend()
    box.box_context(election)
    box.eligibility_key(election, voters[start]["token"])
    connections.close_all()  # each forked worker opens its own connection
    tasks = [(i, min(i + CAST_SLICE, stop), checked) for i in range(start, stop, CAST_SLICE)]
    done, step = 0, max(CAST_SLICE, (stop - start) // 10)
    started = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(jobs) if jobs > 1 else nullcontext() as pool:
        results = pool.imap_unordered(_cast_slice, tasks) if pool else map(_cast_slice, tasks)
        for count in results:
            done += count
            if done % step < count:
                log(f"  {done}/{stop - start} ({time.perf_counter() - started:.0f} s)")
    elapsed = time.perf_counter() - started
    _CAST.clear()
    return elapsed


# -- the database -----------------------------------------------------------------------------------
def reset_database(url: str) -> None:
    """Create the bench database if missing; drop every table of a previous run."""
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def run_size(
    n: int, data: dict[str, Any], jobs: int, cast_jobs: int, cast_max: int
) -> dict[str, Any]:
    from django.contrib.auth import get_user_model

    from civic.roles import Role
    from civic.services import create_user_with_role
    from civic_votecrypto import dkg
    from civic_votecrypto import trustee as cli
    from civic_votecrypto.decryption import EncryptedTally, decrypt_share
    from civic_votecrypto.election import election_from_manifest
    from identity.core import blind_rsa
    from ledger import sequencer
    from voting.models import ElectionTrustee, EligibilityGrant, EligibilityKey, Tally
    from voting.selectors import tally as tally_selectors
    from voting.selectors.elections import crypto_context
    from voting.services import (
        aggregation,
        box_freeze,
        decryption_shares,
        lifecycle,
        record_export,
        results,
    )
    from voting.services import elections as election_services
    from voting.services.eligibility import seal_private_key

    slug = slug_of(n)
    setup, voters = data["setup"], data["voters"]
    manifest, transcript = _transcript(setup)
    User = get_user_model()
    official = create_user_with_role(
        username=f"{slug}-official", email="o@bench.invalid", password=None, role=Role.OFFICIAL
    )  # type: ignore[arg-type]
    trustees = [
        create_user_with_role(
            username=f"{slug}-t{i}", email=f"t{i}@bench.invalid", password=None, role=Role.TRUSTEE
        )  # type: ignore[arg-type]
        for i in range(1, TRUSTEES + 1)
    ]
    election = election_services.create_election(
        slug=slug, title=slug, district="", created_by=official
    )
    election.manifest, election.threshold = manifest.to_json(), THRESHOLD
    election.save(update_fields=["manifest", "threshold"])
    for index, user in enumerate(trustees, start=1):
        ElectionTrustee.objects.create(election=election, user=user, index=index)
    election = lifecycle.transition(
        election, election.State.CEREMONY, fixes={"manifest": manifest.to_json()}
    )
    election_services.publish_election_context(
        election=election, manifest=manifest, transcript=transcript
    )
    lifecycle.complete_ceremony(election)
    election_services.open_election(election)
    election.refresh_from_db()
    from cryptography.hazmat.primitives import serialization

    rsa_key = serialization.load_pem_private_key(setup["rsa_pem"].encode(), password=None)
    public = rsa_key.public_key()
    row = EligibilityKey(
        election=election, district="", variant=blind_rsa.DEFAULT_VARIANT.name,
        key_id=blind_rsa.key_id(public), public_key_pem=blind_rsa.public_key_pem(public), private_key_sealed="",
    )  # fmt: skip
    row.private_key_sealed = seal_private_key(row, rsa_key)
    EligibilityKey.objects.filter(
        election=election
    ).delete()  # made at opening; no token under it yet
    row.save()
    log(f"[{n}] {n} eligibility grants (the tokens issued) ...")
    users = User.objects.bulk_create(
        [User(username=f"{slug}-v{i}", password="!") for i in range(n)], batch_size=5000
    )
    EligibilityGrant.objects.bulk_create(
        [EligibilityGrant(election=election, user=u, did=f"did:example:{i}", commitment=f"{i:064x}",
                          commitment_salt="00" * 32) for i, u in enumerate(users)],
        batch_size=5000,
    )  # fmt: skip

    loaded = max(0, n - cast_max)
    load_s = cast_all(n, election.pk, voters, 0, loaded, cast_jobs, False) if loaded else 0.0
    cast_s = cast_all(n, election.pk, voters, loaded, n, cast_jobs, True)
    expected = {o: 0 for o in OPTIONS}
    for v in voters:
        expected[v["option"]] += 1
    del voters, data["voters"]  # the record and its audit need the memory
    started = time.perf_counter()
    sequencer.sequence_all(max_batches=None)
    sequence_s = time.perf_counter() - started

    log(f"[{n}] tally: close, freeze, chunks, combine, shares, publish ...")
    started = time.perf_counter()
    lifecycle.close_early(official, election, "bench")
    box_freeze.freeze_box(election.pk)
    tally = Tally.objects.get(election=election)
    for index in range(tally.chunks_total):
        aggregation.compute_chunk(tally.pk, index)
    aggregation.combine(tally.pk)
    aggregate_s = time.perf_counter() - started
    election.refresh_from_db()
    ctx = crypto_context(election)
    encrypted = EncryptedTally.from_json(Tally.objects.get(pk=tally.pk).encrypted, ctx.manifest)
    identity = election_from_manifest(ctx.manifest, TRUSTEES, THRESHOLD)
    envelopes, trustee_s = {}, 0.0
    for share_json in setup["shares"]:
        key_share = dkg.TrusteeKeyShare.from_secret_json(share_json)
        if key_share.index not in (1, 3):  # trustee 2 stays absent
            continue
        t0 = time.perf_counter()
        envelopes[key_share.index] = cli.envelope(
            "tally-share",
            identity,
            decrypt_share(ctx.extended_hash, key_share, encrypted).to_json(),
        )
        trustee_s += time.perf_counter() - t0
    t0 = time.perf_counter()
    for index, envelope in envelopes.items():
        decryption_shares.submit_share(slug=slug, user=trustees[index - 1], document=envelope)
    results.publish_results(tally.pk)
    tally_s = aggregate_s + time.perf_counter() - t0
    tally.refresh_from_db()
    if tally.results is None or tally.results["contests"]["q"] != expected:
        raise SystemExit(f"[{n}] the published results are not the votes cast: {tally.results}")
    sequencer.sequence_all(max_batches=None)

    log(f"[{n}] the server's record export, then the observer's audit of it ...")
    election.refresh_from_db()
    started = time.perf_counter()
    text = "".join(record_export.stream_record(election)).encode("utf-8")
    record_s = time.perf_counter() - started
    entries = tally_selectors.election_log_entries(election)
    audit_s, ok, lines = audit(text, entries, election.log_name, jobs)
    if not ok:
        log("\n".join(lines))
    record_mb = round(len(text) / 1e6, 1)
    del text
    return {
        "ballots": n,
        "cast_per_s": round((n - loaded) / cast_s, 1),
        "cast_jobs": cast_jobs,
        "cast_s": round(cast_s, 2),
        "cast_ballots": n - loaded,
        "loaded_ballots": loaded,
        "load_s": round(load_s, 2),
        "sequence_s": round(sequence_s, 2),
        "tally_s": round(tally_s, 2),
        "aggregate_ballots_per_s": round(n / aggregate_s, 1),
        "trustee_s": round(trustee_s, 2),
        "record_s": round(record_s, 2),
        "record_mb": record_mb,
        "audit_s": round(audit_s, 2),
        "audit_ballots_per_s": round(n / audit_s, 1),
        "audit_ok": ok,
    }


def audit(
    text: bytes, entries: list[bytes], log_name: str, jobs: int
) -> tuple[float, bool, list[str]]:
    from civic_observer.audit import LogCopy, audit_election

    started = time.perf_counter()
    report = audit_election(text, LogCopy(entries, log_name), jobs=jobs)
    return time.perf_counter() - started, report.ok, report.lines()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--cast-jobs", type=int, default=2 * (os.cpu_count() or 1))
    parser.add_argument("--cast-max", type=int, default=10_000)
    parser.add_argument(
        "--database-url", default=os.environ.get("CIVIC_BENCH_DATABASE_URL", DEFAULT_DB)
    )
    args = parser.parse_args()
    try:
        sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        parser.error("--sizes must be numbers separated by commas")
    if not sizes or any(not 1 <= s <= 1_000_000 for s in sizes):
        parser.error("every size must be in 1..1000000")
    if args.jobs < 1 or args.cast_jobs < 1 or args.cast_max < 1:
        parser.error("--jobs, --cast-jobs and --cast-max must be positive")
    for n in sizes:  # every size prepared (and cached) before anything is timed
        prepare(n, args.jobs, load=False)

    reset_database(args.database_url)
    var = tempfile.mkdtemp(prefix="civic-election-bench-")
    os.environ.pop("REDIS_URL", None)
    os.environ.update(
        DATABASE_URL=args.database_url, CIVIC_VAR_DIR=var, DJANGO_SETTINGS_MODULE="civic.settings",
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend", DEBUG="0", SECRET_KEY=secrets.token_urlsafe(32),
    )  # fmt: skip
    import django

    django.setup()
    from django.core.management import call_command

    from civic_votecrypto import group
    from identity import keys
    from ledger import services as ledger

    ledger._kick_sequencer = lambda: None  # noqa: SLF001 - this process sequences itself
    group.set_backend("native")
    call_command("migrate", verbosity=0)
    keys.ensure_key_file()
    out: dict[str, Any] = {
        "sizes": {},
        "jobs": args.jobs,
        "cast_jobs": args.cast_jobs,
        "cast_max": args.cast_max,
        "backend": "native",
        "database": "postgresql",
    }
    for n in sizes:
        data = prepare(n, args.jobs)
        out["sizes"][str(n)] = run_size(n, data, args.jobs, args.cast_jobs, args.cast_max)
        del data
    first = out["sizes"][str(sizes[0])]
    out["cast_per_s"] = first["cast_per_s"]
    out.update({f"tally_s_{n}": out["sizes"][str(n)]["tally_s"] for n in sizes})
    out.update({f"audit_s_{n}": out["sizes"][str(n)]["audit_s"] for n in sizes})
    out["cpu_count"], out["load_avg_1m"] = os.cpu_count(), round(os.getloadavg()[0], 2)
    print(json.dumps(out))
    return 0 if all(s["audit_ok"] for s in out["sizes"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
