"""The site builder's queue of families whose pages must be rebuilt (durable: a table, not memory)."""

from __future__ import annotations

from sqlalchemy import select

from app.base import bulk
from app.base.extensions import db
from app.base.journal_store import chunks
from app.base.models import DirtyFamily, OpLog, Student, family_student
from sync import clock


def mark_families_dirty(family_ids: set[str]) -> None:
    """Put families on the site builder's queue (an upsert: a family is queued once)."""
    now = clock.now()
    rev = db.session.execute(select(db.func.max(OpLog.id))).scalar() or 0
    rows = [{"family_id": f, "marked_at": now, "rev": rev} for f in sorted(family_ids)]
    bulk.upsert(DirtyFamily.__table__, rows, ["family_id"], {"marked_at": now, "rev": rev})


def class_families(class_ids: set[str]) -> set[str]:
    """The families with a child in one of these classes."""
    families: set[str] = set()
    for part in chunks(class_ids):
        families.update(db.session.scalars(
            select(family_student.c.family_id).join(Student, Student.id == family_student.c.student_id)
            .where(Student.class_id.in_(part))))
    return families


def mark_classes_dirty(class_ids: set[str]) -> None:
    """Queue the families with a child in these classes (a timetable change, a class's planned lesson)."""
    families = class_families(class_ids)
    if families:
        mark_families_dirty(families)


def mark_students_dirty(student_ids: set[str]) -> None:
    """Queue the families of these students (a move to another class, a leave: app.base.enrolment)."""
    families: set[str] = set()
    for part in chunks(student_ids):
        families.update(db.session.scalars(select(family_student.c.family_id)
                                           .where(family_student.c.student_id.in_(part))))
    if families:
        mark_families_dirty(families)
