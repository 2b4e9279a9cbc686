"""The election record (docs/protocol-trustees.md §5, ``civic-election-record/2``) from the database.

The record is streamed through ``civic_votecrypto.record.RecordWriter``: the small header sections
first, then every cast ballot (superseded ones too, marked) and every challenged ballot read with
``.iterator()`` in log order, never all in memory, then the tally, the partial decryptions and the
results. The writer hashes the RFC 8785 bytes as they go out, so the record hash is known at the
end of one pass.

Sealing (once, when the election is published): one pass computes the record hash, the city signs
it with its Ed25519 key (``identity.keys``, the did:web key that signs credentials), and the hash
and signature are stored on the tally and logged as ``election.record`` {election, record_sha256,
city_signature} on the election's log. Every later download streams the same bytes from the same
rows with that stored signature. Nothing in the record changes after publishing; if a row was
altered anyway, the stream's hash no longer matches and the stored signature no longer verifies,
which is exactly what an observer's audit catches (logged here as an error).
"""

from __future__ import annotations

import io
import logging
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Any

from django.db import transaction

from civic_votecrypto import hashing, record
from civic_votecrypto.decryption import aggregate_ballots
from civic_votecrypto.group import G
from civic_votecrypto.record import CitySignature, RecordWriter
from identity import keys as city_keys
from ledger import services as ledger
from ledger.models import Checkpoint, OutboxEntry
from voting.errors import TallyNotReady
from voting.models import (
    CastBallot,
    DecryptionShare,
    Election,
    EligibilityGrant,
    EligibilityKey,
    Tally,
)
from voting.selectors import tally as selectors
from voting.selectors.elections import crypto_context

logger = logging.getLogger(__name__)
RECORD_EVENT = "election.record"
BOX_FROZEN_EVENT = "election.box_frozen"
CHUNK_CHARS = 64 * 1024  # what one yield of the stream carries, at least (but the last)
ITERATOR_CHUNK = 500  # rows fetched per database round trip
ZIP_README = """\
Election record of {slug}
========================

record.json is the complete election record (format civic-election-record/2, specified in
docs/protocol-trustees.md section 5 of the Civic source). From it anyone can re-verify the
election: the key ceremony, every ballot's proofs, eligibility tokens and ballot-key signatures,
the homomorphic tally, the trustees' partial decryptions and the results.

Record SHA-256 (RFC 8785 of record.json without "city_signature"):
    {sha256}
It is signed by the city (Ed25519, "city_signature") and logged as the election.record entry of
the election log {log} ({origin}).

To verify, with the independent observer program (civic_observer, no city code needed):

    python -m civic_observer audit-election --record record.json --state ~/.civic-observer

or, against the city's server (mirrors the election log first and can post a signed report):

    python -m civic_observer audit-election --server {server} --election {slug} --post

The exit status is 0 when every step passes; every failure names its step and object.
"""


class RecordNotReady(TallyNotReady):
    """The election is published but its record cannot be sealed yet (its box_frozen entry
    waits for the sequencer)."""

    code = "record_not_ready"


@dataclass(frozen=True)
class SealedRecord:
    sha256: str
    signature: dict[str, str]
    created: bool


# -- reading the sections -------------------------------------------------------------------------
def _none_if_blank(value: str) -> str | None:
    return value or None


def _key_districts(election: Election) -> dict[str, str | None]:
    rows = EligibilityKey.objects.filter(election=election).values_list("key_id", "district")
    return {key_id: _none_if_blank(district) for key_id, district in rows}


def eligibility_section(election: Election) -> dict[str, Any]:
    """Every eligibility key of the election (all districts) and the tokens issued per district."""
    keys = list(EligibilityKey.objects.filter(election=election).order_by("district", "key_id"))
    counts: dict[str, int] = {}
    for district in EligibilityGrant.objects.filter(election=election).values_list(
        "district", flat=True
    ):
        counts[district] = counts.get(district, 0) + 1
    districts = [k.district for k in keys] + sorted(set(counts) - {k.district for k in keys})
    return {
        "keys": [
            {
                "key_id": k.key_id,
                "district": _none_if_blank(k.district),
                "public_key": k.public_key_pem,
                "variant": k.variant,
            }
            for k in keys
        ],
        "tokens_issued": [
            {"district": _none_if_blank(d), "count": counts.get(d, 0)} for d in districts
        ],
    }


