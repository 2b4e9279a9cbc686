"""Trustee API credentials: made on the trustee's page, shown once, stored only as a hash.

A credential is ``<key_id>.<secret>``: the key id is public (it finds the row), the secret is
256 random bits of which only the SHA-256 is kept, so a plain hash suffices (nothing to guess)
and a leaked database gives no usable credential. The trustee's command line sends it as
``Authorization: Bearer <key_id>.<secret>`` (voting.authentication).
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
from voting.errors import CredentialLimitReached, NotElectionTrustee
from voting.models import TrusteeCredential

KEY_ID_RE = re.compile(r"^[0-9a-f]{16}$")
SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")
MAX_LABEL = 100


@dataclass(frozen=True)
class NewCredential:
    """The row and the whole token: the only moment the secret exists outside the trustee's hands."""

    credential: TrusteeCredential
    token: str


def secret_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


@transaction.atomic
def create_credential(user: AbstractBaseUser, label: str = "") -> NewCredential:
    """A new credential for a trustee account; the token is returned once and never again."""
    if not user_has_role(user, Role.TRUSTEE):
        raise NotElectionTrustee("only trustee accounts have API credentials")
    label = (label or "").strip()
    if len(label) > MAX_LABEL:
        raise InvalidInput({"label": f"at most {MAX_LABEL} characters"})
    active = TrusteeCredential.objects.select_for_update().filter(user=user, revoked_at=None)
    if len(active) >= settings.CIVIC_TRUSTEE_MAX_CREDENTIALS:
        raise CredentialLimitReached(
            f"at most {settings.CIVIC_TRUSTEE_MAX_CREDENTIALS} active credentials: revoke one first"
        )
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    credential = TrusteeCredential.objects.create(
        user=user, key_id=key_id, secret_sha256=secret_digest(secret), label=label
    )
    return NewCredential(credential, f"{key_id}.{secret}")


@transaction.atomic
def revoke_credential(user: AbstractBaseUser, key_id: str) -> TrusteeCredential:
    """Revoke one of the user's own credentials (revoking twice keeps the first time)."""
    credential = (
        TrusteeCredential.objects.select_for_update().filter(user=user, key_id=str(key_id)).first()
    )
    if credential is None:
        raise NotFound("no such credential of yours")
    if credential.revoked_at is None:
        credential.revoked_at = timezone.now()
        credential.save(update_fields=["revoked_at"])
    return credential


def credentials_of(user: AbstractBaseUser) -> list[TrusteeCredential]:
    """The user's credentials, newest first (key id, label, dates: never the secret)."""
    return list(TrusteeCredential.objects.filter(user=user))


def authenticate_token(token: str) -> tuple[TrusteeCredential | None, str]:
    """(credential, "") for a valid token, else (None, why). Records the time of use.

    The hash is compared in constant time; a wrong key id costs the same hash as a right one.
    """
    key_id, _, secret = (token or "").partition(".")
    if not KEY_ID_RE.match(key_id) or not SECRET_RE.match(secret):
        return None, "malformed credential (expected <key id>.<secret>)"
    credential = TrusteeCredential.objects.select_related("user").filter(key_id=key_id).first()
    presented = secret_digest(secret)
    stored = credential.secret_sha256 if credential is not None else "0" * 64
    if not hmac.compare_digest(presented, stored) or credential is None:
        return None, "invalid credential"
    if credential.revoked_at is not None:
        return None, "this credential was revoked"
    if not user_has_role(credential.user, Role.TRUSTEE):
        return None, "the credential's account is not an active trustee"
    now = timezone.now()
    TrusteeCredential.objects.filter(pk=credential.pk).update(last_used_at=now)
    credential.last_used_at = now
    return credential, ""
