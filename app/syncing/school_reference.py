"""The school's reference data in memory, for the sync rules; rebuilt only when reference data changes."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading

from sqlalchemy import func, select, union_all

from app.base.extensions import db
from app.base.models import (
    Assignment,
    Enrolment,
    Group,
    Period,
    SchoolClass,
    Student,
    Subject,
    Teacher,
    TimetableChange,
    device_teacher,
)
from app.syncing.devices import bound_classes
from sync.rules import ReferenceSnapshot, StudentInfo, default_served

_TRACKED = (Teacher, Subject, SchoolClass, Group, Student, Period, Assignment, TimetableChange)


def _version() -> tuple[object, ...]:
    """Changes whenever a reference row is added, changed or removed."""
    parts = [select(func.max(m.rev), func.count(), func.max(m.id)).select_from(m) for m in _TRACKED]
    parts.append(select(func.count(Enrolment.end), func.count(), func.max(Enrolment.id)))  # moves, no rev
    return tuple(tuple(row) for row in db.session.execute(union_all(*parts)))


def _load() -> ReferenceSnapshot:
    classes = {c.id: c.grade for c in db.session.scalars(select(SchoolClass))}
    history: dict[str, list[tuple[str, dt.date, dt.date | None]]] = {}
    for row in db.session.execute(select(Enrolment.student_id, Enrolment.class_id, Enrolment.start, Enrolment.end)
                                  .order_by(Enrolment.start)):
        history.setdefault(row.student_id, []).append((row.class_id, row.start, row.end))
    students = {}
    for s in db.session.scalars(select(Student)):
        rows = history.get(s.id, [])
        here = next((start for c, start, end in rows if c == s.class_id and end is None), s.enrolled_on)
        before = tuple((c, start, end) for c, start, end in rows if end is not None)
        students[s.id] = StudentInfo(s.class_id, classes[s.class_id], here, s.left_on, before)
    assignments = db.session.execute(select(Assignment.teacher_id, Assignment.class_id, Assignment.subject_id)).all()
    return ReferenceSnapshot(
        teachers=frozenset(db.session.scalars(select(Teacher.id))),
        subjects=frozenset(db.session.scalars(select(Subject.id))),
        classes=classes,
        groups={g: c for g, c in db.session.execute(select(Group.id, Group.class_id))},
        students=students,
        periods={p: end for p, end in db.session.execute(select(Period.id, Period.end))},
        assignments=frozenset((t, c, s) for t, c, s in assignments),
        teaching=frozenset((t, c) for t, c, _ in assignments),
        homerooms=frozenset(
            (t, c) for c, t in db.session.execute(select(SchoolClass.id, SchoolClass.homeroom_teacher_id)) if t
        ),
        substitutions=frozenset(
            (r.class_id, r.group_id, r.date, r.slot, r.teacher_id) for r in db.session.execute(
                select(TimetableChange.class_id, TimetableChange.group_id, TimetableChange.date, TimetableChange.slot,
                       TimetableChange.teacher_id)
                .where(TimetableChange.kind == "substitution", TimetableChange.removed_at.is_(None)))
        ),
    )


_cache: dict[str, tuple[tuple[object, ...], ReferenceSnapshot]] = {}
_lock = threading.Lock()


def school_reference() -> ReferenceSnapshot:
    """The current reference snapshot for this database, reloaded when it changed."""
    key = str(db.engine.url)
    version = _version()
    with _lock:
        cached = _cache.get(key)
        if cached is not None and cached[0] == version:
            return cached[1]
    reference = _load()
    with _lock:
        _cache[key] = (version, reference)
    return reference


def chosen_teachers(device_id: str) -> frozenset[str]:
    """The teachers staff chose for a device (empty: none chosen, the default applies)."""
    return frozenset(db.session.scalars(
        select(device_teacher.c.teacher_id).where(device_teacher.c.device_id == device_id)))


def device_reference(device_id: str) -> ReferenceSnapshot:
    """The school's reference with the device's scope: its classes and the teachers it serves."""
    school = school_reference()
    classes = frozenset(bound_classes(device_id))
    served = chosen_teachers(device_id) or default_served(school, classes)
    return dataclasses.replace(school, device_classes=classes, served=served)


def served_teachers(device_id: str) -> list[str]:
    """The ids of the teachers a device serves, sorted (every teacher for a whole-school device by default)."""
    reference = device_reference(device_id)
    return sorted(reference.teachers if reference.served is None else reference.served & reference.teachers)
