"""The figures of the staff reports, per class and subject, for a period up to a day.

ALGORITHM (documented in docs/staff.md, "Reports"):
1. A course is a class × subject of the teaching load; its students are the class's (or, when every
   assignment of the subject names a group, the groups') students enrolled on the report's day.
2. Marks count from lessons of the course dated within the period up to the report's day; deleted marks and
   marks on deleted lessons do not count. `required_now` follows the regulation (002 instr. §3.3): after
   3 weeks of the period at least 1 mark, after 4 weeks 2, once the period is over the full minimum
   (3 for a subject of 1 hour a week, 5 for 2 or more).
3. Forecasts come from app.base.forecast, the rule the family pages show.
4. Timeliness: each entry is judged by the HLC of the write that first made it (op log's applied HLC,
   i.e. the machine's own clock after clamping), in the school's timezone, never by when the hub received it.
   Topic and absences: by the end of the lesson day plus `deadlines.topic_days` / `absences_days`;
   homework: `homework_hours` after the end of the class's last lesson that day; marks: `marks_days`
   after the lesson day, written work (`WRITTEN`) `written_work_days`, tests `test_days`; never later than
   `period_marks_days` after the period's end (the period marks are set from them).
5. Missing lessons: the timetable says which lessons should exist. A timetable lesson of the course on a
   school day of the period (not a holiday, within the entry's validity) that nobody recorded — no lesson
   record of the class, subject and group that day, a cancelled one included — once its topic deadline has
   passed, is missing: it counts as a lesson without topic and without homework, and as two late entries
   (topic, homework) in the timeliness figures. A substitute's lesson is a record like any other. Changes of
   the timetable for single days (cancelled or moved lessons) come from `timetable_changes`, the hook a
   timetable-change model plugs into.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_, select

from app.base import enrolment
from app.base.extensions import db
from app.base.forecast import NOT_ENOUGH, forecast, marks_needed
from app.base.journal_store import chunks
from app.base.models import (
    Assignment,
    Attendance,
    Lesson,
    Mark,
    OpLog,
    SchoolClass,
    Subject,
    Teacher,
    TimetableEntry,
    group_member,
)
from app.base.settings import Period, Settings
from app.base.text import short_name
from sync import clock, hlc

WRITTEN = frozenset({"independent", "dictation", "lab"})
TESTS = frozenset({"test"})
COUNTED = ("applied", "superseded", "conflict")
OWED_BY_A_LESSON = ("topic", "homework")  # what a lesson nobody recorded still owes


@dataclass(frozen=True)
class Course:
    """A class × subject as taught: its teachers, weekly hours and students."""

    school_class: SchoolClass
    subject: Subject
    teachers: tuple[str, ...]
    hours: float
    students: tuple[enrolment.Member, ...]

    @property
    def key(self) -> tuple[str, str]:
        """(class id, subject id)."""
        return self.school_class.id, self.subject.id


def period_for(conf: Settings, today: dt.date, number: int | None = None) -> Period:
    """The period asked for, else the one containing today, else the last begun, else the first."""
    if number is not None:
        for period in conf.periods:
            if period.number == number:
                return period
    current = conf.period_on(today)
    if current is not None:
        return current
    begun = [p for p in conf.periods if p.start <= today]
    return begun[-1] if begun else conf.periods[0]


def last_day(period: Period, today: dt.date) -> dt.date:
    """The last day the report covers: today, or the period's end when it is over."""
    return min(period.end, today)


def required_now(period: Period, today: dt.date, needed: int) -> int:
    """Marks a student should have by today: 1 after 3 weeks, 2 after 4, the full minimum after the period."""
    if today > period.end:
        return needed
    weeks = (today - period.start).days // 7
    return 2 if weeks >= 4 else 1 if weeks >= 3 else 0


