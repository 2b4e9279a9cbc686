"""Command line of the observer node: ``python -m civic_observer <command>``.

Exit status: 0 success (``audit-election``: every step passed); 1 verification failed
(misbehaviour found, evidence written, an invalid receipt, an audit step failed); 2 bad input
(usage, missing or malformed file, uninitialised state); 3 the server could not be reached or
refused us (``audit-election --post``: the server refused the report).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlparse

from civic_observer import anchors
from civic_observer.ballot_receipt import check_ballot_receipt, election_of, is_ballot_receipt
from civic_observer.follower import follow
from civic_observer.receipt import ReceiptFormatError, ReceiptReport, parse_receipt, verify_receipt
from civic_observer.state import StateError, init_state, resolve_state_dir
from civic_tlog import note
from civic_votecrypto import strict_json

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_SERVER = 0, 1, 2, 3  # follow's 3 comes from follower


class UsageError(Exception):
    """Bad input from the operator: reported in one line, exit status 2."""


class ServerTrouble(Exception):
    """The server could not be reached or refused us: one line, exit status 3."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse would exit 2 with usage: keep that
        self.print_usage(sys.stderr)
        raise UsageError(message)


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m civic_observer", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    state_help = "state folder (default: $CIVIC_OBSERVER_STATE or var/observer)"

    p_init = sub.add_parser("init", help="create this observer's cosigning key")
    p_init.add_argument("--state", help=state_help)
    p_init.add_argument("--name", default="civic-observer", help="key name (a schema-less URL)")

    p_follow = sub.add_parser("follow", help="mirror, verify and cosign a server's logs")
    p_follow.add_argument("--server", required=True, help="base URL of the Civic server")
    p_follow.add_argument("--state", help=state_help)
    p_follow.add_argument("--once", action="store_true", help="one round, then exit")
    p_follow.add_argument("--interval", type=float, default=30.0, help="seconds between rounds")
    p_follow.add_argument(
        "--log-key",
        action="append",
        default=[],
        metavar="NAME=VKEY",
        help="pin a log's verifier key instead of trusting it on first use",
    )
    p_follow.add_argument(
        "--incremental",
        action="store_true",
        help="fetch only new tiles (default: re-fetch and compare everything each round)",
    )
    anchors.add_chain_arguments(p_follow)

    p_receipt = sub.add_parser(
        "check-receipt", help="verify a ledger receipt or a ballot receipt from the booth offline"
    )
    p_receipt.add_argument("file", help="receipt JSON file ('-' for stdin)")
    p_receipt.add_argument(
        "--server",
        metavar="URL",
        help="for a ballot receipt without ledger_receipt: fetch it from this Civic server",
    )
    p_receipt.add_argument("--log-key", help="the log verifier key you trust")
    p_receipt.add_argument(
        "--observer-key", action="append", default=[], help="an observer key you trust"
    )
    anchors.add_chain_arguments(p_receipt, receipt=True)

    p_audit = sub.add_parser(
        "audit-election", help="re-verify an election from its record and the election log"
    )
    source = p_audit.add_mutually_exclusive_group(required=True)
    source.add_argument("--record", metavar="FILE", help="audit this record file (offline)")
    source.add_argument("--server", metavar="URL", help="fetch the record and mirror the log")
    p_audit.add_argument("--election", metavar="SLUG", help="the election's slug (with --server)")
    p_audit.add_argument("--state", help=state_help + "; its key signs the report")
    p_audit.add_argument(
        "--log-entries",
        metavar="FILE",
        help='offline copy of the election log: {"log": name, "entries": [base64, ...]}',
    )
    p_audit.add_argument(
        "--checkpoint", metavar="FILE", help="a signed checkpoint note of the log you trust"
    )
    p_audit.add_argument("--log-key", help="the election log's verifier key you trust")
    p_audit.add_argument("--city-key", help="the city's record key (base64url Ed25519) you trust")
    p_audit.add_argument("--out", metavar="FILE", help="write the signed report (JSON) here")
    p_audit.add_argument(
        "--post", action="store_true", help="POST the signed report to the server (--server)"
    )
    p_audit.add_argument("--jobs", type=int, default=None, help="worker processes (default: CPUs)")
    p_audit.add_argument(
        "--backend", choices=("native", "py-ecc"), default="native", help="group arithmetic"
    )
    p_audit.add_argument("--no-progress", action="store_true", help="no progress bar")
    anchors.add_chain_arguments(p_audit)

    p_serve = sub.add_parser("serve", help="read-only HTTP endpoint with cosigned checkpoints")
    p_serve.add_argument("--state", help=state_help)
    p_serve.add_argument("--port", type=int, required=True)
    p_serve.add_argument("--host", default="127.0.0.1")
    return parser


