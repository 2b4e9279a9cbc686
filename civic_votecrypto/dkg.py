"""Key ceremony: t-of-n distributed key generation (Pedersen/Feldman VSS, Gennaro et al.).

Nobody ever holds the election secret key. Each trustee i picks a random polynomial
P_i(x) = a_i0 + a_i1·x + ... + a_i,t-1·x^(t-1), publishes Feldman commitments C_ik = a_ik·G with
a Schnorr proof of knowledge for each, and sends P_i(j) to every other trustee j encrypted to
j's communication key. The joint key is K = Σ_i C_i0; trustee j's decryption share is
s_j = Σ_i P_i(j), a Shamir share of Σ_i a_i0 at x = j, so any t trustees can decrypt and
fewer learn nothing.

Rounds (the coordinator only relays public messages; see docs/protocol-trustees.md):
1. ``TrusteeAnnouncement``: index, name, communication key D_i = d_i·G and its Schnorr proof.
2. ``TrusteeCommitments``: the t commitments with proofs, and one ``EncryptedShare`` per other
   trustee. The coefficient proofs also bind a digest of the encrypted shares, so the shares are
   provably the sender's own (a relay cannot swap them without breaking the proofs).
3. Each recipient checks its shares against the commitments. On a bad share it publishes a
   ``Complaint`` that reveals the ECDH point of that one ciphertext with a Chaum–Pedersen proof;
   anyone can then decrypt that single share and decide who lied (``judge_complaint``):
   the sender if the share is unreadable or off its commitments, else the accuser.
4. Senders proven guilty are disqualified; K and every verification key Y_j = s_j·G are
   computed from the qualified trustees' commitments alone, publicly.

Share encryption is hashed ElGamal on the same group with a MAC (docs § Share encryption):
R = r·G, S = r·D_j, k = H(H_B; 0x40, i, j, R, D_j, S), pad = H(k; 0x41), mac_key = H(k; 0x42),
c = scalar(P_i(j)) XOR pad, tag = H(mac_key; 0x43, i, j, R, c).
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import group
from .errors import CryptoError, EncodingError, ProofError
from .group import N, Point, ScalarSource, random_scalar, scalar_from_hex, scalar_hex
from .hashing import HASH_BYTES, H, enc_hash, enc_str, enc_u32
from .limits import MAX_TRUSTEES
from .proofs import (
    EqualityProof,
    Equation,
    SchnorrProof,
    prove_equality,
    prove_schnorr,
    schnorr_equations,
    verify_equality,
    verify_schnorr,
)
from .strict_json import exact_keys

# Domain tags of this module (range 0x40-0x5F is reserved for trustees in hashing.Tag).
TAG_SHARE_SECRET = 0x40
TAG_SHARE_PAD = 0x41
TAG_SHARE_MAC_KEY = 0x42
TAG_SHARE_MAC = 0x43
TAG_SHARES_DIGEST = 0x44
LABEL_COMMUNICATION_KEY = 0x45
LABEL_COEFFICIENT = 0x46
LABEL_COMPLAINT = 0x47


class CeremonyError(CryptoError):
    """A ceremony message is invalid; ``trustee`` names who sent it (None if unknown)."""

    def __init__(self, message: str, trustee: int | None = None) -> None:
        super().__init__(message if trustee is None else f"trustee {trustee}: {message}")
        self.trustee = trustee


# -- parameters ---------------------------------------------------------------------------
@dataclass(frozen=True)
class CeremonyParameters:
    """n trustees, threshold t, and the election base hash H_B every proof is bound to."""

    trustees: int
    threshold: int
    base_hash: bytes

    def __post_init__(self) -> None:
        if not 1 <= self.threshold <= self.trustees <= MAX_TRUSTEES:
            raise ValueError(
                f"need 1 <= t <= n <= {MAX_TRUSTEES} (got t={self.threshold}, n={self.trustees})"
            )
        if len(self.base_hash) != HASH_BYTES:
            raise ValueError("base hash must be 32 bytes")

    @property
    def indices(self) -> range:
        return range(1, self.trustees + 1)

    def check_index(self, index: int, what: str = "trustee index") -> None:
        if not isinstance(index, int) or isinstance(index, bool) or index not in self.indices:
            raise CeremonyError(f"{what} {index!r} is not in 1..{self.trustees}")


# -- helpers for JSON ---------------------------------------------------------------------
def _int(obj: Mapping[str, Any], key: str) -> int:
    value = obj[key]
    if not isinstance(value, int) or isinstance(value, bool):
        raise EncodingError(f"{key} must be an integer")
    return value


def _str(obj: Mapping[str, Any], key: str) -> str:
    value = obj[key]
    if not isinstance(value, str):
        raise EncodingError(f"{key} must be a string")
    return value


def _hex_bytes(obj: Mapping[str, Any], key: str, length: int) -> bytes:
    value = _str(obj, key)
    return group.hex_to_bytes(value, length, key)


def _list(obj: Mapping[str, Any], key: str) -> list[Any]:
    value = obj[key]
    if not isinstance(value, list):
        raise EncodingError(f"{key} must be a list")
    return value


# -- round 1: announcement ----------------------------------------------------------------
def _announcement_label(index: int, name: str) -> bytes:
    return bytes((LABEL_COMMUNICATION_KEY,)) + enc_u32(index) + enc_str(name)


@dataclass(frozen=True)
class TrusteeAnnouncement:
    """Public: who the trustee is and the key their shares are encrypted to."""

    index: int
    name: str
    communication_key: Point
    proof: SchnorrProof

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "name": self.name,
            "communication_key": self.communication_key.hex(),
            "proof": self.proof.to_json(),
        }

    @classmethod
    def from_json(cls, obj: Any) -> TrusteeAnnouncement:
        o = exact_keys(obj, {"index", "name", "communication_key", "proof"}, "trustee announcement")
        return cls(
            _int(o, "index"),
            _str(o, "name"),
            Point.from_hex(_str(o, "communication_key")),
            SchnorrProof.from_json(o["proof"]),
        )


def verify_announcement(params: CeremonyParameters, ann: TrusteeAnnouncement) -> None:
    params.check_index(ann.index)
    try:
        verify_schnorr(
            params.base_hash,
            ann.communication_key,
            ann.proof,
            label=_announcement_label(ann.index, ann.name),
        )
    except ProofError as exc:
        raise CeremonyError(f"communication key proof fails ({exc})", ann.index) from None


# -- share encryption ---------------------------------------------------------------------
@dataclass(frozen=True)
class EncryptedShare:
    """P_sender(recipient) encrypted to the recipient's communication key."""

    sender: int
    recipient: int
    ephemeral: Point
    ciphertext: bytes
    mac: bytes

    def encode(self) -> bytes:
        """u32 recipient || R (33) || c (32) || mac (32): what the shares digest hashes."""
        return enc_u32(self.recipient) + self.ephemeral.encode() + self.ciphertext + self.mac

    def to_json(self) -> dict[str, Any]:
        return {
            "sender": self.sender,
            "recipient": self.recipient,
            "ephemeral": self.ephemeral.hex(),
            "ciphertext": self.ciphertext.hex(),
            "mac": self.mac.hex(),
        }

    @classmethod
    def from_json(cls, obj: Any) -> EncryptedShare:
        o = exact_keys(
            obj, {"sender", "recipient", "ephemeral", "ciphertext", "mac"}, "encrypted share"
        )
        return cls(
            _int(o, "sender"),
            _int(o, "recipient"),
            Point.from_hex(_str(o, "ephemeral")),
            _hex_bytes(o, "ciphertext", 32),
            _hex_bytes(o, "mac", 32),
        )


