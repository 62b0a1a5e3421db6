"""Enrolment history: which class a student was in, from which day to which.

`Student.class_id` stays the current class, so the rest of the hub reads it as before; an `Enrolment` row
is written whenever a student moves (mid-year transfer, the year's roll-over) or leaves. A student with no
row has one implicit enrolment: `Student.class_id` from `enrolled_on` to `left_on`.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.base.models.base import Base, new_id
from app.base.models.reference import ID


class Enrolment(Base):
    """A student in a class from `start` up to (not including) `end`; `end` None while still there."""

    __tablename__ = "enrolment"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    student_id: Mapped[str] = mapped_column(ForeignKey("student.id", ondelete="CASCADE"), index=True)
    class_id: Mapped[str] = mapped_column(ForeignKey("class.id"), index=True)
    start: Mapped[dt.date] = mapped_column(Date)
    end: Mapped[dt.date | None] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(20))  # enrolled, moved, promoted, repeated, left, graduated
    __table_args__ = (CheckConstraint('"end" IS NULL OR "end" >= start', name="order"),)
