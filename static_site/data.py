"""The data a build reads: reference data once, then each class's journal once, whatever the number of families.

Journal rows are read with Core selects (plain rows, no ORM objects) for the date range the pages show:
the current period and the current week. Deleted records are left out here, so no page ever sees them.
A class's plan (lessons, timetable, tests, groups) is read once per class; a student's own records (marks,
absences, remarks, period marks) once per student, only for the students asked for: a build reads those of
the children it shows, not of their classmates (whose pages it is not making), while a paper copy of a class
journal asks for every student of the class.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sqlalchemy import func, or_, select
from sqlalchemy.orm import aliased

from app.base.calendar import monday
from app.base.extensions import db
from app.base.journal_store import chunks
from app.base.models import (
    Assignment,
    Attendance,
    Device,
    Enrolment,
    Group,
    Lesson,
    Mark,
    Period,
    PeriodGrade,
    Remark,
    SchoolClass,
    Student,
    Subject,
    Teacher,
    TestPlan,
    TimetableEntry,
    device_class,
    group_member,
)
from app.base.settings import Settings
from app.base.text import aware
from static_site.planned import ahead_end

Row = Any  # a SQLAlchemy Row: attribute access by column name


class Stay(NamedTuple):
    """A student's enrolment in another class than their current one."""

    class_id: str
    start: dt.date  # the first day in that class
    end: dt.date | None  # the first day no longer in it (sync.enrolment.enrolled)


def shown_period(conf: Settings, today: dt.date) -> tuple[dt.date, dt.date, str]:
    """The period the pages show: the one containing today, else the last one begun (holidays), else the first."""
    current = conf.period_on(today)
    if current is None:
        begun = [p for p in conf.periods if p.start <= today]
        current = begun[-1] if begun else conf.periods[0]
    return current.start, current.end, current.name


def shown_weeks(conf: Settings, today: dt.date) -> list[dt.date]:
    """Mondays of the weeks the pages show: the shown period's weeks up to today's, and today's week."""
    start, end, _ = shown_period(conf, today)
    last = monday(min(max(today, start), end))
    weeks, day = [], monday(start)
    while day <= last:
        weeks.append(day)
        day += dt.timedelta(days=7)
    if monday(today) not in weeks:
        weeks.append(monday(today))
    return weeks


@dataclass
class ClassJournal:
    """One class's journal and plan in the shown range."""

    school_class: SchoolClass
    lessons: list[Row] = field(default_factory=list)
    timetable: list[Row] = field(default_factory=list)
    tests: list[Row] = field(default_factory=list)
    assignments: list[Row] = field(default_factory=list)
    groups: dict[str, set[str]] = field(default_factory=dict)  # group id → student ids
    marks: dict[str, list[Row]] = field(default_factory=lambda: defaultdict(list))  # student id → marks
    attendance: dict[str, dict[str, Row]] = field(default_factory=lambda: defaultdict(dict))  # student → lesson
    remarks: dict[str, list[Row]] = field(default_factory=lambda: defaultdict(list))
    grades: dict[str, list[Row]] = field(default_factory=lambda: defaultdict(list))
    fresh: dt.datetime | None = None
    read: set[str] = field(default_factory=set)  # the students whose own records are read (Snapshot.classes)
    complete: bool = False  # every student's of the class read


