"""Who was in a class when: the enrolment history behind journal copies, summary sheets and the roll-over.

ALGORITHM of `roster(class, first, last)`:
1. Every `Enrolment` row of the class overlapping [first, last] gives a member with that row's dates.
2. A student whose current class (`Student.class_id`) is this one and who has no row for it is a member
   with the student's own `enrolled_on` / `left_on` (the implicit enrolment of a student never moved).
`move()` and `leave()` write the history: they first turn the implicit enrolment into a row, then close it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from app.base.extensions import db
from app.base.models import Enrolment, Student
from sync.enrolment import enrolled


class InClass:
    """A student as a member of one class: the student's fields, with this membership's dates."""

    def __init__(self, student: Student, enrolled_on: dt.date, left_on: dt.date | None) -> None:
        self.student, self.enrolled_on, self.left_on = student, enrolled_on, left_on

    def __getattr__(self, name: str) -> Any:
        return getattr(self.student, name)

    def active_on(self, day: dt.date) -> bool:
        """Whether the student was in this class on that day."""
        return enrolled(self.enrolled_on, self.left_on, day)


def roster(class_id: str, first: dt.date, last: dt.date) -> list[InClass]:
    """Every student who was in the class on some day from `first` to `last`, with their dates there."""
    members: dict[str, InClass] = {}
    rows = db.session.execute(select(Enrolment, Student).join(Student, Student.id == Enrolment.student_id)
                              .where(Enrolment.class_id == class_id).order_by(Enrolment.start))
    with_rows: set[str] = set()
    for enrolment, student in rows:
        with_rows.add(student.id)
        if enrolled(enrolment.start, enrolment.end, first, last):
            known = members.get(student.id)
            start = known.enrolled_on if known else enrolment.start
            members[student.id] = InClass(student, start, enrolment.end)  # a return to the class joins up
    for student in db.session.scalars(select(Student).where(Student.class_id == class_id)):
        if student.id not in with_rows and enrolled(student.enrolled_on, student.left_on, first, last):
            members[student.id] = InClass(student, student.enrolled_on, student.left_on)
    return list(members.values())


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


def move(student: Student, class_id: str, on: dt.date, reason: str = "moved", *, set_class: bool = True) -> None:
    """The student is in `class_id` from `on`: the old enrolment ends that day (the caller commits).

    `set_class=False` writes the history only, for a caller that sets `Student.class_id` itself (the import).
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


def leave(student: Student, on: dt.date, reason: str = "left") -> None:
    """The student leaves the school on `on` (the first day no longer enrolled; the caller commits)."""
    old = current(student)
    old.end = on
    old.reason = reason if old.reason == "enrolled" else old.reason
    student.left_on = on
    db.session.flush()
