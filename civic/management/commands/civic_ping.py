"""Send a task through the real broker and wait until a worker has run it (smoke test)."""

from __future__ import annotations

import secrets
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from civic.models import TaskProbe
from civic.tasks import record_probe


class Command(BaseCommand):
    help = "Send civic.record_probe to the broker and wait for a worker to execute it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--timeout", type=float, default=60.0)

    def handle(self, *args: Any, **options: Any) -> None:
        token = secrets.token_hex(16)
        record_probe.delay(token)
        deadline = time.monotonic() + options["timeout"]
        while time.monotonic() < deadline:
            probe = TaskProbe.objects.filter(token=token).first()
            if probe is not None:
                self.stdout.write(self.style.SUCCESS(f"task executed by worker {probe.worker}"))
                return
            time.sleep(0.25)
        raise CommandError(f"no worker executed the task within {options['timeout']:.0f} s")
