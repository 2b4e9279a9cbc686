"""``follow``: mirror every log of a Civic server, verify it, cosign it, or report evidence.

The observer trusts nothing but its own earlier observations: the log key it pinned on first
sight (or was given), the checkpoints it accepted, and the entries it mirrored. A checkpoint
is cosigned only after its signature, its consistency with the last accepted checkpoint (the
server's proof AND the observer's own recomputation), every tile and every entry check out.
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import httpx
from tqdm import tqdm

from civic_observer.reader import (
    FetchError,
    HttpFetcher,
    LogMisbehaviour,
    SignedCheckpoint,
    TileLogReader,
    TreeData,
)
from civic_observer.state import AcceptedCheckpoint, Store, load_signer, write_evidence
from civic_tlog import merkle, note

LOG_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,99}")
PROGRESS_MIN_ENTRIES = 1000


class ServerError(Exception):
    """The server is unreachable or answered something unusable (not proof of misbehaviour)."""


@dataclass(frozen=True)
class LogInfo:
    name: str
    origin: str
    verifier_key: str


@dataclass
class LogResult:
    log: str
    status: str  # cosigned | unchanged | misbehaviour | error
    message: str
    evidence: Path | None = None


class CivicClient:
    """The few JSON endpoints of the contract, plus a tile reader per log."""

    def __init__(self, server: str, timeout: float = 30.0):
        self.server = server.rstrip("/")
        self.http = httpx.Client(timeout=timeout, follow_redirects=True)

    def close(self) -> None:
        self.http.close()

    def _json(self, response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError as exc:
            raise ServerError(f"{response.request.url} did not return JSON") from exc

    def _get_json(self, url: str, params: dict[str, int] | None = None) -> Any:
        """GET one JSON endpoint; unreachable or not 200 is a ServerError, never misbehaviour."""
        try:
            response = self.http.get(url, params=params)
        except httpx.HTTPError as exc:
            raise ServerError(f"cannot reach {url}: {exc}") from exc
        if response.status_code != 200:
            query = "&".join(f"{name}={value}" for name, value in (params or {}).items())
            shown = f"{url}?{query}" if query else url
            raise ServerError(f"{shown}: HTTP {response.status_code}")
        return self._json(response)

    def logs(self) -> list[LogInfo]:
        url = f"{self.server}/api/ledger/logs"
        body = self._get_json(url)
        try:
            raw_logs = body["logs"]
            logs = [
                LogInfo(str(x["name"]), str(x["origin"]), str(x["verifier_key"])) for x in raw_logs
            ]
        except (KeyError, TypeError) as exc:
            raise ServerError(f"{url}: unexpected JSON shape ({exc})") from exc
        for log in logs:
            if not LOG_NAME.fullmatch(log.name):
                raise ServerError(f"{url}: refusing odd log name {log.name!r}")
        return logs

    def reader(self, log: LogInfo, verifier_key: str) -> TileLogReader:
        fetcher = HttpFetcher(f"{self.server}/ledger/{log.name}/", client=self.http)
        return TileLogReader(fetcher, log.origin, verifier_key)

    def consistency(self, log: str, old: int, new: int) -> list[bytes]:
        url = f"{self.server}/api/ledger/{log}/consistency"
        body = self._get_json(url, {"old": old, "new": new})
        try:
            return [bytes.fromhex(h) for h in body["proof"]]
        except (KeyError, TypeError, ValueError) as exc:
            raise ServerError(f"{url}: malformed consistency proof ({exc})") from exc

    def post_cosignature(self, log: str, body: str, line: str) -> dict:
        url = f"{self.server}/api/ledger/{log}/cosignatures"
        try:
            response = self.http.post(url, json={"checkpoint": body, "cosignature": line})
        except httpx.HTTPError as exc:
            raise ServerError(f"cannot reach {url}: {exc}") from exc
        if response.status_code not in (200, 201):
            detail = response.text[:300]
            hint = (
                " (is this observer's verifier key registered with the city?)"
                if response.status_code in (403, 404)
                else ""
            )
            raise ServerError(
                f"the server refused the cosignature (HTTP {response.status_code}): {detail}{hint}"
            )
        result = self._json(response)
        return result if isinstance(result, dict) else {}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Follower:
    def __init__(
        self,
        server: str,
        state: Path,
        *,
        log_keys: dict[str, str] | None = None,
        audit: bool = True,
        out: TextIO | None = None,
        clock: Callable[[], float] = time.time,
    ):
        self.server = server
        self.state = state
        self.log_keys = log_keys or {}
        self.audit = audit
        self.out = out
        self.clock = clock
        self.signer = load_signer(state)
        self.cosigner_vkey = str(self.signer.verifier)

    def say(self, message: str) -> None:
        print(message, file=self.out or sys.stdout, flush=True)

    def run_once(self) -> list[LogResult]:
        client = CivicClient(self.server)
        store = Store(self.state)
        try:
            try:
                logs = client.logs()
            except ServerError as exc:
                self.say(f"error: {exc}")
                return [LogResult("*", "error", str(exc))]
            results = [self._follow_log(client, store, log) for log in logs]
        finally:
            store.close()
            client.close()
        for result in results:
            self.say(f"{result.log}: {result.status}: {result.message}")
        return results

    def _follow_log(self, client: CivicClient, store: Store, log: LogInfo) -> LogResult:
        previous = store.latest_checkpoint(log.name)
        context: dict[str, Any] = {"previous": previous, "new_note": None, "trusted_key": None}
        try:
            return self._verify_and_cosign(client, store, log, previous, context)
        except LogMisbehaviour as exc:
            return self._report(log, exc, context)
        except (FetchError, ServerError) as exc:
            return LogResult(log.name, "error", str(exc))

    def _trusted_key(self, store: Store, log: LogInfo) -> str:
        """Pin on first sight; an explicit --log-key wins; any later change is misbehaviour."""
        pinned = store.pinned_log(log.name)
        explicit = self.log_keys.get(log.name)
        trusted = explicit or (pinned[1] if pinned else log.verifier_key)
        try:
            note.parse_verifier_key(trusted)
        except note.NoteError as exc:
            raise LogMisbehaviour("key_change", f"unusable log verifier key: {exc}", {}) from exc
        if pinned and pinned[0] != log.origin:
            raise LogMisbehaviour(
                "origin_change",
                f"log {log.name} changed its origin from {pinned[0]!r} to {log.origin!r}",
                {"pinned_origin": pinned[0], "served_origin": log.origin},
            )
        if log.verifier_key.strip() != trusted.strip():
            raise LogMisbehaviour(
                "key_change",
                f"log {log.name} now advertises verifier key {log.verifier_key!r}, "
                f"but this observer trusts {trusted!r}",
                {"trusted_key": trusted, "served_key": log.verifier_key},
            )
        if pinned is None or pinned[1] != trusted:
            store.pin_log(log.name, log.origin, trusted)
        return trusted

    def _verify_and_cosign(
        self,
        client: CivicClient,
        store: Store,
        log: LogInfo,
        previous: AcceptedCheckpoint | None,
        context: dict[str, Any],
    ) -> LogResult:
        trusted = self._trusted_key(store, log)
        context["trusted_key"] = trusted
        reader = client.reader(log, trusted)
        raw = reader.fetcher.get("checkpoint")
        context["new_note"] = raw.decode("utf-8", "replace")
        signed = reader.open_checkpoint(raw)
        old = self._previous_signed(previous)
        if old is not None:
            self._check_against_previous(client, log, old, signed)
        known = self._known_tree(store, log.name, previous)
        fresh = signed.size - (0 if self.audit or known is None else known.size)
        with tqdm(
            total=fresh,
            unit="entries",
            desc=log.name,
            disable=fresh < PROGRESS_MIN_ENTRIES or not sys.stderr.isatty(),
            file=sys.stderr,
        ) as bar:
            tree = reader.read_tree(signed, known=known, audit=self.audit, progress=bar.update)
        if old is not None:
            reader.check_prefix(old, tree)
        if previous is not None and previous.body == signed.body:
            return self._ensure_posted(client, log, previous, signed)
        timestamp = int(self.clock())
        line = note.cosign(signed.body, self.signer, timestamp)
        accepted = AcceptedCheckpoint(
            log.name, signed.size, signed.root, signed.body, signed.note_text, line
        )
        start = known.size if known is not None else 0
        store.save_mirror(log.name, start, tree.entries, tree.leaf_hashes, tree.tiles, accepted)
        reply = client.post_cosignature(log.name, signed.body, line)
        witnessed = " (now witnessed)" if reply.get("witnessed") else ""
        return LogResult(log.name, "cosigned", f"size {signed.size}, cosigned{witnessed}")

    @staticmethod
    def _previous_signed(previous: AcceptedCheckpoint | None) -> SignedCheckpoint | None:
        if previous is None:
            return None
        return SignedCheckpoint(
            note.parse_checkpoint(previous.body), previous.body, previous.log_note
        )

    @staticmethod
    def _check_against_previous(
        client: CivicClient, log: LogInfo, old: SignedCheckpoint, new: SignedCheckpoint
    ) -> None:
        if new.size < old.size:
            raise LogMisbehaviour(
                "rollback",
                f"the log went back from size {old.size} to {new.size}",
                {"old_size": old.size, "new_size": new.size},
            )
        if new.size == old.size:
            if new.root != old.root:
                raise LogMisbehaviour(
                    "fork",
                    f"two different roots signed for size {new.size}",
                    {"old_root": old.root.hex(), "new_root": new.root.hex()},
                )
            return
        if old.size == 0:
            return  # every tree extends the empty tree
        proof = client.consistency(log.name, old.size, new.size)
        if not merkle.verify_consistency(old.size, new.size, proof, old.root, new.root):
            raise LogMisbehaviour(
                "fork",
                f"the server's consistency proof from size {old.size} to {new.size} does not verify",
                {
                    "old_size": old.size,
                    "new_size": new.size,
                    "old_root": old.root.hex(),
                    "new_root": new.root.hex(),
                    "consistency_proof": [p.hex() for p in proof],
                },
            )

    @staticmethod
    def _known_tree(store: Store, log: str, previous: AcceptedCheckpoint | None) -> TreeData | None:
        if previous is None:
            return None
        entries, hashes = store.leaves(log)
        if len(entries) != previous.size or merkle.root_from_leaf_hashes(hashes) != previous.root:
            return None  # local mirror incomplete (interrupted run): mirror again from scratch
        return TreeData(previous.size, entries, hashes)

    def _ensure_posted(
        self,
        client: CivicClient,
        log: LogInfo,
        previous: AcceptedCheckpoint,
        signed: SignedCheckpoint,
    ) -> LogResult:
        """Same checkpoint as last time: re-send our cosignature only if the server lost it."""
        _, lines = note.split_note(signed.note_text)
        if any(line.line == previous.cosignature for line in lines):
            return LogResult(log.name, "unchanged", f"size {signed.size}, already cosigned")
        client.post_cosignature(log.name, signed.body, previous.cosignature)
        return LogResult(log.name, "cosigned", f"size {signed.size}, cosignature re-sent")

    def _report(self, log: LogInfo, exc: LogMisbehaviour, context: dict[str, Any]) -> LogResult:
        previous: AcceptedCheckpoint | None = context["previous"]
        payload = {
            "kind": exc.kind,
            "message": exc.message,
            "log": log.name,
            "origin": log.origin,
            "server": self.server,
            "detected_at": _now(),
            "observer_verifier_key": self.cosigner_vkey,
            "trusted_log_verifier_key": context["trusted_key"],
            "advertised_log_verifier_key": log.verifier_key,
            "previous_checkpoint": previous.log_note if previous else None,
            "previous_cosigned_checkpoint": previous.cosigned_note if previous else None,
            "new_checkpoint": context["new_note"],
            "details": exc.details,
        }
        path = write_evidence(self.state, log.name, exc.kind, payload)
        self.say(
            f"MISBEHAVIOUR in log {log.name} ({exc.kind}): {exc.message}\n"
            f"  Not cosigned. Evidence saved to {path}"
        )
        return LogResult(log.name, "misbehaviour", exc.message, path)


def follow(
    server: str,
    state: Path,
    *,
    once: bool,
    interval: float,
    log_keys: dict[str, str] | None = None,
    audit: bool = True,
    out: TextIO | None = None,
    after_round: Callable[[], bool] | None = None,
) -> int:
    """Exit status: 0 all good, 1 misbehaviour (evidence written), 3 server trouble.

    ``after_round`` (the chain-anchor check) returns True on misbehaviour, which ends the run.
    """
    follower = Follower(server, state, log_keys=log_keys, audit=audit, out=out)
    while True:
        results = follower.run_once()
        if any(r.status == "misbehaviour" for r in results):
            return 1
        if after_round is not None and after_round():
            return 1
        if once:
            return 3 if any(r.status == "error" for r in results) else 0
        time.sleep(interval)