class Snapshot:
    """Reference data plus a cache of class journals, for one build."""

    def __init__(self, conf: Settings, today: dt.date) -> None:
        self.conf, self.today = conf, today
        weeks = shown_weeks(conf, today)
        period_start, period_end, self.period_name = shown_period(conf, today)
        self.weeks = weeks
        self.start = min(weeks[0], period_start)
        self.end = max(weeks[-1] + dt.timedelta(days=6), period_end, ahead_end(conf, today))  # the week ahead
        self.period_start, self.period_end = period_start, period_end
        self.subjects: dict[str, str] = dict(db.session.execute(select(Subject.id, Subject.name)).all())
        self.teachers: dict[str, str] = {}  # full names, surname first
        self.teachers_short: dict[str, str] = {}  # Петрова А. И.
        for t in db.session.execute(select(Teacher.id, Teacher.last_name, Teacher.first_name, Teacher.middle_name)):
            self.teachers[t.id] = " ".join(p for p in (t.last_name, t.first_name, t.middle_name) if p)
            initials = " ".join(f"{p[0]}." for p in (t.first_name, t.middle_name) if p)
            self.teachers_short[t.id] = f"{t.last_name} {initials}".strip()
        self.periods = db.session.execute(select(Period.id, Period.name, Period.kind).order_by(Period.start)).all()
        self.bells = {b.slot: b for b in conf.bells}
        self.weights = {w.code: w.weight for w in conf.work_types}
        self.work_types = {w.code: w for w in conf.work_types}
        self._classes: dict[str, ClassJournal] = {}
        self._stays: dict[str, list[Stay]] = {}  # student id → enrolments in other classes in the shown range
        self.cache: dict[Any, Any] = {}  # what classmates share (static_site.pages), keyed by class id first

    def release(self, class_ids: set[str]) -> None:
        """Forget class journals no family left in this build needs (a full rebuild stays small in memory)."""
        for class_id in class_ids:
            self._classes.pop(class_id, None)
        self.cache = {k: v for k, v in self.cache.items() if k[0] not in class_ids}

    def stays(self, student: Student) -> list[Stay]:
        """The student's enrolments in classes other than their current one within the shown dates (a move
        in this year): on those days their pages show that class's lessons (static_site.pages)."""
        if student.id not in self._stays:
            self.load_stays([student])
        return self._stays[student.id]

    def class_ids(self, students: Iterable[Student]) -> set[str]:
        """The classes whose journals these students' pages need: their current classes and those they were
        in on a shown day (load the batch's history first with `load_stays`, one query for all)."""
        students = list(students)
        self.load_stays(students)
        return {s.class_id for s in students} | {stay.class_id for s in students for stay in self._stays[s.id]}

    def load_stays(self, students: Iterable[Student]) -> None:
        """Read the enrolment history of these students in one pass (a query per chunk of students), keeping
        the rows of other classes of the current class's school year that overlap the shown dates."""
        missing = sorted({s.id for s in students if s.id not in self._stays})
        for part in chunks(missing):
            for student_id in part:
                self._stays[student_id] = []
            other, current = aliased(SchoolClass), aliased(SchoolClass)
            rows = select(Enrolment.student_id, Enrolment.class_id, Enrolment.start, Enrolment.end).join(
                Student, Student.id == Enrolment.student_id).join(other, other.id == Enrolment.class_id).join(
                current, current.id == Student.class_id).where(
                Enrolment.student_id.in_(part), Enrolment.class_id != Student.class_id,
                other.year_id == current.year_id, Enrolment.start <= self.end,
                or_(Enrolment.end.is_(None), Enrolment.end > self.start))
            for row in db.session.execute(rows.order_by(Enrolment.start)):
                self._stays[row.student_id].append(Stay(row.class_id, row.start, row.end))

    def classes(self, class_ids: set[str], students: Iterable[Student] | None = None) -> dict[str, ClassJournal]:
        """The journals of these classes, loading what is not read yet in one pass: each class's plan, and the
        own records of `students` (into their current class's journal, which must be among these), or of every
        student of the classes when None."""
        missing = sorted(c for c in class_ids if c not in self._classes)
        if missing:
            self._load(missing)
        found = {c: self._classes[c] for c in class_ids if c in self._classes}
        if students is None:
            self._load_classmates([journal for journal in found.values() if not journal.complete])
        else:
            self._load_students({s.id: s.class_id for s in students
                                 if s.class_id in found and s.id not in found[s.class_id].read})
        return found

    def _load(self, class_ids: list[str]) -> None:
        for part in chunks(class_ids, 200):
            loaded = {c.id: ClassJournal(c) for c in db.session.scalars(select(SchoolClass).where(
                SchoolClass.id.in_(part)))}
            self._classes.update(loaded)
            self._load_plan(loaded)
            self._load_fresh(loaded)

    def _load_classmates(self, journals: list[ClassJournal]) -> None:
        """Read the own records of every student of these classes not read yet."""
        by_id = {journal.school_class.id: journal for journal in journals}
        for part in chunks(list(by_id), 200):
            students = db.session.execute(select(Student.id, Student.class_id).where(Student.class_id.in_(part)))
            self._load_students({s: c for s, c in students if s not in by_id[c].read})
        for journal in journals:
            journal.complete = True

    def _load_plan(self, loaded: dict[str, ClassJournal]) -> None:
        ids = list(loaded)
        lessons = select(Lesson.id, Lesson.rev, Lesson.class_id, Lesson.group_id, Lesson.date, Lesson.slot,
                         Lesson.subject_id, Lesson.teacher_id, Lesson.substitute, Lesson.topic, Lesson.homework,
                         Lesson.homework_due, Lesson.cancelled).where(
            Lesson.class_id.in_(ids), Lesson.deleted.is_(False), Lesson.date.between(self.start, self.end))
        for row in db.session.execute(lessons.order_by(Lesson.date, Lesson.slot)):
            loaded[row.class_id].lessons.append(row)
        entries = select(TimetableEntry.class_id, TimetableEntry.group_id, TimetableEntry.weekday,
                         TimetableEntry.slot, TimetableEntry.subject_id, TimetableEntry.teacher_id,
                         TimetableEntry.valid_from, TimetableEntry.valid_to).where(TimetableEntry.class_id.in_(ids))
        for entry in db.session.execute(entries.order_by(TimetableEntry.slot)):
            loaded[entry.class_id].timetable.append(entry)
        tests = select(TestPlan.id, TestPlan.rev, TestPlan.class_id, TestPlan.group_id, TestPlan.subject_id,
                       TestPlan.date, TestPlan.work_type, TestPlan.title).where(
            TestPlan.class_id.in_(ids), TestPlan.deleted.is_(False), TestPlan.date.between(self.start, self.end))
        for test in db.session.execute(tests.order_by(TestPlan.date)):
            loaded[test.class_id].tests.append(test)
        assignments = select(Assignment.class_id, Assignment.group_id, Assignment.subject_id, Assignment.teacher_id,
                             Assignment.hours_per_week).where(Assignment.class_id.in_(ids))
        for assignment in db.session.execute(assignments):
            loaded[assignment.class_id].assignments.append(assignment)
        members = select(Group.class_id, group_member.c.group_id, group_member.c.student_id).join(
            Group, Group.id == group_member.c.group_id).where(Group.class_id.in_(ids))
        for row in db.session.execute(members):
            loaded[row.class_id].groups.setdefault(row.group_id, set()).add(row.student_id)

    def _load_students(self, students: dict[str, str]) -> None:
        """Read the own records of these students (id → current class, whose journal is loaded)."""
        loaded = self._classes
        for student_id, class_id in students.items():
            loaded[class_id].read.add(student_id)
        for part in chunks(sorted(students)):
            marks = select(Mark.id, Mark.rev, Mark.student_id, Mark.lesson_id, Mark.value, Mark.work_type,
                           Mark.comment, Lesson.date, Lesson.subject_id).join(Lesson, Lesson.id == Mark.lesson_id)
            marks = marks.where(
                Mark.student_id.in_(part), Mark.deleted.is_(False), Lesson.deleted.is_(False),
                Lesson.date.between(self.start, self.end))
            for row in db.session.execute(marks.order_by(Lesson.date, Lesson.slot)):
                loaded[students[row.student_id]].marks[row.student_id].append(row)
            attendance = select(Attendance.id, Attendance.rev, Attendance.student_id, Attendance.lesson_id,
                                Attendance.status).join(Lesson, Lesson.id == Attendance.lesson_id).where(
                Attendance.student_id.in_(part), Attendance.deleted.is_(False),
                Lesson.date.between(self.start, self.end))
            for seen in db.session.execute(attendance):
                loaded[students[seen.student_id]].attendance[seen.student_id][seen.lesson_id] = seen
            remarks = select(Remark.id, Remark.rev, Remark.student_id, Remark.date, Remark.kind, Remark.subject_id,
                             Remark.text).where(Remark.student_id.in_(part), Remark.deleted.is_(False),
                                                Remark.date.between(self.start, self.end))
            for remark in db.session.execute(remarks.order_by(Remark.date)):
                loaded[students[remark.student_id]].remarks[remark.student_id].append(remark)
            grades = select(PeriodGrade.id, PeriodGrade.rev, PeriodGrade.student_id, PeriodGrade.subject_id,
                            PeriodGrade.period_id, PeriodGrade.value, PeriodGrade.status).where(
                PeriodGrade.student_id.in_(part), PeriodGrade.deleted.is_(False))
            for grade in db.session.execute(grades):
                loaded[students[grade.student_id]].grades[grade.student_id].append(grade)

    def _load_fresh(self, loaded: dict[str, ClassJournal]) -> None:
        """A class's data is as fresh as the last sync of a machine bound to it or that wrote its lessons."""
        ids = list(loaded)
        writers = select(Lesson.class_id.label("class_id"), Lesson.device_id.label("device_id")).where(
            Lesson.class_id.in_(ids)).distinct()
        bound = select(device_class.c.class_id, device_class.c.device_id).where(device_class.c.class_id.in_(ids))
        pairs = writers.union(bound).subquery()
        rows = db.session.execute(
            select(pairs.c.class_id, func.max(Device.last_sync_at)).join(Device, Device.id == pairs.c.device_id)
            .group_by(pairs.c.class_id))
        for class_id, moment in rows:
            if moment is not None:
                loaded[class_id].fresh = aware(moment)
