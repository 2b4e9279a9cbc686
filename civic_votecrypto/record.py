"""The election record: one JSON document from which anyone can re-verify the whole election.

Two versions (docs/protocol-trustees.md §5; JSON Schema docs/schemas/election-record.json):

- ``civic-election-record/1``: manifest, parameters, hashes, ceremony, joint key, cast and
  challenged ballots (with weights), tally, tally shares, results. Still read.
- ``civic-election-record/2`` (written by ``RecordWriter``): everything of v1 plus what an
  observer needs to audit the election from scratch: the election's slug, the eligibility
  keys and the tokens issued per district, where weights come from, the election log's
  identity and the box_frozen checkpoint, and for every ballot (superseded and challenged ones
  too) its ballot key, token, key signature, status, district and position in the log; and the
  city's Ed25519 signature over the record hash (SHA-256 of RFC 8785 of the record without
  ``city_signature``).

Loading is strict (exact keys, exact types, canonical encodings, no repeated JSON key) and every
error names the JSON path of the offending object. Values that the verifier *recomputes*
(hashes, joint key, tally, counts) are loaded as published and compared in ``verifier.py``,
never trusted.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import multiprocessing
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from . import group, hashing, strict_json
from .ballot import ChallengedBallot, ElectionContext, EncryptedBallot, tracking_code
from .decryption import (
    EncryptedTally,
    SelectionKey,
    TallyShare,
    decode_per_selection,
    encode_per_selection,
)
from .dkg import (
    CeremonyParameters,
    CeremonyTranscript,
    Complaint,
    TrusteeAnnouncement,
    TrusteeCommitments,
)
from .errors import CryptoError, EncodingError
from .group import G, Point, hex_to_bytes
from .limits import MAX_TRUSTEES
from .manifest import Manifest

RECORD_VERSION_1 = "civic-election-record/1"
RECORD_VERSION = "civic-election-record/2"
RECORD_VERSIONS = (RECORD_VERSION_1, RECORD_VERSION)
SIGNATURE_CONTEXT = b"civic/election-record/v2"
WEIGHTS_UNIFORM = "one-per-ballot"  # weights.source when every ballot weighs 1
ELIGIBILITY_VARIANT = "RSABSSA-SHA384-PSS-Randomized"
GROUP_NAME = "secp256k1"
MAX_WEIGHT = 2**32 - 1
MAX_COUNT = 2**53 - 1  # I-JSON integers
PARALLEL_DECODE_CHUNK = 64  # smallest unit of parallel ballot decoding
CAST_STATUSES = ("counting", "superseded")


class RecordError(EncodingError):
    """The record is malformed; ``path`` says where (e.g. ``ballots.cast[12].ballot``)."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path


def b64url(data: bytes) -> str:
    """Unpadded base64url (RFC 4648 §5), the encoding of keys, tokens and signatures."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: Any, length: int | None = None, what: str = "value") -> bytes:
    """Strict unpadded base64url: one spelling per value (re-encoding must give ``text``)."""
    if not isinstance(text, str) or not text.isascii() or "=" in text:
        raise EncodingError(f"{what} must be unpadded base64url")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError):
        raise EncodingError(f"{what} must be unpadded base64url") from None
    if b64url(data) != text:
        raise EncodingError(f"{what} is not in canonical base64url")
    if length is not None and len(data) != length:
        raise EncodingError(f"{what} must be {length} bytes")
    return data


@dataclass(frozen=True)
class BallotMeta:
    """What the ballot box stored with a ballot (record v2): key, token, signature, position.

    ``status`` is ``counting`` or ``superseded`` for a cast ballot, ``spoiled`` for a challenged
    one; ``supersedes`` (cast only) is the tracking code of the ballot it replaced under the
    same ballot key, as logged in its ``ballot.cast`` event.
    """

    tracking_code: str
    ballot_key: bytes
    token: Mapping[str, str]
    signature: bytes
    district: str | None
    log_index: int
    status: str = "counting"
    supersedes: str | None = None

    def to_json(self, *, cast: bool) -> dict[str, Any]:
        out: dict[str, Any] = {"tracking_code": self.tracking_code}
        if cast:
            out["status"] = self.status
            out["supersedes"] = self.supersedes
        out.update(
            {
                "ballot_key": b64url(self.ballot_key),
                "token": dict(self.token),
                "signature": b64url(self.signature),
                "district": self.district,
                "log_index": self.log_index,
            }
        )
        return out


@dataclass(frozen=True)
class CastBallot:
    ballot: EncryptedBallot
    weight: int = 1
    meta: BallotMeta | None = None

    @property
    def counting(self) -> bool:
        """Aggregated in the tally: every v1 ballot; in v2 the last cast per ballot key."""
        return self.meta is None or self.meta.status == "counting"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"ballot": self.ballot.to_json(), "weight": self.weight}
        if self.meta is not None:
            out.update(self.meta.to_json(cast=True))
        return out


class DeferredCastBallot(CastBallot):
    """A cast ballot whose encrypted ballot is decoded when first used (``defer_ballots``).

    Decoding (point decompression, scalar checks) is most of the cost of loading a record, and
    an audit needs each ballot only in the worker that checks it: the verifier's ballot pass
    decodes every deferred ballot there (``decode``), and a ballot that does not decode fails
    loading exactly as eager loading would (the same ``RecordError`` and path). Weight and
    bookkeeping are checked at load. ``ballot`` decodes on first access and keeps the result.
    """

    entry: Mapping[str, Any]
    raw: Any
    path: str

    def __init__(
        self, entry: Mapping[str, Any], path: str, weight: int, meta: BallotMeta | None
    ) -> None:
        object.__setattr__(self, "entry", entry)  # the cast entry as loaded (JSON values)
        object.__setattr__(self, "raw", entry["ballot"])
        object.__setattr__(self, "path", path)
        object.__setattr__(self, "weight", weight)
        object.__setattr__(self, "meta", meta)
        object.__setattr__(self, "_decoded", None)

    def decode(self) -> EncryptedBallot:
        """The ballot, strictly decoded (``RecordError`` with the ballot's path otherwise)."""
        ballot = self.__dict__["_decoded"]
        if ballot is None:
            ballot = _at(self.path, EncryptedBallot.from_json, self.raw)
            object.__setattr__(self, "_decoded", ballot)
        return ballot

    @property  # type: ignore[override]
    def ballot(self) -> EncryptedBallot:  # type: ignore[override]
        return self.decode()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CastBallot):
            return NotImplemented
        return (self.ballot, self.weight, self.meta) == (other.ballot, other.weight, other.meta)

    __hash__ = CastBallot.__hash__