def share_encryption_key(
    base_hash: bytes,
    sender: int,
    recipient: int,
    ephemeral: Point,
    recipient_key: Point,
    shared: Point,
) -> bytes:
    """The share-encryption key k = H(H_B; 0x40, i, j, R, D_j, S) of §2 step 2 (not a secret
    key of any key pair): binds the ECDH point to this sender and recipient."""
    return H(
        base_hash,
        TAG_SHARE_SECRET,
        enc_u32(sender),
        enc_u32(recipient),
        ephemeral.encode(),
        recipient_key.encode(),
        shared.encode(),
    )


def share_pad_and_mac_key(encryption_key: bytes) -> tuple[bytes, bytes]:
    """(pad, mac_key) = (H(k; 0x41), H(k; 0x42))."""
    return H(encryption_key, TAG_SHARE_PAD), H(encryption_key, TAG_SHARE_MAC_KEY)


def _share_keys(
    base_hash: bytes,
    sender: int,
    recipient: int,
    ephemeral: Point,
    recipient_key: Point,
    shared: Point,
) -> tuple[bytes, bytes]:
    return share_pad_and_mac_key(
        share_encryption_key(base_hash, sender, recipient, ephemeral, recipient_key, shared)
    )


def _share_mac(
    mac_key: bytes, sender: int, recipient: int, ephemeral: Point, ciphertext: bytes
) -> bytes:
    return H(
        mac_key, TAG_SHARE_MAC, enc_u32(sender), enc_u32(recipient), ephemeral.encode(), ciphertext
    )


