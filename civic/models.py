"""Platform-wide models: the role permissions and the task probe used by health checks."""

from __future__ import annotations

from django.db import models


class RoleGrant(models.Model):
    """Holds no rows: it only declares the four role permissions the role groups carry."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [
            ("act_as_citizen", "Act as a citizen: hold a DID, claim residency, vote"),
            ("act_as_official", "Act as a city official: review claims, run elections"),
            ("act_as_trustee", "Act as a trustee: hold a decryption key share"),
            ("act_as_observer", "Act as an observer: run an observer node"),
        ]


class TaskProbe(models.Model):
    """A row written by a Celery worker, proving that a task sent from Django was executed."""

    token = models.CharField(max_length=64, unique=True)
    worker = models.CharField(max_length=255, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"probe {self.token}"
