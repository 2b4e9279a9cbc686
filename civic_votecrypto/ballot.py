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
import hashlib
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import rfc8785

from . import group
from .batch import BatchVerifier, Weigher
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
from .limits import MAX_TRUSTEES
from .manifest import ID_MAX, Contest, Manifest, is_identifier
from .proofs import (
    RangeProof,
    Term,
    check_range_challenge,
    prove_range,
    range_weighted,
    verify_range,
)
from .strict_json import exact_keys

BALLOT_VERSION = "civic-ballot-v1"
LIMIT_INDEX = 0xFFFFFFFF  # "option index" of the contest limit proof in nonce derivation
SEED_BYTES = 32
Choices = Mapping[str, Mapping[str, int]]


# -- election context ---------------------------------------------------------------------
CONTEXT_KEYS = frozenset({"manifest", "joint_key", "trustees", "threshold", "trustee_commitments"})


@dataclass(frozen=True, slots=True)
class ElectionContext:
    """What a ballot is bound to: manifest, joint key K, and the extended base hash H_E.

    ``trustees``, ``threshold`` and ``trustee_commitments`` are kept (when known) so the context
    can be published as the booth's context message (docs/protocol.md §7.6); a context built
    from a record's published hashes leaves them at their defaults and cannot be re-published.
    """

    manifest: Manifest
    joint_key: Point
    parameter_hash: bytes
    manifest_hash: bytes
    base_hash: bytes
    extended_hash: bytes
    trustees: int = 0
    threshold: int = 0
    trustee_commitments: tuple[Point, ...] = ()

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
        commitments = tuple(trustee_commitments)
        h_e = extended_base_hash(h_b, joint_key, commitments)
        return cls(manifest, joint_key, h_p, h_m, h_b, h_e, trustees, threshold, commitments)

    def to_json(self) -> dict[str, Any]:
        """The context message of §7.6 (with ``extended_hash`` so a receiver can cross-check)."""
        if not 1 <= self.threshold <= self.trustees:
            raise BallotError("this context was not built with its trustee configuration")
        return {
            "manifest": self.manifest.to_json(),
            "joint_key": self.joint_key.hex(),
            "trustees": self.trustees,
            "threshold": self.threshold,
            "trustee_commitments": [c.hex() for c in self.trustee_commitments],
            "extended_hash": self.extended_hash.hex(),
        }

    @classmethod
    def from_json(cls, obj: Any) -> ElectionContext:
        """Parse a context message; a given ``extended_hash`` must equal the recomputed H_E.

        EncodingError for shape and encodings, BallotError for a bad manifest or a hash that
        does not match (the same classes as JavaScript's ``ElectionContext.fromJSON``)."""
        if not isinstance(obj, Mapping) or not CONTEXT_KEYS <= set(obj) <= CONTEXT_KEYS | {
            "extended_hash"
        }:
            raise EncodingError(
                f"election context must be an object with the keys {sorted(CONTEXT_KEYS)} "
                "and optionally extended_hash"
            )
        manifest = Manifest.from_json(obj["manifest"])
        joint_key = Point.from_hex(obj["joint_key"])
        trustees, threshold = obj["trustees"], obj["threshold"]
        for name, value in (("trustees", trustees), ("threshold", threshold)):
            if not _is_json_int(value) or not 1 <= value <= MAX_TRUSTEES:
                raise EncodingError(f"{name} must be an integer in [1, {MAX_TRUSTEES}]")
        if threshold > trustees:
            raise EncodingError("threshold must not exceed the number of trustees")
        raw_commitments = obj["trustee_commitments"]
        if not isinstance(raw_commitments, list):
            raise EncodingError("trustee_commitments must be a list of points")
        commitments = [Point.from_hex(c) for c in raw_commitments]
        ctx = cls.build(manifest, joint_key, trustees, threshold, commitments)
        if "extended_hash" in obj:
            expected = hex_to_bytes(obj["extended_hash"], HASH_BYTES, "extended_hash")
            if expected != ctx.extended_hash:
                raise BallotError("extended_hash does not match the manifest, key and trustees")
        return ctx


