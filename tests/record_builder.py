"""Test support: a complete, signed election record v2 built in pure code (no Django, no server).

``build()`` runs a small election end to end exactly as the platform does it: a 2-of-3 key
ceremony (``dkg``), eligibility tokens by RFC 9474 blind RSA (``identity.core.blind_rsa``, pure,
over ``cryptography``), one Ed25519 ballot key per voter signing the cast / spoil message
(docs/protocol.md §13), re-votes (the last ``ballot.cast`` per key counts) and challenged
ballots, the election log as a civic_tlog Merkle tree of ``{"kind", "payload", "v"}`` entries
with a signed checkpoint under ``election.box_frozen``, the tally of the counting ballots, the
trustees' shares (trustee 2 absent), the results, and the city's signature over the record hash
(``record.RecordWriter``). Used by tests/crypto and tests/observer (which also run in the
observer's standalone venv) and by bench/audit.py.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import rfc8785
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from civic_tlog import merkle, note
from civic_votecrypto import ballot, decryption, dkg, eligibility, hashing, record, strict_json
from civic_votecrypto.hashing import DeterministicScalars
from civic_votecrypto.manifest import Manifest
from identity.core import blind_rsa

SLUG = "springfield-2026"
LOG_NAME = "election-7"
ORIGIN = "civic.example/ledger/election-7"
MANIFEST_JSON: dict[str, Any] = {
    "election_id": "springfield-2026",
    "title": "Springfield city vote",
    "contests": [
        {
            "id": "park",
            "type": "yes_no_abstain",
            "title": "New park?",
            "options": [
                {"id": "yes", "title": "Yes"},
                {"id": "no", "title": "No"},
                {"id": "abstain", "title": "Abstain"},
            ],
        },
        {
            "id": "mayor",
            "type": "one_of_n",
            "title": "Mayor",
            "allow_blank": False,
            "options": [{"id": f"cand-{i}", "title": f"Candidate {i}"} for i in range(1, 4)],
        },
    ],
}
CHOICES: list[dict[str, dict[str, int]]] = [
    {"park": {"yes": 1}, "mayor": {"cand-1": 1}},
    {"park": {"no": 1}, "mayor": {"cand-2": 1}},
    {"park": {"yes": 1}, "mayor": {"cand-3": 1}},
    {"park": {"abstain": 1}, "mayor": {"cand-2": 1}},
]


def entry_bytes(kind: str, payload: dict[str, Any]) -> bytes:
    """A ledger entry: RFC 8785 of {"kind", "payload", "v": 1} (docs/protocol.md §12)."""
    return rfc8785.dumps({"kind": kind, "payload": payload, "v": 1})


@cache
def city_keys() -> tuple[Ed25519PrivateKey, str, str]:
    """(city record-signing key, log signer key, log verifier key), fixed per process."""
    city = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"city record key").digest())
    signer, verifier = note.generate_signer(ORIGIN)
    return city, signer, verifier


@cache
def eligibility_key() -> rsa.RSAPrivateKey:
    return blind_rsa.generate_key(2048)


@cache
def _ceremony() -> tuple[dkg.CeremonyTranscript, tuple[dkg.TrusteeKeyShare, ...]]:
    m = Manifest.from_json(MANIFEST_JSON)
    h_p = hashing.parameter_hash()
    h_b = hashing.election_base_hash(h_p, hashing.manifest_hash(h_p, m.canonical_bytes()), 3, 2)
    transcript, shares = dkg.run_ceremony(
        dkg.CeremonyParameters(3, 2, h_b), rng=DeterministicScalars(b"record-builder", "dkg")
    )
    return transcript, tuple(shares)


@dataclass
class Voter:
    key: Ed25519PrivateKey
    public: bytes
    token: dict[str, str]
    last_code: str | None = None


@dataclass
class BuiltElection:
    """The record's text (signed) and document, plus what a test needs to tamper and re-sign."""

    text: str
    document: dict[str, Any]
    entries: list[bytes]
    log_signer: str
    log_verifier: str
    city_key: Ed25519PrivateKey
    expected: dict[tuple[str, str], int]
    checkpoint_note: str
    tokens_issued: int
    stats: dict[str, int] = field(default_factory=dict)

    @property
    def record(self) -> record.ElectionRecord:
        return record.loads(self.text)

    def resign(self, document: dict[str, Any]) -> str:
        """The city re-signs a (tampered) document: only the other checks can catch it."""
        doc = dict(document)
        digest = record.record_hash(doc)
        signature = record.ed25519_signer(self.city_key)(digest)
        doc["city_signature"] = signature.to_json()
        return json.dumps(doc)

    def copy_document(self) -> dict[str, Any]:
        return json.loads(self.text)


