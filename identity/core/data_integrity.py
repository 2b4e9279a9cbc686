"""W3C VC Data Integrity proofs with the ``eddsa-jcs-2022`` cryptosuite (vc-di-eddsa §3.3).

Signing input = SHA-256(JCS(proof configuration)) || SHA-256(JCS(document without proof));
``proofValue`` = multibase base58btc of the Ed25519 signature. JCS instead of RDF
canonicalization means a verifier needs no JSON-LD processor and no remote contexts, and
the result is still a standard DataIntegrityProof any conformant verifier accepts.

Verification never trusts the proof's own claims: the key comes from resolving the
``verificationMethod`` through a caller-supplied resolver, and that key must be listed under
the expected proof purpose in its controller's DID document.
"""

from __future__ import annotations

import copy
import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from identity.core import did_key
from identity.core.jcs import JCSError, canonicalize
from identity.core.multikey import MultikeyError, base58btc_decode, base58btc_encode
from identity.core.multikey import decode_ed25519_public_key as _decode_multikey

PROOF_TYPE = "DataIntegrityProof"
CRYPTOSUITE = "eddsa-jcs-2022"
SIGNATURE_LENGTH = 64
DEFAULT_CLOCK_SKEW = timedelta(minutes=5)

# Error codes from VC Data Integrity 1.0 §"Processing Errors", plus resolution failures.
MALFORMED_PROOF_ERROR = "MALFORMED_PROOF_ERROR"
MISMATCHED_PROOF_PURPOSE_ERROR = "MISMATCHED_PROOF_PURPOSE_ERROR"
INVALID_DOMAIN_ERROR = "INVALID_DOMAIN_ERROR"
INVALID_CHALLENGE_ERROR = "INVALID_CHALLENGE_ERROR"
INVALID_PROOF_CONFIGURATION = "INVALID_PROOF_CONFIGURATION"
INVALID_PROOF_DATETIME = "INVALID_PROOF_DATETIME"
PROOF_TRANSFORMATION_ERROR = "PROOF_TRANSFORMATION_ERROR"
PROOF_VERIFICATION_ERROR = "PROOF_VERIFICATION_ERROR"
PROOF_EXPIRED = "PROOF_EXPIRED"
INVALID_VERIFICATION_METHOD = "INVALID_VERIFICATION_METHOD"

_DATETIME_STAMP = re.compile(
    r"^-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$"
)

Resolver = Callable[[str], Mapping[str, Any]]
"""DID -> its DID document; raises :class:`ResolutionError` when the DID cannot be resolved."""


class ResolutionError(ValueError):
    """A DID could not be resolved; ``code`` is a DID-resolution error (invalidDid, notFound...)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class ProofError(ValueError):
    """A proof could not be created, or (from :func:`require_valid`) did not verify."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Problem:
    """One reason a verification failed, with a machine code and a human message."""

    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


@dataclass
class ProofResult:
    """Outcome of checking one proof: the verified key's id and controller when it passed."""

    problems: list[Problem] = field(default_factory=list)
    verification_method: str | None = None
    controller: str | None = None

    @property
    def verified(self) -> bool:
        return not self.problems


def parse_datetime_stamp(value: Any, what: str) -> datetime:
    """XML Schema ``dateTimeStamp`` (timezone required) -> aware datetime, else ValueError."""
    if not isinstance(value, str) or not _DATETIME_STAMP.match(value):
        raise ValueError(f"{what} must be an XML Schema dateTimeStamp with a timezone")
    try:
        return datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"{what} is not a valid date-time: {value!r}") from exc


