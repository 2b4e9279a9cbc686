"""C2SP signed-note (Ed25519), tlog-checkpoint bodies and tlog-cosignature/v1.

Pure module: no Django. Specs: https://c2sp.org/signed-note, https://c2sp.org/tlog-checkpoint,
https://c2sp.org/tlog-cosignature. The formats are byte-exact, so parsing is strict: anything
that another implementation could read differently is rejected with ``NoteError``.

Two Ed25519 signature types are supported:

* ``0x01`` plain signed-note signatures over the note text (the log's checkpoint signature);
* ``0x04`` cosignature/v1: a witness (here: an observer node) signs
  ``cosignature/v1\\ntime <t>\\n<checkpoint body>`` and the signature payload carries the
  8-byte big-endian timestamp before the 64-byte signature.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ALG_ED25519 = 0x01
ALG_COSIGNATURE_V1 = 0x04
SIGNATURE_PREFIX = "\u2014 "  # EM DASH + space starts every signature line
MAX_NOTE_BYTES = 1 << 20
MAX_SIGNATURES = 100
COSIGNATURE_HEADER = "cosignature/v1\n"
_MAX_TIMESTAMP = (1 << 63) - 1
_DECIMAL = re.compile(r"0|[1-9][0-9]*")


class NoteError(ValueError):
    """A note, key, checkpoint or signature that is malformed or does not verify."""


# --- keys ------------------------------------------------------------------------------------


def _is_valid_name(name: str) -> bool:
    """Key names are non-empty, contain no '+', and no whitespace (signed-note §Verifier keys)."""
    return bool(name) and "+" not in name and not any(ch.isspace() for ch in name)


def key_id(name: str, alg: int, public_key: bytes) -> bytes:
    """SHA-256(name || 0x0A || alg || public key)[:4]."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([alg]) + public_key).digest()[:4]


def _b64decode_strict(text: str) -> bytes:
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError) as exc:
        raise NoteError(f"invalid base64: {text[:40]!r}") from exc
    if base64.b64encode(raw).decode() != text:
        raise NoteError(f"non-canonical base64: {text[:40]!r}")
    return raw


