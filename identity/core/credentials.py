"""W3C Verifiable Credentials Data Model 2.0 helpers: residency credential, presentation, checks.

Built on :mod:`identity.core.data_integrity` (eddsa-jcs-2022). Results list the checks made and
every problem found, in the spirit of the W3C VC-API verify responses, so the HTTP layer only
has to serialise them.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from identity.core.data_integrity import (
    DEFAULT_CLOCK_SKEW,
    Problem,
    Resolver,
    add_proof,
    format_datetime,
    parse_datetime_stamp,
    verify_proof,
)

VC_V2_CONTEXT = "https://www.w3.org/ns/credentials/v2"
RESIDENCY_CREDENTIAL_TYPE = "ResidencyCredential"

MALFORMED_CREDENTIAL = "MALFORMED_CREDENTIAL"
MALFORMED_PRESENTATION = "MALFORMED_PRESENTATION"
NOT_YET_VALID = "NOT_YET_VALID"
EXPIRED = "EXPIRED"
ISSUER_MISMATCH = "ISSUER_MISMATCH"
UNTRUSTED_ISSUER = "UNTRUSTED_ISSUER"
HOLDER_MISMATCH = "HOLDER_MISMATCH"

StatusChecker = Callable[[Mapping[str, Any]], list[Problem]]
"""Given one ``credentialStatus`` entry, return the problems (revoked, suspended, unavailable)."""


@dataclass
class VerificationResult:
    """What was checked and what went wrong; ``verified`` only when nothing did."""

    checks: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    credentials: list[VerificationResult] = field(default_factory=list)

    @property
    def verified(self) -> bool:
        return not self.problems and all(c.verified for c in self.credentials)

    def as_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {
            "verified": self.verified,
            "checks": list(self.checks),
            "errors": [p.as_dict() for p in self.problems],
            "warnings": [w.as_dict() for w in self.warnings],
        }
        if self.credentials:
            result["credentialResults"] = [c.as_dict() for c in self.credentials]
        return result


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def entity_id(value: Any) -> str | None:
    """The id of an issuer/holder that may be a URL string or an object with ``id``."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping) and isinstance(value.get("id"), str):
        return value["id"]
    return None