def _is_json_int(value: object) -> bool:
    """A JSON integer as Python's json module parses it (``1.0`` is a float, ``true`` a bool)."""
    return isinstance(value, int) and not isinstance(value, bool)


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
        o = exact_keys(obj, {"version", "ballot_id", "context_hash", "contests", "code"}, "ballot")
        if o["version"] != BALLOT_VERSION:
            raise EncodingError(f"ballot version must be {BALLOT_VERSION!r}")
        ballot_id = _string(o, "ballot_id")
        contests_raw = o["contests"]
        if not isinstance(contests_raw, list):
            raise EncodingError("contests must be a list")
        contests = []
        for c in contests_raw:
            co = exact_keys(c, {"contest_id", "selections", "limit_proof"}, "contest")
            sels_raw = co["selections"]
            if not isinstance(sels_raw, list):
                raise EncodingError("selections must be a list")
            sels = []
            for s in sels_raw:
                so = exact_keys(s, {"option_id", "ciphertext", "proof"}, "selection")
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
            hex_to_bytes(o["context_hash"], HASH_BYTES, "context_hash"),
            tuple(contests),
            hex_to_bytes(o["code"], HASH_BYTES, "code"),
        )


def _string(obj: Mapping[str, Any], key: str) -> str:
    """An identifier field (docs/protocol.md §6.1): 1..128 characters of [A-Za-z0-9._:-]."""
    value = obj[key]
    if not is_identifier(value):
        raise EncodingError(f"{key} must be 1..{ID_MAX} characters of [A-Za-z0-9._:-]")
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
    """Choices as values in manifest order; refuses anything the contest rules forbid.

    Any malformed structure (not a mapping, non-string keys, non-integer values) is a
    BallotError, never a TypeError: choices arrive from voters' devices."""
    if not isinstance(choices, Mapping):
        raise BallotError("choices must map contest ids to {option id: value}")
    unknown = set(choices) - {c.id for c in manifest.contests}
    if unknown:
        raise BallotError(f"unknown contests [{', '.join(sorted(map(repr, unknown)))}]")
    out = []
    for contest in manifest.contests:
        given = choices.get(contest.id, {})
        if not isinstance(given, Mapping):
            raise BallotError(f"contest {contest.id}: choices must be an object")
        option_ids = [o.id for o in contest.options]
        extra = set(given) - set(option_ids)
        if extra:
            listed = ", ".join(sorted(map(repr, extra)))
            raise BallotError(f"contest {contest.id}: unknown options [{listed}]")
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
    if not isinstance(seed, bytes | bytearray) or len(seed) != SEED_BYTES:
        raise BallotError("ballot seed must be 32 bytes")
    seed = bytes(seed)
    if not is_identifier(ballot_id):
        raise BallotError(f"ballot id must be 1..{ID_MAX} characters of [A-Za-z0-9._:-]")
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


def ballot_term_count(manifest: Manifest) -> int:
    """Points one ballot adds to a batch: a_j, b_j of every proof branch, alpha and beta of every
    selection (sizes the batch so large ones go to the bucket multi-scalar multiplication)."""
    return sum(
        2 * (len(c.options) * (c.max_value + 1) + (c.limit[1] - c.limit[0] + 1) + len(c.options))
        for c in manifest.contests
    )


def ballot_weigher(ctx: ElectionContext, ballot: EncryptedBallot) -> Weigher:
    """Every check of a ballot, for ``BatchVerifier.add_weighted``: hash-level
    checks now (ProofError), then a function giving Σ z_e·(equation e) for any weights.

    Faster than equations: each selection's alpha and beta get one merged coefficient (its own
    two proofs' plus its share of the limit proof's, through the contest weights) computed with
    plain integer arithmetic, and no term is looked up or merged afterwards."""
    try:
        check_structure(ctx, ballot)
    except BallotError as exc:
        raise ProofError(str(exc)) from exc
    h_e, key = ctx.extended_hash, ctx.joint_key
    bid = ballot.ballot_id
    prepared = []
    for enc, contest in zip(ballot.contests, ctx.manifest.contests, strict=True):
        max_value = contest.max_value
        for sel in enc.selections:
            check_range_challenge(
                h_e, key, sel.ciphertext, sel.proof, 0, max_value,
                tag=Tag.RANGE_CHALLENGE, label=selection_label(bid, contest.id, sel.option_id),
            )  # fmt: skip
        lo, hi = contest.limit
        cts = [s.ciphertext for s in enc.selections]
        check_range_challenge(
            h_e, key, _contest_aggregate(contest, cts), enc.limit_proof, lo, hi,
            tag=Tag.LIMIT_CHALLENGE, label=limit_label(bid, contest.id),
        )  # fmt: skip
        proofs_ = [s.proof for s in enc.selections]
        prepared.append((cts, proofs_, enc.limit_proof, lo, contest.weights))
    generator = group.G

    def weigh(weight: Callable[[], int]) -> tuple[list[Term], list[Term]]:
        g = k_key = 0
        terms: list[Term] = []
        for cts, proofs_, limit_proof, lo, weights in prepared:
            statement_coefficients = []
            for proof in proofs_:
                dg, dk, c_alpha, c_beta, commitments = range_weighted(proof, 0, weight)
                g += dg
                k_key += dk
                statement_coefficients.append((c_alpha, c_beta))
                terms.extend(commitments)
            dg, dk, limit_alpha, limit_beta, commitments = range_weighted(limit_proof, lo, weight)
            g += dg
            k_key += dk
            terms.extend(commitments)
            for ct, (c_alpha, c_beta), w in zip(cts, statement_coefficients, weights, strict=True):
                terms.append(((c_alpha + limit_alpha * w) % N, ct.alpha))
                terms.append(((c_beta + limit_beta * w) % N, ct.beta))
        return [(g % N, generator), (k_key % N, key)], terms

    return weigh


