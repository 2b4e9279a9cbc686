"""Encrypted ballots: encryption with all proofs, verification, ballot codes, Benaloh challenge.

A ballot is a deterministic function of (election context, ballot id, choices, a 32-byte secret
seed ξ): every encryption nonce and every proof nonce is derived from ξ (docs/protocol.md §7).
That gives cast-as-intended checking for free: to *challenge* a ballot instead of casting it,
the device reveals ξ and the choices, and anyone re-encrypts and compares (Benaloh). It also
lets the JavaScript twin reproduce Python ballots byte for byte from the test vectors.
"""

# API stable: other modules build on these names

from __future__ import annotations

import base64
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from . import group
from .batch import BatchVerifier
from .elgamal import Ciphertext, aggregate, encrypt
from .errors import BallotError, CryptoError, EncodingError, ProofError
from .group import N, Point, hex_to_bytes
from .hashing import (
    HASH_BYTES,
    H,
    Tag,
    derive_nonzero_scalar,
    election_base_hash,
    enc_hash,
    enc_str,
    enc_u32,
    extended_base_hash,
    manifest_hash,
    parameter_hash,
)
from .manifest import Contest, Manifest
from .proofs import Equation, RangeProof, prove_range, range_equations, verify_range

BALLOT_VERSION = "civic-ballot-v1"
LIMIT_INDEX = 0xFFFFFFFF  # "option index" of the contest limit proof in nonce derivation
SEED_BYTES = 32
Choices = Mapping[str, Mapping[str, int]]


# -- election context ---------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ElectionContext:
    """What a ballot is bound to: manifest, joint key K, and the extended base hash H_E."""

    manifest: Manifest
    joint_key: Point
    parameter_hash: bytes
    manifest_hash: bytes
    base_hash: bytes
    extended_hash: bytes

    @classmethod
    def build(
        cls,
        manifest: Manifest,
        joint_key: Point,
        trustees: int,
        threshold: int,
        trustee_commitments: Sequence[Point] = (),
    ) -> ElectionContext:
        h_p = parameter_hash()
        h_m = manifest_hash(h_p, manifest.canonical_bytes())
        h_b = election_base_hash(h_p, h_m, trustees, threshold)
        h_e = extended_base_hash(h_b, joint_key, trustee_commitments)
        return cls(manifest, joint_key, h_p, h_m, h_b, h_e)


# -- encrypted ballot objects --------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class EncryptedSelection:
    option_id: str
    ciphertext: Ciphertext
    proof: RangeProof

    def to_json(self) -> dict[str, Any]:
        return {
            "option_id": self.option_id,
            "ciphertext": self.ciphertext.to_json(),
            "proof": self.proof.to_json(),
        }


@dataclass(frozen=True, slots=True)
class EncryptedContest:
    contest_id: str
    selections: tuple[EncryptedSelection, ...]
    limit_proof: RangeProof

    def to_json(self) -> dict[str, Any]:
        return {
            "contest_id": self.contest_id,
            "selections": [s.to_json() for s in self.selections],
            "limit_proof": self.limit_proof.to_json(),
        }