@dataclass(frozen=True)
class Verifier:
    """A parsed verifier key ``<name>+<keyid hex>+<base64(alg || pubkey)>``."""

    name: str
    key_id: bytes
    alg: int
    public_key: bytes

    @property
    def key_id_hex(self) -> str:
        return self.key_id.hex()

    def __str__(self) -> str:
        material = base64.b64encode(bytes([self.alg]) + self.public_key).decode()
        return f"{self.name}+{self.key_id.hex()}+{material}"

    def verify_raw(self, message: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except (InvalidSignature, ValueError):
            return False
        return True


@dataclass(frozen=True)
class Signer:
    """A parsed signer key ``PRIVATE+KEY+<name>+<keyid hex>+<base64(alg || seed)>``."""

    name: str
    key_id: bytes
    alg: int
    seed: bytes = field(repr=False)

    def __str__(self) -> str:
        material = base64.b64encode(bytes([self.alg]) + self.seed).decode()
        return f"PRIVATE+KEY+{self.name}+{self.key_id.hex()}+{material}"

    @property
    def verifier(self) -> Verifier:
        public = Ed25519PrivateKey.from_private_bytes(self.seed).public_key().public_bytes_raw()
        return Verifier(self.name, self.key_id, self.alg, public)

    def sign_raw(self, message: bytes) -> bytes:
        return Ed25519PrivateKey.from_private_bytes(self.seed).sign(message)


def _parse_key_material(name: str, hex_id: str, b64: str, what: str) -> tuple[bytes, int, bytes]:
    if not _is_valid_name(name):
        raise NoteError(f"{what}: invalid key name {name!r}")
    if not re.fullmatch(r"[0-9a-f]{8}", hex_id):
        raise NoteError(f"{what}: key id must be 8 lowercase hex digits, got {hex_id!r}")
    material = _b64decode_strict(b64)
    if len(material) != 33 or material[0] not in (ALG_ED25519, ALG_COSIGNATURE_V1):
        raise NoteError(f"{what}: expected an Ed25519 key (type 0x01 or 0x04, 32 bytes)")
    return bytes.fromhex(hex_id), material[0], material[1:]


def parse_verifier_key(vkey: str) -> Verifier:
    """Parse a vkey and check that its key id matches its name and key (no silent mismatch)."""
    parts = vkey.strip().split("+", 2)
    if len(parts) != 3:
        raise NoteError(f"verifier key must be name+keyid+key, got {vkey[:60]!r}")
    name, hex_id, b64 = parts
    kid, alg, public = _parse_key_material(name, hex_id, b64, "verifier key")
    if key_id(name, alg, public) != kid:
        raise NoteError(f"verifier key {name}: key id {hex_id} does not match the key")
    return Verifier(name, kid, alg, public)


def parse_signer_key(skey: str) -> Signer:
    parts = skey.strip().split("+", 4)
    if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
        raise NoteError("signer key must be PRIVATE+KEY+name+keyid+key")
    name, hex_id, b64 = parts[2:]
    kid, alg, seed = _parse_key_material(name, hex_id, b64, "signer key")
    public = Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()
    if key_id(name, alg, public) != kid:
        raise NoteError(f"signer key {name}: key id {hex_id} does not match the key")
    return Signer(name, kid, alg, seed)


def _new_signer(name: str, alg: int) -> tuple[str, str]:
    if not _is_valid_name(name):
        raise NoteError(f"invalid key name {name!r}")
    private = Ed25519PrivateKey.generate()
    seed = private.private_bytes_raw()
    public = private.public_key().public_bytes_raw()
    signer = Signer(name, key_id(name, alg, public), alg, seed)
    return str(signer), str(signer.verifier)


def generate_signer(name: str) -> tuple[str, str]:
    """A fresh signed-note Ed25519 key pair: (signer key string, verifier key string)."""
    return _new_signer(name, ALG_ED25519)


def generate_cosigner(name: str) -> tuple[str, str]:
    """A fresh tlog-cosignature/v1 key pair (type 0x04): what an observer node signs with."""
    return _new_signer(name, ALG_COSIGNATURE_V1)


def _as_signer(signer: Signer | str) -> Signer:
    return signer if isinstance(signer, Signer) else parse_signer_key(signer)


def _as_verifier(verifier: Verifier | str) -> Verifier:
    return verifier if isinstance(verifier, Verifier) else parse_verifier_key(verifier)


# --- notes -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Signature:
    """One signature line: key name, 4-byte key id, and the rest of the decoded payload."""

    name: str
    key_id: bytes
    payload: bytes

    @property
    def line(self) -> str:
        encoded = base64.b64encode(self.key_id + self.payload).decode()
        return f"{SIGNATURE_PREFIX}{self.name} {encoded}"


@dataclass(frozen=True)
class VerifiedSignature:
    name: str
    key_id: bytes
    alg: int
    timestamp: int | None  # set for cosignatures
    line: str


def _check_text(text: str) -> None:
    if not text.endswith("\n"):
        raise NoteError("note text must end with a newline")
    for ch in text:
        if ch != "\n" and unicodedata.category(ch) == "Cc":
            raise NoteError(f"note text contains control character U+{ord(ch):04X}")


def parse_signature_line(line: str) -> Signature:
    """Parse ``— <name> <base64(keyid || payload)>`` (without the trailing newline)."""
    if not line.startswith(SIGNATURE_PREFIX):
        raise NoteError(f"signature line must start with an em dash and a space: {line[:40]!r}")
    name, sep, b64 = line[len(SIGNATURE_PREFIX) :].partition(" ")
    if not sep or not _is_valid_name(name) or " " in b64:
        raise NoteError(f"malformed signature line: {line[:60]!r}")
    raw = _b64decode_strict(b64)
    if len(raw) < 5:
        raise NoteError("signature payload too short")
    return Signature(name, raw[:4], raw[4:])


def split_note(note: str | bytes) -> tuple[str, list[Signature]]:
    """Split a signed note into its text and parsed signature lines (no verification)."""
    if isinstance(note, bytes):
        if len(note) > MAX_NOTE_BYTES:
            raise NoteError("note too large")
        try:
            note = note.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise NoteError("note is not valid UTF-8") from exc
    if len(note.encode("utf-8", "surrogatepass")) > MAX_NOTE_BYTES:
        raise NoteError("note too large")
    split = note.rfind("\n\n")
    if split < 0:
        raise NoteError("note has no blank line before its signatures")
    text, block = note[: split + 1], note[split + 2 :]
    _check_text(text)
    if not block.endswith("\n"):
        raise NoteError("signature block must end with a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError("too many signatures")
    return text, [parse_signature_line(line) for line in lines]


def _format_signature(name: str, kid: bytes, payload: bytes) -> str:
    return Signature(name, kid, payload).line


def sign_note(text: str, signer: Signer | str) -> str:
    """Sign ``text`` (must end with a newline) and return the whole note."""
    signer = _as_signer(signer)
    if signer.alg != ALG_ED25519:
        raise NoteError("cosigner keys sign with cosign(), not sign_note()")
    _check_text(text)
    sig = signer.sign_raw(text.encode())
    return f"{text}\n{_format_signature(signer.name, signer.key_id, sig)}\n"


def add_signature_lines(note: str, lines: Iterable[str]) -> str:
    """Append signature lines (e.g. cosignatures) to a signed note, skipping exact duplicates."""
    text, existing = split_note(note)
    current = [s.line for s in existing]
    for line in lines:
        parse_signature_line(line)
        if line not in current:
            current.append(line)
    return text + "\n" + "".join(line + "\n" for line in current)


def _verify_one(text: str, sig: Signature, verifier: Verifier) -> VerifiedSignature:
    if verifier.alg == ALG_ED25519:
        if len(sig.payload) != 64 or not verifier.verify_raw(text.encode(), sig.payload):
            raise NoteError(f"invalid signature from {verifier.name}+{verifier.key_id_hex}")
        return VerifiedSignature(sig.name, sig.key_id, verifier.alg, None, sig.line)
    timestamp = _verify_cosignature_payload(text, sig, verifier)
    return VerifiedSignature(sig.name, sig.key_id, verifier.alg, timestamp, sig.line)


def open_note(
    note: str | bytes, verifiers: Sequence[Verifier | str]
) -> tuple[str, list[VerifiedSignature]]:
    """Verify a note against known keys; return its text and the signatures that verified.

    Like Go's ``note.Open``: lines from unknown keys are ignored, but a line that claims a
    known key (name and key id) and does not verify is an error, as is a note that no known
    key signed. Duplicate signatures by one key are an error.
    """
    text, signatures = split_note(note)
    known = {}
    for v in verifiers:
        parsed = _as_verifier(v)
        known[(parsed.name, parsed.key_id)] = parsed
    verified: list[VerifiedSignature] = []
    seen: set[tuple[str, bytes]] = set()
    for sig in signatures:
        verifier = known.get((sig.name, sig.key_id))
        if verifier is None:
            continue
        if (sig.name, sig.key_id) in seen:
            raise NoteError(f"duplicate signature from {sig.name}")
        seen.add((sig.name, sig.key_id))
        verified.append(_verify_one(text, sig, verifier))
    if not verified:
        raise NoteError("note has no signature from a known key")
    return text, verified


# --- checkpoints -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    @property
    def body(self) -> str:
        return format_checkpoint(self.origin, self.size, self.root_hash, self.extensions)


def format_checkpoint(origin: str, size: int, root: bytes, extensions: Sequence[str] = ()) -> str:
    """``origin\\nsize\\nbase64(root)\\n[extension lines]`` exactly as tlog-checkpoint says."""
    if not origin or "\n" in origin:
        raise NoteError("checkpoint origin must be one non-empty line")
    if not isinstance(size, int) or not 0 <= size < 1 << 64:
        raise NoteError("checkpoint size must be a non-negative 64-bit integer")
    if len(root) != 32:
        raise NoteError("checkpoint root hash must be 32 bytes")
    for ext in extensions:
        if not ext or "\n" in ext:
            raise NoteError("checkpoint extension lines must be non-empty single lines")
    lines = [origin, str(size), base64.b64encode(root).decode(), *extensions]
    body = "".join(line + "\n" for line in lines)
    _check_text(body)
    return body


def parse_checkpoint(body: str) -> Checkpoint:
    """Parse and strictly validate a checkpoint body (the note text, not the signatures)."""
    _check_text(body)
    lines = body[:-1].split("\n")
    if len(lines) < 3:
        raise NoteError("checkpoint needs origin, size and root hash lines")
    origin, size_text, root_text, *extensions = lines
    if not origin:
        raise NoteError("checkpoint origin is empty")
    if not _DECIMAL.fullmatch(size_text) or len(size_text) > 20 or int(size_text) >= 1 << 64:
        raise NoteError(f"checkpoint size {size_text!r} is not a canonical decimal")
    root = _b64decode_strict(root_text)
    if len(root) != 32:
        raise NoteError("checkpoint root hash is not 32 bytes")
    if any(not ext for ext in extensions):
        raise NoteError("checkpoint has an empty extension line")
    return Checkpoint(origin, int(size_text), root, tuple(extensions))


def open_checkpoint(
    note: str | bytes, log_verifier: Verifier | str, origin: str | None = None
) -> tuple[Checkpoint, str]:
    """Verify a checkpoint note's log signature; return the parsed checkpoint and its body.

    The origin must match the log key name's expectation when given (a checkpoint for a
    different log signed with the same key is not this log's checkpoint).
    """
    verifier = _as_verifier(log_verifier)
    if verifier.alg != ALG_ED25519:
        raise NoteError("a log verifier key must be a signed-note Ed25519 key (type 0x01)")
    text, _ = open_note(note, [verifier])
    checkpoint = parse_checkpoint(text)
    if origin is not None and checkpoint.origin != origin:
        raise NoteError(f"checkpoint origin {checkpoint.origin!r} is not {origin!r}")
    return checkpoint, text


# --- cosignatures ----------------------------------------------------------------------------


def cosignature_message(checkpoint_body: str, timestamp: int) -> bytes:
    """The exact bytes an Ed25519 cosignature/v1 signs."""
    if not isinstance(timestamp, int) or not 0 <= timestamp <= _MAX_TIMESTAMP:
        raise NoteError("cosignature timestamp out of range")
    _check_text(checkpoint_body)
    return f"{COSIGNATURE_HEADER}time {timestamp}\n{checkpoint_body}".encode()


def cosign(checkpoint_body: str, cosigner: Signer | str, timestamp: int) -> str:
    """A cosignature/v1 signature line over a checkpoint body."""
    cosigner = _as_signer(cosigner)
    if cosigner.alg != ALG_COSIGNATURE_V1:
        raise NoteError("cosigning needs a cosignature/v1 key (type 0x04)")
    parse_checkpoint(checkpoint_body)
    sig = cosigner.sign_raw(cosignature_message(checkpoint_body, timestamp))
    payload = timestamp.to_bytes(8, "big") + sig
    return _format_signature(cosigner.name, cosigner.key_id, payload)


def parse_cosignature(line: str) -> tuple[Signature, int]:
    """Split a cosignature line into its signature and timestamp (no verification)."""
    sig = parse_signature_line(line)
    if len(sig.payload) != 8 + 64:
        raise NoteError("cosignature payload must be an 8-byte timestamp and a 64-byte signature")
    timestamp = int.from_bytes(sig.payload[:8], "big")
    if timestamp > _MAX_TIMESTAMP:
        raise NoteError("cosignature timestamp exceeds 2^63-1")
    return sig, timestamp


def _verify_cosignature_payload(text: str, sig: Signature, verifier: Verifier) -> int:
    if len(sig.payload) != 72:
        raise NoteError(f"cosignature from {verifier.name} has the wrong length")
    timestamp = int.from_bytes(sig.payload[:8], "big")
    if timestamp > _MAX_TIMESTAMP or not verifier.verify_raw(
        cosignature_message(text, timestamp), sig.payload[8:]
    ):
        raise NoteError(f"invalid cosignature from {verifier.name}+{verifier.key_id_hex}")
    return timestamp


def verify_cosignature(checkpoint_body: str, signature_line: str, cosigner: Verifier | str) -> int:
    """Check one cosignature line over a checkpoint body; return its timestamp.

    Raises ``NoteError`` when the line is malformed, names another key, or does not verify.
    """
    verifier = _as_verifier(cosigner)
    if verifier.alg != ALG_COSIGNATURE_V1:
        raise NoteError("cosigner verifier key must have type 0x04 (cosignature/v1)")
    sig, _ = parse_cosignature(signature_line)
    if (sig.name, sig.key_id) != (verifier.name, verifier.key_id):
        raise NoteError(f"cosignature is from {sig.name}, not {verifier.name}")
    parse_checkpoint(checkpoint_body)
    return _verify_cosignature_payload(checkpoint_body, sig, verifier)