def _xor(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b, strict=True))


def encrypt_share(
    base_hash: bytes,
    sender: int,
    recipient: int,
    recipient_key: Point,
    share: int,
    *,
    rng: ScalarSource = random_scalar,
) -> EncryptedShare:
    ephemeral_secret = rng()
    ephemeral = group.base_mul(ephemeral_secret)
    shared = group.mul(recipient_key, ephemeral_secret)
    pad, mac_key = _share_keys(base_hash, sender, recipient, ephemeral, recipient_key, shared)
    ciphertext = _xor(group.encode_scalar(share % N), pad)
    mac = _share_mac(mac_key, sender, recipient, ephemeral, ciphertext)
    return EncryptedShare(sender, recipient, ephemeral, ciphertext, mac)


class ShareDecryptionError(CryptoError):
    """The share does not authenticate or is not a scalar: the sender's fault."""


def open_share(
    base_hash: bytes, encrypted: EncryptedShare, recipient_key: Point, shared: Point
) -> int:
    """Decrypt with the ECDH point S (= d_j·R); used by the recipient and by complaint judges."""
    pad, mac_key = _share_keys(
        base_hash, encrypted.sender, encrypted.recipient, encrypted.ephemeral, recipient_key, shared
    )
    expected = _share_mac(
        mac_key, encrypted.sender, encrypted.recipient, encrypted.ephemeral, encrypted.ciphertext
    )
    if not hmac.compare_digest(expected, encrypted.mac):
        raise ShareDecryptionError("share MAC does not verify")
    try:
        return group.decode_scalar(_xor(encrypted.ciphertext, pad))
    except EncodingError:
        raise ShareDecryptionError("decrypted share is not a scalar below n") from None


# -- round 2: commitments and shares ------------------------------------------------------
def shares_digest(base_hash: bytes, sender: int, shares: Sequence[EncryptedShare]) -> bytes:
    return H(
        base_hash,
        TAG_SHARES_DIGEST,
        enc_u32(sender),
        enc_u32(len(shares)),
        *(s.encode() for s in shares),
    )


def _coefficient_label(sender: int, k: int, digest: bytes) -> bytes:
    return bytes((LABEL_COEFFICIENT,)) + enc_u32(sender) + enc_u32(k) + enc_hash(digest)


@dataclass(frozen=True)
class TrusteeCommitments:
    """Public: Feldman commitments C_i0..C_i,t-1 with proofs, and the encrypted shares."""

    index: int
    commitments: tuple[Point, ...]
    proofs: tuple[SchnorrProof, ...]
    shares: tuple[EncryptedShare, ...]

    def share_for(self, recipient: int) -> EncryptedShare:
        for share in self.shares:
            if share.recipient == recipient:
                return share
        raise CeremonyError(f"no share for trustee {recipient}", self.index)

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "commitments": [c.hex() for c in self.commitments],
            "proofs": [p.to_json() for p in self.proofs],
            "shares": [s.to_json() for s in self.shares],
        }

    @classmethod
    def from_json(cls, obj: Any) -> TrusteeCommitments:
        o = exact_keys(obj, {"index", "commitments", "proofs", "shares"}, "trustee commitments")
        commitments = []
        for c in _list(o, "commitments"):
            if not isinstance(c, str):
                raise EncodingError("commitments must be hex strings")
            commitments.append(Point.from_hex(c))
        return cls(
            _int(o, "index"),
            tuple(commitments),
            tuple(SchnorrProof.from_json(p) for p in _list(o, "proofs")),
            tuple(EncryptedShare.from_json(s) for s in _list(o, "shares")),
        )