def _parse_log_keys(values: Sequence[str]) -> dict[str, str]:
    keys: dict[str, str] = {}
    for value in values:
        name, sep, vkey = value.partition("=")
        if not sep or not name:
            raise UsageError(f"--log-key expects NAME=VKEY, got {value!r}")
        try:
            note.parse_verifier_key(vkey)
        except note.NoteError as exc:
            raise UsageError(f"--log-key {name}: {exc}") from exc
        keys[name] = vkey
    return keys


def _cmd_init(args: argparse.Namespace) -> int:
    state = resolve_state_dir(args.state)
    try:
        vkey, created = init_state(state, args.name)
    except note.NoteError as exc:
        raise UsageError(str(exc)) from exc
    except OSError as exc:
        raise UsageError(f"cannot write the state folder {state}: {exc}") from exc
    if created:
        print(f"Created observer key in {state / 'observer.key'} (mode 0600).", file=sys.stderr)
    else:
        print(f"Observer key already exists in {state}; not replaced.", file=sys.stderr)
    print("Register this verifier key with the city:", file=sys.stderr)
    print(vkey)
    return EXIT_OK


def _cmd_follow(args: argparse.Namespace) -> int:
    if args.interval <= 0:
        raise UsageError("--interval must be positive")
    if urlparse(args.server).scheme not in ("http", "https") or not urlparse(args.server).netloc:
        raise UsageError(f"--server must be an http(s) URL, got {args.server!r}")
    state = resolve_state_dir(args.state)
    after_round = None
    if args.chain_rpc:
        try:
            after_round = anchors.follow_anchor_check(args, state, args.server)
        except ValueError as exc:
            raise UsageError(str(exc)) from exc
    elif args.anchor_contract:
        raise UsageError("--anchor-contract needs --chain-rpc")
    return follow(
        args.server,
        state,
        once=args.once,
        interval=args.interval,
        log_keys=_parse_log_keys(args.log_key),
        audit=not args.incremental,
        after_round=after_round,
    )