def residency_credential(
    *,
    issuer: str,
    subject_did: str,
    district: str,
    credential_id: str,
    valid_from: datetime,
    valid_until: datetime | None = None,
    credential_status: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """An unsigned residency credential with the minimal claim (district) and its validity window.

    Legal name and address stay in the city's records: the credential only says what a
    verifier needs to decide eligibility.
    """
    if valid_until is not None and valid_until <= valid_from:
        raise ValueError("validUntil must be after validFrom")
    credential: dict[str, Any] = {
        "@context": [VC_V2_CONTEXT],
        "id": credential_id,
        "type": ["VerifiableCredential", RESIDENCY_CREDENTIAL_TYPE],
        "issuer": issuer,
        "validFrom": format_datetime(valid_from),
        "credentialSubject": {"id": subject_did, "district": district},
    }
    if valid_until is not None:
        credential["validUntil"] = format_datetime(valid_until)
    if credential_status is not None:
        credential["credentialStatus"] = (
            dict(credential_status)
            if isinstance(credential_status, Mapping)
            else [dict(s) for s in credential_status]
        )
    return credential


def issue(
    credential: Mapping[str, Any],
    private_key: Ed25519PrivateKey,
    verification_method: str,
    *,
    created: datetime | str | None = None,
) -> dict[str, Any]:
    """Sign a credential for its issuer (proofPurpose assertionMethod)."""
    return add_proof(
        credential,
        private_key,
        verification_method,
        proof_purpose="assertionMethod",
        created=created,
    )


def check_validity_period(
    credential: Mapping[str, Any], now: datetime, clock_skew: timedelta = DEFAULT_CLOCK_SKEW
) -> list[Problem]:
    """validFrom <= now <= validUntil (VCDM 2.0 §4.9), allowing a small clock skew."""
    problems: list[Problem] = []
    valid_from = valid_until = None
    try:
        if "validFrom" in credential:
            valid_from = parse_datetime_stamp(credential["validFrom"], "validFrom")
        if "validUntil" in credential:
            valid_until = parse_datetime_stamp(credential["validUntil"], "validUntil")
    except ValueError as exc:
        return [Problem(MALFORMED_CREDENTIAL, str(exc))]
    if valid_from and valid_until and valid_until < valid_from:
        problems.append(Problem(MALFORMED_CREDENTIAL, "validUntil is before validFrom"))
    if valid_from and now + clock_skew < valid_from:
        problems.append(
            Problem(NOT_YET_VALID, f"credential is not valid before {credential['validFrom']}")
        )
    if valid_until and now - clock_skew > valid_until:
        problems.append(Problem(EXPIRED, f"credential expired at {credential['validUntil']}"))
    return problems


def _structure_problems(document: Mapping[str, Any], kind: str, code: str) -> list[Problem]:
    problems: list[Problem] = []
    contexts = _as_list(document.get("@context"))
    if not contexts or contexts[0] != VC_V2_CONTEXT:
        problems.append(Problem(code, f"@context must start with {VC_V2_CONTEXT}"))
    if kind not in _as_list(document.get("type")):
        problems.append(Problem(code, f"type must include {kind}"))
    if "id" in document and not isinstance(document["id"], str):
        problems.append(Problem(code, "id must be a URL string"))
    return problems


def verify_credential(
    credential: Any,
    resolver: Resolver,
    *,
    now: datetime | None = None,
    trusted_issuers: Collection[str] | None = None,
    status_checker: StatusChecker | None = None,
    clock_skew: timedelta = DEFAULT_CLOCK_SKEW,
) -> VerificationResult:
    """Proof, issuer binding, validity window and (through ``status_checker``) status."""
    now = now or datetime.now(UTC)
    result = VerificationResult()
    if not isinstance(credential, Mapping):
        result.problems.append(Problem(MALFORMED_CREDENTIAL, "credential must be a JSON object"))
        return result
    result.checks.append("structure")
    result.problems += _structure_problems(credential, "VerifiableCredential", MALFORMED_CREDENTIAL)
    issuer = entity_id(credential.get("issuer"))
    if issuer is None:
        result.problems.append(
            Problem(MALFORMED_CREDENTIAL, "issuer must be a URL or an object with id")
        )
    subjects = _as_list(credential.get("credentialSubject"))
    if not subjects or not all(isinstance(s, Mapping) and s for s in subjects):
        result.problems.append(
            Problem(MALFORMED_CREDENTIAL, "credentialSubject must be a non-empty object")
        )

    result.checks.append("proof")
    proof = verify_proof(
        credential,
        resolver,
        expected_proof_purpose="assertionMethod",
        now=now,
        clock_skew=clock_skew,
    )
    result.problems += proof.problems
    if proof.verified and issuer is not None and proof.controller != issuer:
        result.problems.append(
            Problem(ISSUER_MISMATCH, "proof was made by a key the issuer does not control")
        )
    if trusted_issuers is not None:
        result.checks.append("issuer")
        if issuer not in trusted_issuers:
            result.problems.append(
                Problem(UNTRUSTED_ISSUER, f"issuer {issuer} is not trusted here")
            )

    result.checks.append("validity")
    result.problems += check_validity_period(credential, now, clock_skew)

    if "credentialStatus" in credential:
        entries = _as_list(credential["credentialStatus"])
        if status_checker is None:
            result.warnings.append(
                Problem("STATUS_NOT_CHECKED", "credentialStatus present but not checked")
            )
        else:
            result.checks.append("status")
            for entry in entries:
                if not isinstance(entry, Mapping):
                    result.problems.append(
                        Problem(MALFORMED_CREDENTIAL, "credentialStatus entry must be an object")
                    )
                    continue
                result.problems += status_checker(entry)
    return result


def presentation(
    holder: str, credentials: Sequence[Mapping[str, Any]], *, presentation_id: str | None = None
) -> dict[str, Any]:
    """An unsigned Verifiable Presentation by ``holder`` embedding the given credentials."""
    vp: dict[str, Any] = {
        "@context": [VC_V2_CONTEXT],
        "type": ["VerifiablePresentation"],
        "holder": holder,
        "verifiableCredential": [dict(c) for c in credentials],
    }
    if presentation_id is not None:
        vp["id"] = presentation_id
    return vp


def sign_presentation(
    vp: Mapping[str, Any],
    private_key: Ed25519PrivateKey,
    verification_method: str,
    *,
    challenge: str,
    domain: str,
    created: datetime | str | None = None,
    expires: datetime | str | None = None,
) -> dict[str, Any]:
    """Holder proof (proofPurpose authentication) bound to the verifier's challenge and domain."""
    if not challenge or not domain:
        raise ValueError("a presentation proof needs a challenge and a domain")
    return add_proof(
        vp,
        private_key,
        verification_method,
        proof_purpose="authentication",
        challenge=challenge,
        domain=domain,
        created=created,
        expires=expires,
    )


def verify_presentation(
    vp: Any,
    resolver: Resolver,
    *,
    challenge: str,
    domain: str,
    now: datetime | None = None,
    trusted_issuers: Collection[str] | None = None,
    status_checker: StatusChecker | None = None,
    require_subject_is_holder: bool = True,
    clock_skew: timedelta = DEFAULT_CLOCK_SKEW,
) -> VerificationResult:
    """Holder proof over challenge+domain, then every embedded credential.

    The caller must make each challenge single-use: this function proves freshness only
    relative to the challenge it is given. ``require_subject_is_holder`` stops a citizen from
    presenting someone else's credential.
    """
    if not challenge or not domain:
        raise ValueError("verifying a presentation needs the expected challenge and domain")
    now = now or datetime.now(UTC)
    result = VerificationResult()
    if not isinstance(vp, Mapping):
        result.problems.append(
            Problem(MALFORMED_PRESENTATION, "presentation must be a JSON object")
        )
        return result
    result.checks.append("structure")
    result.problems += _structure_problems(vp, "VerifiablePresentation", MALFORMED_PRESENTATION)
    holder = entity_id(vp.get("holder"))
    if holder is None:
        result.problems.append(Problem(MALFORMED_PRESENTATION, "holder must be a DID"))

    result.checks.append("proof")
    proof = verify_proof(
        vp,
        resolver,
        expected_proof_purpose="authentication",
        challenge=challenge,
        domain=domain,
        now=now,
        clock_skew=clock_skew,
    )
    result.problems += proof.problems
    if proof.verified and proof.controller != holder:
        result.problems.append(
            Problem(HOLDER_MISMATCH, "presentation was not signed by its holder")
        )

    credentials = vp.get("verifiableCredential", [])
    for credential in _as_list(credentials):
        result.credentials.append(
            verify_credential(
                credential,
                resolver,
                now=now,
                trusted_issuers=trusted_issuers,
                status_checker=status_checker,
                clock_skew=clock_skew,
            )
        )
        if require_subject_is_holder and isinstance(credential, Mapping):
            subject_ids = {entity_id(s) for s in _as_list(credential.get("credentialSubject"))}
            if holder not in subject_ids:
                result.problems.append(
                    Problem(HOLDER_MISMATCH, "a credential's subject is not the holder")
                )
    return result