@dataclass(frozen=True, slots=True)
class EncryptedBallot:
    ballot_id: str
    context_hash: bytes
    contests: tuple[EncryptedContest, ...]
    code: bytes

    def to_json(self) -> dict[str, Any]:
        return {
            "version": BALLOT_VERSION,
            "ballot_id": self.ballot_id,
            "context_hash": self.context_hash.hex(),
            "contests": [c.to_json() for c in self.contests],
            "code": self.code.hex(),
        }

    @property
    def tracking_code(self) -> str:
        return tracking_code(self.code)

    @classmethod
    def from_json(cls, obj: Any) -> EncryptedBallot:
        """Strict parsing: exact keys, exact types, canonical encodings (else EncodingError)."""
        o = _keys(obj, {"version", "ballot_id", "context_hash", "contests", "code"}, "ballot")
        if o["version"] != BALLOT_VERSION:
            raise EncodingError(f"ballot version must be {BALLOT_VERSION!r}")
        ballot_id = _string(o, "ballot_id")
        contests_raw = o["contests"]
        if not isinstance(contests_raw, list):
            raise EncodingError("contests must be a list")
        contests = []
        for c in contests_raw:
            co = _keys(c, {"contest_id", "selections", "limit_proof"}, "contest")
            sels_raw = co["selections"]
            if not isinstance(sels_raw, list):
                raise EncodingError("selections must be a list")
            sels = []
            for s in sels_raw:
                so = _keys(s, {"option_id", "ciphertext", "proof"}, "selection")
                sels.append(
                    EncryptedSelection(
                        _string(so, "option_id"),
                        Ciphertext.from_json(so["ciphertext"]),
                        RangeProof.from_json(so["proof"]),
                    )
                )
            contests.append(
                EncryptedContest(
                    _string(co, "contest_id"), tuple(sels), RangeProof.from_json(co["limit_proof"])
                )
            )
        return cls(
            ballot_id,
            hex_to_bytes(_string(o, "context_hash"), HASH_BYTES, "context_hash"),
            tuple(contests),
            hex_to_bytes(_string(o, "code"), HASH_BYTES, "code"),
        )


def _keys(obj: Any, keys: set[str], what: str) -> Mapping[str, Any]:
    if not isinstance(obj, Mapping) or set(obj) != keys:
        raise EncodingError(f"{what} must be an object with exactly the keys {sorted(keys)}")
    return obj


def _string(obj: Mapping[str, Any], key: str, max_length: int = 128) -> str:
    value = obj[key]
    if not isinstance(value, str) or not 0 < len(value) <= max_length or not value.isprintable():
        raise EncodingError(f"{key} must be a printable string of 1..{max_length} characters")
    return value


# -- hashes, codes, labels ------------------------------------------------------------------
def contest_hash(context_hash: bytes, contest: EncryptedContest) -> bytes:
    """χ = H(H_E; 0x12, contest_id, count, ciphertexts in manifest order)."""
    return H(
        context_hash,
        Tag.CONTEST_HASH,
        enc_str(contest.contest_id),
        enc_u32(len(contest.selections)),
        *(s.ciphertext.encode() for s in contest.selections),
    )


def ballot_code(context_hash: bytes, ballot_id: str, contests: Sequence[EncryptedContest]) -> bytes:
    """The confirmation code the voter keeps: H(H_E; 0x13, ballot_id, count, χ_1..χ_m)."""
    return H(
        context_hash,
        Tag.BALLOT_CODE,
        enc_str(ballot_id),
        enc_u32(len(contests)),
        *(contest_hash(context_hash, c) for c in contests),
    )


def tracking_code(code: bytes) -> str:
    """Human form of the first 15 bytes of the code: 24 base32 letters in groups of four."""
    text = base64.b32encode(code[:15]).decode()
    return "-".join(text[i : i + 4] for i in range(0, len(text), 4))


def selection_label(ballot_id: str, contest_id: str, option_id: str) -> bytes:
    return enc_str(ballot_id) + enc_str(contest_id) + enc_str(option_id)


def limit_label(ballot_id: str, contest_id: str) -> bytes:
    return enc_str(ballot_id) + enc_str(contest_id)


def selection_nonce(
    context_hash: bytes, seed: bytes, ballot_id: str, contest: int, option: int
) -> int:
    return derive_nonzero_scalar(
        Tag.SELECTION_NONCE,
        enc_hash(context_hash),
        seed,
        enc_str(ballot_id),
        enc_u32(contest),
        enc_u32(option),
    )


