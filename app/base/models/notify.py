"""Reaching families: each guardian's channels with consent and opt-out, the outbox of messages, its send log.

A channel (`sms`, `email`, `paper`) is used only while its consent is given and not opted out; the address is
the guardian's own phone or e-mail (one copy of personal data). The outbox is durable: a message is written
once under a unique `dedup_key` (`digest:<family>:<2026-W49>:<guardian>:<channel>`), so a job run twice or
resumed after a crash never queues it twice; its body is dropped after the configured number of days, the
row (what, to whom, when, result) stays as the send log. Every delivery attempt is one `NotifyAttempt`.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, CheckConstraint, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.base.models.base import Base

CHANNELS = ("sms", "email", "paper")
STATES = ("queued", "sending", "sent", "failed", "cancelled")
KINDS = ("link", "digest", "alert_absence", "alert_grade", "alert_correction", "calls")


class GuardianChannel(Base):
    """One way of reaching a guardian: consent to it, what they want by it, and their opt-out."""

    __tablename__ = "notify_channel"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    guardian_id: Mapped[str] = mapped_column(ForeignKey("guardian.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(10))
    consent_on: Mapped[dt.date | None] = mapped_column()
    consent_basis: Mapped[str] = mapped_column(String(200), default="")
    digest: Mapped[bool] = mapped_column(Boolean, default=True)
    alert_absence: Mapped[bool] = mapped_column(Boolean, default=False)
    alert_grade: Mapped[bool] = mapped_column(Boolean, default=False)
    alert_correction: Mapped[bool] = mapped_column(Boolean, default=False)
    opted_out_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    opted_out_via: Mapped[str | None] = mapped_column(String(20))  # sms_reply, email_link, staff
    __table_args__ = (
        UniqueConstraint("guardian_id", "channel"),
        CheckConstraint("channel IN ('sms', 'email', 'paper')", name="channel"),
    )

    def usable(self, today: dt.date) -> bool:
        """Consent given on or before today and no opt-out."""
        return self.consent_on is not None and self.consent_on <= today and self.opted_out_at is None


class TeacherEmail(Base):
    """Where a class teacher's weekly call list goes (teachers' records carry no e-mail of their own)."""

    __tablename__ = "notify_teacher_email"
    teacher_id: Mapped[str] = mapped_column(ForeignKey("teacher.id", ondelete="CASCADE"), primary_key=True)
    email: Mapped[str] = mapped_column(String(200))


class NotifyMessage(Base):
    """One message to one address by one channel: the outbox row and, once final, its send-log entry."""

    __tablename__ = "notify_message"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dedup_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    channel: Mapped[str] = mapped_column(String(10))
    guardian_id: Mapped[str | None] = mapped_column(ForeignKey("guardian.id", ondelete="SET NULL"), index=True)
    family_id: Mapped[str | None] = mapped_column(ForeignKey("family.id", ondelete="SET NULL"), index=True)
    teacher_id: Mapped[str | None] = mapped_column(ForeignKey("teacher.id", ondelete="SET NULL"))
    recipient: Mapped[str] = mapped_column(String(200))  # the phone or e-mail address used
    subject: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str | None] = mapped_column(Text)  # None once the configured days have passed
    html: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(10), default="queued", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    next_try_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    claimed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str] = mapped_column(String(500), default="")
    provider_id: Mapped[str] = mapped_column(String(100), default="")
    purged_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    __table_args__ = (
        CheckConstraint("state IN ('queued', 'sending', 'sent', 'failed', 'cancelled')", name="state"),
        CheckConstraint("channel IN ('sms', 'email', 'paper')", name="channel"),
    )


class NotifyAttempt(Base):
    """One try to hand a message to its transport, with what the transport answered."""

    __tablename__ = "notify_attempt"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("notify_message.id", ondelete="CASCADE"), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[str] = mapped_column(String(10))  # sent, retry, failed
    detail: Mapped[str] = mapped_column(String(500), default="")