@dataclass(frozen=True)
class EligibilityKey:
    """One RFC 9474 key that signed eligibility tokens (one per district, or one for all)."""

    key_id: str
    district: str | None
    public_key: str  # SubjectPublicKeyInfo PEM
    variant: str = ELIGIBILITY_VARIANT

    def to_json(self) -> dict[str, Any]:
        return {
            "key_id": self.key_id,
            "district": self.district,
            "public_key": self.public_key,
            "variant": self.variant,
        }


@dataclass(frozen=True)
class Eligibility:
    keys: tuple[EligibilityKey, ...]
    tokens_issued: tuple[tuple[str | None, int], ...]  # (district, count), in record order

    def to_json(self) -> dict[str, Any]:
        return {
            "keys": [k.to_json() for k in self.keys],
            "tokens_issued": [{"district": d, "count": n} for d, n in self.tokens_issued],
        }


@dataclass(frozen=True)
class RecordLog:
    """The election log's identity and its ``election.box_frozen`` entry (docs/formats)."""

    name: str
    origin: str
    verifier_key: str
    box_frozen_index: int
    box_frozen_payload: Mapping[str, Any]
    checkpoint_note: str

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "origin": self.origin,
            "verifier_key": self.verifier_key,
            "box_frozen": {
                "index": self.box_frozen_index,
                "payload": dict(self.box_frozen_payload),
                "checkpoint_note": self.checkpoint_note,
            },
        }


@dataclass(frozen=True)
class CitySignature:
    """Ed25519 over ``signature_message(record_sha256)`` by the city's record key."""

    public_key: bytes
    signature: bytes

    def to_json(self) -> dict[str, Any]:
        return {"public_key": b64url(self.public_key), "signature": b64url(self.signature)}


def signature_message(record_sha256: bytes) -> bytes:
    """What the city signs: ``"civic/election-record/v2" || 0x00 || record_sha256``."""
    return SIGNATURE_CONTEXT + b"\x00" + record_sha256


def verify_city_signature(record_sha256: bytes, signature: CitySignature) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(signature.public_key).verify(
            signature.signature, signature_message(record_sha256)
        )
    except (InvalidSignature, ValueError):
        return False
    return True


def ed25519_signer(private_key: Ed25519PrivateKey) -> Callable[[bytes], CitySignature]:
    """A ``sign`` callback for ``RecordWriter.footer`` from an Ed25519 private key."""

    def sign(record_sha256: bytes) -> CitySignature:
        public = private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return CitySignature(public, private_key.sign(signature_message(record_sha256)))

    return sign


