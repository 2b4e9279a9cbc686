"""The election record: one JSON document from which anyone can re-verify the whole election.

Layout (docs/protocol-trustees.md § Election record; JSON Schema docs/schemas/election-record.json):

    {
      "version": "civic-election-record/1",
      "parameters": {"group": "secp256k1", "generator": G, "protocol": "civic-voting-v1",
                     "trustees": n, "threshold": t},
      "hashes": {"parameter_hash", "manifest_hash", "base_hash", "extended_hash"},
      "manifest": {...},
      "ceremony": {"announcements": [...], "commitments": [...], "complaints": [...]},
      "joint_key": K,
      "ballots": {"cast": [{"ballot": {...}, "weight": w}], "challenged": [{...}]},
      "tally": {"ballot_count": N, "contests": {c: {o: {"alpha", "beta"}}}},
      "tally_shares": [{"trustee": j, "contests": {c: {o: {"share", "proof"}}}}],
      "results": {"trustees": [j...], "contests": {c: {o: count}}}
    }

Loading is strict (exact keys, exact types, canonical encodings) and every error names the
JSON path of the offending object. Values that the verifier *recomputes* (hashes, joint key,
tally, counts) are loaded as published and compared in ``verifier.py``, never trusted.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import group, hashing
from .ballot import ChallengedBallot, ElectionContext, EncryptedBallot
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

RECORD_VERSION = "civic-election-record/1"
GROUP_NAME = "secp256k1"
MAX_WEIGHT = 2**32 - 1
PARALLEL_DECODE_CHUNK = 64  # smallest unit of parallel ballot decoding


class RecordError(EncodingError):
    """The record is malformed; ``path`` says where (e.g. ``ballots.cast[12].ballot``)."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path


@dataclass(frozen=True)
class CastBallot:
    ballot: EncryptedBallot
    weight: int = 1


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
    def to_json(self) -> dict[str, Any]:
        results = encode_per_selection(self.results)
        return {
            "version": RECORD_VERSION,
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
            "ballots": {
                "cast": [{"ballot": c.ballot.to_json(), "weight": c.weight} for c in self.cast],
                "challenged": [c.to_json() for c in self.challenged],
            },
            "tally": self.tally.to_json(),
            "tally_shares": [s.to_json() for s in self.tally_shares],
            "results": {"trustees": list(self.result_trustees), "contests": results},
        }


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


def _decode_cast_chunk(
    task: tuple[str, int, list[Any]],
) -> list[CastBallot] | tuple[str, str]:
    """Decode cast ballots from index ``start`` on; the first error as (path, message).

    Runs in worker processes for large records: decoding (point decompression) is most of the
    cost of loading, and decoded ballots travel back cheaply (points pickle as coordinates).
    """
    backend, start, entries = task
    if group.get_backend().name != backend:
        group.set_backend(backend)
    out = []
    try:
        for i, entry in enumerate(entries, start=start):
            e = _obj(entry, {"ballot", "weight"}, f"ballots.cast[{i}]")
            weight = _int(e["weight"], f"ballots.cast[{i}].weight", 1, MAX_WEIGHT)
            out.append(
                CastBallot(
                    _at(f"ballots.cast[{i}].ballot", EncryptedBallot.from_json, e["ballot"]),
                    weight,
                )
            )
    except RecordError as exc:
        return (exc.path, str(exc)[len(exc.path) + 2 :])
    return out


def _decode_cast(entries: list[Any], jobs: int) -> list[CastBallot]:
    """Every cast ballot, in worker processes when ``jobs`` > 1 and the record is large."""
    backend = group.get_backend().name
    if jobs <= 1 or len(entries) < 2 * PARALLEL_DECODE_CHUNK:
        chunks = [_decode_cast_chunk((backend, 0, entries))]
    else:
        size = max(PARALLEL_DECODE_CHUNK, -(-len(entries) // (4 * jobs)))
        tasks = [(backend, i, entries[i : i + size]) for i in range(0, len(entries), size)]
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            chunks = list(pool.map(_decode_cast_chunk, tasks))
    cast: list[CastBallot] = []
    for chunk in chunks:  # in index order, so the first error reported is the first in the file
        if isinstance(chunk, tuple):
            raise RecordError(*chunk)
        cast.extend(chunk)
    return cast


def load_record(document: Any, *, jobs: int = 1) -> ElectionRecord:
    """Parse and strictly validate a record document (a dict from JSON).

    ``jobs`` > 1 decodes the cast ballots in that many worker processes (same result).
    """
    root = _obj(
        document,
        {
            "version", "parameters", "hashes", "manifest", "ceremony", "joint_key",
            "ballots", "tally", "tally_shares", "results",
        },
        "record",
    )  # fmt: skip
    if root["version"] != RECORD_VERSION:
        raise RecordError("version", f"must be {RECORD_VERSION!r}")
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
    cast = _decode_cast(_list(ballots_raw["cast"], "ballots.cast"), jobs)
    challenged = tuple(
        _at(f"ballots.challenged[{i}]", ChallengedBallot.from_json, c)
        for i, c in enumerate(_list(ballots_raw["challenged"], "ballots.challenged"))
    )
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
        k: _int(v, f"results.contests.{k[0]}.{k[1]}", 0, 2**63 - 1)
        for k, v in results_contests.items()
    }
    return ElectionRecord(
        manifest=manifest,
        trustees=trustees,
        threshold=threshold,
        hashes=hashes,
        ceremony=ceremony,
        joint_key=joint_key,
        cast=tuple(cast),
        challenged=challenged,
        tally=tally,
        tally_shares=shares,
        results=results,
        result_trustees=result_trustees,
        generator=generator,
        group_name=params["group"],
        protocol=params["protocol"],
    )


def loads(text: str | bytes, *, jobs: int = 1) -> ElectionRecord:
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise RecordError("record", f"not valid JSON ({exc})") from None
    return load_record(document, jobs=jobs)


def load(path: str | Path, *, jobs: int = 1) -> ElectionRecord:
    try:
        text = Path(path).read_bytes()
    except OSError as exc:
        raise RecordError("record", f"cannot read {path}: {exc.strerror}") from None
    return loads(text, jobs=jobs)


def dumps(record: ElectionRecord) -> str:
    return json.dumps(record.to_json(), indent=1, sort_keys=False) + "\n"


def dump(record: ElectionRecord, path: str | Path) -> None:
    Path(path).write_text(dumps(record), encoding="utf-8")


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
