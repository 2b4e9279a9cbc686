"""The key ceremony over the network: the trustee's side of the ceremony API (httpx).

``python -m civic_votecrypto.trustee ceremony --server URL --election SLUG --key-file FILE`` runs
every round from the trustee's own machine (docs/protocol-trustees.md § Ceremony API):

1. announce (communication key + proof),
2. once every trustee has announced: send the commitments and the encrypted shares,
3. once every trustee has sent shares: check the shares received, send the complaints (maybe none),
4. once every trustee has sent complaints: judge them locally, derive the key share and store it
   in the key file.

Resuming is by construction: every step first asks the server what it already holds, and every
message is written into the key file *before* it is sent, so a message sent again after a crash is
byte-identical and the server either has it or accepts it once. Secrets never leave the key file;
the server only ever sees the public messages. The server is not trusted for integrity: every
message it relays is checked here with the same code the file commands and the verifier use.
"""

from __future__ import annotations

import hashlib
import os
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import rfc8785

from . import group, strict_json
from . import trustee as cli
from .decryption import DecryptionError, decrypt_share
from .dkg import CeremonyError, Trustee
from .election import Election
from .errors import CryptoError
from .group import base_mul
from .manifest import Manifest

TOKEN_ENV = "CIVIC_TRUSTEE_TOKEN"  # noqa: S105 - the variable's name, not a secret
USER_AGENT = "civic-trustee/1"


NetworkProblem = cli.NetworkProblem


def read_token(token_file: str | None, environ: dict[str, str] | None = None) -> str:
    """The API credential: from a 0600 file, else from $CIVIC_TRUSTEE_TOKEN (never an argument)."""
    env = os.environ if environ is None else environ
    if token_file is not None:
        path = Path(token_file)
        try:
            mode = path.stat().st_mode
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise cli.BadInput(f"cannot read token file {path}: {exc}") from None
        if stat.S_IMODE(mode) & 0o077:
            raise cli.BadInput(f"token file {path} is readable by others: chmod 600 {path}")
        token = text.strip()
    else:
        token = env.get(TOKEN_ENV, "").strip()
        if not token:
            raise cli.BadInput(
                f"no API credential: set {TOKEN_ENV} or give --token-file (a file of mode 0600); "
                "create one on your trustee page"
            )
    if not token or len(token) > 256 or any(c.isspace() for c in token):
        raise cli.BadInput("the API credential is malformed (expected <key id>.<secret>)")
    return token


class ApiClient:
    """The JSON endpoints of one election under ``/api/voting/elections/<slug>``; every failure is
    one readable exception (BadInput for 401/403/404, Rejected for another refusal, NetworkProblem
    for no answer, a redirect or a server error)."""

    suffix = ""

    def __init__(
        self,
        server: str,
        slug: str,
        token: str,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
    ) -> None:
        if not server.startswith(("http://", "https://")):
            raise cli.BadInput(f"--server must be an http:// or https:// URL, not {server!r}")
        self.base = f"{server.rstrip('/')}/api/voting/elections/{slug}{self.suffix}"
        self.slug = slug
        self._client = httpx.Client(
            transport=transport,
            timeout=timeout,
            headers={"Authorization": f"Bearer {token}", "User-Agent": USER_AGENT},
            follow_redirects=False,
        )

    def close(self) -> None:
        self._client.close()

    def _request(
        self, method: str, path: str, body: Any = None, params: dict[str, Any] | None = None
    ) -> tuple[int, Any]:
        url = self.base + path
        try:
            response = self._client.request(method, url, json=body, params=params)
        except httpx.HTTPError as exc:
            raise NetworkProblem(f"cannot reach {url}: {exc}") from None
        try:
            data = strict_json.loads(response.content)
        except ValueError:
            data = None
        status = response.status_code
        if status >= 500 or 300 <= status < 400 or data is None:
            raise NetworkProblem(f"{method} {url}: the server answered HTTP {status}")
        if status >= 400:
            detail = data.get("detail", data) if isinstance(data, dict) else data
            if isinstance(detail, dict) and "message" in detail:
                detail = detail["message"]
            if status in (401, 403, 404):
                raise cli.BadInput(f"the server refused (HTTP {status}): {detail}")
            raise cli.Rejected(f"the server refused the message (HTTP {status}): {detail}")
        return status, data