def courses(class_id: str, day: dt.date, subject_id: str | None = None) -> list[Course]:
    """The courses of a class (or one of its subjects), ordered by subject name."""
    school_class = db.session.get(SchoolClass, class_id)
    if school_class is None:
        return []
    query = select(Assignment).where(Assignment.class_id == class_id)
    if subject_id is not None:
        query = query.where(Assignment.subject_id == subject_id)
    by_subject: dict[str, list[Assignment]] = defaultdict(list)
    for assignment in db.session.scalars(query):
        by_subject[assignment.subject_id].append(assignment)
    roster = enrolment.roster(class_id, day, day)
    result = []
    for subj_id, assignments in by_subject.items():
        subject = db.session.get(Subject, subj_id)
        assert subject is not None
        students = roster
        group_ids = {a.group_id for a in assignments}
        if None not in group_ids:
            members = set(db.session.scalars(select(group_member.c.student_id)
                                             .where(group_member.c.group_id.in_(group_ids))))
            students = [s for s in roster if s.id in members]
        teachers = []
        for assignment in assignments:
            teacher = db.session.get(Teacher, assignment.teacher_id)
            if teacher is not None:
                teachers.append(short_name(teacher.first_name, teacher.middle_name, teacher.last_name))
        ordered = tuple(sorted(students, key=lambda s: (s.last_name, s.first_name, s.middle_name, s.id)))
        result.append(Course(school_class, subject, tuple(dict.fromkeys(teachers)),
                             max(a.hours_per_week for a in assignments), ordered))
    return sorted(result, key=lambda c: c.subject.name)


def lessons_of(course: Course, period: Period, today: dt.date) -> list[Lesson]:
    """The course's lessons in the period up to the report's day (deleted ones left out), by date and slot."""
    return list(db.session.scalars(
        select(Lesson).where(Lesson.class_id == course.school_class.id, Lesson.subject_id == course.subject.id,
                             Lesson.date >= period.start, Lesson.date <= last_day(period, today),
                             Lesson.deleted.is_(False))
        .order_by(Lesson.date, Lesson.slot)
    ))


@dataclass(frozen=True)
class Planned:
    """A lesson the timetable plans for a class on a day: its slot, subject and group."""

    date: dt.date
    slot: int
    subject_id: str
    group_id: str | None


@dataclass(frozen=True)
class MissingLesson:
    """A planned lesson nobody recorded by its deadline."""

    date: dt.date
    slot: int
    group_id: str | None
    deadline: dt.datetime


def timetable_changes(class_id: str, planned: list[Planned], start: dt.date, end: dt.date) -> list[Planned]:
    """HOOK: the planned lessons of a class after the timetable's changes for single days.

    The timetable alone knows no cancelled day, moved lesson or extra lesson. A model of such changes
    (TimetableChange) replaces this function's body: drop the cancelled or moved-away lessons, add the
    moved-in and extra ones, between `start` and `end`. Until then the weekly timetable stands as it is.
    """
    return planned


def planned_lessons(conf: Settings, class_id: str, start: dt.date, end: dt.date) -> list[Planned]:
    """The lessons the timetable plans for a class on the school days from start to end (holidays skipped)."""
    entries = list(db.session.scalars(select(TimetableEntry).where(
        TimetableEntry.class_id == class_id, TimetableEntry.valid_from <= end,
        or_(TimetableEntry.valid_to.is_(None), TimetableEntry.valid_to >= start))))
    planned = []
    day = start
    while day <= end:
        off = conf.holiday_on(day) is not None or conf.period_on(day) is None
        if day.isoweekday() <= conf.school_days and not off:
            planned += [Planned(day, e.slot, e.subject_id, e.group_id) for e in entries
                        if e.weekday == day.isoweekday() and e.valid_from <= day
                        and (e.valid_to is None or e.valid_to >= day)]
        day += dt.timedelta(days=1)
    return timetable_changes(class_id, planned, start, end)


