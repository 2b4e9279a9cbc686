"""Tally aggregation, threshold partial decryption with proofs, and combination.

The tally of option o is the sum of every cast ballot's ciphertext for o (optionally weighted):
(A, B) = (r·G, r·K + m·G). Trustee j, holding the Shamir share s_j of the election secret,
publishes M_j = s_j·A with a Chaum–Pedersen proof that log_G(Y_j) = log_A(M_j), where
Y_j = s_j·G is computed publicly from the ceremony commitments (``dkg.verification_key``).
Any set S of at least t honest trustees recovers m·G = B − Σ_{j∈S} λ_j·M_j with Lagrange
coefficients λ_j = Π_{k∈S, k≠j} k / (k − j) (mod n); absent trustees simply are not in S, and a
trustee whose proof fails is named and left out while t valid shares remain. Finally m comes
from baby-step giant-step (``dlog``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from . import group
from .batch import BatchVerifier
from .dkg import TrusteeKeyShare
from .elgamal import Ciphertext
from .errors import CryptoError, EncodingError, ProofError
from .group import IDENTITY, N, Point, ScalarSource, random_scalar
from .hashing import enc_str, enc_u32
from .manifest import Manifest
from .proofs import EqualityProof, equality_equations, prove_equality, verify_equality

LABEL_PARTIAL_DECRYPTION = 0x48

SelectionKey = tuple[str, str]
"""(contest_id, option_id): one tallied counter."""

T = TypeVar("T")


class DecryptionError(CryptoError):
    """The tally cannot be decrypted (empty tally, too few valid trustees, value out of range)."""


class PartialDecryptionError(CryptoError):
    """A trustee's partial decryption is malformed or its proof fails; ``trustee`` names them."""

    def __init__(self, trustee: int, message: str) -> None:
        super().__init__(f"trustee {trustee}: {message}")
        self.trustee = trustee


# -- aggregation --------------------------------------------------------------------------
def sum_many(points: Sequence[Point]) -> Point:
    """Σ P_i for very many points (ballot aggregation).

    Not in group.py: ``group.sum_points`` normalises after every addition, which dominates the
    cost of adding 100,000 ballots. On py-ecc an all-ones MSM keeps Jacobian coordinates
    throughout; on the native backend one ``secp256k1_ec_pubkey_combine`` call sums them all.
    """
    live = [p for p in points if not p.infinity]
    if not live:
        return IDENTITY
    if group.get_backend().name == "native":
        from . import native  # noqa: PLC0415 - only when that backend is active

        chunk = 65536
        partial = [
            native._combine([native._to_native(p) for p in live[i : i + chunk]])
            for i in range(0, len(live), chunk)
        ]
        return group.sum_points(partial)
    return group.msm([1] * len(live), live)


def aggregate_ciphertexts(
    ciphertexts: Sequence[Ciphertext], weights: Sequence[int] | None = None
) -> Ciphertext:
    """Σ w_i·C_i, fast path for unit weights."""
    if weights is None or all(w == 1 for w in weights):
        return Ciphertext(
            sum_many([c.alpha for c in ciphertexts]), sum_many([c.beta for c in ciphertexts])
        )
    if len(weights) != len(ciphertexts):
        raise ValueError("one weight per ciphertext")
    ws = [w % N for w in weights]
    return Ciphertext(
        group.msm(ws, [c.alpha for c in ciphertexts]), group.msm(ws, [c.beta for c in ciphertexts])
    )


def selection_keys(manifest: Manifest) -> list[SelectionKey]:
    """Every tallied counter in manifest order (the order of the tally and its shares)."""
    return [(c.id, o.id) for c in manifest.contests for o in c.options]


@dataclass(frozen=True)
class EncryptedTally:
    """One aggregate ciphertext per (contest, option), in manifest order."""

    ciphertexts: dict[SelectionKey, Ciphertext]
    ballot_count: int

    def to_json(self) -> dict[str, Any]:
        contests = encode_per_selection(
            {k: aggregate_to_json(ct) for k, ct in self.ciphertexts.items()}
        )
        return {"ballot_count": self.ballot_count, "contests": contests}

    @classmethod
    def from_json(cls, obj: Any, manifest: Manifest) -> EncryptedTally:
        if not isinstance(obj, Mapping) or set(obj) != {"ballot_count", "contests"}:
            raise EncodingError("tally must be an object with exactly ballot_count and contests")
        count = obj["ballot_count"]
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise EncodingError("ballot_count must be a non-negative integer")
        return cls(
            decode_per_selection(obj["contests"], manifest, aggregate_from_json, "tally"), count
        )


