"""The Celery application.

Conventions every task follows (see docs/operations.md): acknowledged late (a task lost with its
worker runs again), so every task is idempotent, keyed on database state, never on the message.
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civic.settings")

app = Celery("civic")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