def format_datetime(moment: datetime) -> str:
    """UTC ``YYYY-MM-DDTHH:MM:SSZ``: the form the published vectors use."""
    if moment.tzinfo is None:
        raise ValueError("datetime must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def resolve_did(
    did: str, documents: Mapping[str, Mapping[str, Any]] | None = None
) -> Mapping[str, Any]:
    """Local resolver: did:key by computation, anything else only from ``documents`` (no network)."""
    if not isinstance(did, str) or not did.startswith("did:") or did.count(":") < 2:
        raise ResolutionError("invalidDid", f"not a DID: {did!r}")
    if did.startswith(did_key.PREFIX):
        try:
            return did_key.did_document(did)
        except did_key.DIDKeyError as exc:
            raise ResolutionError("invalidDid", str(exc)) from exc
    if documents and did in documents:
        return documents[did]
    if did.startswith("did:web:"):
        raise ResolutionError("notFound", f"no DID document known for {did}")
    raise ResolutionError("methodNotSupported", f"DID method of {did} is not supported")


def static_resolver(documents: Mapping[str, Mapping[str, Any]] | None = None) -> Resolver:
    """A resolver over did:key plus a fixed set of known documents (e.g. the city's did:web)."""
    known = dict(documents or {})
    return lambda did: resolve_did(did, known)


def _listed_ids(entries: Any, did: str) -> set[str]:
    ids: set[str] = set()
    if not isinstance(entries, list):
        return ids
    for entry in entries:
        ref = entry.get("id") if isinstance(entry, dict) else entry
        if isinstance(ref, str):
            ids.add(did + ref if ref.startswith("#") else ref)
    return ids


def _find_method(document: Mapping[str, Any], did: str, vm_id: str) -> Mapping[str, Any] | None:
    candidates: list[Any] = list(document.get("verificationMethod") or [])
    for relationship in did_key.VERIFICATION_RELATIONSHIPS:
        candidates += [m for m in document.get(relationship) or [] if isinstance(m, dict)]
    for method in candidates:
        if not isinstance(method, dict):
            continue
        method_id = method.get("id")
        if (
            isinstance(method_id, str)
            and (did + method_id if method_id.startswith("#") else method_id) == vm_id
        ):
            return method
    return None


def resolve_public_key(
    vm_id: str, proof_purpose: str, resolver: Resolver
) -> tuple[Ed25519PublicKey, str]:
    """Ed25519 key and controller DID for ``vm_id``, if the controller authorises it for the purpose."""
    if not isinstance(vm_id, str) or "#" not in vm_id:
        raise ProofError(
            INVALID_VERIFICATION_METHOD, "verificationMethod must be a DID URL with a fragment"
        )
    did = vm_id.split("#", 1)[0]
    try:
        document = resolver(did)
    except ResolutionError as exc:
        raise ProofError(
            INVALID_VERIFICATION_METHOD, f"cannot resolve {did}: {exc.code}: {exc}"
        ) from exc
    if not isinstance(document, Mapping) or document.get("id") != did:
        raise ProofError(INVALID_VERIFICATION_METHOD, f"resolved document is not for {did}")
    method = _find_method(document, did, vm_id)
    if method is None:
        raise ProofError(
            INVALID_VERIFICATION_METHOD, f"{vm_id} is not in the DID document of {did}"
        )
    if method.get("controller") != did:
        raise ProofError(INVALID_VERIFICATION_METHOD, f"{vm_id} is not controlled by {did}")
    if vm_id not in _listed_ids(document.get(proof_purpose), did):
        raise ProofError(
            MISMATCHED_PROOF_PURPOSE_ERROR,
            f"{vm_id} is not authorised for {proof_purpose} by {did}",
        )
    if method.get("type") not in ("Multikey", "Ed25519VerificationKey2020"):
        raise ProofError(
            INVALID_VERIFICATION_METHOD, f"unsupported key type {method.get('type')!r}"
        )
    try:
        raw = _decode_multikey(method.get("publicKeyMultibase"))  # type: ignore[arg-type]
    except MultikeyError as exc:
        raise ProofError(INVALID_VERIFICATION_METHOD, f"bad publicKeyMultibase: {exc}") from exc
    return Ed25519PublicKey.from_public_bytes(raw), did


