"""A family's week for the weekly digest: marks, absences, homework due next week, upcoming tests.

Children come only from `static_site.access.family_access` (the one rule of who sees what): a family
whose pages may show nothing gets no digest. The journal is read once per class for the whole school
with Core selects, so digests for every family take a few queries whatever their number.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_, select

from app.base.calendar import monday, week_id, week_monday
from app.base.extensions import db
from app.base.journal_store import chunks
from app.base.models import Attendance, Group, Lesson, Mark, Subject, TestPlan, group_member
from app.base.settings import Settings
from static_site.access import FamilyAccess, family_access

ABSENT = {"absent_excused": "У", "absent_unexcused": "Н", "ill": "Б"}


parse_week = week_monday  # the Monday of an ISO week id (2026-W49), or None


@dataclass
class ChildWeek:
    """One child's week."""

    student_id: str
    name: str  # Иванова Мария
    first_name: str
    class_name: str
    marks: list[tuple[dt.date, str, str, str]] = field(default_factory=list)  # day, subject, value, work type
    absences: list[tuple[dt.date, str, str]] = field(default_factory=list)  # day, subject, reason letter
    late: int = 0
    homework: list[tuple[dt.date, str, str]] = field(default_factory=list)  # due, subject, text
    tests: list[tuple[dt.date, str, str]] = field(default_factory=list)  # day, subject, title


@dataclass
class FamilyWeek:
    """A family's digest content for one week (Monday `start`)."""

    access: FamilyAccess
    start: dt.date
    children: list[ChildWeek]

    @property
    def week(self) -> str:
        return week_id(self.start)

    @property
    def empty(self) -> bool:
        return not any(c.marks or c.absences or c.homework or c.tests or c.late for c in self.children)


@dataclass
class _Journal:
    lessons: dict[str, Any] = field(default_factory=dict)
    by_class: dict[str, list[Any]] = field(default_factory=lambda: defaultdict(list))
    tests: dict[str, list[Any]] = field(default_factory=lambda: defaultdict(list))
    groups: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # student → group ids
    marks: dict[str, list[Any]] = field(default_factory=lambda: defaultdict(list))
    absences: dict[str, list[Any]] = field(default_factory=lambda: defaultdict(list))


def _load(class_ids: list[str], student_ids: list[str], start: dt.date) -> _Journal:
    week_end, next_start, next_end = start + dt.timedelta(days=6), start + dt.timedelta(days=7), \
        start + dt.timedelta(days=13)
    journal = _Journal()
    for part in chunks(class_ids, 200):
        lessons = select(Lesson.id, Lesson.class_id, Lesson.group_id, Lesson.date, Lesson.slot, Lesson.subject_id,
                         Lesson.homework, Lesson.homework_due).where(
            Lesson.class_id.in_(part), Lesson.deleted.is_(False), Lesson.cancelled.is_(False),
            or_(Lesson.date.between(start, week_end), Lesson.homework_due.between(next_start, next_end)))
        for row in db.session.execute(lessons.order_by(Lesson.date, Lesson.slot)):
            journal.lessons[row.id] = row
            journal.by_class[row.class_id].append(row)
        tests = select(TestPlan.class_id, TestPlan.group_id, TestPlan.subject_id, TestPlan.date, TestPlan.title).where(
            TestPlan.class_id.in_(part), TestPlan.deleted.is_(False), TestPlan.date.between(next_start, next_end))
        for test in db.session.execute(tests.order_by(TestPlan.date)):
            journal.tests[test.class_id].append(test)
    for part in chunks(student_ids):
        members = select(group_member.c.student_id, group_member.c.group_id).join(
            Group, Group.id == group_member.c.group_id).where(group_member.c.student_id.in_(part))
        for student_id, group_id in db.session.execute(members):
            journal.groups[student_id].add(group_id)
        marks = select(Mark.student_id, Mark.lesson_id, Mark.value, Mark.work_type).join(
            Lesson, Lesson.id == Mark.lesson_id).where(
            Mark.student_id.in_(part), Mark.deleted.is_(False), Lesson.deleted.is_(False),
            Lesson.date.between(start, week_end)).order_by(Lesson.date, Lesson.slot)
        for mark in db.session.execute(marks):
            journal.marks[mark.student_id].append(mark)
        absences = select(Attendance.student_id, Attendance.lesson_id, Attendance.status).join(
            Lesson, Lesson.id == Attendance.lesson_id).where(
            Attendance.student_id.in_(part), Attendance.deleted.is_(False), Attendance.status != "present",
            Lesson.deleted.is_(False), Lesson.date.between(start, week_end)).order_by(Lesson.date, Lesson.slot)
        for absence in db.session.execute(absences):
            journal.absences[absence.student_id].append(absence)
    return journal


def family_weeks(conf: Settings, start: dt.date, family_ids: Collection[str] | None = None,
                 today: dt.date | None = None) -> dict[str, FamilyWeek]:
    """Family id → its week beginning on Monday `start`, for the families that may see any child today."""
    start = monday(start)
    today = today or conf.today()
    accesses = {k: a for k, a in family_access(family_ids, today).items() if a.children}
    students = {s.id: s for a in accesses.values() for s in a.children}
    journal = _load(sorted({s.class_id for s in students.values()}), sorted(students), start)
    subjects: dict[str, str] = dict(db.session.execute(select(Subject.id, Subject.name)).all())
    shorts = {w.code: w.short for w in conf.work_types}
    next_start = start + dt.timedelta(days=7)
    result = {}
    for family_id, access in accesses.items():
        children = []
        for student in access.children:
            groups = journal.groups.get(student.id, set())
            child = ChildWeek(student.id, f"{student.last_name} {student.first_name}", student.first_name,
                              student.school_class.name)
            for mark in journal.marks.get(student.id, ()):
                lesson = journal.lessons.get(mark.lesson_id)
                if lesson is not None:
                    child.marks.append((lesson.date, subjects.get(lesson.subject_id, ""), mark.value,
                                        shorts.get(mark.work_type, "")))
            for row in journal.absences.get(student.id, ()):
                lesson = journal.lessons.get(row.lesson_id)
                if lesson is None:
                    continue
                if row.status == "late":
                    child.late += 1
                else:
                    child.absences.append((lesson.date, subjects.get(lesson.subject_id, ""), ABSENT[row.status]))
            for lesson in journal.by_class.get(student.class_id, ()):
                if lesson.group_id is not None and lesson.group_id not in groups:
                    continue
                due = lesson.homework_due
                if lesson.homework and due is not None and next_start <= due <= next_start + dt.timedelta(days=6):
                    child.homework.append((due, subjects.get(lesson.subject_id, ""), lesson.homework))
            child.homework.sort(key=lambda h: (h[0], h[1]))
            for test in journal.tests.get(student.class_id, ()):
                if test.group_id is None or test.group_id in groups:
                    child.tests.append((test.date, subjects.get(test.subject_id, ""), test.title))
            children.append(child)
        result[family_id] = FamilyWeek(access, start, children)
    return result
