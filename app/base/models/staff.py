"""Staff accounts of the hub's web pages, their login attempts, background jobs and the audit log."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.base.models.base import Base
from app.base.models.reference import Teacher

ROLES = ("administrator", "director", "deputy", "class_teacher", "subject_teacher")


class StaffUser(Base):
    """A person who signs in to the staff pages, with one role and, for teachers, their teacher record."""

    __tablename__ = "staff_user"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    login: Mapped[str] = mapped_column(String(60), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200), default="")
    teacher_id: Mapped[str | None] = mapped_column(ForeignKey("teacher.id", ondelete="SET NULL"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    last_login_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # Part of every session's key: raised on sign-out, which ends every session of the account server-side.
    session_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The interface language the person chose: the school's (Russian) unless they switched to English.
    language: Mapped[str] = mapped_column(String(5), default="ru", server_default="ru")
    teacher: Mapped[Teacher | None] = relationship()
    __table_args__ = (
        CheckConstraint(
            "role IN ('administrator', 'director', 'deputy', 'class_teacher', 'subject_teacher')", name="role"
        ),
    )


class LoginAttempt(Base):
    """One try to sign in, kept so that failures can be throttled across every worker process."""

    __tablename__ = "staff_login_attempt"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    login: Mapped[str] = mapped_column(String(60), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    succeeded: Mapped[bool] = mapped_column(Boolean)
    address: Mapped[str] = mapped_column(String(64), default="")


class AuditEntry(Base):
    """Who did what to which object, and when: one row per state-changing staff action."""

    __tablename__ = "audit_entry"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    who: Mapped[str] = mapped_column(String(60), index=True)
    action: Mapped[str] = mapped_column(String(40))
    object: Mapped[str] = mapped_column(String(200))
    detail: Mapped[str] = mapped_column(Text, default="")


class StaffJob(Base):
    """A long action started from the staff pages, run in the background; its progress is shown on a page."""

    __tablename__ = "staff_job"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(40))
    started_by: Mapped[str] = mapped_column(String(60))
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    state: Mapped[str] = mapped_column(String(10), default="running")
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    __table_args__ = (CheckConstraint("state IN ('running', 'done', 'failed')", name="state"),)
