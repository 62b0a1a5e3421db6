"""The school's rules for one op: references, authorship, the device's scope, grade levels, dates, late
corrections.

The hub answers the questions of `Reference` from its database, the client from its replica; the
rules themselves are the same code on both sides.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol
from zoneinfo import ZoneInfo

from sync import hlc
from sync.enrolment import enrolled
from sync.ids import attendance_id, lesson_id, period_grade_id
from sync.protocol import JOURNAL
from sync.schema import Op, Rejection, parse_date


@dataclass(frozen=True)
class StudentInfo:
    class_id: str
    grade: int
    enrolled_on: dt.date  # in the current class
    left_on: dt.date | None
    before: tuple[tuple[str, dt.date, dt.date], ...] = ()  # earlier classes: (class, first day, day moved out)


@dataclass(frozen=True)
class LessonInfo:
    class_id: str
    group_id: str | None
    subject_id: str
    teacher_id: str
    date: dt.date
    substitute: bool
    slot: int | None = None
    held: bool = False  # known only by an op held for the deputy (an unplanned substitution)


class Reference(Protocol):
    """What the rules need to know about the school."""

    def teacher_exists(self, teacher: str) -> bool: ...
    def subject_exists(self, subject: str) -> bool: ...
    def class_grade(self, class_id: str) -> int | None: ...
    def group_class(self, group: str) -> str | None: ...
    def student(self, student: str) -> StudentInfo | None: ...
    def period_end(self, period: str) -> dt.date | None: ...
    def teaches(self, teacher: str, class_id: str, subject: str | None) -> bool: ...
    def homeroom(self, teacher: str, class_id: str) -> bool: ...
    def serves(self, teacher: str) -> bool: ...
    def writes_class(self, class_id: str) -> bool: ...
    def planned_substitute(self, teacher: str, class_id: str, group: str | None, day: dt.date, slot: int) -> bool: ...


Substitution = tuple[str, str | None, dt.date, int, str]  # class, group, date, slot, the substitute teacher
Lessons = Callable[[str], LessonInfo | None]


@dataclass(frozen=True)
class ReferenceSnapshot:
    """The school's reference data as plain sets and maps, answering `Reference`: the hub builds it from its
    tables, the client from its replica.

    The device's scope: `device_classes` are the classes it writes (empty: the whole school) and `served`
    the teachers it writes for (None: every teacher); `substitutions` are the deputy's planned ones.
    """

    teachers: frozenset[str]
    subjects: frozenset[str]
    classes: dict[str, int]
    groups: dict[str, str]
    students: dict[str, StudentInfo]
    periods: dict[str, dt.date]
    assignments: frozenset[tuple[str, str, str]]
    teaching: frozenset[tuple[str, str]]
    homerooms: frozenset[tuple[str, str]]
    substitutions: frozenset[Substitution] = frozenset()
    device_classes: frozenset[str] = frozenset()
    served: frozenset[str] | None = None

    def teacher_exists(self, teacher: str) -> bool:
        """Whether the teacher is on the school's staff."""
        return teacher in self.teachers

    def subject_exists(self, subject: str) -> bool:
        """Whether the subject exists."""
        return subject in self.subjects

    def class_grade(self, class_id: str) -> int | None:
        """The class's grade level, or None when unknown."""
        return self.classes.get(class_id)

    def group_class(self, group: str) -> str | None:
        """The class a group belongs to, or None when unknown."""
        return self.groups.get(group)

    def student(self, student: str) -> StudentInfo | None:
        """The student's class and enrolment, or None when unknown."""
        return self.students.get(student)

    def period_end(self, period: str) -> dt.date | None:
        """The last day of a period, or None when unknown."""
        return self.periods.get(period)

    def teaches(self, teacher: str, class_id: str, subject: str | None) -> bool:
        """Whether the teacher teaches the subject (any subject when None) in the class."""
        if subject is None:
            return (teacher, class_id) in self.teaching
        return (teacher, class_id, subject) in self.assignments

    def homeroom(self, teacher: str, class_id: str) -> bool:
        """Whether the teacher is the class teacher of the class."""
        return (teacher, class_id) in self.homerooms

    def serves(self, teacher: str) -> bool:
        """Whether the device writes for this teacher."""
        return self.served is None or teacher in self.served

    def writes_class(self, class_id: str) -> bool:
        """Whether the device writes journal rows of this class (a whole-school device: every class)."""
        return not self.device_classes or class_id in self.device_classes

    def planned_substitute(self, teacher: str, class_id: str, group: str | None, day: dt.date, slot: int) -> bool:
        """Whether the deputy planned this teacher as the substitute for this lesson."""
        return (class_id, group, day, slot, teacher) in self.substitutions


