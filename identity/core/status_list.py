"""W3C Bitstring Status List v1.0: revocation and suspension without per-credential lookups.

One GZIP-compressed bitstring of at least 131,072 entries is published as a signed
credential; a credential points at its (randomly chosen) index. Verifiers download the whole
list, so the issuer never learns which credential is being checked, and a large list hides
each holder in the crowd (spec §5 privacy considerations).

Bit order (spec §3.1): index 0 is the left-most bit, i.e. the most significant bit of byte 0.
"""

from __future__ import annotations

import base64
import secrets
import zlib
from collections.abc import Callable, Collection, Container, Mapping
from datetime import datetime
from typing import Any, Literal

from identity.core.credentials import VC_V2_CONTEXT, verify_credential
from identity.core.data_integrity import Problem, Resolver, format_datetime

MIN_LENGTH_BITS = 131_072  # spec minimum: 16 KiB, for herd privacy
MAX_DECODED_BYTES = 16 * 1024 * 1024  # refuse GZIP bombs: 134 million entries is plenty
ENTRY_TYPE = "BitstringStatusListEntry"
LIST_TYPE = "BitstringStatusList"
LIST_CREDENTIAL_TYPE = "BitstringStatusListCredential"
StatusPurpose = Literal["revocation", "suspension"]
PURPOSES: tuple[str, ...] = ("revocation", "suspension")

# Error codes from the spec's §3.3 processing errors.
STATUS_RETRIEVAL_ERROR = "STATUS_RETRIEVAL_ERROR"
STATUS_VERIFICATION_ERROR = "STATUS_VERIFICATION_ERROR"
STATUS_LIST_LENGTH_ERROR = "STATUS_LIST_LENGTH_ERROR"
RANGE_ERROR = "RANGE_ERROR"
REVOKED = "REVOKED"
SUSPENDED = "SUSPENDED"


