"""The city's did:web signing keys: a JSON file outside the database and the repository.

A database dump must never be able to sign a credential, so the private keys live in a file:
``settings.CIVIC_CITY_KEY_FILE`` when set (a deployment mounts it as a secret), else
``var/city_keys.json``, generated once with mode 0600 (``manage.py identity_init_city_keys``;
first use generates it too, so a fresh checkout just works).

File format::

    {"keys": [{"id": "key-1", "privateKeyMultibase": "z3u2...", "created": "...Z"}],
     "active": "key-1"}

Every listed key appears in the DID document (old credentials stay verifiable after a key
rotation); only ``active`` signs new credentials and status lists.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from civic import secret_files
from identity.core import did_web
from identity.core.data_integrity import format_datetime
from identity.core.multikey import (
    MultikeyError,
    decode_ed25519_private_key,
    encode_ed25519_private_key,
)

DEFAULT_DID_WEB_HOST = "localhost%3A8000"


@dataclass(frozen=True)
class CityKeys:
    """The city's DID, the key that signs now, and every public key still trusted."""

    did: str
    active_key_id: str
    signing_key: Ed25519PrivateKey
    public_keys: tuple[tuple[str, bytes], ...]

    @property
    def verification_method(self) -> str:
        return f"{self.did}#{self.active_key_id}"


def did_web_host() -> str:
    """The did:web authority, port colon percent-encoded (``civic.example`` or ``localhost%3A8000``)."""
    return settings.CIVIC_DID_WEB_HOST or DEFAULT_DID_WEB_HOST


def city_did() -> str:
    did = "did:web:" + did_web_host()
    try:
        did_web.did_to_url(did)
    except did_web.DIDWebError as exc:
        raise ImproperlyConfigured(f"CIVIC_DID_WEB_HOST gives an invalid did:web: {exc}") from exc
    return did


def public_base_url() -> str:
    """Absolute base URL of this site, used in credential and status-list ids.

    ``CIVIC_PUBLIC_BASE_URL`` when set; else derived from the did:web host (plain http for
    localhost, as did:web itself is only ever https in production).
    """
    configured = settings.CIVIC_PUBLIC_BASE_URL
    if configured:
        return configured.rstrip("/")
    host = unquote(did_web_host().split(":", 1)[0])
    scheme = "http" if host.split(":")[0] in ("localhost", "127.0.0.1") else "https"
    return f"{scheme}://{host}"


def verifier_domain() -> str:
    """The ``domain`` presentations must be bound to: the site's host (with port)."""
    return settings.CIVIC_VC_DOMAIN or unquote(did_web_host().split(":", 1)[0])


def key_file() -> Path:
    configured = settings.CIVIC_CITY_KEY_FILE
    return Path(configured) if configured else Path(settings.VAR_DIR) / "city_keys.json"


def _new_key_entry(key_id: str) -> dict[str, str]:
    seed = Ed25519PrivateKey.generate().private_bytes_raw()
    return {
        "id": key_id,
        "privateKeyMultibase": encode_ed25519_private_key(seed),
        "created": format_datetime(datetime.now(UTC)),
    }


def ensure_key_file(*, rotate: bool = False) -> tuple[Path, bool]:
    """Create the key file with one fresh key if it is missing (or add and activate a new key).

    Returns (path, changed). Safe against concurrent callers (an exclusive lock file).
    """
    path = key_file()
    with secret_files.exclusive_lock(path):
        if path.exists() and not rotate:
            return path, False
        data: dict[str, Any] = {"keys": []}
        if path.exists():
            data = _parse(path.read_text(), path)
        key_id = f"key-{len(data['keys']) + 1}"
        data["keys"].append(_new_key_entry(key_id))
        data["active"] = key_id
        secret_files.write_json_atomically(path, data)
        _cache.clear()
        return path, True


def _parse(text: str, path: Path) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{path} is not JSON: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("keys"), list) or not data["keys"]:
        raise ImproperlyConfigured(f"{path} must hold {{'keys': [...], 'active': id}}")
    return data


_cache: dict[tuple[str, str, float], CityKeys] = {}


def load_city_keys() -> CityKeys:
    """The city's keys (generated on first use when no file is configured or present)."""
    path = key_file()
    if not path.exists():
        if settings.CIVIC_CITY_KEY_FILE:
            raise ImproperlyConfigured(
                f"CIVIC_CITY_KEY_FILE points at {path}, which does not exist"
            )
        ensure_key_file()
    did = city_did()
    cache_key = (str(path), did, path.stat().st_mtime)
    cached = _cache.get(cache_key)
    if cached is not None:
        return cached
    data = _parse(path.read_text(), path)
    public_keys: list[tuple[str, bytes]] = []
    private_by_id: dict[str, Ed25519PrivateKey] = {}
    for entry in data["keys"]:
        try:
            key_id = str(entry["id"])
            private = Ed25519PrivateKey.from_private_bytes(
                decode_ed25519_private_key(entry["privateKeyMultibase"])
            )
        except (KeyError, TypeError, ValueError, MultikeyError) as exc:
            raise ImproperlyConfigured(f"{path}: malformed key entry: {exc}") from exc
        private_by_id[key_id] = private
        public_keys.append(
            (key_id, private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))
        )
    active = str(data.get("active") or public_keys[-1][0])
    if active not in private_by_id:
        raise ImproperlyConfigured(f"{path}: active key {active!r} is not in the key list")
    keys = CityKeys(did, active, private_by_id[active], tuple(public_keys))
    _cache.clear()
    _cache[cache_key] = keys
    return keys


def derived_secret(info: bytes) -> bytes:
    """32 bytes derived (HKDF-SHA256) for one purpose, named by ``info``, from the city key file.

    The input is the FIRST key of the file, which rotation never removes, so a secret derived
    today is derived again after any rotation; and a database dump alone never holds it (other
    apps use it to seal their own keys at rest).
    """
    path = key_file()
    if not path.exists():
        load_city_keys()
    data = _parse(path.read_text(), path)
    try:
        seed = decode_ed25519_private_key(data["keys"][0]["privateKeyMultibase"])
    except (KeyError, TypeError, MultikeyError) as exc:
        raise ImproperlyConfigured(f"{path}: malformed first key: {exc}") from exc
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(seed)


def city_did_document() -> dict[str, Any]:
    keys = load_city_keys()
    return did_web.city_did_document(keys.did, keys.public_keys)
