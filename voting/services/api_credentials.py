"""API credentials of trustees and officials: made on the account's own page, shown once, stored
only as a hash.

A credential is ``<key_id>.<secret>``: the key id is public (it finds the row), the secret is
256 random bits of which only the SHA-256 is kept, so a plain hash suffices (nothing to guess)
and a leaked database gives no usable credential. Programs send it as
``Authorization: Bearer <key_id>.<secret>`` (voting.authentication).

A credential authenticates its account, nothing more: what the account may do is decided by
each endpoint's permission class (IsTrustee on the ceremony, IsOfficial on the officials' API),
so a trustee's credential cannot reach the officials' API and the other way round. Only accounts
holding an API role (trustee or official) may make one or use one.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from civic.errors import InvalidInput, NotFound
from civic.roles import Role, user_has_role
from voting.errors import ApiRoleRequired, CredentialLimitReached
from voting.models import ApiCredential

KEY_ID_RE = re.compile(r"^[0-9a-f]{16}$")
SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")
MAX_LABEL = 100
API_ROLES = (Role.TRUSTEE, Role.OFFICIAL)


@dataclass(frozen=True)
class NewCredential:
    """The row and the whole token: the only moment the secret exists outside its owner's hands."""

    credential: ApiCredential
    token: str


def secret_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def has_api_role(user: AbstractBaseUser) -> bool:
    """True while the (active) account holds a role that has an API: trustee or official."""
    return any(user_has_role(user, role) for role in API_ROLES)


@transaction.atomic
def create_credential(user: AbstractBaseUser, label: str = "") -> NewCredential:
    """A new credential for the account itself; the token is returned once and never again."""
    if not has_api_role(user):
        raise ApiRoleRequired("only trustee and official accounts have API credentials")
    label = (label or "").strip()
    if len(label) > MAX_LABEL:
        raise InvalidInput({"label": f"at most {MAX_LABEL} characters"})
    active = ApiCredential.objects.select_for_update().filter(user=user, revoked_at=None)
    if len(active) >= settings.CIVIC_API_MAX_CREDENTIALS:
        raise CredentialLimitReached(
            f"at most {settings.CIVIC_API_MAX_CREDENTIALS} active credentials: revoke one first"
        )
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    credential = ApiCredential.objects.create(
        user=user, key_id=key_id, secret_sha256=secret_digest(secret), label=label
    )
    return NewCredential(credential, f"{key_id}.{secret}")


@transaction.atomic
def revoke_credential(user: AbstractBaseUser, key_id: str) -> ApiCredential:
    """Revoke one of the user's own credentials (revoking twice keeps the first time)."""
    credential = (
        ApiCredential.objects.select_for_update().filter(user=user, key_id=str(key_id)).first()
    )
    if credential is None:
        raise NotFound("no such credential of yours")
    if credential.revoked_at is None:
        credential.revoked_at = timezone.now()
        credential.save(update_fields=["revoked_at"])
    return credential


def credentials_of(user: AbstractBaseUser) -> list[ApiCredential]:
    """The user's credentials, newest first (key id, label, dates: never the secret)."""
    return list(ApiCredential.objects.filter(user=user))


def authenticate_token(token: str) -> tuple[ApiCredential | None, str]:
    """(credential, "") for a valid token, else (None, why). Records the time of use.

    The hash is compared in constant time; a wrong key id costs the same hash as a right one.
    """
    key_id, _, secret = (token or "").partition(".")
    if not KEY_ID_RE.match(key_id) or not SECRET_RE.match(secret):
        return None, "malformed credential (expected <key id>.<secret>)"
    credential = ApiCredential.objects.select_related("user").filter(key_id=key_id).first()
    presented = secret_digest(secret)
    stored = credential.secret_sha256 if credential is not None else "0" * 64
    if not hmac.compare_digest(presented, stored) or credential is None:
        return None, "invalid credential"
    if credential.revoked_at is not None:
        return None, "this credential was revoked"
    if not has_api_role(credential.user):
        return None, "the credential's account is no longer an active trustee or official"
    now = timezone.now()
    ApiCredential.objects.filter(pk=credential.pk).update(last_used_at=now)
    credential.last_used_at = now
    return credential, ""