class _ProofNonces:
    """Proof randomness from the seed, the position and the proved value (RFC 6979 spirit)."""

    def __init__(
        self,
        context_hash: bytes,
        seed: bytes,
        ballot_id: str,
        contest: int,
        option: int,
        value: int,
    ) -> None:
        self._prefix = (
            enc_hash(context_hash)
            + seed
            + enc_str(ballot_id)
            + enc_u32(contest)
            + enc_u32(option)
            + enc_u32(value)
        )
        self._counter = 0

    def __call__(self) -> int:
        k = derive_nonzero_scalar(Tag.PROOF_NONCE, self._prefix, enc_u32(self._counter))
        self._counter += 1
        return k


# -- plaintext validation ------------------------------------------------------------------
def normalize_choices(manifest: Manifest, choices: Choices) -> list[list[int]]:
    """Choices as values in manifest order; refuses anything the contest rules forbid."""
    unknown = set(choices) - {c.id for c in manifest.contests}
    if unknown:
        raise BallotError(f"unknown contests {sorted(unknown)}")
    out = []
    for contest in manifest.contests:
        given = choices.get(contest.id, {})
        option_ids = [o.id for o in contest.options]
        extra = set(given) - set(option_ids)
        if extra:
            raise BallotError(f"contest {contest.id}: unknown options {sorted(extra)}")
        values = [given.get(oid, 0) for oid in option_ids]
        for oid, v in zip(option_ids, values, strict=True):
            if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v <= contest.max_value:
                raise BallotError(
                    f"contest {contest.id}: option {oid} must be in [0, {contest.max_value}]"
                )
        total = sum(w * v for w, v in zip(contest.weights, values, strict=True))
        lo, hi = contest.limit
        if not lo <= total <= hi:
            raise BallotError(f"contest {contest.id}: total {total} outside [{lo}, {hi}]")
        out.append(values)
    return out


# -- encryption -----------------------------------------------------------------------------
def new_seed() -> bytes:
    return secrets.token_bytes(SEED_BYTES)


def encrypt_ballot(
    ctx: ElectionContext, ballot_id: str, choices: Choices, seed: bytes | None = None
) -> EncryptedBallot:
    """Encrypt every option of every contest with its range proof and each limit proof."""
    if seed is None:
        seed = new_seed()
    if len(seed) != SEED_BYTES:
        raise BallotError("ballot seed must be 32 bytes")
    if not 0 < len(ballot_id) <= 128 or not ballot_id.isprintable():
        raise BallotError("ballot id must be a printable string of 1..128 characters")
    values = normalize_choices(ctx.manifest, choices)
    h_e, key = ctx.extended_hash, ctx.joint_key
    contests = []
    for ci, (contest, contest_values) in enumerate(zip(ctx.manifest.contests, values, strict=True)):
        selections = []
        nonces = []
        for oi, (option, value) in enumerate(zip(contest.options, contest_values, strict=True)):
            r = selection_nonce(h_e, seed, ballot_id, ci, oi)
            nonces.append(r)
            ct = encrypt(key, value, r)
            proof = prove_range(
                h_e, key, ct, value, r, 0, contest.max_value,
                tag=Tag.RANGE_CHALLENGE,
                label=selection_label(ballot_id, contest.id, option.id),
                rng=_ProofNonces(h_e, seed, ballot_id, ci, oi, value),
            )  # fmt: skip
            selections.append(EncryptedSelection(option.id, ct, proof))
        weights = contest.weights
        total_ct = _contest_aggregate(contest, [s.ciphertext for s in selections])
        total_nonce = sum(w * r for w, r in zip(weights, nonces, strict=True)) % N
        total = sum(w * v for w, v in zip(weights, contest_values, strict=True))
        lo, hi = contest.limit
        limit_proof = prove_range(
            h_e, key, total_ct, total, total_nonce, lo, hi,
            tag=Tag.LIMIT_CHALLENGE,
            label=limit_label(ballot_id, contest.id),
            rng=_ProofNonces(h_e, seed, ballot_id, ci, LIMIT_INDEX, total),
        )  # fmt: skip
        contests.append(EncryptedContest(contest.id, tuple(selections), limit_proof))
    code = ballot_code(h_e, ballot_id, contests)
    return EncryptedBallot(ballot_id, h_e, tuple(contests), code)