def _check_commitment_shape(params: CeremonyParameters, msg: TrusteeCommitments) -> None:
    params.check_index(msg.index)
    if len(msg.commitments) != params.threshold or len(msg.proofs) != params.threshold:
        raise CeremonyError(
            f"must publish exactly t={params.threshold} commitments and proofs", msg.index
        )
    expected = [j for j in params.indices if j != msg.index]
    if [s.recipient for s in msg.shares] != expected or any(
        s.sender != msg.index for s in msg.shares
    ):
        raise CeremonyError(
            "encrypted shares must go to every other trustee, in index order", msg.index
        )


def commitment_equations(params: CeremonyParameters, msg: TrusteeCommitments) -> list[Equation]:
    """Shape checks, then the Schnorr equations of every coefficient (for batch verification)."""
    _check_commitment_shape(params, msg)
    digest = shares_digest(params.base_hash, msg.index, msg.shares)
    equations: list[Equation] = []
    for k, (commitment, proof) in enumerate(zip(msg.commitments, msg.proofs, strict=True)):
        equations.extend(
            schnorr_equations(
                params.base_hash, commitment, proof, label=_coefficient_label(msg.index, k, digest)
            )
        )
    return equations


def verify_commitments(params: CeremonyParameters, msg: TrusteeCommitments) -> None:
    _check_commitment_shape(params, msg)
    digest = shares_digest(params.base_hash, msg.index, msg.shares)
    for k, (commitment, proof) in enumerate(zip(msg.commitments, msg.proofs, strict=True)):
        try:
            verify_schnorr(
                params.base_hash, commitment, proof, label=_coefficient_label(msg.index, k, digest)
            )
        except ProofError:
            raise CeremonyError(f"proof of knowledge of coefficient {k} fails", msg.index) from None


def evaluate_commitments(commitments: Sequence[Point], x: int) -> Point:
    """Σ_k x^k·C_k = P(x)·G: what a share at x must match (one MSM)."""
    powers = [pow(x, k, N) for k in range(len(commitments))]
    return group.msm(powers, list(commitments))


# -- round 3: complaints ------------------------------------------------------------------
def complaint_label(accuser: int, accused: int) -> bytes:
    return bytes((LABEL_COMPLAINT,)) + enc_u32(accuser) + enc_u32(accused)


@dataclass(frozen=True)
class Complaint:
    """Accuser reveals S = d_accuser·R of one share with a proof, so anyone can open it."""

    accuser: int
    accused: int
    shared_point: Point
    proof: EqualityProof

    def to_json(self) -> dict[str, Any]:
        return {
            "accuser": self.accuser,
            "accused": self.accused,
            "shared_point": self.shared_point.hex(),
            "proof": self.proof.to_json(),
        }

    @classmethod
    def from_json(cls, obj: Any) -> Complaint:
        o = exact_keys(obj, {"accuser", "accused", "shared_point", "proof"}, "complaint")
        return cls(
            _int(o, "accuser"),
            _int(o, "accused"),
            Point.from_hex(_str(o, "shared_point")),
            EqualityProof.from_json(o["proof"]),
        )


@dataclass(frozen=True)
class Verdict:
    """Who a complaint proves dishonest, and why (public, reproducible by anyone)."""

    complaint: Complaint
    guilty: int
    reason: str

    @property
    def upheld(self) -> bool:
        return self.guilty == self.complaint.accused