def _token(voter_key: bytes, n: int, blind: bool) -> dict[str, str]:
    key = eligibility_key()
    public = key.public_key()
    prefix = hashlib.sha256(b"prefix" + n.to_bytes(8, "big")).digest()
    message = prefix + eligibility.token_message(SLUG, voter_key)
    if blind:  # RFC 9474: the voter blinds, the city signs blindly, the voter unblinds
        blinded = blind_rsa.blind(public, message)
        signature = blind_rsa.finalize(
            public, message, blind_rsa.blind_sign(key, blinded.blinded_msg), blinded.inv
        )
    else:  # the same signature distribution, made directly (fast, for benchmarks)
        signature = key.sign(
            message, padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=48), hashes.SHA384()
        )
    return {
        "key_id": blind_rsa.key_id(public),
        "prefix": record.b64url(prefix),
        "signature": record.b64url(signature),
    }


def build(
    voters: int = 6,
    revotes: Sequence[int] = (1,),
    challenges: Sequence[int] = (2,),
    *,
    blind: bool = True,
    label: str = "default",
) -> BuiltElection:
    """An election: ``voters`` each cast once; voters in ``revotes`` cast a second ballot later
    (their first is superseded); voters in ``challenges`` challenge a ballot before casting."""
    m = Manifest.from_json(MANIFEST_JSON)
    transcript, key_shares = _ceremony()
    ctx = record.election_context(m, transcript)
    city, log_signer, log_verifier = city_keys()
    rng = DeterministicScalars(b"record-builder", label)
    entries = [
        entry_bytes("election.scheduled", {"election": SLUG}),
        entry_bytes("election.open", {"election": SLUG}),
    ]
    people = []
    for v in range(voters):
        key = Ed25519PrivateKey.from_private_bytes(
            hashlib.sha256(f"{label}/voter/{v}".encode()).digest()
        )
        public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        people.append(Voter(key, public, _token(public, v, blind)))
    cast: list[record.CastBallot] = []
    challenged: list[ballot.ChallengedBallot] = []
    challenged_meta: list[record.BallotMeta] = []
    latest: dict[bytes, int] = {}  # ballot key -> index in cast of its current ballot
    counter = 0

    def new_ballot(choices: dict[str, dict[str, int]]) -> tuple[ballot.EncryptedBallot, bytes]:
        nonlocal counter
        counter += 1
        seed = hashlib.sha256(f"{label}/seed/{counter}".encode()).digest()
        return ballot.encrypt_ballot(ctx, f"b-{label}-{counter}", choices, seed=seed), seed

    def cast_one(v: int, choices: dict[str, dict[str, int]]) -> None:
        voter = people[v]
        b, _ = new_ballot(choices)
        canonical = strict_json.canonical(b.to_json())
        signature = voter.key.sign(eligibility.cast_message(SLUG, canonical))
        payload = {
            "election": SLUG,
            "tracking_code": b.tracking_code,
            "ballot_sha256": hashlib.sha256(canonical).hexdigest(),
            "supersedes": voter.last_code,
            "district": None,
        }
        meta = record.BallotMeta(
            b.tracking_code, voter.public, voter.token, signature, None, len(entries),
            "counting", voter.last_code,
        )  # fmt: skip
        entries.append(entry_bytes("ballot.cast", payload))
        if voter.public in latest:  # the key's earlier ballot stops counting
            i = latest[voter.public]
            previous = cast[i]
            assert previous.meta is not None  # noqa: S101
            cast[i] = dataclasses.replace(
                previous, meta=dataclasses.replace(previous.meta, status="superseded")
            )
        latest[voter.public] = len(cast)
        cast.append(record.CastBallot(b, 1, meta))
        voter.last_code = b.tracking_code

    def challenge_one(v: int, choices: dict[str, dict[str, int]]) -> None:
        voter = people[v]
        b, seed = new_ballot(choices)
        ch = ballot.challenge_ballot(b, seed, choices)
        canonical = strict_json.canonical(ch.to_json())
        signature = voter.key.sign(eligibility.spoil_message(SLUG, canonical))
        payload = {
            "election": SLUG,
            "tracking_code": b.tracking_code,
            "ballot_sha256": hashlib.sha256(strict_json.canonical(b.to_json())).hexdigest(),
            "challenged_sha256": hashlib.sha256(canonical).hexdigest(),
            "district": None,
        }
        challenged_meta.append(
            record.BallotMeta(
                b.tracking_code,
                voter.public,
                voter.token,
                signature,
                None,
                len(entries),
                "spoiled",
            )  # fmt: skip
        )
        entries.append(entry_bytes("ballot.spoiled", payload))
        challenged.append(ch)

    for v in range(voters):
        if v in challenges:
            challenge_one(v, CHOICES[(v + 1) % len(CHOICES)])
        cast_one(v, CHOICES[v % len(CHOICES)])
    for v in revotes:
        cast_one(v, CHOICES[(v + 2) % len(CHOICES)])
    entries.append(entry_bytes("election.closed", {"election": SLUG}))
    size = len(entries)
    root = merkle.root_from_entries(entries)
    checkpoint_note = note.sign_note(note.format_checkpoint(ORIGIN, size, root), log_signer)
    counting = [c for c in cast if c.counting]
    frozen = {
        "election": SLUG,
        "counting": len(counting),
        "cast": len(cast),
        "spoiled": len(challenged),
        "checkpoint": {"size": size, "root_hash": root.hex()},
    }
    frozen_index = len(entries)
    entries.append(entry_bytes("election.box_frozen", frozen))

    tally = decryption.aggregate_ballots(m, [c.ballot for c in counting])
    shares = [
        decryption.decrypt_share(ctx.extended_hash, k, tally, rng=rng)
        for k in key_shares
        if k.index in (1, 3)
    ]
    result = decryption.decrypt_tally(
        ctx.extended_hash, tally, shares, transcript.verification_keys(), 2
    )
    expected = {k: 0 for k in decryption.selection_keys(m)}
    for voter_index in range(voters):
        v_choices = CHOICES[
            (voter_index + 2) % len(CHOICES)
            if voter_index in revotes
            else voter_index % len(CHOICES)
        ]
        for contest_id, options in v_choices.items():
            for option_id, value in options.items():
                expected[(contest_id, option_id)] += value
    public = eligibility_key().public_key()
    base = record.assemble_record(
        ctx, transcript, cast, challenged, tally, shares, result.counts, result.trustees_used
    )
    rec = dataclasses.replace(
        base,
        version=record.RECORD_VERSION,
        slug=SLUG,
        eligibility=record.Eligibility(
            (
                record.EligibilityKey(
                    blind_rsa.key_id(public), None, blind_rsa.public_key_pem(public)
                ),
            ),
            ((None, voters),),
        ),
        weights_source=record.WEIGHTS_UNIFORM,
        log=record.RecordLog(LOG_NAME, ORIGIN, log_verifier, frozen_index, frozen, checkpoint_note),
        challenged_meta=tuple(challenged_meta),
    )
    import io  # noqa: PLC0415

    buffer = io.StringIO()
    record.write_record(buffer, rec, sign=record.ed25519_signer(city))
    text = buffer.getvalue()
    results_sha256 = hashlib.sha256(strict_json.canonical(json.loads(text)["results"])).hexdigest()
    entries.append(
        entry_bytes("election.results", {"election": SLUG, "results_sha256": results_sha256})
    )
    return BuiltElection(
        text=text,
        document=json.loads(text),
        entries=entries,
        log_signer=log_signer,
        log_verifier=log_verifier,
        city_key=city,
        expected=expected,
        checkpoint_note=checkpoint_note,
        tokens_issued=voters,
        stats={"cast": len(cast), "counting": len(counting), "challenged": len(challenged)},
    )


@cache
def standard() -> BuiltElection:
    """6 voters, voter 1 re-votes, voter 2 challenges once: built once per test process."""
    return build()


@cache
def empty() -> BuiltElection:
    """An election nobody voted in."""
    return build(0, (), (), label="empty")