@dataclass(frozen=True)
class ElectionRecord:
    manifest: Manifest
    trustees: int
    threshold: int
    hashes: dict[str, bytes]
    ceremony: CeremonyTranscript
    joint_key: Point
    cast: tuple[CastBallot, ...]
    challenged: tuple[ChallengedBallot, ...]
    tally: EncryptedTally
    tally_shares: tuple[TallyShare, ...]
    results: dict[SelectionKey, int]
    result_trustees: tuple[int, ...]
    generator: Point = G
    group_name: str = GROUP_NAME
    protocol: str = hashing.PROTOCOL_VERSION.decode()
    # -- record v2 only (None / empty in a v1 record) --
    version: str = RECORD_VERSION_1
    slug: str | None = None
    eligibility: Eligibility | None = None
    weights_source: str | None = None
    log: RecordLog | None = None
    challenged_meta: tuple[BallotMeta, ...] = ()
    city_signature: CitySignature | None = None
    record_sha256: bytes | None = field(default=None, compare=False)

    @property
    def counting(self) -> list[CastBallot]:
        return [c for c in self.cast if c.counting]

    @property
    def context(self) -> ElectionContext:
        """The ballots' context as *published* (hashes recomputed by the verifier, step V2/V5)."""
        return ElectionContext(
            self.manifest,
            self.joint_key,
            self.hashes["parameter_hash"],
            self.hashes["manifest_hash"],
            self.hashes["base_hash"],
            self.hashes["extended_hash"],
        )

    # -- dump -------------------------------------------------------------------------------
    def header_json(self) -> dict[str, Any]:
        """The sections before the ballots, as ``RecordWriter.header`` takes them."""
        out: dict[str, Any] = {
            "parameters": {
                "group": self.group_name,
                "generator": self.generator.hex(),
                "protocol": self.protocol,
                "trustees": self.trustees,
                "threshold": self.threshold,
            },
            "hashes": {name: value.hex() for name, value in self.hashes.items()},
            "manifest": self.manifest.to_json(),
            "ceremony": {
                "announcements": [a.to_json() for a in self.ceremony.announcements],
                "commitments": [c.to_json() for c in self.ceremony.commitments],
                "complaints": [c.to_json() for c in self.ceremony.complaints],
            },
            "joint_key": self.joint_key.hex(),
        }
        if self.version == RECORD_VERSION:
            assert self.eligibility is not None and self.log is not None  # noqa: S101
            out = {
                "election": {"slug": self.slug},
                **out,
                "eligibility": self.eligibility.to_json(),
                "weights": {"source": self.weights_source},
                "log": self.log.to_json(),
            }
        return out

    def challenged_json(self) -> list[dict[str, Any]]:
        if self.version != RECORD_VERSION:
            return [c.to_json() for c in self.challenged]
        return [
            {"challenged": c.to_json(), **m.to_json(cast=False)}
            for c, m in zip(self.challenged, self.challenged_meta, strict=True)
        ]

    def footer_json(self) -> dict[str, Any]:
        return {
            "tally": self.tally.to_json(),
            "tally_shares": [s.to_json() for s in self.tally_shares],
            "results": {
                "trustees": list(self.result_trustees),
                "contests": encode_per_selection(self.results),
            },
        }

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "version": self.version,
            **self.header_json(),
            "ballots": {
                "cast": [c.to_json() for c in self.cast],
                "challenged": self.challenged_json(),
            },
            **self.footer_json(),
        }
        if self.version == RECORD_VERSION:
            out["city_signature"] = (
                self.city_signature.to_json() if self.city_signature is not None else None
            )
        return out


HASH_NAMES = ("parameter_hash", "manifest_hash", "base_hash", "extended_hash")


