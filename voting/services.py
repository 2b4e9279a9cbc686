"""Write use cases of voting: creating and running elections."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from voting.models import Election


@transaction.atomic
def create_election(*, slug: str, title: str, district: str, created_by: AbstractBaseUser) -> Election:
    """Create a draft election; officials open it once its keys and manifest are ready."""
    return Election.objects.create(slug=slug, title=title, district=district.strip(), created_by=created_by)
