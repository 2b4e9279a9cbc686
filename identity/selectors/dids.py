"""DIDs: the account's current one and history, and W3C DID resolution (did:key, the city's did:web)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from identity import keys, web_resolver
from identity.core import did_key, did_web
from identity.core.data_integrity import ResolutionError, resolve_did, static_resolver
from identity.models import CitizenDID

RESOLUTION_CONTEXT = "https://w3id.org/did-resolution/v1"


def current_did(user: AbstractBaseUser) -> CitizenDID | None:
    if not user.is_authenticated:
        return None
    return CitizenDID.objects.filter(user=user, replaced_at__isnull=True).first()


def did_history(user: AbstractBaseUser) -> QuerySet[CitizenDID]:
    return CitizenDID.objects.filter(user=user)


def known_documents() -> dict[str, Mapping[str, Any]]:
    """DID documents this server can vouch for without a network call: the city's own did:web."""
    keys_ = keys.load_city_keys()
    return {keys_.did: keys.city_did_document()}


def resolver() -> Any:
    return static_resolver(known_documents())


def normalise_did_path(raw: str) -> str:
    """The DID from a resolution URL path.

    Web servers decode ``%3A`` before Django sees the path, which turns the city's
    ``did:web:host%3A8000`` into ``did:web:host:8000`` (a different DID). When the decoded forms
    match the city's DID, the city's DID is meant.
    """
    city = keys.city_did()
    if raw != city and unquote(raw) == unquote(city):
        return city
    return raw


PUBLIC_KEY_FORMATS = ("Multikey", "Ed25519VerificationKey2018", "JsonWebKey2020")


def resolve(did: str, options: Mapping[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    """(HTTP status, W3C DID resolution result) for did:key and the city's did:web.

    did:key honours the method's resolution options ``publicKeyFormat`` and
    ``enableEncryptionKeyDerivation``.
    """
    options = options or {}
    try:
        key_format = options.get("publicKeyFormat", "Multikey")
        if key_format not in PUBLIC_KEY_FORMATS:
            raise ResolutionError(
                "unsupportedPublicKeyType", f"publicKeyFormat {key_format!r} is not supported"
            )
        if not did.startswith("did:") or len(did) > 512:
            raise ResolutionError("invalidDid", "not a DID")
        method = did.split(":", 2)[1]
        if method not in ("key", "web"):
            raise ResolutionError(
                "methodNotSupported", f"the DID method {method!r} is not supported here"
            )
        if method == "web":
            try:
                did_web.did_to_url(did)
            except did_web.DIDWebError as exc:
                raise ResolutionError("invalidDid", str(exc)) from exc
        known = known_documents()
        if method == "web" and did not in known and web_resolver.remote_resolution_enabled():
            known[did] = web_resolver.fetch_document(did)
        document = resolve_did(did, known)
        if did.startswith(did_key.PREFIX):
            document = did_key.did_document(
                did,
                representation=key_format,  # type: ignore[arg-type]
                key_agreement=options.get("enableEncryptionKeyDerivation") == "true",
            )
    except ResolutionError as exc:
        status = {
            "invalidDid": 400,
            "notFound": 404,
            "methodNotSupported": 501,
            "invalidDidDocument": 502,  # the other host served something that is not its document
        }.get(exc.code, 400)
        return status, {
            "@context": RESOLUTION_CONTEXT,
            "didDocument": None,
            "didResolutionMetadata": {"error": exc.code, "errorMessage": str(exc)},
            "didDocumentMetadata": {},
            "error": exc.code,
            "detail": str(exc),
            "status": status,
        }
    metadata: dict[str, Any] = {}
    if did.startswith(did_key.PREFIX):
        bound = CitizenDID.objects.filter(did=did).select_related("replaced_by").first()
        if bound is not None and bound.replaced_by is not None:
            # did:key cannot be deactivated, but the city can say this binding was superseded.
            metadata["nextVersionId"] = bound.replaced_by.did
    return 200, {
        "@context": RESOLUTION_CONTEXT,
        "didDocument": document,
        "didResolutionMetadata": {
            "contentType": "application/did+json",
            "did": {"method": did.split(":")[1]},
        },
        "didDocumentMetadata": metadata,
    }
