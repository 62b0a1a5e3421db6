"""A guardian's access request (запрос, 002 reg. §2.6) and its decision: issued, or refused for a reason of §2.12.

The request names the guardian, the family and the children asked about, the day it was received (the
decision is due within `access.decision_days` working days, counted from the next day, §2.9 and §2.11),
the documents shown, the channel chosen (link, paper, both), a contact for delivering the result and who
recorded it. A consent recorded with a request (Consent.request_id) counts only once the request is issued
(static_site.access).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Column, Date, DateTime, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.base.models.base import Base, new_id
from app.base.models.reference import ID, Student

REQUEST_STATES = ("pending", "issued", "refused")
REFUSAL_CODES = ("2.12.1", "2.12.2", "2.12.3", "2.12.4", "2.12.5", "2.12.6")

access_request_student = Table(
    "access_request_student",
    Base.metadata,
    Column("request_id", ForeignKey("access_request.id", ondelete="CASCADE"), primary_key=True),
    Column("student_id", ForeignKey("student.id", ondelete="CASCADE"), primary_key=True),
)


class AccessRequest(Base):
    """A guardian's request for access to the diary, with its decision once taken."""

    __tablename__ = "access_request"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    guardian_id: Mapped[str] = mapped_column(ForeignKey("guardian.id", ondelete="CASCADE"), index=True)
    family_id: Mapped[str] = mapped_column(ForeignKey("family.id", ondelete="CASCADE"), index=True)
    received_on: Mapped[dt.date] = mapped_column(Date)
    basis: Mapped[str] = mapped_column(String(300), default="")  # documents shown (§2.6)
    channel: Mapped[str] = mapped_column(String(10))
    contact: Mapped[str] = mapped_column(String(200), default="")  # where the result is delivered
    recorded_by: Mapped[str] = mapped_column(String(60))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    state: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    decided_on: Mapped[dt.date | None] = mapped_column(Date)
    decided_by: Mapped[str | None] = mapped_column(String(60))
    refusal: Mapped[str | None] = mapped_column(String(8))
    link_id: Mapped[str | None] = mapped_column(ForeignKey("family_link.id", ondelete="SET NULL"))
    students: Mapped[list[Student]] = relationship(secondary=access_request_student)
    __table_args__ = (
        CheckConstraint("channel IN ('link', 'paper', 'both')", name="channel"),
        CheckConstraint("state IN ('pending', 'issued', 'refused')", name="state"),
        CheckConstraint("(state = 'refused') = (refusal IS NOT NULL)", name="refusal"),
    )