class CeremonyServer(ApiClient):
    """The ceremony endpoints of one election."""

    suffix = "/ceremony"

    def state(self) -> dict[str, Any]:
        _, data = self._request("GET", "")
        if not isinstance(data, dict):
            raise NetworkProblem("the server's ceremony state is not a JSON object")
        return data

    def messages(self) -> list[Any]:
        _, data = self._request("GET", "/messages")
        if not isinstance(data, dict) or not isinstance(data.get("messages"), list):
            raise NetworkProblem('the server\'s message list is not {"messages": [...]}')
        return data["messages"]

    def send(self, document: dict[str, Any]) -> dict[str, Any]:
        _, data = self._request("POST", "/messages", document)
        return data


@dataclass(frozen=True)
class Progress:
    """What one step did: sent a message, waits for someone, or finished."""

    message: str
    waiting: bool = False
    done: bool = False


class CeremonyRun:
    """One trustee's ceremony against the server; ``step()`` does at most one thing."""

    def __init__(
        self,
        server: CeremonyServer,
        key_file: str | Path,
        passphrase: Callable[[bool], str],
        *,
        name: str | None = None,
        kdf_log2_n: int = cli.trustee_file.DEFAULT_LOG2_N,
    ) -> None:
        self.server = server
        self.key_file = Path(key_file)
        self._passphrase = passphrase
        self._name = name
        self._kdf_log2_n = kdf_log2_n
        self._secret: cli.SecretFile | None = None
        self.election: Election | None = None
        self.index: int | None = None

    # -- the key file -----------------------------------------------------------------------
    def _identity(self, state: dict[str, Any]) -> tuple[Election, int, str]:
        index = state.get("your_index")
        if not isinstance(index, int) or isinstance(index, bool):
            raise cli.BadInput(
                f"this credential's account is not a trustee of election {self.server.slug}"
            )
        try:
            manifest = Manifest.from_json(state["manifest"])
            election = cli.election_for(manifest, state["trustees"], state["threshold"])
        except (CryptoError, KeyError, TypeError) as exc:
            raise cli.BadInput(f"the server's election manifest is unusable: {exc}") from None
        if election.base_hash.hex() != state.get("base_hash"):
            raise cli.Rejected(
                "the server's base hash is not the one its manifest gives: refusing to take part"
            )
        names = {t.get("index"): t.get("name") for t in state.get("roster", [])}
        name = self._name or str(names.get(index) or f"trustee {index}")
        return election, index, name

    def _open_or_create(self, state: dict[str, Any], holds_mine: bool) -> cli.SecretFile:
        if self._secret is not None:
            return self._secret
        election, index, name = self._identity(state)
        if self.key_file.exists():
            secret = cli.SecretFile.open(str(self.key_file), self._passphrase(False))
            if secret.election_id != election.election_id or secret.index != index:
                raise cli.BadInput(
                    f"{self.key_file} is trustee {secret.index} of {secret.election_id!r}, not "
                    f"trustee {index} of {election.election_id!r}"
                )
            if secret.content.get("stage") == cli.CEREMONY_STAGE:
                held, _ = secret.ceremony_state()
                if held != election:
                    raise cli.BadInput(f"{self.key_file} belongs to another ceremony")
        else:
            if holds_mine:
                raise cli.BadInput(
                    f"the server already holds trustee {index}'s announcement but {self.key_file} "
                    "does not exist: give the key file you started with"
                )
            if not self.key_file.parent.is_dir():
                raise cli.BadInput(f"folder {self.key_file.parent} does not exist")
            passphrase = self._passphrase(True)
            trustee = Trustee(election.params, index, name)
            content = {
                **cli.ceremony_state_json(election, trustee),
                "network": {"announcement": cli.envelope(
                    "announcement", election, trustee.announce().to_json()
                )},
            }  # fmt: skip
            try:
                cli.trustee_file.write_trustee_file(
                    self.key_file,
                    content,
                    passphrase,
                    election_id=election.election_id,
                    trustee_index=index,
                    log2_n=self._kdf_log2_n,
                )
            except (OSError, cli.trustee_file.TrusteeFileError) as exc:
                raise cli.BadInput(f"cannot write {self.key_file}: {exc}") from None
            secret = cli.SecretFile.open(str(self.key_file), passphrase)
        self._secret, self.election, self.index = secret, election, index
        return secret

    def _save(self, trustee: Trustee, sent: dict[str, Any]) -> None:
        assert self._secret is not None and self.election is not None
        self._secret.save({**cli.ceremony_state_json(self.election, trustee), "network": sent})

    # -- one step ---------------------------------------------------------------------------
    def step(self) -> Progress:
        state = self.server.state()
        documents = self.server.messages()
        messages = cli.Messages()
        for n, doc in enumerate(documents):
            cli.add_document(messages, doc, f"message {n + 1} from the server")
        index = state.get("your_index")
        holds_mine = isinstance(index, int) and index in messages.announcements
        secret = self._open_or_create(state, holds_mine)
        assert self.election is not None and self.index is not None
        election, me = self.election, self.index
        if messages.election is not None and messages.election != election:
            raise cli.Rejected("the server relays messages of another election or ceremony")
        names = {t.get("index"): t.get("name") for t in state.get("roster", [])}
        if secret.content.get("stage") != cli.CEREMONY_STAGE:
            return Progress(f"trustee {me}: the ceremony is finished; key share in {self.key_file}",
                            done=True)  # fmt: skip
        running = state.get("state") == "ceremony"

        def not_running() -> cli.BadInput:
            return cli.BadInput(
                f"election {self.server.slug} is {state.get('state')}, not in its key ceremony"
            )

        _, trustee = secret.ceremony_state()
        sent: dict[str, Any] = dict(secret.content.get("network") or {})
        held = {
            "announcement": messages.announcements,
            "commitments": messages.commitments,
            "complaints": messages.complaints,
        }

        def waiting(kind: str) -> Progress | None:
            missing = [i for i in election.params.indices if i not in held[kind]]
            if not missing:
                return None
            if not running:
                raise not_running()
            who = ", ".join(f"{i} ({names.get(i, '?')})" for i in missing)
            return Progress(f"waiting for the {kind} of trustee(s) {who}", waiting=True)

        # Round 1: the announcement (made with the key file, so a resend is byte-identical).
        if me not in messages.announcements:
            if "announcement" not in sent:  # a key file made by ceremony-start
                sent["announcement"] = cli.envelope(
                    "announcement", election, trustee.announce().to_json()
                )
                self._save(trustee, sent)
            if not running:
                raise not_running()
            self.server.send(sent["announcement"])
            return Progress(f"trustee {me}: announcement sent")
        cli._check_own_announcement(messages, trustee)  # noqa: SLF001 - same package
        if (pending := waiting("announcement")) is not None:
            return pending

        # Round 2: commitments and encrypted shares.
        if me not in messages.commitments:
            if "commitments" not in sent:
                try:
                    commitments = trustee.commit(messages.announcements)
                except CeremonyError as exc:
                    raise cli.Rejected(f"{exc}; the ceremony must restart") from None
                sent["commitments"] = cli.envelope("commitments", election, commitments.to_json())
                self._save(trustee, sent)
            if not running:
                raise not_running()
            self.server.send(sent["commitments"])
            return Progress(f"trustee {me}: commitments and encrypted shares sent; announcements "
                            f"fingerprint {cli.announcements_fingerprint(messages)}")  # fmt: skip
        own = messages.commitments[me]
        if [c.hex() for c in own.commitments] != [base_mul(a).hex() for a in trustee.coefficients]:
            raise cli.Rejected(f"the server holds commitments for trustee {me} that are not yours")
        if (pending := waiting("commitments")) is not None:
            return pending

        # Round 3: check the shares received; complain about each bad one, with its proof.
        if me not in messages.complaints:
            if "complaints" not in sent:
                try:
                    complaints = trustee.receive(messages.announcements, messages.commitments)
                except CeremonyError as exc:
                    raise cli.Rejected(f"{exc}; the ceremony must restart") from None
                body = {"trustee": me, "complaints": [c.to_json() for c in complaints]}
                sent["complaints"] = cli.envelope("complaints", election, body)
                self._save(trustee, sent)
            if not running:
                raise not_running()
            self.server.send(sent["complaints"])
            accused = [c["accused"] for c in sent["complaints"]["body"]["complaints"]]
            if accused:
                return Progress(f"trustee {me}: BAD SHARE from trustee(s) "
                                f"{', '.join(map(str, accused))}: complaint sent with its proof")  # fmt: skip
            return Progress(f"trustee {me}: every share received is valid; (empty) complaints sent")
        if (pending := waiting("complaints")) is not None:
            return pending

        # Round 4: judge the complaints here, derive the key share, store it in the key file.
        if not trustee.received_shares and election.trustees > 1:
            # The key file of a run resumed after the complaints were sent holds the shares;
            # one made by the file commands may not: check them again.
            trustee.receive(messages.announcements, messages.commitments)
        _, outcome = cli._ceremony_outcome(messages)  # noqa: SLF001 - same package
        qualified = outcome["qualified"]
        if me not in qualified:
            reason = outcome["disqualified"].get(str(me), "")
            raise cli.Rejected(f"trustee {me} was disqualified: {reason}")
        published = state.get("joint_key")
        if published is not None and published != outcome["joint_key"]:
            raise cli.Rejected("the server published another joint key than the messages give")
        try:
            key_share = trustee.finalize(qualified)
        except CeremonyError as exc:
            raise cli.Rejected(str(exc)) from None
        if key_share.verification_key.hex() != outcome["verification_keys"][str(me)]:
            raise cli.Rejected("the derived share does not match the public commitments")
        secret.save(key_share.to_secret_json())
        disqualified = ", ".join(outcome["disqualified"]) or "none"
        return Progress(
            f"trustee {me}: key share stored in {self.key_file}; joint key {outcome['joint_key']}; "
            f"qualified {', '.join(map(str, qualified))}; disqualified {disqualified}",
            done=True,
        )