def log_section(election: Election, tally: Tally) -> dict[str, Any]:
    """The election log's identity and its sequenced ``election.box_frozen`` entry with the
    signed checkpoint it names."""
    log = selectors.election_log(election)
    if log is None:
        raise RecordNotReady(f"election {election.slug} has no ledger log")
    index = (
        OutboxEntry.objects.filter(log=log, kind=BOX_FROZEN_EVENT)
        .order_by("id")
        .values_list("entry_index", flat=True)
        .first()
    )
    if index is None:
        raise RecordNotReady("the election's box_frozen entry is not sequenced into its log yet")
    size = int(tally.frozen["checkpoint"]["size"])
    root = bytes.fromhex(tally.frozen["checkpoint"]["root_hash"])
    checkpoint = next(
        (
            c
            for c in Checkpoint.objects.filter(log=log, size=size).order_by("id")
            if bytes(c.root_hash) == root
        ),
        None,
    )
    if checkpoint is None:
        raise RecordNotReady("the checkpoint box_frozen names is not stored")
    note_text = checkpoint.note if checkpoint.note.endswith("\n") else checkpoint.note + "\n"
    return {
        "name": log.name,
        "origin": log.origin,
        "verifier_key": log.verifier_key,
        "box_frozen": {"index": index, "payload": tally.frozen, "checkpoint_note": note_text},
    }


def header_sections(election: Election, tally: Tally) -> dict[str, Any]:
    """The sections before the ballots, as ``RecordWriter.header`` takes them."""
    ctx = crypto_context(election)
    transcript = selectors.ceremony_transcript(election)
    raw = election.context or {}
    return {
        "election": {"slug": election.slug},
        "parameters": {
            "group": record.GROUP_NAME,
            "generator": G.hex(),
            "protocol": hashing.PROTOCOL_VERSION.decode(),
            "trustees": int(raw["trustees"]),
            "threshold": int(raw["threshold"]),
        },
        "hashes": selectors.hashes_json(election),
        "manifest": ctx.manifest.to_json(),
        "ceremony": {
            "announcements": [a.to_json() for a in transcript.announcements],
            "commitments": [c.to_json() for c in transcript.commitments],
            "complaints": [c.to_json() for c in transcript.complaints],
        },
        "joint_key": ctx.joint_key.hex(),
        "eligibility": eligibility_section(election),
        "weights": {"source": record.WEIGHTS_UNIFORM},
        "log": log_section(election, tally),
    }


BALLOT_FIELDS = (
    "document", "tracking_code", "counting", "supersedes__tracking_code",
    "ballot_key__public_key", "token", "key_signature", "outbox__entry_index",
)  # fmt: skip


def _ballot_rows(election: Election, kind: str) -> Iterator[tuple[Any, ...]]:
    """One kind of ballot in log order, fetched in chunks (``.iterator()``)."""
    rows = (
        CastBallot.objects.filter(election=election, kind=kind)
        .order_by("outbox__entry_index", "id")
        .values_list(*BALLOT_FIELDS)
    )
    return rows.iterator(chunk_size=ITERATOR_CHUNK)


def cast_entries(election: Election) -> Iterator[dict[str, Any]]:
    districts = _key_districts(election)
    for document, code, counting, supersedes, key, token, signature, index in _ballot_rows(
        election, CastBallot.Kind.CAST
    ):
        if index is None:
            raise RecordNotReady(f"ballot {code} is not sequenced into the log yet")
        yield {
            "ballot": document,
            "weight": selectors.BALLOT_WEIGHT,
            "tracking_code": code,
            "status": "counting" if counting else "superseded",
            "supersedes": supersedes,
            "ballot_key": key,
            "token": token,
            "signature": signature,
            "district": districts.get(str((token or {}).get("key_id"))),
            "log_index": index,
        }


