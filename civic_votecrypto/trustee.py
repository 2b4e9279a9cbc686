"""The trustee's own program: key ceremony and tally decryption by exchanging JSON files.

A trustee runs this on their own machine; their secrets live only in an encrypted file there
(``trustee_file``). Everything they publish is a JSON "message" file that any channel can
carry (a shared folder, e-mail, a USB stick): no server is needed, and every message is
checked by its recipients, so the channel does not have to be trusted for integrity. Flow
for t of n (docs/protocol-trustees.md § Trustee command line):

    each   ceremony-start    -> announcement-<i>.json (public), trustee-<i>.key (secret)
    each   ceremony-shares   announcements        -> commitments-<i>.json
    each   ceremony-receive  announcements + commitments -> complaints-<i>.json (maybe empty)
    anyone joint-key         all of the above     -> prints K, H_E; writes ceremony.json
    each   ceremony-finish   ceremony.json        -> the key file now holds the share s_i
    each   decrypt-share     tally.json           -> tally-share-<i>.json
    anyone combine           tally.json, ceremony.json, >= t tally shares -> results.json

Over the network (civic_votecrypto.trustee_client, httpx): ``ceremony`` runs every ceremony round
against the server, and ``decrypt`` fetches the encrypted tally and every published ballot,
recomputes the sum itself (refusing if it differs), decrypts the trustee's share with proofs and
posts it. (Issue 12 names ``python -m voting.crypto.trustee``: the program moved to this package
in issue 9; ``civic-trustee`` is the same entry point.)

Exit codes: 0 done; 1 the cryptography rejected something (a proof fails, a trustee is
disqualified, too few valid tally shares); 2 unusable input (missing or malformed file, wrong
passphrase, files of another election); 3 (the network commands only) the server cannot be
reached, answered with a server error, or the wait timed out: run it again to resume. Errors are
one readable line, never a traceback.
"""

from __future__ import annotations

import argparse
import getpass
import hashlib
import json
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import rfc8785

from . import dkg, group, hashing, strict_json, trustee_file
from .ballot import EncryptedBallot
from .decryption import (
    DecryptionError,
    EncryptedTally,
    TallyShare,
    aggregate_ballots,
    decrypt_share,
    decrypt_tally,
)
from .dkg import (
    CeremonyError,
    CeremonyTranscript,
    Complaint,
    Trustee,
    TrusteeAnnouncement,
    TrusteeCommitments,
    TrusteeKeyShare,
)
from .election import Election, election_from_manifest
from .errors import CryptoError, ElectionParametersError
from .group import scalar_from_hex, scalar_hex
from .manifest import Manifest
from .record import CAST_KEYS, CAST_KEYS_1

MESSAGE_FORMAT = "civic-trustee-message/1"
RESULTS_FORMAT = "civic-tally-results/1"
CEREMONY_STAGE = "ceremony"
OUTCOME_KEYS = (
    "announcements_fingerprint",
    "joint_key",
    "extended_hash",
    "qualified",
    "disqualified",
    "false_accusations",
    "verification_keys",
)
KINDS = ("announcement", "commitments", "complaints", "ceremony", "tally-share")
EXIT_OK, EXIT_REJECTED, EXIT_BAD_INPUT, EXIT_NETWORK = 0, 1, 2, 3


class BadInput(Exception):
    """Unusable input (exit 2): the message tells the trustee what to fix."""


class Rejected(Exception):
    """The inputs are readable but the cryptography says no (exit 1)."""


class NetworkProblem(Exception):
    """The server cannot be reached, answers with a server error, or the wait timed out (exit 3).

    Nothing is lost: the key file holds every step, so running the command again resumes.
    """


# -- election identity ----------------------------------------------------------------------
def election_for(manifest: Manifest, trustees: int, threshold: int) -> Election:
    """The library's election identity, with a bad (n, t) told to the trustee as unusable input."""
    try:
        return election_from_manifest(manifest, trustees, threshold)
    except ElectionParametersError as exc:
        raise BadInput(str(exc)) from None