def aggregate_to_json(ct: Ciphertext) -> dict[str, str | None]:
    """An aggregate's JSON: like a ciphertext, but the point at infinity is ``null``.

    An option nobody chose in an election without ballots sums to (O, O), which has no SEC1
    encoding; with ballots a component is O only with negligible probability.
    """
    return {
        "alpha": None if ct.alpha.infinity else ct.alpha.hex(),
        "beta": None if ct.beta.infinity else ct.beta.hex(),
    }


def aggregate_from_json(obj: Any) -> Ciphertext:
    if not isinstance(obj, Mapping) or set(obj) != {"alpha", "beta"}:
        raise EncodingError("an aggregate is an object with exactly alpha and beta")
    points = []
    for name in ("alpha", "beta"):
        value = obj[name]
        if value is None:
            points.append(IDENTITY)
        elif isinstance(value, str):
            points.append(Point.from_hex(value))
        else:
            raise EncodingError(f"aggregate {name} must be a hex string or null")
    return Ciphertext(points[0], points[1])


def encode_per_selection(values: Mapping[SelectionKey, T]) -> dict[str, dict[str, T]]:
    """{(contest, option): X} as the JSON layout {contest: {option: X}}, in the given order
    (the inverse of ``decode_per_selection``)."""
    out: dict[str, dict[str, T]] = {}
    for (contest_id, option_id), value in values.items():
        out.setdefault(contest_id, {})[option_id] = value
    return out


def decode_per_selection(
    obj: Any, manifest: Manifest, decode: Any, what: str
) -> dict[SelectionKey, Any]:
    """Decode {contest: {option: X}} requiring exactly the manifest's contests and options."""
    if not isinstance(obj, Mapping) or set(obj) != {c.id for c in manifest.contests}:
        raise EncodingError(f"{what}: contests must be exactly those of the manifest")
    out: dict[SelectionKey, Any] = {}
    for contest in manifest.contests:
        options = obj[contest.id]
        if not isinstance(options, Mapping) or set(options) != {o.id for o in contest.options}:
            raise EncodingError(f"{what}: contest {contest.id} must list exactly its options")
        for option in contest.options:
            out[(contest.id, option.id)] = decode(options[option.id])
    return out


def aggregate_ballots(
    manifest: Manifest,
    ballots: Sequence[Any],
    weights: Sequence[int] | None = None,
) -> EncryptedTally:
    """Sum cast ballots (``ballot.EncryptedBallot``, already verified) option by option."""
    columns: dict[SelectionKey, list[Ciphertext]] = {k: [] for k in selection_keys(manifest)}
    for b in ballots:
        for contest in b.contests:
            for sel in contest.selections:
                columns[(contest.contest_id, sel.option_id)].append(sel.ciphertext)
    return EncryptedTally(
        {k: aggregate_ciphertexts(cts, weights) for k, cts in columns.items()}, len(ballots)
    )


# -- partial decryption -------------------------------------------------------------------
def partial_label(trustee: int, key: SelectionKey) -> bytes:
    """0x48 || u32 trustee || str contest_id || str option_id (inside the proof's hash)."""
    return bytes((LABEL_PARTIAL_DECRYPTION,)) + enc_u32(trustee) + enc_str(key[0]) + enc_str(key[1])


@dataclass(frozen=True)
class PartialDecryption:
    """M_j = s_j·A with its Chaum–Pedersen proof; for an empty aggregate (A = O) nothing:
    ``share`` is O, ``proof`` None, and the JSON is ``null``."""

    share: Point
    proof: EqualityProof | None

    def to_json(self) -> dict[str, Any] | None:
        if self.proof is None:
            return None
        return {"share": self.share.hex(), "proof": self.proof.to_json()}

    @classmethod
    def from_json(cls, obj: Any) -> PartialDecryption:
        if obj is None:
            return EMPTY_PARTIAL
        if not isinstance(obj, Mapping) or set(obj) != {"share", "proof"}:
            raise EncodingError("partial decryption must have exactly share and proof")
        share = obj["share"]
        if not isinstance(share, str):
            raise EncodingError("share must be a hex string")
        return cls(Point.from_hex(share), EqualityProof.from_json(obj["proof"]))