def judge_complaint(
    params: CeremonyParameters,
    announcements: Mapping[int, TrusteeAnnouncement],
    commitments: Mapping[int, TrusteeCommitments],
    complaint: Complaint,
) -> Verdict:
    """Decide a complaint from public data only (malformed complaints raise CeremonyError)."""
    params.check_index(complaint.accuser, "accuser")
    params.check_index(complaint.accused, "accused")
    if complaint.accuser == complaint.accused:
        raise CeremonyError("a trustee cannot accuse itself", complaint.accuser)
    accuser_key = announcements[complaint.accuser].communication_key
    sent = commitments[complaint.accused]
    encrypted = sent.share_for(complaint.accuser)
    try:
        verify_equality(
            params.base_hash,
            accuser_key,
            encrypted.ephemeral,
            complaint.shared_point,
            complaint.proof,
            label=complaint_label(complaint.accuser, complaint.accused),
        )
    except ProofError:
        return Verdict(
            complaint, complaint.accuser, "complaint does not prove the revealed decryption point"
        )
    try:
        share = open_share(params.base_hash, encrypted, accuser_key, complaint.shared_point)
    except ShareDecryptionError as exc:
        return Verdict(complaint, complaint.accused, f"share to trustee {complaint.accuser}: {exc}")
    if group.base_mul(share) != evaluate_commitments(sent.commitments, complaint.accuser):
        return Verdict(
            complaint,
            complaint.accused,
            f"share to trustee {complaint.accuser} does not match the sender's commitments",
        )
    return Verdict(complaint, complaint.accuser, "false accusation: the share is valid")


# -- round 4: public keys -----------------------------------------------------------------
def qualified_trustees(params: CeremonyParameters, verdicts: Iterable[Verdict]) -> list[int]:
    """Everyone except senders of a proven bad share."""
    disqualified = {v.guilty for v in verdicts if v.upheld}
    return [i for i in params.indices if i not in disqualified]


def joint_key(commitments: Mapping[int, TrusteeCommitments], qualified: Sequence[int]) -> Point:
    """K = Σ_{i in QUAL} C_i0."""
    return group.sum_points([commitments[i].commitments[0] for i in qualified])


def verification_key(
    commitments: Mapping[int, TrusteeCommitments], qualified: Sequence[int], index: int
) -> Point:
    """Y_j = s_j·G = Σ_{i in QUAL} Σ_k j^k·C_ik, computed from public data (one MSM)."""
    scalars: list[int] = []
    points: list[Point] = []
    for i in qualified:
        for k, commitment in enumerate(commitments[i].commitments):
            scalars.append(pow(index, k, N))
            points.append(commitment)
    return group.msm(scalars, points)


# -- the trustee's private side -----------------------------------------------------------
@dataclass(frozen=True)
class TrusteeKeyShare:
    """What a trustee keeps after the ceremony (stored with ``trustee_file``)."""

    index: int
    trustees: int
    threshold: int
    base_hash: bytes
    share: int
    communication_secret: int
    qualified: tuple[int, ...]

    def to_secret_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "trustees": self.trustees,
            "threshold": self.threshold,
            "base_hash": self.base_hash.hex(),
            "share": scalar_hex(self.share),
            "communication_secret": scalar_hex(self.communication_secret),
            "qualified": list(self.qualified),
        }

    @classmethod
    def from_secret_json(cls, obj: Any) -> TrusteeKeyShare:
        o = exact_keys(
            obj,
            {
                "index",
                "trustees",
                "threshold",
                "base_hash",
                "share",
                "communication_secret",
                "qualified",
            },
            "trustee key share",
        )
        qualified = _list(o, "qualified")
        if not all(isinstance(i, int) and not isinstance(i, bool) for i in qualified):
            raise EncodingError("qualified must be a list of integers")
        return cls(
            _int(o, "index"),
            _int(o, "trustees"),
            _int(o, "threshold"),
            _hex_bytes(o, "base_hash", HASH_BYTES),
            scalar_from_hex(_str(o, "share"), nonzero=True),
            scalar_from_hex(_str(o, "communication_secret"), nonzero=True),
            tuple(qualified),
        )

    @property
    def verification_key(self) -> Point:
        return group.base_mul(self.share)


