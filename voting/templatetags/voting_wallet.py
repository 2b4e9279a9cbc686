"""The wallet's "Voting tokens" section, rendered by voting: identity's wallet page includes it
without knowing what an election is (the dependency stays voting -> identity in Python)."""

from __future__ import annotations

from typing import Any

from django import template
from django.contrib.auth.models import AbstractBaseUser

from voting.selectors.eligibility import open_elections_with_token_state

register = template.Library()


@register.inclusion_tag("voting/_wallet_tokens.html")
def wallet_voting_tokens(user: AbstractBaseUser, credential_url: str = "") -> dict[str, Any]:
    """Open elections with a "get my token" button each, or "token received"."""
    return {"elections": open_elections_with_token_state(user), "credential_url": credential_url}