def hash_data(unsecured_document: Mapping[str, Any], proof_config: Mapping[str, Any]) -> bytes:
    """SHA-256(JCS(proofConfig)) || SHA-256(JCS(document)): the 64 bytes that are signed."""
    try:
        proof_hash = hashlib.sha256(canonicalize(proof_config)).digest()
        document_hash = hashlib.sha256(canonicalize(unsecured_document)).digest()
    except JCSError as exc:
        raise ProofError(PROOF_TRANSFORMATION_ERROR, str(exc)) from exc
    return proof_hash + document_hash


def _as_stamp(value: datetime | str, what: str) -> str:
    if isinstance(value, datetime):
        return format_datetime(value)
    parse_datetime_stamp(value, what)
    return value


def create_proof(
    document: Mapping[str, Any],
    private_key: Ed25519PrivateKey,
    verification_method: str,
    *,
    proof_purpose: str = "assertionMethod",
    created: datetime | str | None = None,
    expires: datetime | str | None = None,
    challenge: str | None = None,
    domain: str | list[str] | None = None,
) -> dict[str, Any]:
    """An eddsa-jcs-2022 DataIntegrityProof over ``document`` (whose own ``proof`` is ignored).

    ``created`` defaults to now; pass a fixed value to reproduce published vectors.
    """
    if not isinstance(document, Mapping):
        raise ProofError(PROOF_TRANSFORMATION_ERROR, "document must be a JSON object")
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    proof: dict[str, Any] = {
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "created": _as_stamp(created if created is not None else datetime.now(UTC), "created"),
        "verificationMethod": verification_method,
        "proofPurpose": proof_purpose,
    }
    if expires is not None:
        proof["expires"] = _as_stamp(expires, "expires")
    if challenge is not None:
        proof["challenge"] = challenge
    if domain is not None:
        proof["domain"] = domain
    if "@context" in unsecured:
        proof["@context"] = copy.deepcopy(unsecured["@context"])
    signature = private_key.sign(hash_data(unsecured, proof))
    proof["proofValue"] = base58btc_encode(signature)
    return proof


def add_proof(
    document: Mapping[str, Any],
    private_key: Ed25519PrivateKey,
    verification_method: str,
    **options: Any,
) -> dict[str, Any]:
    """A copy of ``document`` with an eddsa-jcs-2022 proof attached (replacing any previous one)."""
    secured = {k: copy.deepcopy(v) for k, v in document.items() if k != "proof"}
    secured["proof"] = create_proof(secured, private_key, verification_method, **options)
    return secured


def _context_matches(document_context: Any, proof_context: Any) -> bool:
    """Stricter than the spec's "starts with": appended contexts could re-map terms for JSON-LD
    consumers after signing, so the document's @context must be exactly the signed one."""
    doc = document_context if isinstance(document_context, list) else [document_context]
    proof = proof_context if isinstance(proof_context, list) else [proof_context]
    return doc == proof


def _check_times(proof: Mapping[str, Any], now: datetime, skew: timedelta) -> list[Problem]:
    problems: list[Problem] = []
    if "created" in proof:
        try:
            created = parse_datetime_stamp(proof["created"], "proof.created")
            if created > now + skew:
                problems.append(Problem(INVALID_PROOF_DATETIME, "proof.created is in the future"))
        except ValueError as exc:
            problems.append(Problem(INVALID_PROOF_DATETIME, str(exc)))
    if "expires" in proof:
        try:
            expires = parse_datetime_stamp(proof["expires"], "proof.expires")
            if expires < now - skew:
                problems.append(Problem(PROOF_EXPIRED, "proof has expired"))
        except ValueError as exc:
            problems.append(Problem(INVALID_PROOF_DATETIME, str(exc)))
    return problems


