"""A trustee's secret key material in a file on the trustee's own machine.

The secret never leaves that machine in the clear: the file is JSON whose payload is encrypted
at rest with AES-256-GCM under a key stretched from a passphrase with scrypt. The public header
(election, trustee index, KDF parameters) is authenticated as AES-GCM associated data, so
editing any byte of the file is detected. A separate passphrase check value lets us tell the
trustee "wrong passphrase" apart from "the file was damaged" — it gives an attacker nothing the
GCM tag would not already give them (both allow offline passphrase guessing, which scrypt
slows down).

Layout (every byte is specified in docs/protocol-trustees.md § Trustee secret file):

    {
      "format": "civic-trustee-secret/1",
      "election_id": "...", "trustee_index": 3,
      "kdf": {"name": "scrypt", "salt": "<32 hex>", "log2_n": 15, "r": 8, "p": 1},
      "cipher": {"name": "AES-256-GCM", "nonce": "<24 hex>"},
      "check": "<64 hex>",
      "ciphertext": "<hex>"
    }
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import tempfile
from pathlib import Path
from typing import Any

import rfc8785
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from . import strict_json

FORMAT = "civic-trustee-secret/1"
DEFAULT_LOG2_N = 15  # 32 MiB of memory, ~0.1 s: slow for guessers, quick for the trustee
MIN_LOG2_N = 14  # refuse files whose KDF was weakened below this (downgrade protection)
MAX_LOG2_N = 22
SALT_BYTES = 16
NONCE_BYTES = 12
_TOP_KEYS = {"format", "election_id", "trustee_index", "kdf", "cipher", "check", "ciphertext"}


class TrusteeFileError(ValueError):
    """Any problem reading a trustee file; the message is meant for the trustee to read."""


class WrongPassphraseError(TrusteeFileError):
    """The passphrase does not open this file (or the KDF header was altered)."""


class CorruptTrusteeFileError(TrusteeFileError):
    """The file is malformed or was modified after it was written."""


def derive_keys(passphrase: str, salt: bytes, log2_n: int, r: int, p: int) -> tuple[bytes, bytes]:
    """Return (aes_key, check_key): one scrypt call, two independent 32-byte halves."""
    if not passphrase:
        raise TrusteeFileError("passphrase must not be empty")
    okm = Scrypt(salt=salt, length=64, n=1 << log2_n, r=r, p=p).derive(passphrase.encode("utf-8"))
    return okm[:32], okm[32:]


def _header(
    election_id: str, trustee_index: int, kdf: dict[str, Any], cipher: dict[str, Any]
) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "election_id": election_id,
        "trustee_index": trustee_index,
        "kdf": kdf,
        "cipher": cipher,
    }


def header_aad(header: dict[str, Any]) -> bytes:
    """Associated data = RFC 8785 canonical JSON of the header (everything but check/ciphertext)."""
    return rfc8785.dumps(header)


def _check_value(check_key: bytes, aad: bytes) -> bytes:
    return hmac.new(check_key, b"civic-trustee-file-check" + aad, hashlib.sha256).digest()


def encrypt_trustee_secret(
    secret: dict[str, Any],
    passphrase: str,
    *,
    election_id: str,
    trustee_index: int,
    log2_n: int = DEFAULT_LOG2_N,
    salt: bytes | None = None,
    nonce: bytes | None = None,
) -> dict[str, Any]:
    """Encrypt a JSON-serialisable secret into the file document (a dict).

    ``salt`` and ``nonce`` are fresh random values unless given; fixing them exists only for
    the published test vectors (a reused nonce under the same passphrase breaks AES-GCM).
    """
    if not MIN_LOG2_N <= log2_n <= MAX_LOG2_N:
        raise TrusteeFileError(f"scrypt log2_n must be in [{MIN_LOG2_N}, {MAX_LOG2_N}]")
    if not isinstance(trustee_index, int) or trustee_index < 1:
        raise TrusteeFileError("trustee_index must be a positive integer")
    salt = secrets.token_bytes(SALT_BYTES) if salt is None else salt
    nonce = secrets.token_bytes(NONCE_BYTES) if nonce is None else nonce
    if len(salt) != SALT_BYTES or len(nonce) != NONCE_BYTES:
        raise TrusteeFileError(f"salt must be {SALT_BYTES} bytes and nonce {NONCE_BYTES} bytes")
    kdf = {"name": "scrypt", "salt": salt.hex(), "log2_n": log2_n, "r": 8, "p": 1}
    cipher = {"name": "AES-256-GCM", "nonce": nonce.hex()}
    header = _header(election_id, trustee_index, kdf, cipher)
    aad = header_aad(header)
    aes_key, check_key = derive_keys(passphrase, salt, log2_n, 8, 1)
    plaintext = rfc8785.dumps(secret)
    ciphertext = AESGCM(aes_key).encrypt(nonce, plaintext, aad)
    return {**header, "check": _check_value(check_key, aad).hex(), "ciphertext": ciphertext.hex()}


def _hex_field(obj: dict[str, Any], key: str, length: int | None = None) -> bytes:
    value = obj.get(key)
    if not isinstance(value, str):
        raise CorruptTrusteeFileError(f"trustee file: '{key}' must be a hex string")
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        raise CorruptTrusteeFileError(f"trustee file: '{key}' is not valid hex") from None
    if value != raw.hex():
        raise CorruptTrusteeFileError(f"trustee file: '{key}' must be lowercase hex")
    if length is not None and len(raw) != length:
        raise CorruptTrusteeFileError(f"trustee file: '{key}' must be {length} bytes")
    return raw


def _int_field(obj: dict[str, Any], key: str) -> int:
    value = obj.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise CorruptTrusteeFileError(f"trustee file: '{key}' must be an integer")
    return value


def decrypt_trustee_secret(document: dict[str, Any], passphrase: str) -> dict[str, Any]:
    """Open a file document; raise WrongPassphraseError or CorruptTrusteeFileError on failure."""
    if not isinstance(document, dict) or set(document) != _TOP_KEYS:
        raise CorruptTrusteeFileError(
            "trustee file: unexpected layout (expected keys: " + ", ".join(sorted(_TOP_KEYS)) + ")"
        )
    if document["format"] != FORMAT:
        raise CorruptTrusteeFileError(f"trustee file: unsupported format {document['format']!r}")
    election_id = document["election_id"]
    if not isinstance(election_id, str):
        raise CorruptTrusteeFileError("trustee file: 'election_id' must be a string")
    trustee_index = _int_field(document, "trustee_index")
    kdf, cipher = document["kdf"], document["cipher"]
    if not isinstance(kdf, dict) or set(kdf) != {"name", "salt", "log2_n", "r", "p"}:
        raise CorruptTrusteeFileError("trustee file: malformed 'kdf' object")
    if kdf["name"] != "scrypt":
        raise CorruptTrusteeFileError("trustee file: kdf must be scrypt")
    salt = _hex_field(kdf, "salt", SALT_BYTES)
    log2_n, r, p = _int_field(kdf, "log2_n"), _int_field(kdf, "r"), _int_field(kdf, "p")
    if not MIN_LOG2_N <= log2_n <= MAX_LOG2_N or r != 8 or p != 1:
        raise CorruptTrusteeFileError("trustee file: scrypt parameters out of the allowed range")
    if not isinstance(cipher, dict) or set(cipher) != {"name", "nonce"}:
        raise CorruptTrusteeFileError("trustee file: malformed 'cipher' object")
    if cipher["name"] != "AES-256-GCM":
        raise CorruptTrusteeFileError("trustee file: cipher must be AES-256-GCM")
    nonce = _hex_field(cipher, "nonce", NONCE_BYTES)
    check = _hex_field(document, "check", 32)
    ciphertext = _hex_field(document, "ciphertext")

    header = _header(election_id, trustee_index, kdf, cipher)
    aad = header_aad(header)
    aes_key, check_key = derive_keys(passphrase, salt, log2_n, r, p)
    if not hmac.compare_digest(_check_value(check_key, aad), check):
        raise WrongPassphraseError(
            "wrong passphrase for this trustee file (or its header was altered)"
        )
    try:
        plaintext = AESGCM(aes_key).decrypt(nonce, ciphertext, aad)
    except InvalidTag:
        raise CorruptTrusteeFileError(
            "trustee file is damaged or was modified: authentication failed"
        ) from None
    try:
        secret = strict_json.loads(plaintext)
    except ValueError:
        raise CorruptTrusteeFileError("trustee file: decrypted payload is not JSON") from None
    if not isinstance(secret, dict):
        raise CorruptTrusteeFileError("trustee file: decrypted payload must be a JSON object")
    return secret


def write_trustee_file(
    path: str | os.PathLike[str],
    secret: dict[str, Any],
    passphrase: str,
    *,
    election_id: str,
    trustee_index: int,
    log2_n: int = DEFAULT_LOG2_N,
) -> Path:
    """Write atomically with mode 0600: a crash never leaves a half-written key file."""
    target = Path(path)
    document = encrypt_trustee_secret(
        secret, passphrase, election_id=election_id, trustee_index=trustee_index, log2_n=log2_n
    )
    fd, tmp_name = tempfile.mkstemp(prefix=".trustee-", dir=target.parent or Path("."))
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(document, handle, indent=2, sort_keys=True)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return target


def read_trustee_file(path: str | os.PathLike[str], passphrase: str) -> dict[str, Any]:
    """Read and decrypt; every failure is a TrusteeFileError with a readable message."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TrusteeFileError(f"trustee file not found: {path}") from None
    except UnicodeDecodeError:
        raise CorruptTrusteeFileError("trustee file is not UTF-8 text") from None
    try:
        document = strict_json.loads(text)
    except ValueError:
        raise CorruptTrusteeFileError("trustee file is not valid JSON") from None
    return decrypt_trustee_secret(document, passphrase)