class StatusListError(ValueError):
    """Malformed list, entry or index; ``code`` is one of the spec's processing error codes."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class StatusList:
    """A mutable bitstring of status flags (statusSize 1)."""

    def __init__(
        self, length_bits: int = MIN_LENGTH_BITS, *, _bits: bytearray | None = None
    ) -> None:
        if length_bits < MIN_LENGTH_BITS or length_bits % 8:
            raise StatusListError(
                STATUS_LIST_LENGTH_ERROR,
                f"a status list needs at least {MIN_LENGTH_BITS} entries, in whole bytes",
            )
        self._bits = _bits if _bits is not None else bytearray(length_bits // 8)

    @property
    def length(self) -> int:
        return len(self._bits) * 8

    def _locate(self, index: int) -> tuple[int, int]:
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < self.length:
            raise StatusListError(RANGE_ERROR, f"index {index!r} outside 0..{self.length - 1}")
        return index // 8, 0x80 >> (index % 8)

    def get(self, index: int) -> int:
        byte, mask = self._locate(index)
        return 1 if self._bits[byte] & mask else 0

    def set(self, index: int, value: bool | int) -> None:
        byte, mask = self._locate(index)
        if value:
            self._bits[byte] |= mask
        else:
            self._bits[byte] &= ~mask & 0xFF

    def to_bytes(self) -> bytes:
        return bytes(self._bits)

    def encode(self) -> str:
        """``encodedList``: multibase base64url (``u``, no padding) of the GZIP-compressed bits."""
        compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)  # gzip, mtime 0
        gz = compressor.compress(bytes(self._bits)) + compressor.flush()
        return "u" + base64.urlsafe_b64encode(gz).rstrip(b"=").decode("ascii")

    @classmethod
    def decode(cls, encoded_list: str, *, max_bytes: int = MAX_DECODED_BYTES) -> StatusList:
        """Parse an ``encodedList``; refuses other multibase codes, bad GZIP and short lists."""
        raw = decode_encoded_list(encoded_list, max_bytes=max_bytes)
        return cls(len(raw) * 8, _bits=bytearray(raw))


def decode_encoded_list(encoded_list: str, *, max_bytes: int = MAX_DECODED_BYTES) -> bytes:
    """``u``-multibase base64url -> GZIP -> raw bitstring bytes (at least 16 KiB)."""
    if not isinstance(encoded_list, str) or not encoded_list.startswith("u"):
        raise StatusListError(
            STATUS_VERIFICATION_ERROR, "encodedList must be multibase base64url ('u')"
        )
    body = encoded_list[1:]
    if not body or "=" in body:
        raise StatusListError(STATUS_VERIFICATION_ERROR, "encodedList must be unpadded base64url")
    try:
        gz = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except ValueError as exc:
        raise StatusListError(STATUS_VERIFICATION_ERROR, "encodedList is not base64url") from exc
    decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        raw = decompressor.decompress(gz, max_bytes)
    except zlib.error as exc:
        raise StatusListError(STATUS_VERIFICATION_ERROR, f"encodedList is not GZIP: {exc}") from exc
    if decompressor.unconsumed_tail:
        raise StatusListError(STATUS_LIST_LENGTH_ERROR, f"decoded list exceeds {max_bytes} bytes")
    if not decompressor.eof:
        raise StatusListError(STATUS_VERIFICATION_ERROR, "encodedList GZIP stream is truncated")
    if len(raw) * 8 < MIN_LENGTH_BITS:
        raise StatusListError(
            STATUS_LIST_LENGTH_ERROR, f"list has {len(raw) * 8} entries, under {MIN_LENGTH_BITS}"
        )
    return raw


def random_free_index(length: int, taken: Container[int], *, attempts: int = 10_000) -> int:
    """A uniformly random index not in ``taken``: sequential indexes would leak issuance order."""
    for _ in range(attempts):
        index = secrets.randbelow(length)
        if index not in taken:
            return index
    raise StatusListError(RANGE_ERROR, "status list is too full; start a new list")


def status_entry(*, list_credential_url: str, index: int, purpose: StatusPurpose) -> dict[str, Any]:
    """A ``BitstringStatusListEntry`` for a credential's ``credentialStatus``."""
    if purpose not in PURPOSES:
        raise StatusListError(STATUS_VERIFICATION_ERROR, f"unsupported statusPurpose {purpose!r}")
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise StatusListError(RANGE_ERROR, "statusListIndex must be a non-negative integer")
    return {
        "id": f"{list_credential_url}#{index}",
        "type": ENTRY_TYPE,
        "statusPurpose": purpose,
        "statusListIndex": str(index),
        "statusListCredential": list_credential_url,
    }


def status_list_credential(
    *,
    credential_id: str,
    issuer: str,
    purpose: StatusPurpose,
    status_list: StatusList,
    valid_from: datetime,
    valid_until: datetime | None = None,
    ttl_ms: int | None = None,
) -> dict[str, Any]:
    """An unsigned ``BitstringStatusListCredential`` publishing ``status_list``."""
    if purpose not in PURPOSES:
        raise StatusListError(STATUS_VERIFICATION_ERROR, f"unsupported statusPurpose {purpose!r}")
    subject: dict[str, Any] = {
        "id": f"{credential_id}#list",
        "type": LIST_TYPE,
        "statusPurpose": purpose,
        "encodedList": status_list.encode(),
    }
    if ttl_ms is not None:
        subject["ttl"] = ttl_ms
    credential: dict[str, Any] = {
        "@context": [VC_V2_CONTEXT],
        "id": credential_id,
        "type": ["VerifiableCredential", LIST_CREDENTIAL_TYPE],
        "issuer": issuer,
        "validFrom": format_datetime(valid_from),
        "credentialSubject": subject,
    }
    if valid_until is not None:
        credential["validUntil"] = format_datetime(valid_until)
    return credential


