"""Who was in a class when: the enrolment history behind journal copies, summary sheets and the roll-over.

Every reader of "the students of a class" asks `members()` (or `roster()` for one class, `in_year()` for a
class over its own year): class lists, journal views, dashboards, printing, paper slips, the year's export.
`Student.class_id` is only the current class (what the classroom machines are bound by).

ALGORITHM of `members(classes, first, last)`:
1. Every `Enrolment` row of those classes overlapping [first, last] gives a member with that row's dates
   (two rows of one student in one class, a return to it, join up).
2. A student whose current class (`Student.class_id`) is one of them and who has no row for it is a member
   with the student's own `enrolled_on` / `left_on` (the implicit enrolment of a student never moved).
`move()` and `leave()` write the history: they first turn the implicit enrolment into a row, then close it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import Any

from sqlalchemy import select

from app.base.extensions import db
from app.base.journal_store import chunks
from app.base.models import AcademicYear, Enrolment, SchoolClass, Student
from app.base.rebuild_queue import mark_students_dirty
from sync.enrolment import enrolled


class InClass:
    """A student as a member of one class: the student's fields, with this membership's class and dates."""

    def __init__(self, student: Student, class_id: str, enrolled_on: dt.date, left_on: dt.date | None) -> None:
        self.student, self.class_id, self.enrolled_on, self.left_on = student, class_id, enrolled_on, left_on

    def __getattr__(self, name: str) -> Any:
        return getattr(self.student, name)

    def active_on(self, day: dt.date) -> bool:
        """Whether the student was in this class on that day."""
        return enrolled(self.enrolled_on, self.left_on, day)


Member = Student | InClass  # what a reader of a class's students gets: the fields of a student


def members(class_ids: Collection[str], first: dt.date, last: dt.date | None = None) -> list[InClass]:
    """Every student who was in one of the classes on some day from `first` to `last` (one day by default),
    once per class, with their dates there; by class, then surname."""
    last = last or first
    found: dict[tuple[str, str], InClass] = {}
    with_rows: set[tuple[str, str]] = set()
    for part in chunks(sorted(set(class_ids))):
        rows = db.session.execute(select(Enrolment, Student).join(Student, Student.id == Enrolment.student_id)
                                  .where(Enrolment.class_id.in_(part)).order_by(Enrolment.start))
        for row, student in rows:
            key = (row.class_id, student.id)
            with_rows.add(key)
            if enrolled(row.start, row.end, first, last):
                known = found.get(key)
                found[key] = InClass(student, row.class_id, known.enrolled_on if known else row.start, row.end)
        for student in db.session.scalars(select(Student).where(Student.class_id.in_(part))):
            key = (student.class_id, student.id)
            if key not in with_rows and enrolled(student.enrolled_on, student.left_on, first, last):
                found[key] = InClass(student, student.class_id, student.enrolled_on, student.left_on)
    return sorted(found.values(), key=lambda m: (m.class_id, m.student.last_name, m.student.first_name,
                                                 m.student.middle_name, m.student.file_no))


def roster(class_id: str, first: dt.date, last: dt.date) -> list[InClass]:
    """Every student who was in the class on some day from `first` to `last`, with their dates there."""
    return members([class_id], first, last)


def in_year(school_class: SchoolClass) -> list[InClass]:
    """Every student who was in the class at some time in its own school year."""
    year = db.session.get(AcademicYear, school_class.year_id)
    assert year is not None
    return members([school_class.id], year.start, year.end)


def student_ids(class_ids: Collection[str], first: dt.date, last: dt.date | None = None) -> list[str]:
    """The ids of `members()`, each once."""
    return list(dict.fromkeys(m.student.id for m in members(class_ids, first, last)))


def current(student: Student) -> Enrolment:
    """The student's open enrolment in their current class, written as a row if it was implicit."""
    row = db.session.scalars(select(Enrolment).where(Enrolment.student_id == student.id,
                                                     Enrolment.class_id == student.class_id,
                                                     Enrolment.end.is_(None))).first()
    if row is None:
        row = Enrolment(student_id=student.id, class_id=student.class_id, start=student.enrolled_on,
                        end=student.left_on, reason="enrolled")
        db.session.add(row)
    return row


def move(student: Student, class_id: str, on: dt.date, reason: str = "moved", *, set_class: bool = True,
         queue: bool = True) -> None:
    """The student is in `class_id` from `on`: the old enrolment ends that day (the caller commits).

    `set_class=False` writes the history only, for a caller that sets `Student.class_id` itself (the import).
    The student's families are queued for the site builder (their pages show each class on its own days);
    `queue=False` for a caller that queues every family at once (the roll-over).
    """
    if class_id == student.class_id:
        return
    old = current(student)
    if on <= old.start:
        raise ValueError(f"дата перевода {on:%d.%m.%Y} не позже зачисления в прежний класс {old.start:%d.%m.%Y}")
    old.end = on
    db.session.add(Enrolment(student_id=student.id, class_id=class_id, start=on, end=None, reason=reason))
    if set_class:
        student.class_id = class_id
    db.session.flush()
    if queue:
        mark_students_dirty({student.id})


def leave(student: Student, on: dt.date, reason: str = "left", *, queue: bool = True) -> None:
    """The student leaves the school on `on` (the first day no longer enrolled; the caller commits); their
    families are queued for the site builder unless `queue=False` (see `move`). A student who left already
    has the date of their last class's row corrected (no second row)."""
    old = None
    if student.left_on is not None:
        old = db.session.scalars(select(Enrolment).where(Enrolment.student_id == student.id,
                                                         Enrolment.class_id == student.class_id,
                                                         Enrolment.end == student.left_on)).first()
    old = old or current(student)
    old.end = on
    old.reason = reason if old.reason == "enrolled" else old.reason
    student.left_on = on
    db.session.flush()
    if queue:
        mark_students_dirty({student.id})
