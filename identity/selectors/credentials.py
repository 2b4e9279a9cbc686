"""Issued residency credentials: a citizen's own, the one usable for voting, the officials' list."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from identity.models import IssuedCredential
from identity.selectors.dids import current_did


def credentials_of(user: AbstractBaseUser) -> QuerySet[IssuedCredential]:
    return IssuedCredential.objects.filter(claim__user=user)


def credential_of(user: AbstractBaseUser, credential_pk: int) -> IssuedCredential | None:
    return credentials_of(user).filter(pk=credential_pk).first()


def usable_credential(user: AbstractBaseUser) -> IssuedCredential | None:
    """The citizen's active credential for their current DID: the one a presentation can use."""
    current = current_did(user)
    if current is None:
        return None
    return next(
        (c for c in credentials_of(user) if c.status == "active" and c.subject_did == current.did),
        None,
    )


def all_credentials() -> QuerySet[IssuedCredential]:
    return IssuedCredential.objects.select_related("claim", "claim__user")


def credential(credential_pk: int) -> IssuedCredential | None:
    return all_credentials().filter(pk=credential_pk).first()