# -- files ----------------------------------------------------------------------------------
def read_json(path: str | Path, what: str) -> Any:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BadInput(f"{what} not found: {path}") from None
    except IsADirectoryError:
        raise BadInput(f"{what} is a directory, not a file: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"cannot read {what} {path}: {exc}") from None
    try:
        return strict_json.loads(text)
    except ValueError as exc:
        raise BadInput(f"{what} {path} is not valid JSON ({exc})") from None


def write_json(path: str | Path, document: Any) -> None:
    target = Path(path)
    try:
        target.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n", "utf-8")
    except OSError as exc:
        raise BadInput(f"cannot write {target}: {exc.strerror}") from None


def load_manifest(path: str | Path) -> Manifest:
    try:
        return Manifest.from_json(read_json(path, "manifest"))
    except CryptoError as exc:
        raise BadInput(f"manifest {path} is invalid: {exc}") from None


def envelope(kind: str, election: Election, body: Any) -> dict[str, Any]:
    return {"format": MESSAGE_FORMAT, "kind": kind, **election.to_json(), "body": body}


@dataclass
class Messages:
    """Every public message given on the command line, checked to belong to one election."""

    election: Election | None = None
    announcements: dict[int, TrusteeAnnouncement] = field(default_factory=dict)
    commitments: dict[int, TrusteeCommitments] = field(default_factory=dict)
    complaints: dict[int, list[Complaint]] = field(default_factory=dict)
    tally_shares: dict[int, Any] = field(default_factory=dict)
    claimed: list[tuple[str, str, Any]] = field(default_factory=list)
    """(source, key, value) of computed values published in a ceremony file: rechecked."""
    _sources: dict[tuple[str, int], tuple[str, Any]] = field(default_factory=dict)

    def _add(self, kind: str, index: int, body: Any, source: str) -> bool:
        """False if this exact message was already given; error if it contradicts one."""
        previous = self._sources.get((kind, index))
        if previous is not None:
            if previous[1] != body:
                raise BadInput(
                    f"two different {kind} messages from trustee {index}: "
                    f"{previous[0]} and {source}"
                )
            return False
        self._sources[(kind, index)] = (source, body)
        return True

    def require(self, *kinds: str) -> Election:
        """Check that every trustee's message of each kind is present."""
        if self.election is None:
            raise BadInput("no message files given")
        held = {
            "announcement": self.announcements,
            "commitments": self.commitments,
            "complaints": self.complaints,
        }
        for kind in kinds:
            missing = [i for i in range(1, self.election.trustees + 1) if i not in held[kind]]
            if missing:
                hint = (
                    " (every trustee publishes one, possibly empty)" if kind == "complaints" else ""
                )
                raise BadInput(
                    f"missing {kind} message from trustee(s) {', '.join(map(str, missing))}{hint}"
                )
        return self.election

    def transcript(self) -> CeremonyTranscript:
        election = self.require("announcement", "commitments", "complaints")
        indices = range(1, election.trustees + 1)
        return CeremonyTranscript(
            election.params,
            tuple(self.announcements[i] for i in indices),
            tuple(self.commitments[i] for i in indices),
            tuple(c for i in indices for c in self.complaints[i]),
        )


def _decode(decode: Callable[[Any], Any], value: Any, source: str, what: str) -> Any:
    try:
        return decode(value)
    except (CryptoError, KeyError, TypeError, ValueError) as exc:
        raise BadInput(f"{source}: malformed {what}: {exc}") from None


def _election_of(doc: Mapping[str, Any], source: str) -> Election:
    try:
        election_id, trustees, threshold = doc["election_id"], doc["trustees"], doc["threshold"]
        base_hash = bytes.fromhex(doc["base_hash"])
    except (KeyError, TypeError, ValueError):
        raise BadInput(f"{source}: missing or malformed election fields") from None
    if not isinstance(election_id, str) or len(base_hash) != hashing.HASH_BYTES:
        raise BadInput(f"{source}: malformed election fields")
    for value in (trustees, threshold):
        if not isinstance(value, int) or isinstance(value, bool):
            raise BadInput(f"{source}: trustees and threshold must be integers")
    election = Election(election_id, base_hash, trustees, threshold)
    try:
        election.params  # noqa: B018 - validates 1 <= t <= n <= MAX_TRUSTEES
    except ValueError as exc:
        raise BadInput(f"{source}: {exc}") from None
    return election


def load_messages(paths: Sequence[str]) -> Messages:
    messages = Messages()
    for source in paths:
        add_document(messages, read_json(source, "message file"), source)
    return messages


def add_document(messages: Messages, doc: Any, source: str) -> str:
    """Decode one ``civic-trustee-message/1`` envelope strictly into ``messages``; its kind.

    The one decoder of trustee messages: the file commands, the network client and the server
    (voting.services.ceremony) all read messages through it. Proofs are not checked here.
    """
    if not isinstance(doc, dict) or doc.get("format") != MESSAGE_FORMAT:
        raise BadInput(f"{source} is not a trustee message ({MESSAGE_FORMAT})")
    kind = doc.get("kind")
    if kind not in KINDS or set(doc) != {
        "format", "kind", "election_id", "base_hash", "trustees", "threshold", "body",
    }:  # fmt: skip
        raise BadInput(f"{source}: unknown message kind or unexpected fields")
    election = _election_of(doc, source)
    if messages.election is None:
        messages.election = election
    elif messages.election != election:
        raise BadInput(f"{source} belongs to another election or ceremony than the others")
    _add_body(messages, kind, doc["body"], source)
    return str(kind)


def _add_body(messages: Messages, kind: str, body: Any, source: str) -> None:
    assert messages.election is not None
    params = messages.election.params

    def index_ok(index: int) -> int:
        try:
            params.check_index(index)
        except CeremonyError as exc:
            raise BadInput(f"{source}: {exc}") from None
        return index

    if kind == "announcement":
        ann = _decode(TrusteeAnnouncement.from_json, body, source, "announcement")
        if messages._add(kind, index_ok(ann.index), body, source):
            messages.announcements[ann.index] = ann
    elif kind == "commitments":
        msg = _decode(TrusteeCommitments.from_json, body, source, "commitments message")
        if messages._add(kind, index_ok(msg.index), body, source):
            messages.commitments[msg.index] = msg
    elif kind == "complaints":
        if not isinstance(body, dict) or set(body) != {"trustee", "complaints"}:
            raise BadInput(f"{source}: a complaints body has exactly trustee and complaints")
        trustee = body["trustee"]
        if not isinstance(trustee, int) or isinstance(trustee, bool):
            raise BadInput(f"{source}: trustee must be an integer")
        if not isinstance(body["complaints"], list):
            raise BadInput(f"{source}: complaints must be a list")
        complaints = [
            _decode(Complaint.from_json, c, source, "complaint") for c in body["complaints"]
        ]
        if any(c.accuser != trustee for c in complaints):
            raise BadInput(f"{source}: every complaint must come from trustee {trustee}")
        if messages._add(kind, index_ok(trustee), body, source):
            messages.complaints[trustee] = complaints
    elif kind == "ceremony":
        lists = {"announcements", "commitments", "complaints"}
        if (
            not isinstance(body, dict)
            or not lists <= set(body)
            or not set(body) <= lists | set(OUTCOME_KEYS)
        ):
            raise BadInput(
                f"{source}: a ceremony body lists announcements, commitments, complaints "
                f"(and optionally {', '.join(OUTCOME_KEYS)})"
            )
        messages.claimed.extend((source, k, body[k]) for k in OUTCOME_KEYS if k in body)
        for ann in _as_list(body["announcements"], source):
            _add_body(messages, "announcement", ann, source)
        for msg in _as_list(body["commitments"], source):
            _add_body(messages, "commitments", msg, source)
        by_accuser: dict[int, list[Any]] = {i: [] for i in params.indices}
        for complaint in _as_list(body["complaints"], source):
            accuser = complaint.get("accuser") if isinstance(complaint, dict) else None
            if accuser not in by_accuser:
                raise BadInput(f"{source}: complaint with an invalid accuser")
            by_accuser[accuser].append(complaint)
        for trustee, complaints in by_accuser.items():
            _add_body(
                messages, "complaints", {"trustee": trustee, "complaints": complaints}, source
            )
    else:  # tally-share: decoded against the manifest later
        trustee = body.get("trustee") if isinstance(body, dict) else None
        if not isinstance(trustee, int) or isinstance(trustee, bool):
            raise BadInput(f"{source}: a tally share names its trustee")
        if messages._add(kind, index_ok(trustee), body, source):
            messages.tally_shares[trustee] = body


def _as_list(value: Any, source: str) -> list[Any]:
    if not isinstance(value, list):
        raise BadInput(f"{source}: expected a list")
    return value


# -- the secret file ------------------------------------------------------------------------
def read_passphrase(path: str | None, *, confirm: bool = False) -> str:
    """From --passphrase-file (first line), else an interactive prompt."""
    if path is not None:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise BadInput(f"cannot read passphrase file {path}: {exc}") from None
        passphrase = text.splitlines()[0] if text else ""
    else:
        try:
            passphrase = getpass.getpass("Passphrase for the trustee key file: ")
            if confirm and getpass.getpass("Repeat the passphrase: ") != passphrase:
                raise BadInput("the two passphrases differ")
        except (EOFError, KeyboardInterrupt):
            raise BadInput("no passphrase given") from None
    if not passphrase:
        raise BadInput("the passphrase must not be empty")
    return passphrase


@dataclass
class SecretFile:
    path: Path
    passphrase: str
    log2_n: int
    election_id: str
    index: int
    content: dict[str, Any]

    @classmethod
    def open(cls, path: str, passphrase: str) -> SecretFile:
        try:
            content = trustee_file.read_trustee_file(path, passphrase)
        except trustee_file.TrusteeFileError as exc:
            raise BadInput(str(exc)) from None
        except OSError as exc:
            raise BadInput(f"cannot read trustee key file {path}: {exc.strerror}") from None
        header = read_json(path, "trustee key file")  # already validated by read_trustee_file
        return cls(
            Path(path),
            passphrase,
            header["kdf"]["log2_n"],
            header["election_id"],
            header["trustee_index"],
            content,
        )

    def save(self, content: dict[str, Any]) -> None:
        try:
            trustee_file.write_trustee_file(
                self.path,
                content,
                self.passphrase,
                election_id=self.election_id,
                trustee_index=self.index,
                log2_n=self.log2_n,
            )
        except OSError as exc:
            raise BadInput(f"cannot write {self.path}: {exc.strerror}") from None
        self.content = content

    # -- during the ceremony: {"stage": "ceremony", ...} --------------------------------------
    def ceremony_state(self) -> tuple[Election, Trustee]:
        c = self.content
        if c.get("stage") != CEREMONY_STAGE:
            raise BadInput(f"{self.path} already holds a finished key share (ceremony is over)")
        try:
            election = Election(
                self.election_id, bytes.fromhex(c["base_hash"]), c["trustees"], c["threshold"]
            )
            received = {int(i): scalar_from_hex(v) for i, v in c["received"].items()}
            trustee = Trustee.restore(
                election.params,
                self.index,
                c["name"],
                scalar_from_hex(c["communication_secret"], nonzero=True),
                [scalar_from_hex(a, nonzero=True) for a in c["coefficients"]],
                received,
            )
        except (CryptoError, KeyError, TypeError, ValueError) as exc:
            raise BadInput(f"{self.path}: unexpected ceremony state ({exc})") from None
        return election, trustee

    def save_ceremony_state(self, election: Election, trustee: Trustee) -> None:
        self.save(ceremony_state_json(election, trustee))

    # -- after the ceremony: the key share of docs § Trustee secret file ----------------------
    def key_share(self) -> TrusteeKeyShare:
        if self.content.get("stage") == CEREMONY_STAGE:
            raise BadInput(f"{self.path} is still in the key ceremony: run ceremony-finish first")
        try:
            return TrusteeKeyShare.from_secret_json(self.content)
        except CryptoError as exc:
            raise BadInput(f"{self.path}: unexpected key share ({exc})") from None


def ceremony_state_json(election: Election, trustee: Trustee) -> dict[str, Any]:
    return {
        "stage": CEREMONY_STAGE,
        "name": trustee.name,
        "trustees": election.trustees,
        "threshold": election.threshold,
        "base_hash": election.base_hash.hex(),
        "communication_secret": scalar_hex(trustee.communication_secret),
        "coefficients": [scalar_hex(a) for a in trustee.coefficients],
        "received": {str(i): scalar_hex(v) for i, v in sorted(trustee.received_shares.items())},
    }


def announcements_fingerprint(messages: Messages) -> str:
    """SHA-256 of every announcement (RFC 8785, index order), for an out-of-band comparison.

    A relay that showed trustees different announcements (equivocation) is caught when the
    trustees read this value to each other before publishing their shares.
    """
    anns = [messages.announcements[i].to_json() for i in sorted(messages.announcements)]
    digest = hashlib.sha256(rfc8785.dumps(anns)).hexdigest()[:32]
    return "-".join(digest[k : k + 4] for k in range(0, 32, 4))


def _same_election(messages: Messages, election: Election, path: Path) -> None:
    if messages.election is not None and messages.election != election:
        raise BadInput(f"the message files belong to another election or ceremony than {path}")


def _open_ceremony_step(args: argparse.Namespace) -> tuple[Messages, SecretFile, Election, Trustee]:
    """Load the published messages, then unlock the key file and resume its ceremony state;
    the messages must be of that same election (every ceremony step after the first)."""
    messages = load_messages(args.messages)
    secret = SecretFile.open(args.secret_file, read_passphrase(args.passphrase_file))
    election, trustee = secret.ceremony_state()
    _same_election(messages, election, secret.path)
    return messages, secret, election, trustee


def _check_own_announcement(messages: Messages, trustee: Trustee) -> None:
    own = messages.announcements.get(trustee.index)
    if own is None:
        raise BadInput(f"missing announcement message from trustee {trustee.index} (yours)")
    own_key = group.base_mul(trustee.communication_secret)
    if own.communication_key != own_key or own.name != trustee.name:
        raise Rejected(
            f"the announcement given for trustee {trustee.index} is not the one this key file "
            "made: someone replaced it, or this is another trustee's key file"
        )


# -- subcommands ----------------------------------------------------------------------------
def cmd_ceremony_start(args: argparse.Namespace) -> int:
    manifest = load_manifest(args.manifest)
    election = election_for(manifest, args.trustees, args.threshold)
    try:
        election.params.check_index(args.index)
    except CeremonyError as exc:
        raise BadInput(str(exc)) from None
    secret_path = Path(args.secret_file)
    if secret_path.exists():
        raise BadInput(f"{secret_path} already exists: refusing to overwrite a trustee key file")
    for target in (secret_path, Path(args.out)):
        if not target.parent.is_dir():
            raise BadInput(f"folder {target.parent} does not exist")
    passphrase = read_passphrase(args.passphrase_file, confirm=True)
    trustee = Trustee(election.params, args.index, args.name)
    announcement = trustee.announce()
    try:
        trustee_file.write_trustee_file(
            secret_path,
            ceremony_state_json(election, trustee),
            passphrase,
            election_id=election.election_id,
            trustee_index=args.index,
            log2_n=args.kdf_log2_n,
        )
    except (OSError, trustee_file.TrusteeFileError) as exc:
        raise BadInput(f"cannot write {secret_path}: {exc}") from None
    write_json(args.out, envelope("announcement", election, announcement.to_json()))
    print(f"trustee {args.index} ({args.name}) of {election.election_id}: key file {secret_path}")
    print(f"announcement written to {args.out}")
    print(f"communication key (compare it with the others out of band): "
          f"{announcement.communication_key.hex()}")  # fmt: skip
    return EXIT_OK


def cmd_ceremony_shares(args: argparse.Namespace) -> int:
    messages, _, election, trustee = _open_ceremony_step(args)
    messages.require("announcement")
    _check_own_announcement(messages, trustee)
    try:
        commitments = trustee.commit(messages.announcements)
    except CeremonyError as exc:
        raise Rejected(f"{exc}; the ceremony must restart without that announcement") from None
    write_json(args.out, envelope("commitments", election, commitments.to_json()))
    print(f"commitments and {len(commitments.shares)} encrypted shares written to {args.out}")
    print(f"announcements fingerprint (all trustees must see the same before publishing): "
          f"{announcements_fingerprint(messages)}")  # fmt: skip
    return EXIT_OK


def cmd_ceremony_receive(args: argparse.Namespace) -> int:
    messages, secret, election, trustee = _open_ceremony_step(args)
    messages.require("announcement", "commitments")
    _check_own_announcement(messages, trustee)
    own = messages.commitments[trustee.index]
    if [c.hex() for c in own.commitments] != [
        group.base_mul(a).hex() for a in trustee.coefficients
    ]:
        raise Rejected(f"the commitments given for trustee {trustee.index} are not yours")
    try:
        complaints = trustee.receive(messages.announcements, messages.commitments)
    except CeremonyError as exc:
        raise Rejected(f"{exc}; the ceremony must restart") from None
    secret.save_ceremony_state(election, trustee)
    body = {"trustee": trustee.index, "complaints": [c.to_json() for c in complaints]}
    write_json(args.out, envelope("complaints", election, body))
    good = sorted(trustee.received_shares)
    print(f"valid shares from trustee(s) {', '.join(map(str, good)) or 'none'} stored in "
          f"{secret.path}")  # fmt: skip
    for complaint in complaints:
        print(f"BAD SHARE from trustee {complaint.accused}: complaint written to {args.out}")
    if not complaints:
        print(f"no complaints; publish {args.out} anyway (it says so)")
    return EXIT_OK


def _ceremony_outcome(messages: Messages) -> tuple[CeremonyTranscript, dict[str, Any]]:
    transcript = messages.transcript()
    try:
        transcript.check_complete()
        for ann in transcript.announcements:
            dkg.verify_announcement(transcript.params, ann)
        for msg in transcript.commitments:
            dkg.verify_commitments(transcript.params, msg)
        verdicts = transcript.verdicts()
    except CeremonyError as exc:
        raise Rejected(str(exc)) from None
    qualified = dkg.qualified_trustees(transcript.params, verdicts)
    disqualified = {str(v.guilty): v.reason for v in verdicts if v.upheld}
    if len(qualified) < transcript.params.threshold:
        raise Rejected(
            f"only {len(qualified)} trustees remain qualified, {transcript.params.threshold} "
            f"needed: the ceremony failed (disqualified: {disqualified})"
        )
    comms = transcript.commitments_by_index
    key = dkg.joint_key(comms, qualified)
    extended = hashing.extended_base_hash(
        transcript.params.base_hash, key, [c for i in qualified for c in comms[i].commitments]
    )
    outcome = {
        "announcements_fingerprint": announcements_fingerprint(messages),
        "joint_key": key.hex(),
        "extended_hash": extended.hex(),
        "qualified": qualified,
        "disqualified": disqualified,
        "false_accusations": {str(v.complaint.accuser): v.reason for v in verdicts if not v.upheld},
        "verification_keys": {
            str(j): dkg.verification_key(comms, qualified, j).hex() for j in qualified
        },
    }
    for source, key, value in messages.claimed:
        if outcome[key] != value:
            raise Rejected(f"{source}: the published {key} is not what the messages give")
    return transcript, outcome


def cmd_joint_key(args: argparse.Namespace) -> int:
    messages = load_messages(args.messages)
    transcript, outcome = _ceremony_outcome(messages)
    assert messages.election is not None
    if args.out:
        body = {
            "announcements": [a.to_json() for a in transcript.announcements],
            "commitments": [c.to_json() for c in transcript.commitments],
            "complaints": [c.to_json() for c in transcript.complaints],
            **outcome,
        }
        write_json(args.out, envelope("ceremony", messages.election, body))
    print(json.dumps(outcome, indent=1))
    return EXIT_OK


def cmd_ceremony_finish(args: argparse.Namespace) -> int:
    messages, secret, _, trustee = _open_ceremony_step(args)
    transcript, outcome = _ceremony_outcome(messages)
    _check_own_announcement(messages, trustee)
    qualified = outcome["qualified"]
    if trustee.index not in qualified:
        reason = outcome["disqualified"].get(str(trustee.index), "")
        raise Rejected(f"trustee {trustee.index} was disqualified: {reason}")
    try:
        key_share = trustee.finalize(qualified)
    except CeremonyError as exc:
        raise Rejected(str(exc)) from None
    expected = outcome["verification_keys"][str(trustee.index)]
    if key_share.verification_key.hex() != expected:
        raise Rejected("the derived share does not match the public commitments")
    secret.save(key_share.to_secret_json())
    print(f"trustee {trustee.index}: key share stored in {secret.path}")
    print(f"verification key {expected}; joint key {outcome['joint_key']}")
    return EXIT_OK


@dataclass(frozen=True)
class TallyInput:
    manifest: Manifest
    base_hash: bytes
    extended_hash: bytes
    tally: EncryptedTally
    summed_ballots: int | None = None
    """Number of cast ballots the tally was checked to be the sum of (None: none given)."""


def _check_aggregate(
    path: str, doc: Mapping[str, Any], manifest: Manifest, tally: EncryptedTally
) -> int:
    """The tally must be the (weighted) sum of the listed counting cast ballots (record layout,
    v1 or v2: a v2 record's superseded ballots are left out).

    This is what keeps a trustee from decrypting one voter's ballot passed off as a tally.
    """
    ballots_raw = doc["ballots"]
    cast = ballots_raw.get("cast") if isinstance(ballots_raw, dict) else None
    if not isinstance(cast, list):
        raise BadInput(f"{path}: ballots.cast must be a list (record layout)")
    ballots, weights = [], []
    for i, entry in enumerate(cast):
        if not isinstance(entry, dict) or set(entry) not in (CAST_KEYS_1, CAST_KEYS):
            raise BadInput(
                f"{path}: ballots.cast[{i}] has exactly ballot and weight (or the record v2 keys)"
            )
        if set(entry) == CAST_KEYS and entry["status"] != "counting":
            if entry["status"] != "superseded":
                raise BadInput(f"{path}: ballots.cast[{i}].status must be counting or superseded")
            continue  # a superseded ballot is not in the tally (record v2, §5.2)
        weight = entry["weight"]
        if not isinstance(weight, int) or isinstance(weight, bool) or weight < 1:
            raise BadInput(f"{path}: ballots.cast[{i}].weight must be a positive integer")
        ballots.append(_decode(EncryptedBallot.from_json, entry["ballot"], path, f"ballot {i}"))
        weights.append(weight)
    try:
        expected = aggregate_ballots(manifest, ballots, weights)
    except KeyError as exc:
        raise Rejected(f"{path}: a cast ballot has an option not in the manifest ({exc})") from None
    if expected.ballot_count != tally.ballot_count:
        raise Rejected(
            f"{path}: tally.ballot_count is {tally.ballot_count} but {len(ballots)} ballots are cast"
        )
    for key, ciphertext in tally.ciphertexts.items():
        if expected.ciphertexts[key] != ciphertext:
            raise Rejected(
                f"{path}: the tally of {key[0]}/{key[1]} is not the sum of the cast ballots; "
                "refusing to decrypt it"
            )
    return len(ballots)


def load_tally(path: str) -> TallyInput:
    """Any JSON object with manifest, hashes and tally as in the election record."""
    return tally_input(read_json(path, "tally file"), path)


def tally_input(doc: Any, path: str) -> TallyInput:
    """A tally document (record layout) checked as ``load_tally`` checks a file; with "ballots",
    the tally must be their sum (``path`` names the source in every message)."""
    if not isinstance(doc, dict) or not {"manifest", "hashes", "tally"} <= set(doc):
        raise BadInput(f"{path}: a tally file has manifest, hashes and tally (record layout)")
    manifest = _decode(Manifest.from_json, doc["manifest"], path, "manifest")
    hashes = doc["hashes"]
    try:
        base_hash = bytes.fromhex(hashes["base_hash"])
        extended_hash = bytes.fromhex(hashes["extended_hash"])
    except (KeyError, TypeError, ValueError):
        raise BadInput(f"{path}: hashes.base_hash and hashes.extended_hash are hex") from None
    if len(base_hash) != hashing.HASH_BYTES or len(extended_hash) != hashing.HASH_BYTES:
        raise BadInput(f"{path}: hashes are 32 bytes")
    tally = _decode(lambda v: EncryptedTally.from_json(v, manifest), doc["tally"], path, "tally")
    summed = _check_aggregate(path, doc, manifest, tally) if "ballots" in doc else None
    return TallyInput(manifest, base_hash, extended_hash, tally, summed)


def _check_tally_election(tally: TallyInput, election: Election, what: str) -> None:
    if tally.manifest.election_id != election.election_id:
        raise BadInput(f"the tally is for election {tally.manifest.election_id!r}, not {what}")
    recomputed = election_for(tally.manifest, election.trustees, election.threshold)
    if recomputed.base_hash != election.base_hash or tally.base_hash != election.base_hash:
        raise BadInput(f"the tally's manifest or base hash does not match {what}")


def cmd_decrypt_share(args: argparse.Namespace) -> int:
    tally = load_tally(args.tally)
    secret = SecretFile.open(args.secret_file, read_passphrase(args.passphrase_file))
    key_share = secret.key_share()
    election = Election(
        secret.election_id, key_share.base_hash, key_share.trustees, key_share.threshold
    )
    _check_tally_election(tally, election, f"the election of {secret.path}")
    if tally.summed_ballots is None:
        print(f"note: {args.tally} lists no ballots, so this program cannot check that the tally "
              f"is the sum of {tally.tally.ballot_count} ballots; decrypt only a tally you "
              "trust (or give the election record)")  # fmt: skip
    else:
        print(f"checked: the tally is the sum of the {tally.summed_ballots} cast ballots listed")
    try:
        share = decrypt_share(tally.extended_hash, key_share, tally.tally)
    except DecryptionError as exc:
        raise Rejected(str(exc)) from None
    write_json(args.out, envelope("tally-share", election, share.to_json()))
    print(f"trustee {key_share.index}: partial decryption of {len(share.partials)} options "
          f"written to {args.out}")  # fmt: skip
    return EXIT_OK


def cmd_combine(args: argparse.Namespace) -> int:
    tally = load_tally(args.tally)
    messages = load_messages(args.messages)
    transcript, outcome = _ceremony_outcome(messages)
    assert messages.election is not None
    _check_tally_election(tally, messages.election, "the ceremony's election")
    if tally.extended_hash.hex() != outcome["extended_hash"]:
        raise Rejected("the tally's extended base hash does not match the ceremony's joint key")
    shares = [
        _decode(
            lambda v: TallyShare.from_json(v, tally.manifest),
            body,
            f"tally share {j}",
            "tally share",
        )
        for j, body in sorted(messages.tally_shares.items())
    ]
    keys = transcript.verification_keys()
    try:
        result = decrypt_tally(
            tally.extended_hash, tally.tally, shares, keys, transcript.params.threshold
        )
    except DecryptionError as exc:
        raise Rejected(str(exc)) from None
    for j, why in sorted(result.rejected.items()):
        print(f"REJECTED tally share of trustee {j}: {why}", file=sys.stderr)
    absent = [j for j in outcome["qualified"] if j not in messages.tally_shares]
    results = {
        "format": RESULTS_FORMAT,
        "election_id": tally.manifest.election_id,
        "ballot_count": tally.tally.ballot_count,
        "trustees": list(result.trustees_used),
        "absent": absent,
        "rejected": {str(j): why for j, why in sorted(result.rejected.items())},
        "contests": result.to_json(),
    }
    if args.out:
        write_json(args.out, results)
    print(json.dumps(results, indent=1))
    return EXIT_OK


def cmd_decrypt(args: argparse.Namespace) -> int:
    """Decrypt the server's tally over the network (civic_votecrypto.trustee_client)."""
    from . import trustee_client  # httpx only for the network commands

    token = trustee_client.read_token(args.token_file)
    server = trustee_client.TallyServer(args.server, args.election, token)
    try:
        trustee_client.run_decryption(
            server,
            args.key_file,
            lambda: read_passphrase(args.passphrase_file),
            out=args.out,
            say=lambda line: print(line, flush=True),
        )
    finally:
        server.close()
    return EXIT_OK


def cmd_ceremony(args: argparse.Namespace) -> int:
    """The whole ceremony against the server (civic_votecrypto.trustee_client)."""
    from . import trustee_client  # httpx only for the network command

    if not 1 <= args.poll_interval <= 60:
        raise BadInput("--poll-interval must be between 1 and 60 seconds")
    if args.timeout <= 0:
        raise BadInput("--timeout must be positive")
    token = trustee_client.read_token(args.token_file)
    server = trustee_client.CeremonyServer(args.server, args.election, token)
    run = trustee_client.CeremonyRun(
        server,
        args.key_file,
        lambda confirm: read_passphrase(args.passphrase_file, confirm=confirm),
        name=args.name,
        kdf_log2_n=args.kdf_log2_n,
    )
    try:
        trustee_client.run_ceremony(
            run,
            timeout=args.timeout,
            poll_interval=args.poll_interval,
            say=lambda line: print(line, flush=True),
        )
    finally:
        server.close()
    return EXIT_OK


# -- CLI ------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m civic_votecrypto.trustee",
        description="Civic trustee tool: key ceremony and tally decryption by JSON files.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def secret_args(p: argparse.ArgumentParser) -> None:
        p.add_argument("--secret-file", required=True, help="your encrypted trustee key file")
        p.add_argument(
            "--passphrase-file", help="read the passphrase from this file (default: prompt)"
        )

    p = sub.add_parser(
        "ceremony", help="run the whole key ceremony against the city's server", allow_abbrev=False
    )
    p.add_argument("--server", required=True, help="the city's base URL, e.g. https://vote.city")
    p.add_argument("--election", required=True, help="the election's slug")
    p.add_argument("--key-file", required=True, help="your encrypted key file (made if absent)")
    p.add_argument("--passphrase-file", help="read the passphrase from this file (default: prompt)")
    p.add_argument(
        "--token-file",
        help="file (mode 0600) holding your API credential (default: $CIVIC_TRUSTEE_TOKEN)",
    )
    p.add_argument("--name", help="your name as published (default: your account's name)")
    p.add_argument(
        "--timeout", type=float, default=3600.0, help="give up waiting after this many seconds"
    )
    p.add_argument(
        "--poll-interval",
        type=float,
        default=10.0,
        help="longest pause between two questions to the server, 1-60 s (default 10)",
    )
    p.add_argument(
        "--kdf-log2-n",
        type=int,
        default=trustee_file.DEFAULT_LOG2_N,
        help=f"scrypt cost of a new key file (default {trustee_file.DEFAULT_LOG2_N})",
    )
    p.set_defaults(run=cmd_ceremony)

    p = sub.add_parser(
        "decrypt",
        help="check the server's tally against every published ballot, decrypt your share, send it",
        allow_abbrev=False,
    )
    p.add_argument("--server", required=True, help="the city's base URL, e.g. https://vote.city")
    p.add_argument("--election", required=True, help="the election's slug")
    p.add_argument("--key-file", required=True, help="your encrypted key file (from the ceremony)")
    p.add_argument("--passphrase-file", help="read the passphrase from this file (default: prompt)")
    p.add_argument(
        "--token-file",
        help="file (mode 0600) holding your API credential (default: $CIVIC_TRUSTEE_TOKEN)",
    )
    p.add_argument("--out", help="also write your tally share (the message sent) to this file")
    p.set_defaults(run=cmd_decrypt)

    p = sub.add_parser("ceremony-start", help="make your keys; write announcement + key file")
    p.add_argument("--manifest", required=True, help="the election manifest JSON")
    p.add_argument("--trustees", type=int, required=True, help="n, number of trustees")
    p.add_argument("--threshold", type=int, required=True, help="t, trustees needed to decrypt")
    p.add_argument("--index", type=int, required=True, help="your trustee index, 1..n")
    p.add_argument("--name", required=True, help="your name as published")
    p.add_argument("--out", required=True, help="where to write your public announcement")
    p.add_argument(
        "--kdf-log2-n",
        type=int,
        default=trustee_file.DEFAULT_LOG2_N,
        help=f"scrypt cost of the key file (default {trustee_file.DEFAULT_LOG2_N})",
    )
    secret_args(p)
    p.set_defaults(run=cmd_ceremony_start)

    p = sub.add_parser("ceremony-shares", help="from all announcements, write encrypted shares")
    secret_args(p)
    p.add_argument("--out", required=True, help="where to write your commitments message")
    p.add_argument("messages", nargs="+", help="announcement files of every trustee")
    p.set_defaults(run=cmd_ceremony_shares)

    p = sub.add_parser("ceremony-receive", help="check your shares; write complaints")
    secret_args(p)
    p.add_argument("--out", required=True, help="where to write your complaints message")
    p.add_argument("messages", nargs="+", help="announcement and commitments files")
    p.set_defaults(run=cmd_ceremony_receive)

    p = sub.add_parser("joint-key", help="anyone: judge complaints, print the joint key")
    p.add_argument("--out", help="write the whole ceremony transcript here (ceremony.json)")
    p.add_argument("messages", nargs="+", help="announcement, commitments, complaints files")
    p.set_defaults(run=cmd_joint_key)

    p = sub.add_parser("ceremony-finish", help="derive and store your key share")
    secret_args(p)
    p.add_argument("messages", nargs="+", help="ceremony.json (or all message files)")
    p.set_defaults(run=cmd_ceremony_finish)

    p = sub.add_parser("decrypt-share", help="write your partial decryption of a tally")
    secret_args(p)
    p.add_argument("--tally", required=True, help="tally JSON (manifest, hashes, tally)")
    p.add_argument("--out", required=True, help="where to write your tally share")
    p.set_defaults(run=cmd_decrypt_share)

    p = sub.add_parser("combine", help="anyone: combine >= t tally shares into results")
    p.add_argument("--tally", required=True, help="tally JSON (manifest, hashes, tally)")
    p.add_argument("--out", help="write the results JSON here")
    p.add_argument("messages", nargs="+", help="ceremony.json and tally share files")
    p.set_defaults(run=cmd_combine)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except BadInput as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Rejected as exc:
        print(f"rejected: {exc}", file=sys.stderr)
        return EXIT_REJECTED
    except OSError as exc:  # e.g. permission denied on an output folder
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_BAD_INPUT
    except NetworkProblem as exc:
        print(f"network: {exc}", file=sys.stderr)
        return EXIT_NETWORK


if __name__ == "__main__":
    # Run the imported module, not this __main__ copy, so the exceptions trustee_client raises
    # are the very classes main() catches.
    from civic_votecrypto.trustee import main as module_main

    sys.exit(module_main())
