"""Read-only admin view of eligibility grants: who received a token for which election (never
which token), for the city's auditors."""

from __future__ import annotations

from django.contrib import admin

from civic.admin import ReadOnlyAdmin
from voting.models import EligibilityGrant


@admin.register(EligibilityGrant)
class EligibilityGrantAdmin(ReadOnlyAdmin):
    list_display = ("election", "district", "did", "issued_at")
    list_filter = ("election", "district")
