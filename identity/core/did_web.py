"""did:web (W3C CCG did-method-web): DID <-> HTTPS URL of its DID document, and the city's document.

Mapping (spec §3.2): ``did:web:<host>[%3A<port>][:<path>...]`` ->
``https://<host>[:<port>]/<path>/did.json``, or ``/.well-known/did.json`` without a path.
The port colon is percent-encoded because ``:`` separates path segments in the DID.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from identity.core.multikey import MultikeyError, encode_ed25519_public_key

PREFIX = "did:web:"
DID_CONTEXT = "https://www.w3.org/ns/did/v1"
MULTIKEY_CONTEXT = "https://w3id.org/security/multikey/v1"
WELL_KNOWN_PATH = "/.well-known/did.json"

_LABEL = r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)"
_HOST_RE = re.compile(rf"^{_LABEL}(?:\.{_LABEL})*$")
_SEGMENT_RE = re.compile(r"^(?:[A-Za-z0-9._~!$&'()*+,;=@-]|%[0-9A-Fa-f]{2})+$")


class DIDWebError(ValueError):
    """Not a valid did:web DID, or a URL that has no did:web form."""


def _check_host(host: str) -> str:
    if not _HOST_RE.match(host) or len(host) > 253:
        raise DIDWebError(f"invalid did:web host {host!r}")
    return host.lower()


def _check_port(port: str) -> int:
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise DIDWebError(f"invalid did:web port {port!r}")
    return int(port)


def did_to_url(did: str, *, scheme: str = "https") -> str:
    """did:web -> URL of its DID document. ``scheme="http"`` only for local development."""
    if scheme not in ("https", "http"):
        raise DIDWebError("scheme must be https (or http for local development)")
    if not isinstance(did, str) or not did.startswith(PREFIX):
        raise DIDWebError("not a did:web DID (expected prefix 'did:web:')")
    if any(ch in did for ch in "#?/"):
        raise DIDWebError("did:web must be a bare DID (no '/', query or fragment)")
    authority, *path = did[len(PREFIX) :].split(":")
    if not authority:
        raise DIDWebError("did:web has an empty host")
    host, sep, port = unquote(authority).partition(":")
    if "%" in host or re.search(r"%(?!3[Aa])", authority):
        raise DIDWebError("only the port separator %3A may be percent-encoded in the host")
    netloc = _check_host(host)
    if sep:
        netloc += f":{_check_port(port)}"
    for segment in path:
        if not _SEGMENT_RE.match(segment):
            raise DIDWebError(f"invalid did:web path segment {segment!r}")
    suffix = "/" + "/".join(path) + "/did.json" if path else WELL_KNOWN_PATH
    return f"{scheme}://{netloc}{suffix}"


def url_to_did(url: str) -> str:
    """A DID-document URL (or a bare origin / path) -> its did:web.

    ``https://example.com`` and ``https://example.com/.well-known/did.json`` both give
    ``did:web:example.com``; ``https://example.com:8443/user/alice/did.json`` gives
    ``did:web:example.com%3A8443:user:alice``.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http"):
        raise DIDWebError("did:web URLs use https")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise DIDWebError("did:web URL must not carry a query, fragment or credentials")
    host = _check_host(parts.hostname or "")
    try:
        port = parts.port
    except ValueError as exc:
        raise DIDWebError(f"invalid port in {url!r}") from exc
    authority = host + (f"%3A{port}" if port is not None else "")
    path = parts.path
    if path in ("", "/", WELL_KNOWN_PATH):
        segments: list[str] = []
    else:
        if path.endswith("/did.json"):
            path = path[: -len("/did.json")]
        segments = [s for s in path.split("/") if s]
        if not segments:
            raise DIDWebError(f"cannot map path {parts.path!r} to did:web")
    encoded = [quote(unquote(s), safe="._~!$&'()*+,;=@-") for s in segments]
    return ":".join([PREFIX.rstrip(":"), authority, *encoded])


def city_did_document(
    did: str,
    signing_keys: Sequence[tuple[str, bytes]],
    *,
    also_known_as: Sequence[str] = (),
) -> dict[str, Any]:
    """The city's DID document: one Multikey Ed25519 verification method per (key id, public key).

    Every key may assert (sign credentials) and authenticate; listing retired keys here keeps
    old credentials verifiable after a key rotation, so callers pass all keys still trusted.
    """
    did_to_url(did)  # validates the DID
    if not signing_keys:
        raise DIDWebError("a city DID document needs at least one signing key")
    methods: list[dict[str, Any]] = []
    for key_id, public_key in signing_keys:
        if not key_id or any(ch in key_id for ch in "#/?: "):
            raise DIDWebError(f"invalid key id {key_id!r}")
        try:
            multibase = encode_ed25519_public_key(public_key)
        except MultikeyError as exc:
            raise DIDWebError(f"key {key_id}: {exc}") from exc
        methods.append(
            {
                "id": f"{did}#{key_id}",
                "type": "Multikey",
                "controller": did,
                "publicKeyMultibase": multibase,
            }
        )
    ids = [m["id"] for m in methods]
    if len(set(ids)) != len(ids):
        raise DIDWebError("duplicate key id in city DID document")
    document: dict[str, Any] = {
        "@context": [DID_CONTEXT, MULTIKEY_CONTEXT],
        "id": did,
        "verificationMethod": methods,
        "authentication": ids,
        "assertionMethod": ids,
    }
    if also_known_as:
        document["alsoKnownAs"] = list(also_known_as)
    return document
