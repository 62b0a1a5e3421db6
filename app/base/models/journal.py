"""Journal records written by classroom machines, merged field by field.

Each row keeps its resolved values in typed columns (for pages and reports) and, in `clock`, the
winning write of every field, one entry per distinct write: [[hlc, device, op, author, rev, field, …], …]
(`app.base.journal_store.Prepared.row`). `deleted` is itself such a field.
`rev` is the hub's change number, `entered_hlc` the first write (timeliness reports).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.base.models.base import Base
from app.base.models.reference import ID

HLC = String(18)


class JournalRecord(Base):
    """Columns every journal record carries for the merge."""

    __abstract__ = True
    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # device-made ids may be up to 64 chars
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    clock: Mapped[list[list[Any]]] = mapped_column(JSON, default=list)
    rev: Mapped[int] = mapped_column(Integer, index=True)
    device_id: Mapped[str] = mapped_column(String(40))  # the machine that created it
    author_id: Mapped[str] = mapped_column(ID)  # the teacher who created it
    entered_hlc: Mapped[str] = mapped_column(HLC)
    scope_class_id: Mapped[str] = mapped_column(ForeignKey("class.id"))  # whose machines see it (indexed below)


class Lesson(JournalRecord):
    __tablename__ = "lesson"
    class_id: Mapped[str] = mapped_column(ForeignKey("class.id"), index=True)
    group_id: Mapped[str | None] = mapped_column(ForeignKey("group.id"))
    date: Mapped[dt.date] = mapped_column(Date, index=True)
    slot: Mapped[int] = mapped_column(Integer)
    subject_id: Mapped[str] = mapped_column(ForeignKey("subject.id"))
    teacher_id: Mapped[str] = mapped_column(ForeignKey("teacher.id"))
    substitute: Mapped[bool] = mapped_column(Boolean, default=False)
    topic: Mapped[str] = mapped_column(Text, default="")
    homework: Mapped[str] = mapped_column(Text, default="")
    homework_due: Mapped[dt.date | None] = mapped_column(Date)
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)
    __table_args__ = (CheckConstraint("slot BETWEEN 0 AND 12", name="slot"),)


class Attendance(JournalRecord):
    __tablename__ = "attendance"
    lesson_id: Mapped[str] = mapped_column(String(64), ForeignKey("lesson.id"), index=True)
    student_id: Mapped[str] = mapped_column(ForeignKey("student.id"), index=True)
    status: Mapped[str] = mapped_column(String(20))
    __table_args__ = (
        CheckConstraint(
            "status IN ('present', 'absent_excused', 'absent_unexcused', 'ill', 'late')", name="status"
        ),
    )


class Mark(JournalRecord):
    __tablename__ = "mark"
    lesson_id: Mapped[str] = mapped_column(String(64), ForeignKey("lesson.id"), index=True)
    student_id: Mapped[str] = mapped_column(ForeignKey("student.id"), index=True)
    value: Mapped[str] = mapped_column(String(20))
    work_type: Mapped[str] = mapped_column(String(30))
    comment: Mapped[str] = mapped_column(Text, default="")


class Remark(JournalRecord):
    __tablename__ = "remark"
    student_id: Mapped[str] = mapped_column(ForeignKey("student.id"), index=True)
    date: Mapped[dt.date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(20))
    subject_id: Mapped[str | None] = mapped_column(ForeignKey("subject.id"))
    text: Mapped[str] = mapped_column(Text)
    __table_args__ = (CheckConstraint("kind IN ('remark', 'recommendation', 'praise')", name="kind"),)


class PeriodGrade(JournalRecord):
    __tablename__ = "period_grade"
    student_id: Mapped[str] = mapped_column(ForeignKey("student.id"), index=True)
    subject_id: Mapped[str] = mapped_column(ForeignKey("subject.id"))
    period_id: Mapped[str] = mapped_column(ForeignKey("period.id"))
    value: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    __table_args__ = (
        CheckConstraint("status IN ('graded', 'deferred', 'not_assessed')", name="status"),
    )


class TestPlan(JournalRecord):
    __tablename__ = "test_plan"
    __test__ = False  # not a pytest test class
    class_id: Mapped[str] = mapped_column(ForeignKey("class.id"), index=True)
    group_id: Mapped[str | None] = mapped_column(ForeignKey("group.id"))
    subject_id: Mapped[str] = mapped_column(ForeignKey("subject.id"))
    date: Mapped[dt.date] = mapped_column(Date)
    work_type: Mapped[str] = mapped_column(String(30))
    title: Mapped[str] = mapped_column(Text)


JOURNAL_MODELS: dict[str, type[JournalRecord]] = {
    "lesson": Lesson,
    "attendance": Attendance,
    "mark": Mark,
    "remark": Remark,
    "period_grade": PeriodGrade,
    "test_plan": TestPlan,
}

# A class-bound machine's pull reads its classes' changes after its cursor in rev order
# (`app.syncing.pull`): by class and rev, not every row its classes ever had, sorted.
for _model in JOURNAL_MODELS.values():
    Index(f"ix_{_model.__tablename__}_scope_class_id_rev", _model.__table__.c.scope_class_id, _model.__table__.c.rev)
