"""Guardians, families and consent: personal data that never leaves the hub."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Column, Date, DateTime, ForeignKey, String, Table, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.base.models.base import Base, new_id
from app.base.models.reference import ID, Student

family_guardian = Table(
    "family_guardian",
    Base.metadata,
    Column("family_id", ForeignKey("family.id", ondelete="CASCADE"), primary_key=True),
    Column("guardian_id", ForeignKey("guardian.id", ondelete="CASCADE"), primary_key=True),
)

family_student = Table(
    "family_student",
    Base.metadata,
    Column("family_id", ForeignKey("family.id", ondelete="CASCADE"), primary_key=True),
    Column("student_id", ForeignKey("student.id", ondelete="CASCADE"), primary_key=True),
)


class Guardian(Base):
    __tablename__ = "guardian"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    last_name: Mapped[str] = mapped_column(String(100))
    first_name: Mapped[str] = mapped_column(String(100))
    middle_name: Mapped[str] = mapped_column(String(100), default="")
    phone: Mapped[str] = mapped_column(String(30), default="")
    email: Mapped[str] = mapped_column(String(200), default="")
    relation: Mapped[str] = mapped_column(String(30), default="")  # мать, отец, опекун …
    __table_args__ = (UniqueConstraint("last_name", "first_name", "middle_name", "phone"),)

    @property
    def full_name(self) -> str:
        """Surname first."""
        return " ".join(p for p in (self.last_name, self.first_name, self.middle_name) if p)


class Family(Base):
    """Guardians and children who belong together; one page set per link of the family."""

    __tablename__ = "family"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(10), default="link")
    guardians: Mapped[list[Guardian]] = relationship(secondary=family_guardian)
    students: Mapped[list[Student]] = relationship(secondary=family_student)
    __table_args__ = (CheckConstraint("channel IN ('link', 'paper', 'both')", name="channel"),)


class Consent(Base):
    """A guardian's consent to personal-data processing (152-ФЗ), or its withdrawal: rows are only added.

    The history of a guardian's consent is their rows; who recorded each and when is kept with it.
    `request_id`: the access request it came with (it counts once that request is issued).
    """

    __tablename__ = "consent"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    guardian_id: Mapped[str] = mapped_column(ForeignKey("guardian.id", ondelete="CASCADE"), index=True)
    state: Mapped[str] = mapped_column(String(10))
    on: Mapped[dt.date] = mapped_column(Date)
    basis: Mapped[str] = mapped_column(String(200), default="")
    channel: Mapped[str] = mapped_column(String(10))
    recorded_by: Mapped[str] = mapped_column(String(60), default="")
    recorded_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    request_id: Mapped[str | None] = mapped_column(ForeignKey("access_request.id", ondelete="SET NULL"),
                                                   index=True)
    __table_args__ = (
        CheckConstraint("state IN ('given', 'withdrawn')", name="state"),
        CheckConstraint("channel IN ('link', 'paper', 'both')", name="channel"),
    )
