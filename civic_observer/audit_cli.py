"""``python -m civic_observer audit-election``: where the record and the log copy come from.

Offline (``--record FILE``): the log copy is ``--log-entries FILE`` or, when the state folder
mirrors the record's log, the observer's own mirror (with its cosigned checkpoint). With
``--server URL --election SLUG``: ``GET /api/voting/elections/<slug>/record``, then one round of
``follow`` mirrors (and cosigns) every log of the server, and the mirror is the log copy; the
signed report is POSTed to ``/api/voting/elections/<slug>/audit-reports`` with ``--post``.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import sys
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlparse

import httpx

from civic_observer import anchors
from civic_observer.audit import AuditReport, LogCopy, audit_election, default_jobs
from civic_observer.follower import follow
from civic_observer.state import StateError, Store, load_signer, resolve_state_dir
from civic_tlog import note
from civic_votecrypto import group, record, strict_json

EXIT_PASS, EXIT_FAIL, EXIT_SERVER = 0, 1, 3
MAX_RECORD_BYTES = 4 * 1024**3
RECORD_PATH = "/api/voting/elections/{slug}/record"
REPORTS_PATH = "/api/voting/elections/{slug}/audit-reports"


class AuditUsageError(Exception):
    """Bad options or unreadable input files (exit status 2)."""


class ServerTrouble(Exception):
    """The server could not be reached or answered an error (exit status 3)."""


def _read(path: str, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise AuditUsageError(f"cannot read {what} {path}: {exc.strerror or exc}") from None


def load_log_entries(path: str) -> tuple[str, list[bytes]]:
    """``{"log": name, "entries": [base64 of each entry, in log order]}``."""
    try:
        doc = strict_json.loads(_read(path, "log entries file"))
        name, raw = doc["log"], doc["entries"]
        if not isinstance(name, str) or not isinstance(raw, list):
            raise TypeError("log must be a string and entries a list")
        return name, [base64.b64decode(e, validate=True) for e in raw]
    except (ValueError, KeyError, TypeError) as exc:
        raise AuditUsageError(f"{path} is not a log entries file: {exc}") from None


def _mirror(state: Path, name: str) -> LogCopy | None:
    try:
        store = Store(state, read_only=True)
    except StateError:
        return None
    try:
        entries, _ = store.leaves(name)
        if not entries:
            return None
        return LogCopy(
            entries,
            f"this observer's mirror in {state}",
            accepted=store.latest_checkpoint(name),
            pinned=store.pinned_log(name),
        )
    finally:
        store.close()


def _record_log_name(text: bytes) -> str | None:
    try:
        doc = strict_json.loads(text)
        return doc["log"]["name"]
    except (ValueError, KeyError, TypeError):
        return None


def fetch_record(server: str, slug: str) -> bytes:
    url = server.rstrip("/") + RECORD_PATH.format(slug=quote(slug, safe=""))
    try:
        with (
            httpx.Client(timeout=120.0, follow_redirects=True) as client,
            client.stream("GET", url) as response,
        ):
            if response.status_code != 200:
                response.read()
                raise ServerTrouble(f"GET {url}: HTTP {response.status_code} {_detail(response)}")
            chunks, size = [], 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > MAX_RECORD_BYTES:
                    raise ServerTrouble(f"GET {url}: the record exceeds {MAX_RECORD_BYTES} bytes")
                chunks.append(chunk)
            return b"".join(chunks)
    except httpx.HTTPError as exc:
        raise ServerTrouble(f"cannot reach {url}: {exc}") from None


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict):
        return str(body.get("detail") or body.get("error") or body)[:500]
    return str(body)[:500]


def post_report(server: str, slug: str, report: dict[str, Any]) -> dict[str, Any]:
    url = server.rstrip("/") + REPORTS_PATH.format(slug=quote(slug, safe=""))
    try:
        response = httpx.post(url, json=report, timeout=60.0)
    except httpx.HTTPError as exc:
        raise ServerTrouble(f"cannot reach {url}: {exc}") from None
    if not 200 <= response.status_code < 300:
        raise ServerTrouble(
            f"POST {url}: the server refused the report: HTTP {response.status_code} "
            f"{_detail(response)}"
        )
    try:
        return response.json()
    except ValueError:
        return {}


def run(args: argparse.Namespace) -> int:
    if args.server:
        parsed = urlparse(args.server)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise AuditUsageError(f"--server must be an http(s) URL, got {args.server!r}")
        if not args.election:
            raise AuditUsageError("--server needs --election SLUG")
    elif args.post or args.election:
        raise AuditUsageError("--post and --election go with --server")
    jobs = args.jobs if args.jobs is not None else default_jobs()
    if jobs < 1:
        raise AuditUsageError("--jobs must be positive")
    if args.chain_rpc and not args.anchor_contract:
        raise AuditUsageError("--chain-rpc needs --anchor-contract")
    for key in (args.log_key,):
        if key:
            try:
                note.parse_verifier_key(key)
            except note.NoteError as exc:
                raise AuditUsageError(f"--log-key: {exc}") from None
    city_key = None
    if args.city_key:
        try:
            city_key = record.b64url_decode(args.city_key, 32, "--city-key")
        except ValueError as exc:
            raise AuditUsageError(str(exc)) from None
    checkpoint = (
        _read(args.checkpoint, "checkpoint").decode("utf-8", "replace") if args.checkpoint else None
    )
    state = resolve_state_dir(args.state)
    try:
        signer = load_signer(state)
    except StateError as exc:
        raise AuditUsageError(f"{exc} (the report is signed with the observer's key)") from None
    try:
        group.set_backend(args.backend)
    except ImportError:
        print(f"note: backend {args.backend} unavailable, using py-ecc", file=sys.stderr)
        group.set_backend("py-ecc")
    try:
        report = _audit(args, state, jobs, checkpoint, city_key)
    except ServerTrouble as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_SERVER
    report.sign(signer)
    document = report.to_json()
    for line in report.lines():
        print(line)
    if args.out:
        try:
            Path(args.out).write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
        except OSError as exc:
            raise AuditUsageError(f"cannot write {args.out}: {exc}") from None
    if args.post:
        try:
            answer = post_report(args.server, args.election, document)
        except ServerTrouble as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_SERVER
        print(f"report posted: {json.dumps(answer)[:300]}")
    return EXIT_PASS if report.ok else EXIT_FAIL


def _audit(
    args: argparse.Namespace, state: Path, jobs: int, checkpoint: str | None, city_key: bytes | None
) -> AuditReport:
    anchor_notes: list[str] = []
    follow_status = None
    if args.server:
        text = fetch_record(args.server, args.election)
        buffer = io.StringIO()
        with redirect_stdout(buffer):
            follow_status = follow(args.server, state, once=True, interval=1.0)
        print(buffer.getvalue(), end="", file=sys.stderr)
    else:
        text = _read(args.record, "record")
    name = _record_log_name(text)
    logcopy = None
    if args.log_entries:
        file_name, entries = load_log_entries(args.log_entries)
        if name is not None and file_name != name:
            raise AuditUsageError(
                f"{args.log_entries} holds log {file_name!r}, the record's is {name!r}"
            )
        logcopy = LogCopy(entries, f"file {args.log_entries}")
    elif name is not None:
        logcopy = _mirror(state, name)
    if logcopy is not None and logcopy.accepted is not None:
        anchor_notes.append(logcopy.accepted.cosigned_note)
    reader = None
    if args.chain_rpc:
        if args.server:
            try:
                anchor_notes += anchors.fetch_city_anchor_notes(args.server)
            except anchors.AnchorReadError as exc:
                print(f"note: {exc}", file=sys.stderr)

        def reader() -> list[Any]:
            return anchors.read_anchors(
                anchors.connect(args.chain_rpc),
                args.anchor_contract,
                anchoring_account=args.anchoring_account,
            )

    report = audit_election(
        text,
        logcopy,
        checkpoint_note=checkpoint,
        city_key=city_key,
        log_key=args.log_key,
        anchors=reader,
        anchor_notes=anchor_notes,
        jobs=jobs,
        progress=not args.no_progress,
    )
    if follow_status:
        a1 = next((s for s in report.steps if s.id == "A1"), None)
        if a1 is not None:
            a1.fail(
                "follow",
                "mirroring the server's logs found misbehaviour (evidence written)"
                if follow_status == 1
                else "mirroring the server's logs did not complete",
            )
    return report