def run_ceremony(
    run: CeremonyRun,
    *,
    timeout: float,
    poll_interval: float,
    say: Callable[[str], None] = print,
    sleep: Callable[[float], None] = time.sleep,
) -> Progress:
    """Step until done, polling with a doubling delay capped at ``poll_interval`` seconds."""
    deadline = time.monotonic() + timeout
    delay, last = min(0.2, poll_interval), ""
    while True:
        progress = run.step()
        if progress.done:
            say(progress.message)
            return progress
        if not progress.waiting:
            say(progress.message)
            delay = min(0.2, poll_interval)
            continue
        if progress.message != last:
            say(progress.message + " ...")
            last = progress.message
        if time.monotonic() + delay > deadline:
            raise NetworkProblem(
                f"timed out after {timeout:g} s {progress.message}; run the command again to resume"
            )
        sleep(delay)
        delay = min(delay * 2, poll_interval)


# -- decryption of the tally (docs/protocol-trustees.md § Decryption API) -----------------------
BALLOTS_PAGE = 500


class TallyServer(ApiClient):
    """The tally endpoints of one election: the encrypted tally, the ballots, the shares."""

    def tally(self) -> dict[str, Any]:
        _, data = self._request("GET", "/tally")
        if not isinstance(data, dict):
            raise NetworkProblem("the server's tally is not a JSON object")
        return data

    def ballots(self) -> list[dict[str, Any]]:
        """Every published ballot, page by page (``after`` = the last id of the previous page)."""
        out: list[dict[str, Any]] = []
        after = 0
        while True:
            _, data = self._request(
                "GET", "/ballots", params={"after": after, "limit": BALLOTS_PAGE}
            )
            page = data.get("ballots") if isinstance(data, dict) else None
            if not isinstance(page, list):
                raise NetworkProblem('the server\'s ballot list is not {"ballots": [...]}')
            out.extend(page)
            following = data.get("next_after")
            if following is None:
                return out
            if not isinstance(following, int) or following <= after:
                raise cli.Rejected("the server's ballot list does not advance: refusing to go on")
            after = following

    def send_share(self, document: dict[str, Any]) -> dict[str, Any]:
        _, data = self._request("POST", "/tally-shares", document)
        return data