EMPTY_PARTIAL = PartialDecryption(IDENTITY, None)


@dataclass(frozen=True)
class TallyShare:
    """Everything one trustee publishes to decrypt a tally."""

    trustee: int
    partials: dict[SelectionKey, PartialDecryption]

    def to_json(self) -> dict[str, Any]:
        contests = encode_per_selection({k: p.to_json() for k, p in self.partials.items()})
        return {"trustee": self.trustee, "contests": contests}

    @classmethod
    def from_json(cls, obj: Any, manifest: Manifest) -> TallyShare:
        if not isinstance(obj, Mapping) or set(obj) != {"trustee", "contests"}:
            raise EncodingError("tally share must have exactly trustee and contests")
        trustee = obj["trustee"]
        if not isinstance(trustee, int) or isinstance(trustee, bool) or trustee < 1:
            raise EncodingError("trustee must be a positive integer")
        return cls(
            trustee,
            decode_per_selection(
                obj["contests"], manifest, PartialDecryption.from_json, "tally share"
            ),
        )


def partial_decrypt(
    context: bytes,
    key_share: TrusteeKeyShare,
    key: SelectionKey,
    ciphertext: Ciphertext,
    *,
    rng: ScalarSource = random_scalar,
) -> PartialDecryption:
    if ciphertext.alpha.infinity:
        return EMPTY_PARTIAL  # s_j·O = O: nothing to prove (an election without ballots)
    share = group.mul(ciphertext.alpha, key_share.share)
    proof = prove_equality(
        context,
        key_share.share,
        ciphertext.alpha,
        label=partial_label(key_share.index, key),
        rng=rng,
    )
    return PartialDecryption(share, proof)


def decrypt_share(
    context: bytes,
    key_share: TrusteeKeyShare,
    tally: EncryptedTally,
    *,
    rng: ScalarSource = random_scalar,
) -> TallyShare:
    """What trustee j runs on their own machine once the tally is published."""
    return TallyShare(
        key_share.index,
        {
            k: partial_decrypt(context, key_share, k, ct, rng=rng)
            for k, ct in tally.ciphertexts.items()
        },
    )


def partial_equations(
    context: bytes,
    trustee: int,
    verification_key: Point,
    key: SelectionKey,
    ciphertext: Ciphertext,
    partial: PartialDecryption,
) -> list[Any]:
    if partial.proof is None:
        raise ProofError("an empty partial decryption has no proof equations")
    return equality_equations(
        context,
        verification_key,
        ciphertext.alpha,
        partial.share,
        partial.proof,
        label=partial_label(trustee, key),
    )


def verify_partial(
    context: bytes,
    trustee: int,
    verification_key: Point,
    key: SelectionKey,
    ciphertext: Ciphertext,
    partial: PartialDecryption,
) -> None:
    empty = ciphertext.alpha.infinity
    if empty != (partial.proof is None):
        raise PartialDecryptionError(
            trustee, f"{key[0]}/{key[1]}: null partial decryption exactly when alpha is O"
        )
    if partial.proof is None:
        return
    try:
        verify_equality(
            context,
            verification_key,
            ciphertext.alpha,
            partial.share,
            partial.proof,
            label=partial_label(trustee, key),
        )
    except ProofError as exc:
        raise PartialDecryptionError(trustee, f"{key[0]}/{key[1]}: {exc}") from None


def verify_tally_share(
    context: bytes, verification_key: Point, tally: EncryptedTally, share: TallyShare
) -> None:
    """All of one trustee's proofs in one batch; on failure name the trustee and the options."""
    if list(share.partials) != list(tally.ciphertexts):
        raise PartialDecryptionError(
            share.trustee, "share does not cover exactly the tally's options"
        )
    verifier = BatchVerifier(fixed_bases=[verification_key])
    for k, partial in share.partials.items():
        empty = tally.ciphertexts[k].alpha.infinity
        if empty != (partial.proof is None):
            raise PartialDecryptionError(
                share.trustee,
                f"{k[0]}/{k[1]}: the partial decryption must be null exactly when the "
                "aggregate's alpha is the point at infinity",
            )
        if empty:
            continue
        verifier.add_equations(
            k,
            partial_equations(
                context, share.trustee, verification_key, k, tally.ciphertexts[k], partial
            ),
        )
    if not verifier.verify():
        bad = [f"{ref[0]}/{ref[1]}" for ref, _ in verifier.bad_items()]  # type: ignore[index]
        raise PartialDecryptionError(share.trustee, "decryption proof fails for " + ", ".join(bad))


