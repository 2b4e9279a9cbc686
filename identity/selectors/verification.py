"""Verifying credentials and presentations against this server's state (no network call)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from identity import keys
from identity.core import credentials, status_list
from identity.core.data_integrity import Problem
from identity.selectors.dids import resolver
from identity.selectors.status_lists import status_list_by_url

REPLAYED_CHALLENGE = "INVALID_CHALLENGE_ERROR"


def verify_credential(document: Any) -> credentials.VerificationResult:
    """Proof, issuer (the city), validity window and live status, all from this server's state."""
    resolve_ = resolver()
    trusted = {keys.city_did()}
    checker = status_list.make_status_checker(status_list_by_url, resolve_, trusted_issuers=trusted)
    return credentials.verify_credential(
        document, resolve_, trusted_issuers=trusted, status_checker=checker
    )


def verify_presentation(vp: Any, *, challenge: str, domain: str) -> credentials.VerificationResult:
    resolve_ = resolver()
    trusted = {keys.city_did()}
    checker = status_list.make_status_checker(status_list_by_url, resolve_, trusted_issuers=trusted)
    return credentials.verify_presentation(
        vp,
        resolve_,
        challenge=challenge,
        domain=domain,
        trusted_issuers=trusted,
        status_checker=checker,
    )


def all_problems(result: credentials.VerificationResult) -> list[Problem]:
    """The presentation's problems followed by those of each embedded credential."""
    problems = list(result.problems)
    for position, inner in enumerate(result.credentials):
        problems += [
            Problem(p.code, f"verifiableCredential[{position}]: {p.message}")
            for p in inner.problems
        ]
    return problems


def verification_body(result: credentials.VerificationResult) -> dict[str, Any]:
    """VC-API style answer: verified, the checks made, every problem, warnings."""
    body: dict[str, Any] = {
        "verified": result.verified,
        "checks": list(result.checks),
        "problems": [p.as_dict() for p in all_problems(result)],
        "warnings": [w.as_dict() for w in result.warnings],
    }
    if result.credentials:
        body["credentialResults"] = [
            {
                "verified": inner.verified,
                "checks": list(inner.checks),
                "problems": [p.as_dict() for p in inner.problems],
            }
            for inner in result.credentials
        ]
    return body


def residency_district(vp: Mapping[str, Any]) -> str | None:
    """The district of the first city residency credential in an (already verified) presentation."""
    embedded = vp.get("verifiableCredential")
    for credential in embedded if isinstance(embedded, list) else [embedded]:
        if not isinstance(credential, Mapping):
            continue
        types = credential.get("type")
        if credentials.RESIDENCY_CREDENTIAL_TYPE not in (
            types if isinstance(types, list) else [types]
        ):
            continue
        if credentials.entity_id(credential.get("issuer")) != keys.city_did():
            continue
        subject = credential.get("credentialSubject")
        if isinstance(subject, Mapping) and isinstance(subject.get("district"), str):
            return subject["district"]
    return None