def challenged_entries(election: Election) -> Iterator[dict[str, Any]]:
    districts = _key_districts(election)
    for document, code, _, _, key, token, signature, index in _ballot_rows(
        election, CastBallot.Kind.SPOILED
    ):
        if index is None:
            raise RecordNotReady(f"ballot {code} is not sequenced into the log yet")
        yield {
            "challenged": document,
            "tracking_code": code,
            "ballot_key": key,
            "token": token,
            "signature": signature,
            "district": districts.get(str((token or {}).get("key_id"))),
            "log_index": index,
        }


def tally_section(election: Election, tally: Tally) -> dict[str, Any]:
    """The stored encrypted tally; for a box without counting ballots in the record's spelling
    of the empty sum ({"alpha": null, "beta": null} per selection, docs/protocol-trustees.md §5),
    where the tally step stores a bare null per selection."""
    if tally.encrypted["ballot_count"] == 0:
        return aggregate_ballots(selectors.manifest_of(election), []).to_json()
    return tally.encrypted


def footer_sections(election: Election, tally: Tally) -> tuple[Any, list[Any], Any]:
    shares = DecryptionShare.objects.filter(election=election).order_by("trustee__index")
    return tally_section(election, tally), [row.document["body"] for row in shares], tally.results


# -- writing ------------------------------------------------------------------------------------
class _Drain(io.TextIOBase):
    """A text sink whose contents the stream takes out after each write (bounded memory)."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.size = 0

    def write(self, text: str) -> int:  # type: ignore[override]
        self.parts.append(text)
        self.size += len(text)
        return len(text)

    def take(self) -> str:
        out = "".join(self.parts)
        self.parts, self.size = [], 0
        return out


class _Null(io.TextIOBase):
    def write(self, text: str) -> int:  # type: ignore[override]
        return len(text)


def published(election: Election) -> Tally:
    tally = selectors.tally_of(election)
    if (
        election.state != Election.State.PUBLISHED
        or tally is None
        or tally.results is None
        or tally.encrypted is None
    ):
        raise TallyNotReady("the election record is published with the results")
    return tally


def _write(
    election: Election,
    tally: Tally,
    fp: IO[str],
    sign: Callable[[bytes], CitySignature] | None,
    flush: Callable[[], Iterator[str]] | None = None,
) -> Iterator[str]:
    """Write the record to ``fp``, yielding whatever ``flush`` yields between ballots (the
    stream's chunks). The generator's return value (``StopIteration.value``) is the record hash."""
    writer = RecordWriter(fp).header(header_sections(election, tally))
    for entry in cast_entries(election):
        writer.cast(entry)
        if flush is not None:
            yield from flush()
    writer.challenged_open()
    for entry in challenged_entries(election):
        writer.challenged(entry)
        if flush is not None:
            yield from flush()
    tally_json, shares, results = footer_sections(election, tally)
    digest = writer.footer(tally_json, shares, results, sign=sign)
    return digest  # noqa: B901


def city_signer() -> Callable[[bytes], CitySignature]:
    return record.ed25519_signer(city_keys.load_city_keys().signing_key)


def compute_record_hash(
    election: Election, tally: Tally, sign: Callable[[bytes], CitySignature] | None = None
) -> bytes:
    """One pass through the record, writing nowhere: its SHA-256."""
    gen = _write(election, tally, _Null(), sign)
    try:
        while True:
            next(gen)
    except StopIteration as stop:
        return stop.value


def _stored_signature(tally: Tally) -> CitySignature:
    raw = tally.record_signature or {}
    return CitySignature(
        record.b64url_decode(raw["public_key"], 32, "public_key"),
        record.b64url_decode(raw["signature"], 64, "signature"),
    )


def seal_record(election: Election) -> SealedRecord:
    """Hash, sign, store and log the record once (idempotent: a sealed record is left alone)."""
    with transaction.atomic():
        tally = Tally.objects.select_for_update().get(pk=published(election).pk)
        if tally.record_sha256:
            return SealedRecord(tally.record_sha256, tally.record_signature, False)
        signed: list[CitySignature] = []
        signer = city_signer()

        def sign(digest: bytes) -> CitySignature:
            signed.append(signer(digest))
            return signed[-1]

        digest = compute_record_hash(election, tally, sign)
        signature = signed[0].to_json()
        tally.record_sha256 = digest.hex()
        tally.record_signature = signature
        tally.record_outbox = ledger.append(
            election.log_name,
            RECORD_EVENT,
            {
                "election": election.slug,
                "record_sha256": digest.hex(),
                "city_signature": signature["signature"],
            },
        )
        tally.save(update_fields=["record_sha256", "record_signature", "record_outbox"])
    logger.info("record: %s sealed, sha256 %s", election.slug, digest.hex())
    return SealedRecord(digest.hex(), signature, True)


def sealed_tally(election: Election) -> Tally:
    """The published election's tally with its record sealed (sealing it now if the publishing
    job has not yet)."""
    tally = published(election)
    if not tally.record_sha256:
        seal_record(election)
        tally.refresh_from_db()
    return tally


def stream_record(election: Election) -> Iterator[str]:
    """The sealed record as text chunks (byte-identical on every call while the rows are).

    Not a generator itself: a refusal (not published, not ready) raises here, before the
    response starts."""
    tally = sealed_tally(election)
    header_sections(election, tally)
    return _stream(election, tally)


def _stream(election: Election, tally: Tally) -> Iterator[str]:
    stored = _stored_signature(tally)
    drain = _Drain()

    def flush() -> Iterator[str]:
        if drain.size >= CHUNK_CHARS:
            yield drain.take()

    gen = _write(election, tally, drain, lambda _digest: stored, flush)
    try:
        while True:
            yield next(gen)
    except StopIteration as stop:
        digest: bytes = stop.value
    if digest.hex() != tally.record_sha256:
        logger.error(
            "record: %s streams with sha256 %s, sealed as %s: its rows were altered",
            election.slug,
            digest.hex(),
            tally.record_sha256,
        )
    yield drain.take()


def write_record_file(election: Election, fp: IO[str], progress: Callable[[int], None]) -> str:
    """The record to a text file; ``progress(ballots written)`` now and then. Its sha256."""
    tally = sealed_tally(election)
    written = 0
    for chunk in stream_record(election):
        fp.write(chunk)
        written += chunk.count("\n")
        progress(written)
    return tally.record_sha256


def readme(election: Election, server: str) -> str:
    tally = sealed_tally(election)
    log = selectors.election_log(election)
    return ZIP_README.format(
        slug=election.slug,
        sha256=tally.record_sha256,
        log=election.log_name,
        origin=log.origin if log else "",
        server=server,
    )


def write_zip(election: Election, fp: IO[bytes], server: str) -> None:
    """A zip holding record.json (streamed in, deflated) and README.txt."""
    with zipfile.ZipFile(fp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.txt", readme(election, server))
        with archive.open("record.json", "w", force_zip64=True) as member:
            for chunk in stream_record(election):
                member.write(chunk.encode("utf-8"))


def spooled_zip(election: Election, server: str) -> Iterator[bytes]:
    """The zip spooled through a temporary file (never whole in memory), then streamed out."""
    sealed_tally(election)  # errors before anything is written
    handle = tempfile.TemporaryFile()  # noqa: SIM115 - closed by the generator below
    try:
        write_zip(election, handle, server)
        handle.seek(0)
    except BaseException:
        handle.close()
        raise

    def chunks() -> Iterator[bytes]:
        try:
            while block := handle.read(CHUNK_CHARS):
                yield block
        finally:
            handle.close()

    return chunks()