# -- combination --------------------------------------------------------------------------
def lagrange_coefficient(index: int, present: Sequence[int]) -> int:
    """λ_index at x = 0 over the present trustee indices (all distinct, in 1..n)."""
    if index not in present or len(set(present)) != len(present):
        raise ValueError("index must be one of distinct present indices")
    num, den = 1, 1
    for k in present:
        if k != index:
            num = num * k % N
            den = den * (k - index) % N
    return num * pow(den, -1, N) % N


def combine(ciphertext: Ciphertext, shares: Mapping[int, Point]) -> Point:
    """m·G = B − Σ λ_j·M_j over the given trustees (one MSM)."""
    present = sorted(shares)
    scalars = [lagrange_coefficient(j, present) for j in present]
    return ciphertext.beta - group.msm(scalars, [shares[j] for j in present])


@dataclass(frozen=True)
class TallyResult:
    counts: dict[SelectionKey, int]
    trustees_used: tuple[int, ...]
    rejected: dict[int, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, dict[str, int]]:
        return encode_per_selection(self.counts)


def decrypt_tally(
    context: bytes,
    tally: EncryptedTally,
    shares: Sequence[TallyShare],
    verification_keys: Mapping[int, Point],
    threshold: int,
    *,
    bound: int | None = None,
) -> TallyResult:
    """Verify every share, drop (and name) bad ones, combine over the valid ones, recover m."""
    from .dlog import DEFAULT_BOUND, DlogNotFoundError, table_for  # noqa: PLC0415 - table is heavy

    rejected: dict[int, str] = {}
    valid: dict[int, TallyShare] = {}
    for share in shares:
        if share.trustee in valid or share.trustee in rejected:
            rejected[share.trustee] = "more than one tally share"
            valid.pop(share.trustee, None)
            continue
        key = verification_keys.get(share.trustee)
        if key is None:
            rejected[share.trustee] = "not a qualified trustee of this election"
            continue
        try:
            verify_tally_share(context, key, tally, share)
        except PartialDecryptionError as exc:
            rejected[share.trustee] = str(exc)
            continue
        valid[share.trustee] = share
    if len(valid) < threshold:
        detail = "; ".join(f"trustee {j}: {why}" for j, why in sorted(rejected.items()))
        raise DecryptionError(
            f"only {len(valid)} valid tally shares, {threshold} needed"
            + (f" (rejected: {detail})" if detail else "")
        )
    limit = bound if bound is not None else max(DEFAULT_BOUND, tally.ballot_count)
    table = table_for(limit)
    counts: dict[SelectionKey, int] = {}
    for k, ct in tally.ciphertexts.items():
        point = combine(ct, {j: s.partials[k].share for j, s in valid.items()})
        try:
            counts[k] = table.log(None if point.infinity else (point.x, point.y))
        except DlogNotFoundError:
            raise DecryptionError(
                f"{k[0]}/{k[1]}: decrypted value is not in [0, {limit}]"
            ) from None
    return TallyResult(counts, tuple(sorted(valid)), rejected)


def check_result(ciphertext: Ciphertext, shares: Mapping[int, Point], count: int) -> bool:
    """Does the published count match? Verifiers check m·G, no discrete log needed."""
    return combine(ciphertext, shares) == (group.base_mul(count % N) if count % N else IDENTITY)


__all__ = [
    "DecryptionError",
    "EncryptedTally",
    "PartialDecryption",
    "PartialDecryptionError",
    "SelectionKey",
    "TallyResult",
    "TallyShare",
    "aggregate_ballots",
    "aggregate_ciphertexts",
    "check_result",
    "combine",
    "decrypt_share",
    "decrypt_tally",
    "encode_per_selection",
    "lagrange_coefficient",
    "partial_decrypt",
    "selection_keys",
    "sum_many",
    "verify_partial",
    "verify_tally_share",
]