def missing_lessons(course: Course, conf: Settings, period: Period, today: dt.date,
                    now: dt.datetime | None = None) -> list[MissingLesson]:
    """Timetable lessons of the course nobody recorded by their topic deadline (see the module's rule 5)."""
    now = now or clock.now()
    until = last_day(period, today)
    planned = [p for p in planned_lessons(conf, course.school_class.id, period.start, until)
               if p.subject_id == course.subject.id]
    recorded: dict[tuple[dt.date, str | None], list[int]] = defaultdict(list)
    for lesson in db.session.scalars(select(Lesson).where(
            Lesson.class_id == course.school_class.id, Lesson.subject_id == course.subject.id,
            Lesson.date >= period.start, Lesson.date <= until, Lesson.deleted.is_(False))):
        recorded[(lesson.date, lesson.group_id)].append(lesson.slot)
    cutoff = min(now, end_of_day(until, conf))
    missing = []
    by_day: dict[tuple[dt.date, str | None], list[Planned]] = defaultdict(list)
    for item in planned:
        by_day[(item.date, item.group_id)].append(item)
    for key, items in sorted(by_day.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")):
        slots = list(recorded.get(key, []))
        unmatched = [p for p in sorted(items, key=lambda p: p.slot) if p.slot not in slots]
        moved = len([s for s in slots if s not in {p.slot for p in items}])  # recorded in another slot
        for item in unmatched[moved:]:
            deadline = end_of_day(item.date + dt.timedelta(days=conf.deadlines["topic_days"]), conf)
            if deadline < cutoff:
                missing.append(MissingLesson(item.date, item.slot, item.group_id, deadline))
    return missing


@dataclass(frozen=True)
class StudentMarks:
    """One student's marks in a course: how many, against what is required, and the forecast."""

    student: enrolment.Member
    marks: tuple[tuple[str, str], ...]  # (value, work type) in lesson order
    count: int
    required_now: int
    needed: int
    average: float | None
    forecast: str

    @property
    def status(self) -> str:
        """none, one, behind or ok."""
        if self.count == 0:
            return "none"
        if self.count == 1:
            return "one"
        return "behind" if self.count < self.required_now else "ok"


def course_marks(course: Course, conf: Settings, period: Period, today: dt.date) -> list[StudentMarks]:
    """Each student's marks, the regulation's requirement and the forecast, in class-list order."""
    lessons = {lesson.id: lesson for lesson in lessons_of(course, period, today)}
    by_student: dict[str, list[tuple[dt.date, int, str, str]]] = defaultdict(list)
    for part in chunks(list(lessons)):
        for mark in db.session.scalars(select(Mark).where(Mark.lesson_id.in_(part), Mark.deleted.is_(False))):
            lesson = lessons[mark.lesson_id]
            by_student[mark.student_id].append((lesson.date, lesson.slot, mark.value, mark.work_type))
    weights = {w.code: w.weight for w in conf.work_types}
    needed = marks_needed(course.hours, conf.min_marks_one_hour, conf.min_marks_more_hours)
    required = required_now(period, today, needed)
    rows = []
    for student in course.students:
        marks = sorted(by_student.get(student.id, []))
        pairs = [(value, work_type) for _d, _s, value, work_type in marks]
        result = forecast(pairs, weights, conf.forecast_thresholds, needed)
        rows.append(StudentMarks(student, tuple(pairs), len(pairs), required, needed,
                                 result.average, result.mark))
    return rows


@dataclass
class Entry:
    """One journal entry judged against its deadline."""

    kind: str  # topic, homework, absence, mark
    lesson: Lesson
    entered: dt.datetime
    deadline: dt.datetime
    what: str = ""

    @property
    def late(self) -> bool:
        """Entered after the deadline."""
        return self.entered > self.deadline


@dataclass
class Timeliness:
    """A course's entries by kind, with the late ones listed; a missing lesson owes a topic and homework."""

    entries: list[Entry] = field(default_factory=list)
    missing: list[MissingLesson] = field(default_factory=list)

    def counts(self, kind: str) -> tuple[int, int]:
        """(entries due, of them late or never made) of one kind."""
        chosen = [e for e in self.entries if e.kind == kind]
        owed = len(self.missing) if kind in OWED_BY_A_LESSON else 0
        return len(chosen) + owed, sum(1 for e in chosen if e.late) + owed

    @property
    def late(self) -> list[Entry]:
        """The late entries, oldest lesson first."""
        return sorted((e for e in self.entries if e.late), key=lambda e: (e.lesson.date, e.lesson.slot, e.kind))

    def on_time_share(self) -> float | None:
        """Share of the entries due that were made in time, or None when nothing was due."""
        due = len(self.entries) + len(self.missing) * len(OWED_BY_A_LESSON)
        if not due:
            return None
        return sum(1 for e in self.entries if not e.late) / due


def local(stamp: str, conf: Settings) -> dt.datetime:
    """The moment of an HLC in the school's timezone."""
    ms, _counter = hlc.parse(stamp)
    return dt.datetime.fromtimestamp(ms / 1000, conf.timezone)


def end_of_day(day: dt.date, conf: Settings) -> dt.datetime:
    """The last moment of a day in the school's timezone."""
    return dt.datetime.combine(day, dt.time.max, conf.timezone)


def _first_writes(record_ids: list[str], field_name: str, wanted: Any) -> dict[str, str]:
    """For each record, the earliest applied HLC of a counted op whose fields set `field_name` as wanted."""
    first: dict[str, str] = {}
    for part in chunks(record_ids):
        rows = db.session.execute(select(OpLog.record_id, OpLog.applied_hlc, OpLog.payload)
                                  .where(OpLog.record_id.in_(part), OpLog.status.in_(COUNTED)))
        for record_id, stamp, payload in rows:
            fields = (payload or {}).get("fields") or {}
            if field_name in fields and wanted(fields[field_name]):
                if record_id not in first or stamp < first[record_id]:
                    first[record_id] = stamp
    return first


def _homework_deadlines(course: Course, lessons: list[Lesson], conf: Settings) -> dict[dt.date, dt.datetime]:
    """Per lesson day: the end of the class's last lesson that day plus the homework hours."""
    days = sorted({lesson.date for lesson in lessons})
    last_slot: dict[dt.date, int] = {}
    if days:
        rows = db.session.execute(select(Lesson.date, Lesson.slot).where(
            Lesson.class_id == course.school_class.id, Lesson.date.in_(days), Lesson.deleted.is_(False),
            Lesson.cancelled.is_(False)))
        for day, slot in rows:
            last_slot[day] = max(slot, last_slot.get(day, 0))
    bells = {b.slot: b.end for b in conf.bells}
    fallback = max(conf.bells, key=lambda b: b.slot).end if conf.bells else dt.time(18, 0)
    hours = dt.timedelta(hours=conf.deadlines["homework_hours"])
    return {day: dt.datetime.combine(day, bells.get(last_slot.get(day, -1), fallback), conf.timezone) + hours
            for day in days}


def mark_deadline(day: dt.date, work_type: str, period: Period, conf: Settings) -> dt.datetime:
    """When a mark of a lesson on `day` is due: its work type's days, but no later than the period marks."""
    deadlines = conf.deadlines
    days = deadlines["test_days"] if work_type in TESTS else (
        deadlines["written_work_days"] if work_type in WRITTEN else deadlines["marks_days"])
    final = end_of_day(period.end + dt.timedelta(days=deadlines["period_marks_days"]), conf)
    return min(end_of_day(day + dt.timedelta(days=days), conf), final)


def course_timeliness(course: Course, conf: Settings, period: Period, today: dt.date) -> Timeliness:
    """Topics, homework, absences and marks of a course, each judged by its own HLC against its deadline."""
    lessons = [lesson for lesson in lessons_of(course, period, today) if not lesson.cancelled]
    by_id = {lesson.id: lesson for lesson in lessons}
    deadlines = conf.deadlines
    result = Timeliness(missing=missing_lessons(course, conf, period, today))
    filled = lambda value: isinstance(value, str) and value.strip() != ""  # noqa: E731
    topics = _first_writes([lesson.id for lesson in lessons if lesson.topic.strip()], "topic", filled)
    homework = _first_writes([lesson.id for lesson in lessons if lesson.homework.strip()], "homework", filled)
    homework_due = _homework_deadlines(course, lessons, conf)
    for lesson in lessons:
        if lesson.topic.strip():
            entered = local(topics.get(lesson.id, lesson.entered_hlc), conf)
            result.entries.append(Entry("topic", lesson, entered,
                                        end_of_day(lesson.date + dt.timedelta(days=deadlines["topic_days"]), conf)))
        if lesson.homework.strip():
            entered = local(homework.get(lesson.id, lesson.entered_hlc), conf)
            result.entries.append(Entry("homework", lesson, entered, homework_due[lesson.date]))
    absences: list[Attendance] = []
    marks: list[Mark] = []
    for part in chunks(list(by_id)):
        absences += db.session.scalars(select(Attendance).where(
            Attendance.lesson_id.in_(part), Attendance.deleted.is_(False), Attendance.status != "present"))
        marks += db.session.scalars(select(Mark).where(Mark.lesson_id.in_(part), Mark.deleted.is_(False)))
    absent_first = _first_writes([a.id for a in absences], "status", lambda value: value != "present")
    students = {s.id: s for s in course.students}
    for row in absences:
        lesson = by_id[row.lesson_id]
        entered = local(absent_first.get(row.id, row.entered_hlc), conf)
        name = students[row.student_id].full_name if row.student_id in students else ""
        result.entries.append(Entry("absence", lesson, entered,
                                    end_of_day(lesson.date + dt.timedelta(days=deadlines["absences_days"]), conf),
                                    name))
    for mark in marks:
        lesson = by_id[mark.lesson_id]
        name = students[mark.student_id].full_name if mark.student_id in students else ""
        result.entries.append(Entry("mark", lesson, local(mark.entered_hlc, conf),
                                    mark_deadline(lesson.date, mark.work_type, period, conf), f"{name}: {mark.value}"))
    return result


def lessons_without(course: Course, period: Period, today: dt.date) -> list[Lesson]:
    """Held lessons of the course with no topic or no homework."""
    return [lesson for lesson in lessons_of(course, period, today)
            if not lesson.cancelled and (not lesson.topic.strip() or not lesson.homework.strip())]


@dataclass(frozen=True)
class CourseSummary:
    """One line of a class's overview."""

    course: Course
    students: int
    no_marks: int
    one_mark: int
    behind: int
    lessons: int
    missing: int
    without_topic: int
    without_homework: int
    on_time: float | None
    marks_given: bool


def summary(course: Course, conf: Settings, period: Period, today: dt.date) -> CourseSummary:
    """A course's figures on one line."""
    marks_given = course.school_class.grade not in conf.no_marks_grades
    rows = course_marks(course, conf, period, today) if marks_given else []
    held = [lesson for lesson in lessons_of(course, period, today) if not lesson.cancelled]
    timeliness = course_timeliness(course, conf, period, today)
    missing = len(timeliness.missing)
    return CourseSummary(
        course=course,
        students=len(course.students),
        no_marks=sum(1 for r in rows if r.status == "none"),
        one_mark=sum(1 for r in rows if r.status == "one"),
        behind=sum(1 for r in rows if r.count < r.required_now),
        lessons=len(held) + missing,
        missing=missing,
        without_topic=sum(1 for lesson in held if not lesson.topic.strip()) + missing,
        without_homework=sum(1 for lesson in held if not lesson.homework.strip()) + missing,
        on_time=timeliness.on_time_share(),
        marks_given=marks_given,
    )


__all__ = ["NOT_ENOUGH", "Course", "CourseSummary", "Entry", "MissingLesson", "Planned", "StudentMarks", "Timeliness",
           "course_marks", "course_timeliness", "courses", "lessons_without", "missing_lessons", "period_for",
           "planned_lessons", "required_now", "summary", "timetable_changes"]