def _load_json(path: str) -> object:
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise UsageError(f"receipt file not found: {path}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from exc
    try:
        return strict_json.loads(text)
    except ValueError as exc:
        raise UsageError(f"{path} is not valid JSON: {exc}") from exc


def _check_keys(args: argparse.Namespace) -> None:
    for key in [args.log_key, *args.observer_key]:
        if key:
            try:
                note.parse_verifier_key(key)
            except note.NoteError as exc:
                raise UsageError(f"bad key {key!r}: {exc}") from exc


def _verdict(args: argparse.Namespace, report: ReceiptReport) -> int:
    for check in report.checks:
        print(f"  [{'PASS' if check.ok else 'FAIL'}] {check.name}: {check.detail}")
    if not (args.log_key and args.observer_key):
        print("  note: keys were taken from the receipt itself; pass --log-key/--observer-key")
        print("        with keys obtained independently for a stronger check.")
    if report.ok:
        print("RECEIPT VALID")
        return EXIT_OK
    failed = ", ".join(c.name for c in report.checks if not c.ok)
    print(f"RECEIPT INVALID: {failed}", file=sys.stderr)
    return EXIT_FAILED


def _cmd_check_receipt(args: argparse.Namespace) -> int:
    raw = _load_json(args.file)
    _check_keys(args)
    if is_ballot_receipt(raw):
        return _check_ballot_receipt(args, raw)  # type: ignore[arg-type]
    if args.server:
        raise UsageError("--server is for a ballot receipt (the booth's file)")
    try:
        receipt = parse_receipt(raw)
    except ReceiptFormatError as exc:
        raise UsageError(f"{args.file} is not a valid receipt: {exc}") from exc
    report = verify_receipt(
        receipt, trusted_log_key=args.log_key, trusted_observer_keys=args.observer_key or None
    )
    for name, ok, detail in anchors.receipt_anchor_checks(args, raw):
        report.add(name, ok, detail)
    print(f"Receipt for entry {receipt.index} of log {receipt.log} ({receipt.origin})")
    return _verdict(args, report)


def _fetch_ledger_receipt(server: str, raw: dict[str, Any]) -> dict[str, Any]:
    """GET /api/voting/elections/<slug>/ballots/<code>: the ballot's ledger receipt (None while
    no checkpoint covers it); a copy of the receipt with it, so the checks stay offline ones."""
    import httpx

    if urlparse(server).scheme not in ("http", "https") or not urlparse(server).netloc:
        raise UsageError(f"--server must be an http(s) URL, got {server!r}")
    slug, code = election_of(raw), raw.get("tracking_code")
    if slug is None or not isinstance(code, str):
        raise UsageError("the receipt names no election or tracking code to look up")
    url = f"{server.rstrip('/')}/api/voting/elections/{quote(slug, safe='')}/ballots/{quote(code, safe='')}"
    try:
        response = httpx.get(url, timeout=30, headers={"Accept": "application/json"})
        response.raise_for_status()
        tracked = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise ServerTrouble(f"cannot fetch {url}: {exc}") from exc
    if not isinstance(tracked, dict):
        raise ServerTrouble(f"{url} did not answer a JSON object")
    return {**raw, "ledger_receipt": tracked.get("ledger_receipt")}


def _check_ballot_receipt(args: argparse.Namespace, raw: dict[str, Any]) -> int:
    if args.server and raw.get("ledger_receipt") is None:
        raw = _fetch_ledger_receipt(args.server, raw)
    try:
        result = check_ballot_receipt(
            raw, trusted_log_key=args.log_key, trusted_observer_keys=args.observer_key or None
        )
    except ReceiptFormatError as exc:
        raise UsageError(f"{args.file} is not a valid ballot receipt: {exc}") from exc
    report = result.report
    if result.ledger is not None:
        for name, ok, detail in anchors.receipt_anchor_checks(args, raw["ledger_receipt"]):
            report.add(name, ok, detail)
    where = f", entry {result.ledger.index} of log {result.ledger.log}" if result.ledger else ""
    print(f"Ballot receipt {result.tracking_code} of election {result.election}{where}")
    return _verdict(args, report)


def _cmd_serve(args: argparse.Namespace) -> int:
    from civic_observer.server import serve

    if not 0 <= args.port <= 65535:
        raise UsageError("--port must be between 0 and 65535")
    try:
        return serve(resolve_state_dir(args.state), args.host, args.port)
    except OSError as exc:
        raise UsageError(f"cannot listen on {args.host}:{args.port}: {exc}") from exc


def _cmd_audit(args: argparse.Namespace) -> int:
    from civic_observer import audit_cli  # noqa: PLC0415 - loads the verifier only when needed

    try:
        return audit_cli.run(args)
    except audit_cli.AuditUsageError as exc:
        raise UsageError(str(exc)) from exc


COMMANDS = {
    "audit-election": _cmd_audit,
    "init": _cmd_init,
    "follow": _cmd_follow,
    "check-receipt": _cmd_check_receipt,
    "serve": _cmd_serve,
}


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = _build_parser().parse_args(argv)
        return COMMANDS[args.command](args)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except StateError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except ServerTrouble as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_SERVER
    except KeyboardInterrupt:
        return 130