def parse_entry(entry: Mapping[str, Any]) -> tuple[str, int, str]:
    """(statusListCredential URL, index, purpose) of an entry, checking its shape."""
    if entry.get("type") != ENTRY_TYPE:
        raise StatusListError(
            STATUS_VERIFICATION_ERROR, f"credentialStatus type must be {ENTRY_TYPE}"
        )
    purpose = entry.get("statusPurpose")
    if purpose not in PURPOSES:
        raise StatusListError(STATUS_VERIFICATION_ERROR, f"unsupported statusPurpose {purpose!r}")
    raw_index = entry.get("statusListIndex")
    if not isinstance(raw_index, str) or not raw_index.isdigit() or not raw_index.isascii():
        raise StatusListError(RANGE_ERROR, "statusListIndex must be a string of decimal digits")
    url = entry.get("statusListCredential")
    if not isinstance(url, str) or not url:
        raise StatusListError(STATUS_RETRIEVAL_ERROR, "statusListCredential must be a URL")
    if entry.get("statusSize", 1) != 1:
        raise StatusListError(STATUS_VERIFICATION_ERROR, "only statusSize 1 is supported")
    return url, int(raw_index), purpose


def read_status(entry: Mapping[str, Any], list_credential: Mapping[str, Any]) -> int:
    """The status bit an entry points at, in an (already verified) status list credential.

    Follows spec §3.2: the list credential must be the one named, with the same purpose.
    """
    url, index, purpose = parse_entry(entry)
    if list_credential.get("id") != url:
        raise StatusListError(
            STATUS_VERIFICATION_ERROR, "status list credential id does not match the entry"
        )
    if LIST_CREDENTIAL_TYPE not in (list_credential.get("type") or []):
        raise StatusListError(STATUS_VERIFICATION_ERROR, f"not a {LIST_CREDENTIAL_TYPE}")
    subjects = list_credential.get("credentialSubject")
    subject = subjects[0] if isinstance(subjects, list) and len(subjects) == 1 else subjects
    if not isinstance(subject, Mapping) or subject.get("type") != LIST_TYPE:
        raise StatusListError(STATUS_VERIFICATION_ERROR, f"credentialSubject must be a {LIST_TYPE}")
    list_purposes = subject.get("statusPurpose")
    if purpose not in (list_purposes if isinstance(list_purposes, list) else [list_purposes]):
        raise StatusListError(
            STATUS_VERIFICATION_ERROR, "statusPurpose differs between entry and list"
        )
    return StatusList.decode(subject.get("encodedList")).get(index)  # type: ignore[arg-type]


def make_status_checker(
    fetch_list_credential: Callable[[str], Mapping[str, Any] | None],
    resolver: Resolver,
    *,
    trusted_issuers: Collection[str] | None = None,
    now: datetime | None = None,
) -> Callable[[Mapping[str, Any]], list[Problem]]:
    """A status checker for :func:`identity.core.credentials.verify_credential`.

    ``fetch_list_credential(url)`` returns the signed list credential (from the database, or
    over HTTP) or None; its proof and validity are verified before any bit is read.
    """

    def check(entry: Mapping[str, Any]) -> list[Problem]:
        try:
            url, _, purpose = parse_entry(entry)
        except StatusListError as exc:
            return [Problem(exc.code, exc.message)]
        list_credential = fetch_list_credential(url)
        if list_credential is None:
            return [Problem(STATUS_RETRIEVAL_ERROR, f"status list {url} could not be retrieved")]
        verification = verify_credential(
            list_credential, resolver, now=now, trusted_issuers=trusted_issuers
        )
        if not verification.verified:
            reasons = "; ".join(p.message for p in verification.problems)
            return [
                Problem(STATUS_VERIFICATION_ERROR, f"status list {url} does not verify: {reasons}")
            ]
        try:
            value = read_status(entry, list_credential)
        except StatusListError as exc:
            return [Problem(exc.code, exc.message)]
        if value:
            return [
                Problem(
                    REVOKED if purpose == "revocation" else SUSPENDED,
                    f"credential is {'revoked' if purpose == 'revocation' else 'suspended'}",
                )
            ]
        return []

    return check
