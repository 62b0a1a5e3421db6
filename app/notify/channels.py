"""Each guardian's notification channels: which may be used today, and where they go.

A channel is usable while its consent is dated today or earlier and there is no opt-out; the address is
the guardian's own `phone` (sms) or `email`. Whether any child's data may be sent at all is not decided
here: `static_site.access` decides it, as for the pages.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection

from sqlalchemy import select

from app.base.extensions import db
from app.base.journal_store import chunks
from app.base.models import Guardian, GuardianChannel

SENDING = ("sms", "email")  # paper is printed, not sent


def address(guardian: Guardian, channel: str) -> str:
    """The phone or e-mail address a channel goes to ('' when the guardian has none)."""
    return guardian.phone.strip() if channel == "sms" else guardian.email.strip() if channel == "email" else ""


def usable_channels(guardian_ids: Collection[str], today: dt.date) -> dict[str, list[GuardianChannel]]:
    """Guardian id → their usable sending channels."""
    result: dict[str, list[GuardianChannel]] = defaultdict(list)
    for part in chunks(list(guardian_ids)):
        for row in db.session.scalars(select(GuardianChannel).where(
                GuardianChannel.guardian_id.in_(part), GuardianChannel.channel.in_(SENDING))
                .order_by(GuardianChannel.channel)):
            if row.usable(today):
                result[row.guardian_id].append(row)
    return result


def set_channel(guardian_id: str, channel: str, consent_on: dt.date | None, basis: str = "", *,
                digest: bool = True, absence: bool = False, grade: bool = False, correction: bool = False,
                ) -> GuardianChannel:
    """Record a guardian's consent to a channel and what they want by it; a new consent ends an opt-out."""
    row = db.session.scalars(select(GuardianChannel).where(
        GuardianChannel.guardian_id == guardian_id, GuardianChannel.channel == channel)).first()
    if row is None:
        row = GuardianChannel(guardian_id=guardian_id, channel=channel)
        db.session.add(row)
    row.consent_on, row.consent_basis = consent_on, basis
    row.digest, row.alert_absence, row.alert_grade, row.alert_correction = digest, absence, grade, correction
    row.opted_out_at = row.opted_out_via = None
    return row