def verify_ballots(
    ctx: ElectionContext, ballots: Sequence[EncryptedBallot], *, chunk_size: int = 2048
) -> list[tuple[str, str]]:
    """Batch-verify many ballots; returns (ballot_id, reason) for each bad one (empty = all ok).

    Ballots are checked in batches of ``chunk_size``. On the native backend a big batch goes
    through the bucket MSM, whose fixed cost per batch (a few thousand combine calls) is
    amortised over more ballots: 2048 one-of-five ballots cost about a third of what 256 do
    per ballot in group operations; a bad ballot is still named by bisection."""
    bad: list[tuple[str, str]] = []
    terms = ballot_term_count(ctx.manifest)
    for start in range(0, len(ballots), max(1, chunk_size)):
        verifier = BatchVerifier(fixed_bases=[ctx.joint_key])
        for b in ballots[start : start + chunk_size]:
            verifier.add_weighted(b.ballot_id, lambda b=b: ballot_weigher(ctx, b), terms)
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
        o = exact_keys(obj, {"ballot", "seed", "choices"}, "challenged ballot")
        choices = o["choices"]
        if not isinstance(choices, Mapping) or not all(
            isinstance(v, Mapping)
            and all(isinstance(x, int) and not isinstance(x, bool) for x in v.values())
            for v in choices.values()
        ):
            raise EncodingError("choices must map contest ids to {option id: integer}")
        return cls(
            EncryptedBallot.from_json(o["ballot"]),
            hex_to_bytes(o["seed"], SEED_BYTES, "seed"),
            {str(k): {str(a): int(b) for a, b in v.items()} for k, v in choices.items()},
        )


def challenge_ballot(ballot: EncryptedBallot, seed: bytes, choices: Choices) -> ChallengedBallot:
    """What the device publishes when the voter audits instead of casting."""
    return ChallengedBallot(ballot, seed, {c: dict(v) for c, v in choices.items()})


def verify_challenged_ballot(ctx: ElectionContext, challenged: ChallengedBallot) -> None:
    """Re-encrypt the revealed choices with the revealed seed: it must give the same ballot.

    The ballot must have every contest and option of the manifest in order (a missing contest
    or an unknown id is refused before anything else); the choices may only name the
    manifest's contests and options, and a contest or option they omit stands for 0
    (``normalize_choices``), exactly as when the booth encrypted it.
    """
    check_structure(ctx, challenged.ballot)
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


# -- receipts ---------------------------------------------------------------------------------
RECEIPT_KEYS = frozenset({"context", "ballot"})
RECEIPT_OPTIONAL_KEYS = frozenset({"tracking_code", "cast", "ledger_receipt"})
"""``cast``: the box's answer to the cast (§13.4); ``ledger_receipt``: the ledger receipt of the
ballot's log entry. The ledger part is checked by civic_observer (Merkle proof, signatures);
here only the ``cast`` binding."""
ReceiptCheck = tuple[str, bool, str]
"""(check name, passed, detail): one line of a receipt report, as JavaScript's verifyReceipt."""


def _attempt(checks: list[ReceiptCheck], name: str, run: Callable[[], str]) -> bool:
    try:
        detail = run()
    except CryptoError as exc:
        checks.append((name, False, f"{type(exc).__name__}: {exc}"))
        return False
    checks.append((name, True, detail))
    return True