@dataclass
class Trustee:
    """One trustee's machine during the ceremony: holds the secrets, emits public messages."""

    params: CeremonyParameters
    index: int
    name: str
    rng: ScalarSource = random_scalar
    _communication_secret: int = field(init=False)
    _coefficients: list[int] = field(init=False)
    _received: dict[int, int] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.params.check_index(self.index)
        self._communication_secret = self.rng()
        self._coefficients = [self.rng() for _ in range(self.params.threshold)]

    @classmethod
    def restore(
        cls,
        params: CeremonyParameters,
        index: int,
        name: str,
        communication_secret: int,
        coefficients: Sequence[int],
        received: Mapping[int, int] | None = None,
        *,
        rng: ScalarSource = random_scalar,
    ) -> Trustee:
        """Rebuild a trustee between rounds from its saved secrets (the trustee CLI's file)."""
        if len(coefficients) != params.threshold:
            raise CeremonyError(f"need exactly t={params.threshold} coefficients", index)
        if not 0 < communication_secret < N or not all(0 < a < N for a in coefficients):
            raise CeremonyError("secrets must be scalars in [1, n-1]", index)
        drawn = iter([communication_secret, *coefficients])
        trustee = cls(params, index, name, rng=lambda: next(drawn))
        trustee.rng = rng
        trustee._received = dict(received or {})
        return trustee

    @property
    def communication_secret(self) -> int:
        return self._communication_secret

    @property
    def coefficients(self) -> tuple[int, ...]:
        return tuple(self._coefficients)

    @property
    def received_shares(self) -> dict[int, int]:
        """Verified shares P_i(self) by sender i (saved between rounds by the trustee CLI)."""
        return dict(self._received)

    def polynomial(self, x: int) -> int:
        """P_i(x) by Horner's rule mod n."""
        acc = 0
        for a in reversed(self._coefficients):
            acc = (acc * x + a) % N
        return acc

    def announce(self) -> TrusteeAnnouncement:
        key = group.base_mul(self._communication_secret)
        proof = prove_schnorr(
            self.params.base_hash,
            self._communication_secret,
            label=_announcement_label(self.index, self.name),
            rng=self.rng,
        )
        return TrusteeAnnouncement(self.index, self.name, key, proof)

    def commit(self, announcements: Mapping[int, TrusteeAnnouncement]) -> TrusteeCommitments:
        """Round 2: verifies the others' announcements, then commits and encrypts shares."""
        for ann in announcements.values():
            verify_announcement(self.params, ann)
        shares = tuple(
            encrypt_share(
                self.params.base_hash,
                self.index,
                j,
                announcements[j].communication_key,
                self.polynomial(j),
                rng=self.rng,
            )
            for j in self.params.indices
            if j != self.index
        )
        digest = shares_digest(self.params.base_hash, self.index, shares)
        commitments = tuple(group.base_mul(a) for a in self._coefficients)
        proofs = tuple(
            prove_schnorr(
                self.params.base_hash,
                a,
                label=_coefficient_label(self.index, k, digest),
                rng=self.rng,
            )
            for k, a in enumerate(self._coefficients)
        )
        return TrusteeCommitments(self.index, commitments, proofs, shares)

    def receive(
        self,
        announcements: Mapping[int, TrusteeAnnouncement],
        commitments: Mapping[int, TrusteeCommitments],
    ) -> list[Complaint]:
        """Round 3: open and check every share sent to us; complain about each bad one."""
        own_key = announcements[self.index].communication_key
        complaints: list[Complaint] = []
        for sender in self.params.indices:
            if sender == self.index:
                continue
            msg = commitments[sender]
            verify_commitments(self.params, msg)  # a bad proof is public: everyone rejects it
            encrypted = msg.share_for(self.index)
            shared = group.mul(encrypted.ephemeral, self._communication_secret)
            try:
                share = open_share(self.params.base_hash, encrypted, own_key, shared)
                valid = group.base_mul(share) == evaluate_commitments(msg.commitments, self.index)
            except ShareDecryptionError:
                valid = False
            if valid:
                self._received[sender] = share
            else:
                complaints.append(self._complain(sender, encrypted.ephemeral, shared))
        return complaints

    def _complain(self, accused: int, ephemeral: Point, shared: Point) -> Complaint:
        proof = prove_equality(
            self.params.base_hash,
            self._communication_secret,
            ephemeral,
            label=complaint_label(self.index, accused),
            rng=self.rng,
        )
        return Complaint(self.index, accused, shared, proof)

    def finalize(self, qualified: Sequence[int]) -> TrusteeKeyShare:
        """s_j = Σ_{i in QUAL} P_i(j); needs a verified share from every qualified trustee."""
        total = 0
        for i in qualified:
            if i == self.index:
                total += self.polynomial(self.index)
            elif i in self._received:
                total += self._received[i]
            else:
                raise CeremonyError(f"no valid share received from qualified trustee {i}", i)
        share = total % N
        if share == 0:
            raise CeremonyError("derived share is zero; rerun the ceremony", self.index)
        return TrusteeKeyShare(
            index=self.index,
            trustees=self.params.trustees,
            threshold=self.params.threshold,
            base_hash=self.params.base_hash,
            share=share,
            communication_secret=self._communication_secret,
            qualified=tuple(qualified),
        )


