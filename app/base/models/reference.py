"""Reference data, written on the hub by staff or import and only pulled by classroom machines."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.base.models.base import Base, Revisioned, new_id

ID = String(36)


class School(Revisioned, Base):
    __tablename__ = "school"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(300))
    timezone: Mapped[str] = mapped_column(String(64))


class AcademicYear(Base):
    __tablename__ = "academic_year"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(20), unique=True)
    start: Mapped[dt.date] = mapped_column(Date)
    end: Mapped[dt.date] = mapped_column(Date)
    # Set when the administrator saved the year's periods and holidays on the staff page: from then on the
    # database's calendar is in force for the year, not config.yaml's (app/base/school_calendar.py).
    calendar_edited_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    calendar_edited_by: Mapped[str | None] = mapped_column(String(60))
    # Set by `year close --apply` (cleared by `year reopen`): the year's journal is archived, and staff decisions
    # on the hub that would change one of its records are refused (app/base/closed_years.py).
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    closed_by: Mapped[str | None] = mapped_column(String(60))
    __table_args__ = (CheckConstraint("start < \"end\"", name="year_order"),)


class PeriodFields:
    """Mixin: what a period is, in force (Period) or removed (RemovedPeriod)."""

    year_id: Mapped[str] = mapped_column(ForeignKey("academic_year.id"))
    number: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(10))
    start: Mapped[dt.date] = mapped_column(Date)
    end: Mapped[dt.date] = mapped_column(Date)


class Period(PeriodFields, Revisioned, Base):
    __tablename__ = "period"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    __table_args__ = (
        UniqueConstraint("year_id", "number"),
        CheckConstraint("kind IN ('quarter', 'trimester', 'half', 'year')", name="kind"),
        CheckConstraint("start <= \"end\"", name="order"),
    )


class RemovedPeriod(PeriodFields, Revisioned, Base):
    """A period taken out of the calendar (app/base/school_calendar.write), as it last was: its row is deleted from
    `period` (nothing else may still read it), and this copy, with a new rev, makes devices pull it as deleted."""

    __tablename__ = "removed_period"
    id: Mapped[str] = mapped_column(ID, primary_key=True)  # the removed period's id
    removed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class Holiday(Revisioned, Base):
    """A holiday of a year. A removed one keeps its row (`removed_at`, a new rev) so that devices learn of it; the
    same start added again brings the row back (app/base/school_calendar.write)."""

    __tablename__ = "holiday"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    year_id: Mapped[str] = mapped_column(ForeignKey("academic_year.id"))
    name: Mapped[str] = mapped_column(String(100))
    start: Mapped[dt.date] = mapped_column(Date)
    end: Mapped[dt.date] = mapped_column(Date)
    removed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    __table_args__ = (
        UniqueConstraint("year_id", "start"),
        CheckConstraint("start <= \"end\"", name="order"),
    )


class Teacher(Revisioned, Base):
    __tablename__ = "teacher"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(40), unique=True)  # табельный номер: the import's natural key
    last_name: Mapped[str] = mapped_column(String(100))
    first_name: Mapped[str] = mapped_column(String(100))
    middle_name: Mapped[str] = mapped_column(String(100), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The classroom sign-in PIN as sync.pins hashes it (never the PIN); pulled by devices only.
    pin_hash: Mapped[str | None] = mapped_column(String(200))


class Subject(Revisioned, Base):
    __tablename__ = "subject"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    short: Mapped[str] = mapped_column(String(20))


class SchoolClass(Revisioned, Base):
    __tablename__ = "class"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    year_id: Mapped[str] = mapped_column(ForeignKey("academic_year.id"))
    grade: Mapped[int] = mapped_column(Integer)
    letter: Mapped[str] = mapped_column(String(4))
    homeroom_teacher_id: Mapped[str | None] = mapped_column(ForeignKey("teacher.id"))
    homeroom_teacher: Mapped[Teacher | None] = relationship()
    __table_args__ = (
        UniqueConstraint("year_id", "grade", "letter"),
        CheckConstraint("grade BETWEEN 1 AND 11", name="grade"),
    )

    @property
    def name(self) -> str:
        """The class as a school writes it: 7Б."""
        return f"{self.grade}{self.letter}"


group_member = Table(
    "group_member",
    Base.metadata,
    Column("group_id", ForeignKey("group.id", ondelete="CASCADE"), primary_key=True),
    Column("student_id", ForeignKey("student.id", ondelete="CASCADE"), primary_key=True),
)


class Student(Revisioned, Base):
    __tablename__ = "student"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    file_no: Mapped[str] = mapped_column(String(40), unique=True)  # номер личного дела: the natural key
    last_name: Mapped[str] = mapped_column(String(100))
    first_name: Mapped[str] = mapped_column(String(100))
    middle_name: Mapped[str] = mapped_column(String(100), default="")
    birth_date: Mapped[dt.date] = mapped_column(Date)
    class_id: Mapped[str] = mapped_column(ForeignKey("class.id"), index=True)
    enrolled_on: Mapped[dt.date] = mapped_column(Date)
    left_on: Mapped[dt.date | None] = mapped_column(Date)
    left_order: Mapped[str] = mapped_column(String(60), default="", server_default="")  # приказ о выбытии
    school_class: Mapped[SchoolClass] = relationship()
    __table_args__ = (CheckConstraint("left_on IS NULL OR left_on >= enrolled_on", name="enrolment"),)

    @property
    def full_name(self) -> str:
        """Surname first, as in a journal: Иванова Мария Петровна."""
        return " ".join(p for p in (self.last_name, self.first_name, self.middle_name) if p)

    def active_on(self, day: dt.date) -> bool:
        """Whether the student is enrolled on this day."""
        return self.enrolled_on <= day and (self.left_on is None or day < self.left_on)


class Group(Revisioned, Base):
    __tablename__ = "group"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    class_id: Mapped[str] = mapped_column(ForeignKey("class.id"))
    subject_id: Mapped[str | None] = mapped_column(ForeignKey("subject.id"))
    name: Mapped[str] = mapped_column(String(60))
    students: Mapped[list[Student]] = relationship(secondary=group_member)
    __table_args__ = (UniqueConstraint("class_id", "name"),)


class Assignment(Revisioned, Base):
    """Teaching load: teacher × class (or group) × subject × hours per week."""

    __tablename__ = "assignment"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    teacher_id: Mapped[str] = mapped_column(ForeignKey("teacher.id"), index=True)
    class_id: Mapped[str] = mapped_column(ForeignKey("class.id"))
    group_id: Mapped[str | None] = mapped_column(ForeignKey("group.id"))
    subject_id: Mapped[str] = mapped_column(ForeignKey("subject.id"))
    hours_per_week: Mapped[float] = mapped_column(Float)
    __table_args__ = (
        UniqueConstraint("teacher_id", "class_id", "group_id", "subject_id"),
        CheckConstraint("hours_per_week > 0 AND hours_per_week <= 20", name="hours"),
    )


class TimetableEntry(Revisioned, Base):
    __tablename__ = "timetable"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    weekday: Mapped[int] = mapped_column(Integer)
    slot: Mapped[int] = mapped_column(Integer)
    class_id: Mapped[str] = mapped_column(ForeignKey("class.id"), index=True)
    group_id: Mapped[str | None] = mapped_column(ForeignKey("group.id"))
    subject_id: Mapped[str] = mapped_column(ForeignKey("subject.id"))
    teacher_id: Mapped[str] = mapped_column(ForeignKey("teacher.id"))
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)
    __table_args__ = (
        UniqueConstraint("class_id", "group_id", "weekday", "slot", "valid_from"),
        CheckConstraint("weekday BETWEEN 1 AND 7", name="weekday"),
        CheckConstraint("slot BETWEEN 0 AND 12", name="slot"),
        CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="validity"),
    )


CHANGE_KINDS = ("substitution", "cancelled", "moved")


class TimetableChange(Revisioned, Base):
    """A change the deputy planned to one lesson of the timetable: a substitute teacher, a cancelled lesson or a
    lesson moved to another day or slot. Removed changes stay as rows (`removed_at`) so devices learn of it."""

    __tablename__ = "timetable_change"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    date: Mapped[dt.date] = mapped_column(Date, index=True)
    slot: Mapped[int] = mapped_column(Integer)
    class_id: Mapped[str] = mapped_column(ForeignKey("class.id"), index=True)
    group_id: Mapped[str | None] = mapped_column(ForeignKey("group.id"))
    kind: Mapped[str] = mapped_column(String(12))
    teacher_id: Mapped[str | None] = mapped_column(ForeignKey("teacher.id"))  # the substitute
    subject_id: Mapped[str | None] = mapped_column(ForeignKey("subject.id"))
    to_date: Mapped[dt.date | None] = mapped_column(Date)
    to_slot: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(String(300), default="")
    created_by: Mapped[str] = mapped_column(String(60))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    removed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    __table_args__ = (
        CheckConstraint("kind IN ('substitution', 'cancelled', 'moved')", name="kind"),
        CheckConstraint("slot BETWEEN 0 AND 12", name="slot"),
        CheckConstraint("kind != 'substitution' OR teacher_id IS NOT NULL", name="substitute"),
        CheckConstraint("kind != 'moved' OR (to_date IS NOT NULL AND to_slot IS NOT NULL)", name="moved_to"),
    )
