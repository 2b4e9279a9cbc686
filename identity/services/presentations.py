"""Presentations to this server: the public VC-API verifier, and the residency proof other apps
ask for.

Identity answers one question for the rest of the platform: does this presentation prove a
valid residency credential of this citizen's current DID, and for which district? The caller
names an opaque ``scope`` (voting passes an election's slug); identity never learns what it means.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from identity import keys
from identity.core import credentials
from identity.core.data_integrity import Problem
from identity.errors import DIDRequired, PresentationRefused
from identity.models import Challenge
from identity.selectors import challenges as challenge_selectors
from identity.selectors import credentials as credential_selectors
from identity.selectors import dids as did_selectors
from identity.selectors import verification
from identity.services.challenges import consume_challenge, issue_challenge


@dataclass(frozen=True)
class ResidencyProof:
    """What a redeemed presentation proved: the district, and the DID that presented it."""

    district: str
    holder_did: str


def issue_presentation_challenge() -> Challenge:
    """A single-use challenge for one presentation to the public verifier (bound to our domain)."""
    return issue_challenge(Challenge.Purpose.PRESENTATION, scope=keys.verifier_domain())


def verify_presentation_once(
    vp: Mapping[str, Any], *, challenge: str, domain: str
) -> credentials.VerificationResult:
    """VC-API verification where the challenge must be ours, live, for ``domain`` and unused.

    A presentation that verified once cannot be replayed: its challenge is consumed only when
    everything else verified, so a failed attempt does not burn a citizen's challenge.
    """
    known = challenge_selectors.presentation_challenge(challenge)
    result = verification.verify_presentation(vp, challenge=challenge, domain=domain)
    result.checks.append("challenge")
    if known is None or known.scope != domain:
        result.problems.append(
            Problem(
                verification.REPLAYED_CHALLENGE,
                "the challenge is unknown, expired or was already used",
            )
        )
    elif result.verified and not consume_challenge(
        challenge, Challenge.Purpose.PRESENTATION, user=None, scope=domain
    ):
        result.problems.append(
            Problem(verification.REPLAYED_CHALLENGE, "the challenge was already used")
        )
    return result


@dataclass(frozen=True)
class ResidencyChallenge:
    """What the wallet needs to answer with a presentation: the nonce, the verifier's domain and
    when the nonce expires. Callers see no identity row."""

    nonce: str
    domain: str
    expires_at: datetime


def issue_residency_challenge(user: AbstractBaseUser, *, scope: str) -> ResidencyChallenge:
    """The challenge the citizen's residency presentation for ``scope`` must answer."""
    row = issue_challenge(Challenge.Purpose.ELIGIBILITY, user=user, scope=scope)
    return ResidencyChallenge(row.nonce, keys.verifier_domain(), row.expires_at)


def redeem_residency_presentation(
    user: AbstractBaseUser, presentation: Mapping[str, Any], *, scope: str
) -> ResidencyProof:
    """Check a residency presentation and use up its challenge, inside the caller's transaction.

    Order: the citizen has a current DID (409), the challenge is this citizen's, live and for
    ``scope``, the presentation verifies (proof, domain, the city's credential, valid, not
    revoked or suspended), its holder is the citizen's current DID, and it holds a residency
    credential of this city. Then the challenge is consumed; if the caller's transaction rolls
    back (say the district is not the one it needs), the challenge stays usable.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("redeem_residency_presentation must run inside the caller's transaction")
    current = did_selectors.current_did(user)
    if current is None:
        raise DIDRequired("bind a DID in your wallet first")
    proof = presentation.get("proof")
    nonce = proof.get("challenge") if isinstance(proof, Mapping) else None
    if not isinstance(nonce, str) or not challenge_selectors.challenge_is_live(
        nonce, Challenge.Purpose.ELIGIBILITY, user=user, scope=scope
    ):
        raise PresentationRefused(
            {"presentation": "the challenge is unknown, expired or already used"}
        )
    result = verification.verify_presentation(
        presentation, challenge=nonce, domain=keys.verifier_domain()
    )
    if not result.verified:
        raise PresentationRefused(
            {"presentation": [p.as_dict() for p in verification.all_problems(result)]}
        )
    holder = credentials.entity_id(presentation.get("holder"))
    if holder != current.did:
        raise PresentationRefused({"presentation": "the holder is not your current DID"})
    district = verification.residency_district(presentation)
    if district is None:
        raise PresentationRefused(
            {"presentation": "the presentation holds no residency credential of this city"}
        )
    if not consume_challenge(nonce, Challenge.Purpose.ELIGIBILITY, user=user, scope=scope):
        raise PresentationRefused({"presentation": "the challenge was already used"})
    return ResidencyProof(district=district, holder_did=current.did)


def residency_district(user: AbstractBaseUser) -> str | None:
    """The district of the citizen's usable residency credential (None without one): what the
    elections list filters on. Only the district leaves identity, never the claim."""
    credential = (
        credential_selectors.usable_credential(user)
        if getattr(user, "is_authenticated", False)
        else None
    )
    return credential.district if credential is not None else None


@dataclass(frozen=True)
class WalletState:
    """What a page needs so the browser wallet can present the residency credential: the DID
    bound to the account (the wallet checks it holds that key) and the usable credential."""

    did: str | None
    credential_id: int | None


def wallet_state(user: AbstractBaseUser) -> WalletState:
    """The citizen's current DID and usable residency credential (None each when missing)."""
    if not getattr(user, "is_authenticated", False):
        return WalletState(None, None)
    current = did_selectors.current_did(user)
    credential = credential_selectors.usable_credential(user)
    return WalletState(
        current.did if current is not None else None,
        credential.pk if credential is not None else None,
    )