def _verify_proofs_batched(ctx: ElectionContext, ballot: EncryptedBallot) -> None:
    verifier = BatchVerifier(fixed_bases=[ctx.joint_key])
    verifier.add_weighted(ballot.ballot_id, lambda: ballot_weigher(ctx, ballot))
    if not verifier.verify():
        verify_ballot(ctx, ballot)  # one proof at a time, so the error names the bad one
        raise ProofError("batch verification failed although every proof holds alone")


def verify_receipt(receipt: Any) -> list[ReceiptCheck]:
    """Check a voter's receipt (docs/protocol.md §7.7) as a list of named checks; never raises
    on bad input. The receipt is valid iff the list is non-empty and every check passed."""
    checks: list[ReceiptCheck] = []
    if (
        not isinstance(receipt, Mapping)
        or not RECEIPT_KEYS <= set(receipt) <= RECEIPT_KEYS | RECEIPT_OPTIONAL_KEYS
    ):
        detail = "a receipt is an object with the keys context, ballot and optionally tracking_code, cast, ledger_receipt"
        return [("receipt", False, f"EncodingError: {detail}")]
    parsed: dict[str, Any] = {}

    def context() -> str:
        parsed["ctx"] = ElectionContext.from_json(receipt["context"])
        return f"H_E = {parsed['ctx'].extended_hash.hex()}"

    def encoding() -> str:
        parsed["ballot"] = decode_ballot(receipt["ballot"])
        return f"ballot {parsed['ballot'].ballot_id}"

    _attempt(checks, "election context", context)
    _attempt(checks, "ballot encoding", encoding)
    if "ctx" not in parsed or "ballot" not in parsed:
        return checks
    ctx: ElectionContext = parsed["ctx"]
    ballot: EncryptedBallot = parsed["ballot"]

    def tracking() -> str:
        shown = receipt["tracking_code"]
        if shown != ballot.tracking_code:
            raise BallotError(f"receipt shows {shown}, the ballot's code is {ballot.tracking_code}")
        return ballot.tracking_code

    def binding() -> str:
        check_structure(ctx, ballot)
        return "ok"

    def proofs() -> str:
        _verify_proofs_batched(ctx, ballot)
        count = sum(len(c.selections) + 1 for c in ballot.contests)
        return f"{count} range and limit proofs hold"

    if "tracking_code" in receipt:
        _attempt(checks, "tracking code", tracking)
    if not _attempt(checks, "binding and code", binding):
        return checks
    _attempt(checks, "proofs", proofs)
    if "cast" not in receipt:
        if "ledger_receipt" in receipt:
            checks.append(
                ("cast", False, "EncodingError: a ledger_receipt comes with the cast answer")
            )
        return checks
    _attempt(
        checks,
        "cast",
        lambda: _check_cast(
            receipt["cast"], ballot.tracking_code, ballot_sha256(receipt["ballot"])
        ),
    )
    # The ledger_receipt's checks are the transparency log's (civic_votecrypto stays independent
    # of civic_tlog): `python -m civic_observer check-receipt` runs them, as the browser does.
    return checks


def ballot_sha256(ballot_json: Any) -> str:
    """Hex SHA-256 of the ballot's RFC 8785 bytes: the ``ballot_sha256`` the box logs and answers."""
    try:
        return hashlib.sha256(rfc8785.dumps(ballot_json)).hexdigest()
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise EncodingError(f"the ballot is not canonicalizable JSON: {exc}") from exc


def _check_cast(cast: Any, tracking_code: str, sha: str) -> str:
    """The box's answer (POST /ballots) names this ballot: its code and its SHA-256."""
    if (
        not isinstance(cast, Mapping)
        or not isinstance(cast.get("election"), str)
        or not isinstance(cast.get("ballot_sha256"), str)
    ):
        raise EncodingError(
            "cast must be the ballot box's answer {election, tracking_code, log, ballot_sha256, status, received_at, position}"
        )
    if cast.get("tracking_code") != tracking_code:
        raise BallotError(
            f"the box's answer is for {cast.get('tracking_code')}, the ballot's code is {tracking_code}"
        )
    if cast["ballot_sha256"] != sha:
        raise BallotError("the box's answer names another ballot (ballot_sha256)")
    position = cast.get("position")
    where = (
        f", entry {position.get('index')} of {cast.get('log')}"
        if isinstance(position, Mapping)
        else ""
    )
    return f"cast in {cast['election']} at {cast.get('received_at')}{where}"


def receipt_ok(checks: Sequence[ReceiptCheck]) -> bool:
    return bool(checks) and all(ok for _, ok, _ in checks)