def _check_binding(
    proof: Mapping[str, Any], challenge: str | None, domain: str | None
) -> list[Problem]:
    problems: list[Problem] = []
    if challenge is not None and proof.get("challenge") != challenge:
        problems.append(
            Problem(
                INVALID_CHALLENGE_ERROR, "proof.challenge does not match the expected challenge"
            )
        )
    if domain is not None:
        proof_domain = proof.get("domain")
        domains = proof_domain if isinstance(proof_domain, list) else [proof_domain]
        if domain not in domains:
            problems.append(
                Problem(INVALID_DOMAIN_ERROR, "proof.domain does not match the expected domain")
            )
    return problems


def verify_proof(
    secured_document: Mapping[str, Any],
    resolver: Resolver,
    *,
    expected_proof_purpose: str = "assertionMethod",
    challenge: str | None = None,
    domain: str | None = None,
    now: datetime | None = None,
    clock_skew: timedelta = DEFAULT_CLOCK_SKEW,
) -> ProofResult:
    """Check the single eddsa-jcs-2022 proof on a document; never raises on bad input.

    When ``challenge`` / ``domain`` are given (presentations), the proof must carry exactly them.
    """
    now = now or datetime.now(UTC)
    if not isinstance(secured_document, Mapping):
        return ProofResult([Problem(MALFORMED_PROOF_ERROR, "document must be a JSON object")])
    proof = secured_document.get("proof")
    if isinstance(proof, list):
        return ProofResult(
            [Problem(MALFORMED_PROOF_ERROR, "proof sets and chains are not accepted")]
        )
    if not isinstance(proof, Mapping):
        return ProofResult([Problem(MALFORMED_PROOF_ERROR, "document has no proof object")])
    if proof.get("type") != PROOF_TYPE:
        return ProofResult([Problem(MALFORMED_PROOF_ERROR, f"proof.type must be {PROOF_TYPE}")])
    if proof.get("cryptosuite") != CRYPTOSUITE:
        return ProofResult(
            [Problem(MALFORMED_PROOF_ERROR, f"proof.cryptosuite must be {CRYPTOSUITE}")]
        )
    proof_value = proof.get("proofValue")
    try:
        signature = base58btc_decode(proof_value)  # type: ignore[arg-type]
    except MultikeyError as exc:
        return ProofResult([Problem(MALFORMED_PROOF_ERROR, f"proofValue: {exc}")])
    if len(signature) != SIGNATURE_LENGTH:
        return ProofResult(
            [Problem(MALFORMED_PROOF_ERROR, "proofValue is not a 64-byte Ed25519 signature")]
        )
    purpose = proof.get("proofPurpose")
    if purpose != expected_proof_purpose:
        return ProofResult(
            [
                Problem(
                    MISMATCHED_PROOF_PURPOSE_ERROR, f"proofPurpose must be {expected_proof_purpose}"
                )
            ]
        )

    problems = _check_times(proof, now, clock_skew) + _check_binding(proof, challenge, domain)
    proof_options = {k: v for k, v in proof.items() if k != "proofValue"}
    unsecured = {k: v for k, v in secured_document.items() if k != "proof"}
    if "@context" in proof_options:
        if not _context_matches(unsecured.get("@context"), proof_options["@context"]):
            problems.append(
                Problem(
                    MALFORMED_PROOF_ERROR,
                    "document @context differs from the @context that was signed",
                )
            )
        unsecured["@context"] = proof_options["@context"]

    vm_id = proof.get("verificationMethod")
    try:
        public_key, controller = resolve_public_key(vm_id, purpose, resolver)  # type: ignore[arg-type]
        data = hash_data(unsecured, proof_options)
    except ProofError as exc:
        return ProofResult(problems + [Problem(exc.code, exc.message)])
    try:
        public_key.verify(signature, data)
    except InvalidSignature:
        problems.append(Problem(PROOF_VERIFICATION_ERROR, "signature does not match the document"))
    return ProofResult(problems, verification_method=vm_id, controller=controller)