# -- the public transcript ----------------------------------------------------------------
@dataclass(frozen=True)
class CeremonyTranscript:
    """Everything published during the ceremony: enough to recompute K and every Y_j."""

    params: CeremonyParameters
    announcements: tuple[TrusteeAnnouncement, ...]
    commitments: tuple[TrusteeCommitments, ...]
    complaints: tuple[Complaint, ...] = ()

    @property
    def announcements_by_index(self) -> dict[int, TrusteeAnnouncement]:
        return {a.index: a for a in self.announcements}

    @property
    def commitments_by_index(self) -> dict[int, TrusteeCommitments]:
        return {c.index: c for c in self.commitments}

    def verdicts(self) -> list[Verdict]:
        anns, comms = self.announcements_by_index, self.commitments_by_index
        return [judge_complaint(self.params, anns, comms, c) for c in self.complaints]

    def qualified(self) -> list[int]:
        return qualified_trustees(self.params, self.verdicts())

    def joint_key(self) -> Point:
        return joint_key(self.commitments_by_index, self.qualified())

    def verification_keys(self) -> dict[int, Point]:
        qualified = self.qualified()
        comms = self.commitments_by_index
        return {j: verification_key(comms, qualified, j) for j in qualified}

    def check_complete(self) -> None:
        """One announcement and one commitment message per trustee, in index order."""
        if [a.index for a in self.announcements] != list(self.params.indices):
            raise CeremonyError("announcements must list trustees 1..n in order")
        if [c.index for c in self.commitments] != list(self.params.indices):
            raise CeremonyError("commitments must list trustees 1..n in order")

    def verify(self) -> None:
        """Check every proof of the ceremony; raises ``CeremonyError`` naming the trustee."""
        self.check_complete()
        for ann in self.announcements:
            verify_announcement(self.params, ann)
        for msg in self.commitments:
            verify_commitments(self.params, msg)
        if len(self.qualified()) < self.params.threshold:
            raise CeremonyError("fewer than t trustees remain qualified")


def run_rounds(params: CeremonyParameters, trustees: Sequence[Trustee]) -> CeremonyTranscript:
    """Rounds 1-3 for the given trustees in one process, complaints included (tests, vectors,
    demos); trustees can be dishonest subclasses, so nothing here judges or finalizes."""
    announcements = {t.index: t.announce() for t in trustees}
    commitments = {t.index: t.commit(announcements) for t in trustees}
    complaints = [c for t in trustees for c in t.receive(announcements, commitments)]
    return CeremonyTranscript(
        params,
        tuple(announcements[i] for i in params.indices),
        tuple(commitments[i] for i in params.indices),
        tuple(complaints),
    )


def run_ceremony(
    params: CeremonyParameters,
    names: Sequence[str] | None = None,
    *,
    rng: ScalarSource = random_scalar,
) -> tuple[CeremonyTranscript, list[TrusteeKeyShare]]:
    """All rounds for honest trustees in one process (tests, demos, benchmarks)."""
    names = list(names) if names is not None else [f"trustee-{i}" for i in params.indices]
    trustees = [Trustee(params, i, names[i - 1], rng=rng) for i in params.indices]
    transcript = run_rounds(params, trustees)
    qualified = transcript.qualified()
    shares = [t.finalize(qualified) for t in trustees if t.index in qualified]
    return transcript, shares