def _contest_aggregate(contest: Contest, ciphertexts: Sequence[Ciphertext]) -> Ciphertext:
    if contest.uniform_weights:
        return aggregate(ciphertexts)
    return aggregate(ciphertexts, contest.weights)


# -- verification -----------------------------------------------------------------------------
def check_structure(ctx: ElectionContext, ballot: EncryptedBallot) -> None:
    """Context hash, contest and option order, code: everything but the group equations."""
    if ballot.context_hash != ctx.extended_hash:
        raise BallotError("ballot is bound to another election context")
    manifest = ctx.manifest
    if [c.contest_id for c in ballot.contests] != [c.id for c in manifest.contests]:
        raise BallotError("contests missing, extra or out of manifest order")
    for enc, contest in zip(ballot.contests, manifest.contests, strict=True):
        if [s.option_id for s in enc.selections] != [o.id for o in contest.options]:
            raise BallotError(f"contest {contest.id}: options missing, extra or out of order")
    if ballot_code(ctx.extended_hash, ballot.ballot_id, ballot.contests) != ballot.code:
        raise BallotError("ballot code does not match its ciphertexts")


def verify_ballot(ctx: ElectionContext, ballot: EncryptedBallot) -> None:
    """Verify one ballot, every proof on its own (the simple reference path)."""
    check_structure(ctx, ballot)
    h_e, key = ctx.extended_hash, ctx.joint_key
    for enc, contest in zip(ballot.contests, ctx.manifest.contests, strict=True):
        for sel in enc.selections:
            verify_range(
                h_e, key, sel.ciphertext, sel.proof, 0, contest.max_value,
                tag=Tag.RANGE_CHALLENGE,
                label=selection_label(ballot.ballot_id, contest.id, sel.option_id),
            )  # fmt: skip
        lo, hi = contest.limit
        total_ct = _contest_aggregate(contest, [s.ciphertext for s in enc.selections])
        verify_range(
            h_e, key, total_ct, enc.limit_proof, lo, hi,
            tag=Tag.LIMIT_CHALLENGE, label=limit_label(ballot.ballot_id, contest.id),
        )  # fmt: skip


def ballot_equations(ctx: ElectionContext, ballot: EncryptedBallot) -> list[Equation]:
    """All group equations of a ballot, with the limit proof's aggregate expanded into the
    selection ciphertexts so a batch multiplies no extra points (hash checks done here)."""
    try:
        check_structure(ctx, ballot)
    except BallotError as exc:
        raise ProofError(str(exc)) from exc
    h_e, key = ctx.extended_hash, ctx.joint_key
    equations: list[Equation] = []
    for enc, contest in zip(ballot.contests, ctx.manifest.contests, strict=True):
        for sel in enc.selections:
            equations.extend(
                range_equations(
                    h_e,
                    key,
                    sel.ciphertext,
                    sel.proof,
                    0,
                    contest.max_value,
                    tag=Tag.RANGE_CHALLENGE,
                    label=selection_label(ballot.ballot_id, contest.id, sel.option_id),
                )  # fmt: skip
            )
        lo, hi = contest.limit
        cts = [s.ciphertext for s in enc.selections]
        total_ct = _contest_aggregate(contest, cts)
        limit_eqs = range_equations(
            h_e, key, total_ct, enc.limit_proof, lo, hi,
            tag=Tag.LIMIT_CHALLENGE, label=limit_label(ballot.ballot_id, contest.id),
        )  # fmt: skip
        expansion = {
            total_ct.alpha: [(w, c.alpha) for w, c in zip(contest.weights, cts, strict=True)],
            total_ct.beta: [(w, c.beta) for w, c in zip(contest.weights, cts, strict=True)],
        }
        for eq in limit_eqs:
            expanded: Equation = []
            for k, point in eq:
                parts = expansion.get(point) if point not in (group.G, key) else None
                if parts is None:
                    expanded.append((k, point))
                else:
                    expanded.extend((k * w % N, p) for w, p in parts)
            equations.append(expanded)
    return equations


