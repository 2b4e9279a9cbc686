"""Status lists: their public URLs and signed list credentials, read from this server's state."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import QuerySet
from django.urls import reverse

from identity import keys
from identity.models import StatusList


def status_list_url(row: StatusList) -> str:
    path = reverse("identity:status-list", kwargs={"purpose": row.purpose, "number": row.number})
    return keys.public_base_url() + path


def status_list_by_url(url: str) -> Mapping[str, Any] | None:
    """The signed list credential for one of this city's status list URLs (no network call)."""
    prefix = keys.public_base_url()
    if not isinstance(url, str) or not url.startswith(prefix):
        return None
    parts = url[len(prefix) :].strip("/").split("/")
    if len(parts) != 4 or parts[:2] != ["identity", "status"] or not parts[3].isdigit():
        return None
    row = StatusList.objects.filter(purpose=parts[2], number=int(parts[3])).first()
    return row.credential if row is not None and row.credential else None


def status_list_row(purpose: str, number: int) -> StatusList | None:
    return StatusList.objects.filter(purpose=purpose, number=number).first()


def status_lists() -> QuerySet[StatusList]:
    return StatusList.objects.all()