def counting_ballots(entries: list[Any], expected: int) -> list[dict[str, Any]]:
    """The record layout's ``ballots.cast`` from the server's list: the counting ballots, each
    checked to be the document the log names (its SHA-256), with its weight."""
    cast: list[dict[str, Any]] = []
    seen: set[str] = set()
    for n, entry in enumerate(entries):
        if not isinstance(entry, dict) or entry.get("status") not in (
            "counting",
            "superseded",
            "spoiled",
        ):
            raise cli.Rejected(f"ballot {n} of the server's list has no valid status")
        if entry["status"] != "counting":
            continue
        document = entry.get("document")
        digest = hashlib.sha256(rfc8785.dumps(document)).hexdigest()
        if digest != entry.get("ballot_sha256") or digest in seen:
            raise cli.Rejected(
                f"ballot {entry.get('tracking_code')}: its document does not hash to the "
                "ballot_sha256 the server lists (or is listed twice)"
            )
        seen.add(digest)
        cast.append({"ballot": document, "weight": entry.get("weight")})
    if len(cast) != expected:
        raise cli.Rejected(
            f"the server lists {len(cast)} counting ballots but froze the box with {expected}"
        )
    return cast


def run_decryption(
    server: TallyServer,
    key_file: str | Path,
    passphrase: Callable[[], str],
    *,
    out: str | None = None,
    say: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Fetch, recompute, decrypt, send. Refuses (cli.Rejected, exit 1) when the server's tally is
    not the sum of the ballots it publishes: a trustee never decrypts anything else."""
    document = server.tally()
    secret = cli.SecretFile.open(str(key_file), passphrase())
    key_share = secret.key_share()
    if key_share.index in (document.get("shares_received") or []):
        say(f"trustee {key_share.index}: the server already holds your verified partial decryption")
        return {"trustee": key_share.index, "stored": False}
    if document.get("tally") is None:
        progress = document.get("progress") or {}
        raise NetworkProblem(
            f"the encrypted tally is not computed yet ({progress.get('chunks_done')} of "
            f"{progress.get('chunks_total')} chunks summed): run the command again later"
        )
    if document.get("state") != "tallying":
        raise cli.BadInput(f"election {server.slug} is {document.get('state')}, not tallying")
    params = document.get("parameters") or {}
    frozen = document.get("box_frozen") or {}
    source = f"the server's tally of {server.slug}"
    try:
        manifest = Manifest.from_json(document.get("manifest"))
    except (CryptoError, TypeError) as exc:
        raise cli.BadInput(f"{source}: unusable manifest: {exc}") from None
    election = cli.election_for(manifest, params.get("trustees"), params.get("threshold"))
    if (document.get("hashes") or {}).get("base_hash") != election.base_hash.hex():
        raise cli.Rejected(f"{source}: the base hash is not the one its manifest gives")

    mine = Election(
        secret.election_id, key_share.base_hash, key_share.trustees, key_share.threshold
    )
    if mine != election:
        raise cli.BadInput(f"{key_file} is a key of another election than {server.slug}")

    if group.get_backend().name != "native":  # summing many ballots: libsecp256k1 when present
        try:
            group.set_backend("native")
        except (ImportError, OSError):
            say("note: libsecp256k1 (coincurve) is unavailable; summing with the slower py-ecc")
    say(f"fetching every ballot of {server.slug} ...")
    entries = server.ballots()
    expected = frozen.get("counting")
    if not isinstance(expected, int) or isinstance(expected, bool):
        raise cli.Rejected(f"{source}: the frozen box names no number of counting ballots")
    cast = counting_ballots(entries, expected)
    checked = cli.tally_input({**document, "ballots": {"cast": cast}}, source)
    say(f"checked: the tally is the sum of the {checked.summed_ballots} counting ballots published "
        f"({len(entries)} ballots listed in all)")  # fmt: skip
    try:
        share = decrypt_share(checked.extended_hash, key_share, checked.tally)
    except DecryptionError as exc:
        raise cli.Rejected(str(exc)) from None
    message = cli.envelope("tally-share", election, share.to_json())
    if out:
        cli.write_json(out, message)
    answer = server.send_share(message)
    stored = "stored" if answer.get("stored") else "already stored"
    say(f"trustee {key_share.index}: partial decryption of {len(share.partials)} options {stored} "
        f"by the server ({answer.get('received')} of {answer.get('threshold')} needed received)")  # fmt: skip
    return answer
