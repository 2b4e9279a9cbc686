"""Bitstring Status Lists: allocating a credential's random index, flipping bits, re-signing."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from identity import keys
from identity.core import credentials, status_list
from identity.core.jcs import canonicalize
from identity.models import IssuedCredential, StatusList
from identity.selectors.status_lists import status_list_url
from ledger import services as ledger


def _list_length() -> int:
    return max(settings.CIVIC_STATUS_LIST_LENGTH, status_list.MIN_LENGTH_BITS)


def _sign_list(row: StatusList, bits: status_list.StatusList) -> None:
    """Re-sign the list credential for the row's new version and log its hash on the ledger."""
    city = keys.load_city_keys()
    now = timezone.now()
    unsigned = status_list.status_list_credential(
        credential_id=status_list_url(row),
        issuer=city.did,
        purpose=row.purpose,  # type: ignore[arg-type]
        status_list=bits,
        valid_from=now,
        ttl_ms=settings.CIVIC_STATUS_LIST_TTL_MS,
    )
    row.version += 1
    row.credential = credentials.issue(
        unsigned, city.signing_key, city.verification_method, created=now
    )
    row.save(update_fields=["version", "credential", "updated_at"])
    ledger.append(
        ledger.CREDENTIALS_LOG,
        "status_list.version",
        {
            "list": row.credential["id"],
            "purpose": row.purpose,
            "version": row.version,
            "sha256": hashlib.sha256(canonicalize(row.credential)).hexdigest(),
        },
    )


def _create_list(purpose: str, number: int) -> StatusList:
    length = _list_length()
    row = StatusList(purpose=purpose, number=number, length_bits=length, credential={})
    try:
        with transaction.atomic():
            row.save()
            _sign_list(row, status_list.StatusList(length))
    except IntegrityError:
        row = StatusList.objects.get(purpose=purpose, number=number)
    return row


def allocate_index(purpose: str) -> tuple[StatusList, int]:
    """A random, unused index in the newest list of ``purpose`` (a new list once half full)."""
    row = StatusList.objects.select_for_update().filter(purpose=purpose).order_by("-number").first()
    if row is None:
        row = _create_list(purpose, 1)
        row = StatusList.objects.select_for_update().get(pk=row.pk)
    field = "revocation" if purpose == StatusList.Purpose.REVOCATION else "suspension"
    taken = set(
        IssuedCredential.objects.filter(**{f"{field}_list": row}).values_list(
            f"{field}_index", flat=True
        )
    )
    if len(taken) * 2 >= row.length_bits:
        row = _create_list(purpose, row.number + 1)
        row = StatusList.objects.select_for_update().get(pk=row.pk)
        taken = set()
    return row, status_list.random_free_index(row.length_bits, taken)


def set_bit(row_id: int, index: int, value: bool) -> StatusList:
    """Set one status bit and re-publish the signed list at once."""
    row = StatusList.objects.select_for_update().get(pk=row_id)
    bits = status_list.StatusList.decode(row.credential["credentialSubject"]["encodedList"])
    bits.set(index, value)
    _sign_list(row, bits)
    return row
