"""Telling the trustees that the encrypted tally is ready for their partial decryption.

By email through Django's mail settings (EMAIL_BACKEND ...), once per tally: ``notified_at`` is
set in the same transaction that sends, so a retried job does not mail twice after success. The
texts are templates marked for translation, rendered in the site's language. Trustees see the
same on the election's decryption page (voting.views_tally), which needs no email at all.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from identity.keys import public_base_url
from voting.models import Tally

logger = logging.getLogger(__name__)


@transaction.atomic
def notify_trustees(tally_id: int) -> int:
    """Email every trustee with an address once; the number of messages sent."""
    tally = Tally.objects.select_for_update().select_related("election").get(pk=tally_id)
    if tally.notified_at is not None or tally.encrypted is None:
        return 0
    election = tally.election
    base = public_base_url()
    messages = []
    with translation.override(settings.LANGUAGE_CODE):
        for row in election.trustees.select_related("user").order_by("index"):
            if not row.user.email:
                continue
            context = {
                "election": election,
                "index": row.index,
                "name": row.user.get_full_name() or row.user.get_username(),
                "ballot_count": tally.encrypted["ballot_count"],
                "page_url": base + reverse("voting:decryption", args=[election.slug]),
                "server": base,
                "threshold": election.context["threshold"],
            }
            subject = render_to_string("voting/email/tally_ready_subject.txt", context).strip()
            body = render_to_string("voting/email/tally_ready_body.txt", context)
            messages.append((subject, body, settings.DEFAULT_FROM_EMAIL, [row.user.email]))
    sent = send_mass_mail(messages, fail_silently=False) if messages else 0
    tally.notified_at = timezone.now()
    tally.save(update_fields=["notified_at"])
    logger.info("tally: %s, %d trustees emailed", election.slug, sent)
    return sent