def verify_ballots(
    ctx: ElectionContext, ballots: Sequence[EncryptedBallot], *, chunk_size: int = 256
) -> list[tuple[str, str]]:
    """Batch-verify many ballots; returns (ballot_id, reason) for each bad one (empty = all ok).

    Ballots are checked in batches of ``chunk_size``: bigger batches buy little (the joint key
    and G are already shared) and cost cache locality."""
    bad: list[tuple[str, str]] = []
    for start in range(0, len(ballots), max(1, chunk_size)):
        verifier = BatchVerifier(fixed_bases=[ctx.joint_key])
        for b in ballots[start : start + chunk_size]:
            verifier.add(b.ballot_id, lambda b=b: ballot_equations(ctx, b))
        if not verifier.verify():
            bad.extend((str(ref), why) for ref, why in verifier.bad_items())
    return bad


# -- Benaloh challenge ----------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ChallengedBallot:
    """A spoiled ballot: the encrypted ballot plus the secret seed and the claimed choices."""

    ballot: EncryptedBallot
    seed: bytes
    choices: dict[str, dict[str, int]]

    def to_json(self) -> dict[str, Any]:
        return {"ballot": self.ballot.to_json(), "seed": self.seed.hex(), "choices": self.choices}

    @classmethod
    def from_json(cls, obj: Any) -> ChallengedBallot:
        o = _keys(obj, {"ballot", "seed", "choices"}, "challenged ballot")
        choices = o["choices"]
        if not isinstance(choices, Mapping) or not all(
            isinstance(v, Mapping)
            and all(isinstance(x, int) and not isinstance(x, bool) for x in v.values())
            for v in choices.values()
        ):
            raise EncodingError("choices must map contest ids to {option id: integer}")
        return cls(
            EncryptedBallot.from_json(o["ballot"]),
            hex_to_bytes(_string(o, "seed"), SEED_BYTES, "seed"),
            {str(k): {str(a): int(b) for a, b in v.items()} for k, v in choices.items()},
        )


def challenge_ballot(ballot: EncryptedBallot, seed: bytes, choices: Choices) -> ChallengedBallot:
    """What the device publishes when the voter audits instead of casting."""
    return ChallengedBallot(ballot, seed, {c: dict(v) for c, v in choices.items()})


def verify_challenged_ballot(ctx: ElectionContext, challenged: ChallengedBallot) -> None:
    """Re-encrypt the revealed choices with the revealed seed: it must give the same ballot."""
    try:
        expected = encrypt_ballot(
            ctx, challenged.ballot.ballot_id, challenged.choices, challenged.seed
        )
    except CryptoError as exc:
        raise BallotError(f"revealed choices are not a valid ballot: {exc}") from exc
    ballot = challenged.ballot
    if expected.code != ballot.code:
        raise BallotError("re-encryption does not give the ballot's code: the device cheated")
    for got, want in zip(ballot.contests, expected.contests, strict=True):
        for s_got, s_want in zip(got.selections, want.selections, strict=True):
            if s_got.ciphertext != s_want.ciphertext:
                raise BallotError(
                    f"{got.contest_id}/{s_got.option_id}: ciphertext is not the revealed choice"
                )
    verify_ballot(ctx, ballot)


def decode_ballot(obj: Any) -> EncryptedBallot:
    """JSON -> ballot, turning any malformed input into ``EncodingError``."""
    try:
        return EncryptedBallot.from_json(obj)
    except (KeyError, TypeError, AttributeError) as exc:
        raise EncodingError(f"malformed ballot: {exc}") from exc