def default_served(ref: ReferenceSnapshot, classes: frozenset[str]) -> frozenset[str] | None:
    """The teachers a device serves when staff set none: those teaching its classes, their class teachers and
    the substitutes planned for their lessons; every teacher (None) for a whole-school device."""
    if not classes:
        return None
    return frozenset(
        {t for t, c in ref.teaching | ref.homerooms if c in classes}
        | {s[4] for s in ref.substitutions if s[0] in classes}
    )


@dataclass(frozen=True)
class Calendar:
    """Dates that bound journal entries, the clock skew allowed, and the late-correction window."""

    year_start: dt.date
    year_end: dt.date
    timezone: ZoneInfo
    no_marks_grades: frozenset[int]
    approval_after_days: int
    max_skew_ms: int
    plan_ahead_days: int = 14  # a lesson may be planned this many days ahead (topic, homework, cancelled)
    allow_unplanned_substitutions: bool = False
    closed: bool = False  # the year is closed (`year close --apply`): its journal is archived, no op changes it

    def local_date(self, stamp: str) -> dt.date:
        """The school-local calendar day of an HLC."""
        return local_day(hlc.parse(stamp)[0], self.timezone)


QUARTER_HOUR_MS = 900_000


def local_day(ms: int, timezone: ZoneInfo) -> dt.date:
    """The calendar day in `timezone` of a moment in unix milliseconds.

    Looked up by the quarter hour of UTC it falls in, so a batch's thousands of stamps cost a few conversions: a
    quarter hour whose first and last millisecond have the same day and the same UTC offset holds one day (local
    midnights and clock changes are whole quarter hours in today's zones); any other quarter hour (a clock change
    at 00:01, an offset in seconds) is converted stamp by stamp.
    """
    day = _quarter_day(ms // QUARTER_HOUR_MS, timezone)
    return day if day is not None else dt.datetime.fromtimestamp(ms / 1000, tz=timezone).date()


@functools.lru_cache(maxsize=4096)
def _quarter_day(quarter: int, timezone: ZoneInfo) -> dt.date | None:
    first = dt.datetime.fromtimestamp(quarter * QUARTER_HOUR_MS / 1000, tz=timezone)
    last = dt.datetime.fromtimestamp(((quarter + 1) * QUARTER_HOUR_MS - 1) / 1000, tz=timezone)
    same = first.date() == last.date() and first.utcoffset() == last.utcoffset()
    return first.date() if same else None


@dataclass(frozen=True)
class Verdict:
    """The rules' answer: rejected (with a code), held for approval, or allowed (maybe as a substitute)."""

    rejection: Rejection | None = None
    held: str | None = None
    substitute: bool = False


ALLOW = Verdict()
AS_SUBSTITUTE = Verdict(substitute=True)


class Context(NamedTuple):
    """What one judgement may consult: the school, its lessons, its calendar and the clocks (a tuple: made for
    every op)."""

    ref: Reference
    lessons: Lessons
    cal: Calendar
    now_ms: int
    applied_hlc: str


def check(
    op: Op, merged: dict[str, Any], ref: Reference, lessons: Lessons, cal: Calendar, now_ms: int, applied_hlc: str
) -> Verdict:
    """Judge an op against the school's rules; `merged` is the record as it would be after the op."""
    if cal.closed:  # every journal record the rules accept is dated in the year (`out_of_year`)
        return _reject("year_closed")
    if not ref.teacher_exists(op.author):
        return _reject("unknown_author")
    if not ref.serves(op.author):
        return _reject("not_your_device")
    verdict = _CHECKS[op.entity](op, merged, Context(ref, lessons, cal, now_ms, applied_hlc))
    if verdict.rejection is None and not _in_device_scope(op, merged, ref, lessons):
        return _reject("not_your_class")
    if verdict.rejection is None and verdict.held is None and op.entity in ("attendance", "mark"):
        lesson = lessons(merged["lesson"])
        if lesson is not None and lesson.held:  # waits with its lesson for the deputy
            return Verdict(held="unplanned_substitution", substitute=verdict.substitute)
    return verdict


def _in_device_scope(op: Op, m: dict[str, Any], ref: Reference, lessons: Lessons) -> bool:
    """A bound device writes rows of its classes, and the lessons (with their attendance and marks) that the
    deputy planned as a substitution for a teacher it serves."""
    if op.entity in ("lesson", "test_plan"):
        class_id = str(m["class"])
        if op.entity == "lesson" and not ref.writes_class(class_id):
            day = parse_date(m["date"])
            return day is not None and ref.serves(m["teacher"]) and ref.planned_substitute(
                m["teacher"], class_id, m.get("group"), day, int(m["slot"]))
        return ref.writes_class(class_id)
    if op.entity in ("attendance", "mark"):
        lesson = lessons(m["lesson"])
        if lesson is None:
            return False
        if ref.writes_class(lesson.class_id):
            return True
        return lesson.slot is not None and ref.serves(lesson.teacher_id) and ref.planned_substitute(
            lesson.teacher_id, lesson.class_id, lesson.group_id, lesson.date, lesson.slot)
    student = ref.student(str(m["student"]))
    return student is not None and ref.writes_class(student.class_id)


def _reject(code: str, field: str | None = None) -> Verdict:
    return Verdict(rejection=Rejection(code, field))


def _check_key(op: Op, expected: str) -> Verdict | None:
    return None if op.id == expected else _reject("bad_id")


def _today(cal: Calendar, now_ms: int) -> dt.date:
    """The school's day now, allowing for the clock skew the hub tolerates."""
    return local_day(now_ms + cal.max_skew_ms, cal.timezone)


def _dated(day: dt.date, cal: Calendar, now_ms: int, future_ok: bool = False, ahead_days: int = 0) -> Verdict | None:
    if not cal.year_start <= day <= cal.year_end:
        return _reject("out_of_year")
    if not future_ok and day > _today(cal, now_ms) + dt.timedelta(days=ahead_days):
        return _reject("future_date")
    return None


def _not_yet_taught(lesson: LessonInfo, c: Context) -> Verdict | None:
    """Attendance and marks belong to the lesson's day or later, never to a lesson only planned."""
    return _reject("lesson_in_future") if lesson.date > _today(c.cal, c.now_ms) else None


def _late(day: dt.date, cal: Calendar, applied_hlc: str) -> bool:
    return (cal.local_date(applied_hlc) - day).days > cal.approval_after_days


def _lesson_rule(op: Op, m: dict[str, Any], c: Context) -> Verdict:
    day = parse_date(m["date"])
    assert day is not None
    bad = _check_key(op, lesson_id(m["class"], m.get("group"), m["date"], m["slot"]))
    bad = bad or _dated(day, c.cal, c.now_ms, ahead_days=c.cal.plan_ahead_days)  # planning ahead
    if bad:
        return bad
    grade = c.ref.class_grade(m["class"])
    if grade is None:
        return _reject("unknown_class", "class")
    if m.get("group") is not None and c.ref.group_class(m["group"]) != m["class"]:
        return _reject("unknown_group", "group")
    if not c.ref.subject_exists(m["subject"]):
        return _reject("unknown_subject", "subject")
    if not c.ref.teacher_exists(m["teacher"]):
        return _reject("unknown_teacher", "teacher")
    if c.ref.teaches(op.author, m["class"], m["subject"]):
        return ALLOW
    if m["teacher"] == op.author and c.ref.planned_substitute(op.author, m["class"], m.get("group"), day, m["slot"]):
        return AS_SUBSTITUTE
    if m.get("substitute") and m["teacher"] == op.author:
        if c.cal.allow_unplanned_substitutions:
            return AS_SUBSTITUTE
        return Verdict(held="unplanned_substitution", substitute=True)
    return _reject("not_your_class")


def _lesson_writer(op: Op, lesson: LessonInfo, ref: Reference) -> Verdict | None:
    """A teacher writes a lesson's rows when it is theirs, they substituted it, or they teach that subject there."""
    if lesson.teacher_id == op.author:
        return AS_SUBSTITUTE if lesson.substitute else ALLOW
    if ref.teaches(op.author, lesson.class_id, lesson.subject_id):
        return None
    return _reject("not_your_class")


def _student_in(student: str, lesson: LessonInfo, ref: Reference) -> tuple[StudentInfo | None, Verdict | None]:
    info = ref.student(student)
    if info is None:
        return None, _reject("unknown_student", "student")
    in_class = (info.class_id == lesson.class_id and enrolled(info.enrolled_on, info.left_on, lesson.date)) or any(
        class_id == lesson.class_id and enrolled(start, end, lesson.date) for class_id, start, end in info.before)
    if not in_class:
        return info, _reject("student_not_in_class", "student")
    return info, None


def _attendance_rule(op: Op, m: dict[str, Any], c: Context) -> Verdict:
    bad = _check_key(op, attendance_id(m["lesson"], m["student"]))
    if bad:
        return bad
    lesson = c.lessons(m["lesson"])
    if lesson is None:
        return _reject("unknown_lesson", "lesson")
    _, bad = _student_in(m["student"], lesson, c.ref)
    bad = bad or _not_yet_taught(lesson, c)
    if bad:
        return bad
    if c.ref.homeroom(op.author, lesson.class_id):  # class teachers set absence reasons (002 §3.5.1)
        return ALLOW
    return _lesson_writer(op, lesson, c.ref) or ALLOW


def _mark_rule(op: Op, m: dict[str, Any], c: Context) -> Verdict:
    lesson = c.lessons(m["lesson"])
    if lesson is None:
        return _reject("unknown_lesson", "lesson")
    info, bad = _student_in(m["student"], lesson, c.ref)
    bad = bad or _not_yet_taught(lesson, c)
    if bad:
        return bad
    assert info is not None
    if info.grade in c.cal.no_marks_grades:
        return _reject("grade_has_no_marks")
    verdict = _lesson_writer(op, lesson, c.ref) or ALLOW
    if verdict.rejection is None and _late(lesson.date, c.cal, c.applied_hlc):
        return Verdict(held="late_correction", substitute=verdict.substitute)
    return verdict


def _remark_rule(op: Op, m: dict[str, Any], c: Context) -> Verdict:
    day = parse_date(m["date"])
    assert day is not None
    info = c.ref.student(m["student"])
    if info is None:
        return _reject("unknown_student", "student")
    bad = _dated(day, c.cal, c.now_ms)
    if bad:
        return bad
    if m.get("subject") is not None and not c.ref.subject_exists(m["subject"]):
        return _reject("unknown_subject", "subject")
    if c.ref.teaches(op.author, info.class_id, None) or c.ref.homeroom(op.author, info.class_id):
        return ALLOW
    return _reject("not_your_class")


def _period_grade_rule(op: Op, m: dict[str, Any], c: Context) -> Verdict:
    bad = _check_key(op, period_grade_id(m["student"], m["subject"], m["period"]))
    if bad:
        return bad
    info = c.ref.student(m["student"])
    if info is None:
        return _reject("unknown_student", "student")
    if not c.ref.subject_exists(m["subject"]):
        return _reject("unknown_subject", "subject")
    end = c.ref.period_end(m["period"])
    if end is None:
        return _reject("unknown_period", "period")
    if info.grade in c.cal.no_marks_grades and m.get("status") == "graded":
        return _reject("grade_has_no_marks")
    if m.get("status") == "graded" and m.get("value") is None:
        return _reject("missing_field", "value")
    if not c.ref.teaches(op.author, info.class_id, m["subject"]):
        return _reject("not_your_class")
    if _late(end, c.cal, c.applied_hlc):
        return Verdict(held="late_correction")
    return ALLOW


def _test_plan_rule(op: Op, m: dict[str, Any], c: Context) -> Verdict:
    day = parse_date(m["date"])
    assert day is not None
    bad = _dated(day, c.cal, c.now_ms, future_ok=True)
    if bad:
        return bad
    if c.ref.class_grade(m["class"]) is None:
        return _reject("unknown_class", "class")
    if m.get("group") is not None and c.ref.group_class(m["group"]) != m["class"]:
        return _reject("unknown_group", "group")
    if not c.ref.subject_exists(m["subject"]):
        return _reject("unknown_subject", "subject")
    if c.ref.teaches(op.author, m["class"], m["subject"]):
        return ALLOW
    return _reject("not_your_class")


_CHECKS = {
    "lesson": _lesson_rule,
    "attendance": _attendance_rule,
    "mark": _mark_rule,
    "remark": _remark_rule,
    "period_grade": _period_grade_rule,
    "test_plan": _test_plan_rule,
}
assert set(_CHECKS) == set(JOURNAL)
