"""The family site: links handed to guardians, weekly confirmations and page views.

A link's token is the only credential: random (not derived from any id), unique, in the page path.
`published_digest` says which children the link's published pages show (None: no pages on disk), so a
sweep can tell when pages must be rebuilt or removed without reading the files.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.base.models.base import Base, new_id
from app.base.models.reference import ID

WEEK = String(8)  # ISO week as "2026-W47"


class FamilyLink(Base):
    """A guardian's link to the family's pages; revoked or rotated links are kept for the record."""

    __tablename__ = "family_link"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    family_id: Mapped[str] = mapped_column(ForeignKey("family.id", ondelete="CASCADE"), index=True)
    guardian_id: Mapped[str] = mapped_column(ForeignKey("guardian.id", ondelete="CASCADE"), index=True)
    issued_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_reason: Mapped[str | None] = mapped_column(String(10))
    # A student's own link (002 §1.9, §3.6.9): it shows this student only, under the consent of `guardian_id`.
    student_id: Mapped[str | None] = mapped_column(ForeignKey("student.id", ondelete="CASCADE"), index=True)
    published_digest: Mapped[str | None] = mapped_column(String(64))
    published_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    __table_args__ = (
        CheckConstraint("revoked_reason IS NULL OR revoked_reason IN ('revoked', 'rotated')", name="reason"),
    )


class WeekAck(Base):
    """A guardian confirmed ("Ознакомлен(а)") a family's week; `changed_at` marks a later change (orange)."""

    __tablename__ = "week_ack"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    family_id: Mapped[str] = mapped_column(ForeignKey("family.id", ondelete="CASCADE"), index=True)
    guardian_id: Mapped[str] = mapped_column(ForeignKey("guardian.id", ondelete="CASCADE"))
    link_id: Mapped[str | None] = mapped_column(ForeignKey("family_link.id", ondelete="SET NULL"))
    week: Mapped[str] = mapped_column(WEEK)
    confirmed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    digest: Mapped[str] = mapped_column(String(64))  # the week's content as the confirmed page showed it
    changed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    __table_args__ = (UniqueConstraint("family_id", "guardian_id", "week"),)


class WeekView(Base):
    """How often a family opened the pages of a week (counted by the hub, never by a static host)."""

    __tablename__ = "week_view"
    family_id: Mapped[str] = mapped_column(ForeignKey("family.id", ondelete="CASCADE"), primary_key=True)
    week: Mapped[str] = mapped_column(WEEK, primary_key=True)
    views: Mapped[int] = mapped_column(Integer, default=0)
    first_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    last_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class StudentWeekView(Base):
    """How often a student opened their own link's pages of a week: counted apart from the family's (004)."""

    __tablename__ = "student_week_view"
    student_id: Mapped[str] = mapped_column(ForeignKey("student.id", ondelete="CASCADE"), primary_key=True)
    week: Mapped[str] = mapped_column(WEEK, primary_key=True)
    views: Mapped[int] = mapped_column(Integer, default=0)
    first_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    last_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class InvitationCode(Base):
    """A short code read out by phone (002 reg. §2.17.1) that opens a link once: typed on the hub's /code page.

    Only a hash of the code is kept (a code is shown once, when issued); it expires and is used once."""

    __tablename__ = "invitation_code"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    link_id: Mapped[str] = mapped_column(ForeignKey("family_link.id", ondelete="CASCADE"), index=True)
    created_by: Mapped[str] = mapped_column(String(60))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