# -- load -----------------------------------------------------------------------------------
def _obj(value: Any, keys: set[str], path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise RecordError(path, "must be an object")
    if set(value) != keys:
        missing, extra = sorted(keys - set(value)), sorted(set(value) - keys)
        raise RecordError(path, f"wrong keys (missing {missing}, unexpected {extra})")
    return value


def _list(value: Any, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise RecordError(path, "must be a list")
    return value


def _int(value: Any, path: str, lo: int, hi: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
        raise RecordError(path, f"must be an integer in [{lo}, {hi}]")
    return value


def _at(path: str, decode: Any, value: Any) -> Any:
    """Run a decoder and re-raise any rejection with the JSON path in front."""
    try:
        return decode(value)
    except RecordError:
        raise
    except (CryptoError, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise RecordError(path, str(exc)) from None


CAST_KEYS_1 = {"ballot", "weight"}
CAST_KEYS = CAST_KEYS_1 | {
    "tracking_code", "status", "supersedes", "ballot_key", "token", "signature", "district",
    "log_index",
}  # fmt: skip
CHALLENGED_KEYS = {
    "challenged", "tracking_code", "ballot_key", "token", "signature", "district", "log_index",
}  # fmt: skip
TOKEN_KEYS = {"key_id", "prefix", "signature"}
MAX_TOKEN_FIELD = 4096  # characters of one token field (an RSA-8192 signature is 683)


def _str(value: Any, path: str, max_length: int = 128) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= max_length:
        raise RecordError(path, f"must be a string of 1..{max_length} characters")
    return value


def _district(value: Any, path: str) -> str | None:
    return None if value is None else _str(value, path)


def _meta(e: Mapping[str, Any], path: str, ballot_code: str, *, cast: bool) -> BallotMeta:
    """The box's bookkeeping of one ballot (``ballot_code``: the tracking code of its ballot);
    consistency across ballots is verifier step V14."""
    code = e["tracking_code"]
    if code != ballot_code:
        raise RecordError(f"{path}.tracking_code", "is not the ballot's tracking code")
    token = _obj(e["token"], TOKEN_KEYS, f"{path}.token")
    for name in sorted(TOKEN_KEYS):
        _str(token[name], f"{path}.token.{name}", MAX_TOKEN_FIELD)
    status, supersedes = "spoiled", None
    if cast:
        status = e["status"]
        if status not in CAST_STATUSES:
            raise RecordError(f"{path}.status", f"must be one of {list(CAST_STATUSES)}")
        if e["supersedes"] is not None:
            supersedes = _str(e["supersedes"], f"{path}.supersedes", 64)
    return BallotMeta(
        tracking_code=code,
        ballot_key=_at(
            f"{path}.ballot_key", lambda v: b64url_decode(v, 32, "ballot_key"), e["ballot_key"]
        ),
        token={name: token[name] for name in ("key_id", "prefix", "signature")},
        signature=_at(
            f"{path}.signature", lambda v: b64url_decode(v, 64, "signature"), e["signature"]
        ),
        district=_district(e["district"], f"{path}.district"),
        log_index=_int(e["log_index"], f"{path}.log_index", 0, MAX_COUNT),
        status=status,
        supersedes=supersedes,
    )


def _decode_cast_chunk(
    task: tuple[str, int, list[Any], bool],
) -> list[CastBallot] | tuple[str, str]:
    """Decode cast ballots from index ``start`` on; the first error as (path, message).

    Runs in worker processes for large records: decoding (point decompression) is most of the
    cost of loading, and decoded ballots travel back cheaply (points pickle as coordinates).
    """
    backend, start, entries, v2 = task
    if group.get_backend().name != backend:
        group.set_backend(backend)
    out = []
    try:
        for i, entry in enumerate(entries, start=start):
            path = f"ballots.cast[{i}]"
            e = _obj(entry, CAST_KEYS if v2 else CAST_KEYS_1, path)
            weight = _int(e["weight"], f"{path}.weight", 1, MAX_WEIGHT)
            b = _at(f"{path}.ballot", EncryptedBallot.from_json, e["ballot"])
            meta = _meta(e, path, b.tracking_code, cast=True) if v2 else None
            out.append(CastBallot(b, weight, meta))
    except RecordError as exc:
        return (exc.path, str(exc)[len(exc.path) + 2 :])
    return out


def _defer_cast(entries: list[Any], v2: bool) -> list[CastBallot]:
    """Cast entries with their ballots left for later decoding (``DeferredCastBallot``).

    The entry's keys, weight and bookkeeping are checked now; the ballot's tracking code comes
    from its ``code`` field. A ballot whose code cannot even be read is decoded at once, so
    its error is the one eager loading gives."""
    out: list[CastBallot] = []
    for i, entry in enumerate(entries):
        path = f"ballots.cast[{i}]"
        e = _obj(entry, CAST_KEYS if v2 else CAST_KEYS_1, path)
        weight = _int(e["weight"], f"{path}.weight", 1, MAX_WEIGHT)
        raw = e["ballot"]
        try:
            code = hex_to_bytes(raw["code"], hashing.HASH_BYTES, "code")
        except (CryptoError, KeyError, TypeError):
            b = _at(f"{path}.ballot", EncryptedBallot.from_json, raw)  # raises the exact error
            out.append(
                CastBallot(b, weight, _meta(e, path, b.tracking_code, cast=True) if v2 else None)
            )
            continue
        meta = _meta(e, path, tracking_code(code), cast=True) if v2 else None
        out.append(DeferredCastBallot(e, f"{path}.ballot", weight, meta))
    return out


_inherited_entries: list[Any] = []
"""The raw cast entries as forked decoding workers see them (set just before forking)."""


def _decode_inherited(task: tuple[str, int, int, bool]) -> list[CastBallot] | tuple[str, str]:
    backend, start, stop, v2 = task
    return _decode_cast_chunk((backend, start, _inherited_entries[start:stop], v2))


def _decode_cast(entries: list[Any], jobs: int, v2: bool) -> list[CastBallot]:
    """Every cast ballot, in worker processes when ``jobs`` > 1 and the record is large.

    Where processes fork, the workers read the raw entries from the memory they inherit (only
    index ranges travel) and send back decoded ballots, which pickle as coordinates.
    """
    global _inherited_entries
    backend = group.get_backend().name
    if jobs <= 1 or len(entries) < 2 * PARALLEL_DECODE_CHUNK:
        chunks = [_decode_cast_chunk((backend, 0, entries, v2))]
    else:
        size = max(PARALLEL_DECODE_CHUNK, -(-len(entries) // (4 * jobs)))
        bounds = [(i, min(i + size, len(entries))) for i in range(0, len(entries), size)]
        if "fork" in multiprocessing.get_all_start_methods():
            _inherited_entries = entries
            try:
                context = multiprocessing.get_context("fork")
                with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
                    tasks = [(backend, a, b, v2) for a, b in bounds]
                    chunks = list(pool.map(_decode_inherited, tasks))
            finally:
                _inherited_entries = []
        else:
            tasks = [(backend, a, entries[a:b], v2) for a, b in bounds]
            with ProcessPoolExecutor(max_workers=jobs) as pool:
                chunks = list(pool.map(_decode_cast_chunk, tasks))
    cast: list[CastBallot] = []
    for chunk in chunks:  # in index order, so the first error reported is the first in the file
        if isinstance(chunk, tuple):
            raise RecordError(*chunk)
        cast.extend(chunk)
    return cast


TOP_KEYS_1 = {
    "version", "parameters", "hashes", "manifest", "ceremony", "joint_key", "ballots", "tally",
    "tally_shares", "results",
}  # fmt: skip
TOP_KEYS = TOP_KEYS_1 | {"election", "eligibility", "weights", "log", "city_signature"}


def record_hash(document: Mapping[str, Any]) -> bytes:
    """SHA-256 of RFC 8785 of the record document without its ``city_signature`` field."""
    unsigned = {k: v for k, v in document.items() if k != "city_signature"}
    return hashlib.sha256(strict_json.canonical(unsigned)).digest()


def ballot_canonical(raw: Any) -> bytes:
    """RFC 8785 bytes of an encrypted ballot's JSON that ``EncryptedBallot.from_json``
    accepted, without ``strict_json.canonical``'s scans for numbers and non-BMP characters:
    such a ballot holds only objects, lists and strings of ASCII (identifiers, lowercase hex,
    the version), for which sorted keys and no whitespace already are RFC 8785."""
    return json.dumps(raw, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def cast_entry_canonical(cast: CastBallot, ballot_canonical: bytes | None = None) -> bytes:
    """RFC 8785 bytes of one ``ballots.cast`` entry, reusing the ballot's own if given.

    ``"ballot"`` sorts before every other key of an entry, so the entry's bytes are
    ``{"ballot":`` + the ballot's bytes + ``,`` + the rest's bytes without their ``{``."""
    entry = cast.entry if isinstance(cast, DeferredCastBallot) else cast.to_json()
    if ballot_canonical is None:
        ballot_canonical = strict_json.canonical(entry["ballot"])
    rest = strict_json.canonical({k: v for k, v in entry.items() if k != "ballot"})
    return b'{"ballot":' + ballot_canonical + b"," + rest[1:]


def record_hash_from(document: Mapping[str, Any], cast_canonical: Iterable[bytes]) -> bytes:
    """``record_hash(document)`` given the RFC 8785 bytes of its cast entries in order (as
    workers that canonicalised each ballot anyway give them), the way ``RecordWriter``
    hashes: ``ballots`` is the first key in RFC 8785 order, the other sections follow."""
    digest = hashlib.sha256(b'{"ballots":{"cast":[')
    first = True
    for part in cast_canonical:
        if not first:
            digest.update(b",")
        first = False
        digest.update(part)
    ballots = document["ballots"]
    digest.update(b'],"challenged":')
    digest.update(strict_json.canonical(ballots["challenged"]))
    digest.update(b"}")
    for key in sorted(k for k in document if k not in ("ballots", "city_signature")):
        digest.update(b"," + json.dumps(key).encode() + b":")
        digest.update(strict_json.canonical(document[key]))
    digest.update(b"}")
    return digest.digest()


def _eligibility(raw: Any) -> Eligibility:
    e = _obj(raw, {"keys", "tokens_issued"}, "eligibility")
    keys = []
    for i, k in enumerate(_list(e["keys"], "eligibility.keys")):
        path = f"eligibility.keys[{i}]"
        o = _obj(k, {"key_id", "district", "public_key", "variant"}, path)
        if o["variant"] != ELIGIBILITY_VARIANT:
            raise RecordError(f"{path}.variant", f"must be {ELIGIBILITY_VARIANT!r}")
        keys.append(
            EligibilityKey(
                _str(o["key_id"], f"{path}.key_id"),
                _district(o["district"], f"{path}.district"),
                _str(o["public_key"], f"{path}.public_key", 16384),
                o["variant"],
            )
        )
    if not keys:
        raise RecordError("eligibility.keys", "must list at least one key")
    if len({k.key_id for k in keys}) != len(keys) or len({k.district for k in keys}) != len(keys):
        raise RecordError("eligibility.keys", "key ids and districts must be unique")
    issued = []
    for i, t in enumerate(_list(e["tokens_issued"], "eligibility.tokens_issued")):
        path = f"eligibility.tokens_issued[{i}]"
        o = _obj(t, {"district", "count"}, path)
        issued.append(
            (
                _district(o["district"], f"{path}.district"),
                _int(o["count"], f"{path}.count", 0, MAX_COUNT),
            )
        )

    def districts(values: Iterable[str | None]) -> list[tuple[bool, str]]:
        return sorted((d is not None, d or "") for d in values)

    if districts(d for d, _ in issued) != districts(k.district for k in keys):
        raise RecordError("eligibility.tokens_issued", "must give one count per key's district")
    return Eligibility(tuple(keys), tuple(issued))


def _log(raw: Any) -> RecordLog:
    o = _obj(raw, {"name", "origin", "verifier_key", "box_frozen"}, "log")
    frozen = _obj(o["box_frozen"], {"index", "payload", "checkpoint_note"}, "log.box_frozen")
    payload = _obj(
        frozen["payload"],
        {"election", "counting", "cast", "spoiled", "checkpoint"},
        "log.box_frozen.payload",
    )
    for name in ("counting", "cast", "spoiled"):
        _int(payload[name], f"log.box_frozen.payload.{name}", 0, MAX_COUNT)
    checkpoint = _obj(
        payload["checkpoint"], {"size", "root_hash"}, "log.box_frozen.payload.checkpoint"
    )
    _int(checkpoint["size"], "log.box_frozen.payload.checkpoint.size", 0, MAX_COUNT)
    _at(
        "log.box_frozen.payload.checkpoint.root_hash",
        lambda v: hex_to_bytes(v, 32, "root_hash"),
        checkpoint["root_hash"],
    )
    note_text = frozen["checkpoint_note"]
    if not isinstance(note_text, str) or not note_text.endswith("\n"):
        raise RecordError("log.box_frozen.checkpoint_note", "must be a signed note (text)")
    return RecordLog(
        _str(o["name"], "log.name"),
        _str(o["origin"], "log.origin", 1024),
        _str(o["verifier_key"], "log.verifier_key", 1024),
        _int(frozen["index"], "log.box_frozen.index", 0, MAX_COUNT),
        payload,
        note_text,
    )


def _city_signature(raw: Any) -> CitySignature | None:
    if raw is None:
        return None
    o = _obj(raw, {"public_key", "signature"}, "city_signature")
    return CitySignature(
        _at(
            "city_signature.public_key",
            lambda v: b64url_decode(v, 32, "public_key"),
            o["public_key"],
        ),
        _at(
            "city_signature.signature", lambda v: b64url_decode(v, 64, "signature"), o["signature"]
        ),
    )


def load_record(
    document: Any, *, jobs: int = 1, defer_ballots: bool = False, hash_record: bool = True
) -> ElectionRecord:
    """Parse and strictly validate a record document (a dict from JSON), v1 or v2.

    ``jobs`` > 1 decodes the cast ballots in that many worker processes (same result).
    ``defer_ballots`` leaves the cast ballots' decoding to whoever uses them first
    (``DeferredCastBallot``): ``verifier.verify_record`` decodes them in its worker processes
    and raises the ``RecordError`` loading would have raised, so a caller that defers must
    treat that error as a loading failure (the verifier CLI and ``audit-election`` do).
    ``hash_record=False`` leaves ``record_sha256`` unset, for a caller that hashes the record
    itself (``record_hash_from``).
    """
    version = document.get("version") if isinstance(document, Mapping) else None
    if version not in RECORD_VERSIONS:
        raise RecordError("version", f"must be one of {list(RECORD_VERSIONS)}")
    v2 = version == RECORD_VERSION
    root = _obj(document, TOP_KEYS if v2 else TOP_KEYS_1, "record")
    params = _obj(
        root["parameters"],
        {"group", "generator", "protocol", "trustees", "threshold"},
        "parameters",
    )
    for key in ("group", "protocol", "generator"):
        if not isinstance(params[key], str):
            raise RecordError(f"parameters.{key}", "must be a string")
    generator = _at("parameters.generator", Point.from_hex, params["generator"])
    trustees = _int(params["trustees"], "parameters.trustees", 1, MAX_TRUSTEES)
    threshold = _int(params["threshold"], "parameters.threshold", 1, MAX_TRUSTEES)

    hashes_raw = _obj(root["hashes"], set(HASH_NAMES), "hashes")
    hashes = {
        name: _at(
            f"hashes.{name}",
            lambda v: hex_to_bytes(v, hashing.HASH_BYTES, "hash"),
            hashes_raw[name],
        )
        for name in HASH_NAMES
    }
    manifest = _at("manifest", Manifest.from_json, root["manifest"])

    ceremony_raw = _obj(
        root["ceremony"], {"announcements", "commitments", "complaints"}, "ceremony"
    )
    announcements = tuple(
        _at(f"ceremony.announcements[{i}]", TrusteeAnnouncement.from_json, a)
        for i, a in enumerate(_list(ceremony_raw["announcements"], "ceremony.announcements"))
    )
    commitments = tuple(
        _at(f"ceremony.commitments[{i}]", TrusteeCommitments.from_json, c)
        for i, c in enumerate(_list(ceremony_raw["commitments"], "ceremony.commitments"))
    )
    complaints = tuple(
        _at(f"ceremony.complaints[{i}]", Complaint.from_json, c)
        for i, c in enumerate(_list(ceremony_raw["complaints"], "ceremony.complaints"))
    )
    try:
        ceremony_params = CeremonyParameters(trustees, threshold, hashes["base_hash"])
    except ValueError as exc:
        raise RecordError("parameters", str(exc)) from None
    ceremony = CeremonyTranscript(ceremony_params, announcements, commitments, complaints)
    joint_key = _at("joint_key", Point.from_hex, root["joint_key"])

    ballots_raw = _obj(root["ballots"], {"cast", "challenged"}, "ballots")
    cast_raw = _list(ballots_raw["cast"], "ballots.cast")
    cast = _defer_cast(cast_raw, v2) if defer_ballots else _decode_cast(cast_raw, jobs, v2)
    challenged: list[ChallengedBallot] = []
    challenged_meta: list[BallotMeta] = []
    for i, c in enumerate(_list(ballots_raw["challenged"], "ballots.challenged")):
        path = f"ballots.challenged[{i}]"
        if v2:
            e = _obj(c, CHALLENGED_KEYS, path)
            ch = _at(f"{path}.challenged", ChallengedBallot.from_json, e["challenged"])
            challenged_meta.append(_meta(e, path, ch.ballot.tracking_code, cast=False))
        else:
            ch = _at(path, ChallengedBallot.from_json, c)
        challenged.append(ch)
    tally = _at("tally", lambda v: EncryptedTally.from_json(v, manifest), root["tally"])
    shares = tuple(
        _at(f"tally_shares[{i}]", lambda v: TallyShare.from_json(v, manifest), s)
        for i, s in enumerate(_list(root["tally_shares"], "tally_shares"))
    )
    results_raw = _obj(root["results"], {"trustees", "contests"}, "results")
    result_trustees = tuple(
        _int(j, f"results.trustees[{i}]", 1, trustees)
        for i, j in enumerate(_list(results_raw["trustees"], "results.trustees"))
    )
    results_contests = _at(
        "results.contests",
        lambda v: decode_per_selection(v, manifest, lambda x: x, "results"),
        results_raw["contests"],
    )
    results = {
        k: _int(v, f"results.contests.{k[0]}.{k[1]}", 0, MAX_COUNT)
        for k, v in results_contests.items()
    }
    extra: dict[str, Any] = {}
    if v2:
        election = _obj(root["election"], {"slug"}, "election")
        weights = _obj(root["weights"], {"source"}, "weights")
        extra = {
            "version": RECORD_VERSION,
            "slug": _str(election["slug"], "election.slug"),
            "eligibility": _eligibility(root["eligibility"]),
            "weights_source": _str(weights["source"], "weights.source", 1024),
            "log": _log(root["log"]),
            "challenged_meta": tuple(challenged_meta),
            "city_signature": _city_signature(root["city_signature"]),
            "record_sha256": record_hash(root) if hash_record else None,
        }
    return ElectionRecord(
        manifest=manifest,
        trustees=trustees,
        threshold=threshold,
        hashes=hashes,
        ceremony=ceremony,
        joint_key=joint_key,
        cast=tuple(cast),
        challenged=tuple(challenged),
        tally=tally,
        tally_shares=shares,
        results=results,
        result_trustees=result_trustees,
        generator=generator,
        group_name=params["group"],
        protocol=params["protocol"],
        **extra,
    )


def loads(text: str | bytes, *, jobs: int = 1, defer_ballots: bool = False) -> ElectionRecord:
    """Strict JSON (a repeated key anywhere is refused, with its path unknown: ``record``)."""
    try:
        document = strict_json.loads(text)
    except EncodingError as exc:
        raise RecordError("record", str(exc)) from None
    return load_record(document, jobs=jobs, defer_ballots=defer_ballots)


def load(path: str | Path, *, jobs: int = 1, defer_ballots: bool = False) -> ElectionRecord:
    try:
        text = Path(path).read_bytes()
    except OSError as exc:
        raise RecordError("record", f"cannot read {path}: {exc.strerror}") from None
    return loads(text, jobs=jobs, defer_ballots=defer_ballots)


def dumps(record: ElectionRecord) -> str:
    """v1: indented JSON. v2: the streaming writer's layout (one ballot per line)."""
    if record.version != RECORD_VERSION:
        return json.dumps(record.to_json(), indent=1, sort_keys=False) + "\n"
    buffer = io.StringIO()
    write_record(buffer, record)
    return buffer.getvalue()


def dump(record: ElectionRecord, path: str | Path) -> None:
    Path(path).write_text(dumps(record), encoding="utf-8")


# -- the streaming writer (record v2) -------------------------------------------------------
HEADER_KEYS = (
    "election", "parameters", "hashes", "manifest", "ceremony", "joint_key", "eligibility",
    "weights", "log",
)  # fmt: skip
FOOTER_KEYS = ("tally", "tally_shares", "results")


class RecordWriter:
    """Write a v2 record to a text stream ballot by ballot, never holding the ballots.

    ``RecordWriter(fp).header(sections)``, then ``.cast(entry)`` for every cast ballot (log
    order), then ``.challenged(entry)`` for every challenged ballot, then
    ``.footer(tally, tally_shares, results, sign=...)``, which returns the record hash. Entries
    and sections are JSON values (dicts) or objects with ``to_json`` (``CastBallot`` with its
    ``BallotMeta``). The hash is computed as the bytes go out: RFC 8785 puts ``ballots`` first
    among the keys, so the writer hashes each ballot's canonical bytes when it writes it and
    the (small) header sections at the end, in key order.
    """

    def __init__(self, fp: TextIO) -> None:
        self.fp = fp
        self._hash = hashlib.sha256(b'{"ballots":{"cast":[')
        self._sections: dict[str, Any] = {"version": RECORD_VERSION}
        self._state = "new"
        self._first = True
        self.cast_count = 0
        self.challenged_count = 0

    def header(self, sections: Mapping[str, Any]) -> RecordWriter:
        if self._state != "new":
            raise ValueError("header() comes first, once")
        if set(sections) != set(HEADER_KEYS):
            raise ValueError(f"header sections must be exactly {list(HEADER_KEYS)}")
        self.fp.write('{"version": ' + json.dumps(RECORD_VERSION))
        for key in HEADER_KEYS:
            value = _json_value(sections[key])
            self._sections[key] = value
            self.fp.write(f",\n{json.dumps(key)}: {json.dumps(value, ensure_ascii=False)}")
        self.fp.write(',\n"ballots": {"cast": [')
        self._state = "cast"
        return self

    def _entry(self, entry: Any) -> None:
        value = _json_value(entry)
        canonical = strict_json.canonical(value)
        if not self._first:
            self._hash.update(b",")
            self.fp.write(",")
        self._first = False
        self._hash.update(canonical)
        self.fp.write("\n" + json.dumps(value, separators=(",", ":"), ensure_ascii=False))

    def cast(self, entry: Any) -> RecordWriter:
        if self._state != "cast":
            raise ValueError("cast() goes after header() and before challenged()")
        self._entry(entry)
        self.cast_count += 1
        return self

    def challenged(self, entry: Any) -> RecordWriter:
        if self._state == "cast":
            self.challenged_open()
        if self._state != "challenged":
            raise ValueError("challenged() goes after header() and before footer()")
        self._entry(entry)
        self.challenged_count += 1
        return self

    def footer(
        self,
        tally: Any,
        tally_shares: Iterable[Any],
        results: Any,
        *,
        sign: Callable[[bytes], CitySignature] | None = None,
    ) -> bytes:
        """Close the record; ``sign(record_sha256)`` gives the city's signature (None: unsigned)."""
        if self._state == "cast":
            self.challenged_open()
        if self._state != "challenged":
            raise ValueError("footer() goes once, after header()")
        self._hash.update(b"]}")
        self.fp.write("\n]},")
        footer = {
            "tally": _json_value(tally),
            "tally_shares": [_json_value(s) for s in tally_shares],
            "results": _json_value(results),
        }
        for key in FOOTER_KEYS:
            self.fp.write(f"\n{json.dumps(key)}: {json.dumps(footer[key])},")
        self._sections.update(footer)
        for key in sorted(self._sections):
            self._hash.update(b"," + json.dumps(key).encode() + b":")
            self._hash.update(strict_json.canonical(self._sections[key]))
        self._hash.update(b"}")
        digest = self._hash.digest()
        signature = sign(digest) if sign is not None else None
        self.fp.write(
            '\n"city_signature": '
            + json.dumps(signature.to_json() if signature is not None else None)
            + "}\n"
        )
        self._state = "done"
        return digest

    def challenged_open(self) -> None:
        """Close the cast list and open the (possibly empty) challenged list."""
        self._hash.update(b'],"challenged":[')
        self.fp.write('\n],\n"challenged": [')
        self._state, self._first = "challenged", True


def _json_value(value: Any) -> Any:
    return value.to_json() if hasattr(value, "to_json") else value


def write_record(
    fp: TextIO, record: ElectionRecord, *, sign: Callable[[bytes], CitySignature] | None = None
) -> bytes:
    """A whole v2 record through ``RecordWriter`` (its signature kept unless ``sign`` is given)."""
    writer = RecordWriter(fp).header(record.header_json())
    for entry in record.cast:
        writer.cast(entry)
    writer.challenged_open()
    for entry in record.challenged_json():
        writer.challenged(entry)
    footer = record.footer_json()
    kept = record.city_signature
    return writer.footer(
        footer["tally"],
        footer["tally_shares"],
        footer["results"],
        sign=sign if sign is not None else (None if kept is None else (lambda _: kept)),
    )


# -- assembling a record from the pieces of an election --------------------------------------
def assemble_record(
    context: ElectionContext,
    ceremony: CeremonyTranscript,
    cast: Sequence[CastBallot],
    challenged: Sequence[ChallengedBallot],
    tally: EncryptedTally,
    tally_shares: Sequence[TallyShare],
    results: Mapping[SelectionKey, int],
    result_trustees: Sequence[int],
) -> ElectionRecord:
    return ElectionRecord(
        manifest=context.manifest,
        trustees=ceremony.params.trustees,
        threshold=ceremony.params.threshold,
        hashes={
            "parameter_hash": context.parameter_hash,
            "manifest_hash": context.manifest_hash,
            "base_hash": context.base_hash,
            "extended_hash": context.extended_hash,
        },
        ceremony=ceremony,
        joint_key=context.joint_key,
        cast=tuple(cast),
        challenged=tuple(challenged),
        tally=tally,
        tally_shares=tuple(tally_shares),
        results=dict(results),
        result_trustees=tuple(result_trustees),
    )


def election_context(manifest: Manifest, ceremony: CeremonyTranscript) -> ElectionContext:
    """H_E binds K and every qualified trustee's commitments (in index order)."""
    qualified = ceremony.qualified()
    by_index = ceremony.commitments_by_index
    commitments = [c for i in qualified for c in by_index[i].commitments]
    return ElectionContext.build(
        manifest,
        ceremony.joint_key(),
        ceremony.params.trustees,
        ceremony.params.threshold,
        commitments,
    )
