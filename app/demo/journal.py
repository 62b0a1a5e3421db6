"""The demo journal: the protocol ops classroom machines would have sent in the current period so far.

Nothing here writes journal tables: the ops go through the real sync path, like a teacher's. There is one
machine per grade, shared by its two classes («Ноутбук 7А, 7Б»): every teacher who teaches there types on
it, a substitute included. For every school day of the period up to yesterday it produces, from the
timetable, the lessons with topic and homework, the absences and lateness, the marks (none in grades that
get no marks), a few remarks, the test plan of the whole period and one substitute lesson. Each op is
timed as the teacher typed it, mostly within the deadlines, a few late (never late enough to need the
deputy's approval), and nothing after the start of `today`. Ops of a machine are numbered in the order
they were typed, and their HLCs grow with `seq`.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from typing import Any

from app.base.models import SchoolClass, Student, TimetableEntry
from app.base.settings import Settings
from app.demo import demo_id, topics
from app.demo.school import DemoSchool
from sync import hlc, ids

DEMO_TODAY = dt.date(2026, 11, 22)  # the suite's school day (tests.school.SUITE_NOW)
MINUTE, HOUR, DAY = 60_000, 3_600_000, 86_400_000
TESTED = (
    "Русский язык",
    "Математика",
    "Алгебра",
    "Геометрия",
    "Английский язык",
    "Физика",
    "Химия",
    "История",
    "Биология",
    "Окружающий мир",
    "Литература",
    "География",
    "Информатика",
)
LAB = ("Физика", "Химия", "Биология")


@dataclass(frozen=True)
class DemoDevice:
    """A classroom machine: its name, the classes it is bound to and the ops it sends, in seq order."""

    name: str
    class_ids: list[str]
    ops: list[dict[str, Any]]


@dataclass(order=True)
class _Typed:
    """One change as a teacher typed it, before it is numbered on its machine."""

    ms: int
    order: int
    device: int = field(compare=False)
    author: str = field(compare=False)
    entity: str = field(compare=False)
    id: str = field(compare=False)
    fields: dict[str, Any] = field(compare=False)


@dataclass(frozen=True)
class _Lesson:
    """A timetabled lesson on a date, with its place in its stream (class, group, subject)."""

    date: dt.date
    entry: TimetableEntry
    number: int


def demo_day(settings: Settings, today: dt.date) -> tuple[dt.date, bool]:
    """The day the demo journal is typed up to (not included), and whether that is the school's today.

    Inside the academic year it is today: the journal fills the current period up to yesterday. Outside it
    (summer before the year, or a later year, as config.yaml names one year) nothing is "current", so the
    demo is built as of the day after the year's end: its last period complete.
    """
    if settings.year_start < today <= settings.year_end + dt.timedelta(days=1):
        return today, True
    return settings.year_end + dt.timedelta(days=1), False


def demo_devices(school: DemoSchool, settings: Settings, today: dt.date = DEMO_TODAY) -> list[DemoDevice]:
    """The ops of every classroom machine for the current period up to the day before `today`."""
    return _Journal(school, settings, today).build()


class _Journal:
    """Walks the period's school days and collects what teachers typed."""

    def __init__(self, school: DemoSchool, settings: Settings, today: dt.date) -> None:
        self.school, self.settings = school, settings
        self.rng = random.Random(f"journal:{school.seed}")
        self.seed = school.seed
        self.tz = settings.timezone
        self.as_of = self._ms(today, dt.time(0, 0))
        period = settings.period_on(today - dt.timedelta(days=1)) or max(
            (p for p in settings.periods if p.start < today), key=lambda p: p.start
        )
        self.start, self.end = period.start, period.end
        self.last = min(today - dt.timedelta(days=1), period.end)
        self.classes = {c.id: c for c in school.classes}
        self.subjects = {s.id: s.name for s in school.subjects}
        self.pupils: dict[str, list[Student]] = {c.id: [] for c in school.classes}
        for student in school.students:
            self.pupils[student.class_id].append(student)
        self.members = {g.id: {s.id for s in g.students} for g in school.groups}
        self.grades = sorted({c.grade for c in school.classes})
        self.busy = {(e.teacher_id, e.weekday, e.slot) for e in school.timetable}
        self.ability = {s.id: min(4.95, max(2.7, self.rng.gauss(3.9, 0.55))) for s in school.students}
        self.numeric = [v for v in settings.mark_values if v.isdigit()] or list(settings.mark_values)
        self.typed: list[_Typed] = []
        self.illness: dict[str, int] = {}
        self.by_day = self._by_day()
        self.streams = self._streams()
        self.topics = {
            key: topics.sequence(self.rng, self.subjects[key[2]], self.classes[key[0]].grade, len(lessons))
            for key, lessons in self.streams.items()
        }
        self.tests = self._plan_tests()
        self.substitution = self._pick_substitution()

    # -- the calendar ---------------------------------------------------------------------------
    def _ms(self, day: dt.date, at: dt.time) -> int:
        """Unix milliseconds of a local time in the school's timezone."""
        return int(dt.datetime.combine(day, at, tzinfo=self.tz).timestamp() * 1000)

    def _school_days(self) -> list[dt.date]:
        """Every day of the period that is not a Sunday or a holiday."""
        days = []
        day = self.start
        while day <= self.end:
            off = self.settings.holiday_on(day) is not None
            if day.isoweekday() <= self.settings.school_days and not off:
                days.append(day)
            day += dt.timedelta(days=1)
        return days

    def _by_day(self) -> dict[tuple[str, int], list[TimetableEntry]]:
        """Timetable entries per class and weekday, in slot order."""
        by_day: dict[tuple[str, int], list[TimetableEntry]] = {}
        for entry in sorted(self.school.timetable, key=lambda e: (e.slot, e.group_id or "")):
            by_day.setdefault((entry.class_id, entry.weekday), []).append(entry)
        return by_day

    def _streams(self) -> dict[tuple[str, str | None, str], list[_Lesson]]:
        """Every lesson of the whole period, per class, group and subject, in date order."""
        streams: dict[tuple[str, str | None, str], list[_Lesson]] = {}
        for day in self._school_days():
            for cls in self.school.classes:
                for entry in self.by_day.get((cls.id, day.isoweekday()), []):
                    key = (cls.id, entry.group_id, entry.subject_id)
                    lessons = streams.setdefault(key, [])
                    lessons.append(_Lesson(day, entry, len(lessons)))
        return streams

    def _plan_tests(self) -> dict[tuple[str, str | None, str], _Lesson]:
        """One test per tested subject and stream, at least ten days into the period."""
        tests = {}
        for key, lessons in self.streams.items():
            grade = self.classes[key[0]].grade
            if grade in self.settings.no_marks_grades or self.subjects[key[2]] not in TESTED:
                continue
            later = [lesson for lesson in lessons if lesson.date >= self.start + dt.timedelta(days=10)]
            if later and self.rng.random() < 0.85:
                tests[key] = self.rng.choice(later)
        return tests

    def _pick_substitution(self) -> tuple[_Lesson, str]:
        """One lesson taught by a free colleague of the same specialty (or any free teacher)."""
        options = [
            lesson
            for key, lessons in self.streams.items()
            for lesson in lessons
            if key[1] is None
            and self.classes[key[0]].grade >= 5
            and lesson.date <= self.last
            and self.tests.get(key) != lesson
        ]
        lesson = self.rng.choice(options)
        entry = lesson.entry
        kind = self.school.specialty[entry.teacher_id]
        free = [
            t.id
            for t in self.school.teachers
            if (t.id, entry.weekday, entry.slot) not in self.busy and t.id != entry.teacher_id
        ]
        same = [t for t in free if self.school.specialty[t] == kind]
        return lesson, self.rng.choice(same or free)

    # -- what teachers type ---------------------------------------------------------------------
    def build(self) -> list[DemoDevice]:
        """Walk the days, then number each machine's ops in typing order."""
        for day in self._school_days():
            if day > self.last:
                break
            for cls in self.school.classes:
                self._day(cls, day)
        self._test_plans()
        return self._devices()

    def _type(
        self, ms: int, cls: SchoolClass, author: str, entity: str, record: str, fields: dict[str, Any]
    ) -> bool:
        """Record one change typed at `ms` on the class's machine; nothing typed from today on."""
        if ms >= self.as_of:
            return False
        self.typed.append(
            _Typed(ms, len(self.typed), self.grades.index(cls.grade), author, entity, record, fields)
        )
        return True

    def _day(self, cls: SchoolClass, day: dt.date) -> None:
        """A class's lessons of one day with everything typed about them."""
        entries = self.by_day.get((cls.id, day.isoweekday()), [])
        if not entries:
            return
        statuses = self._absences(cls, day)
        last_bell = self.settings.bells[max(e.slot for e in entries) - 1].end
        for entry in entries:
            key = (cls.id, entry.group_id, entry.subject_id)
            lesson = next(x for x in self.streams[key] if x.date == day and x.entry is entry)
            self._lesson(cls, lesson, statuses, self._ms(day, last_bell))

    def _absences(self, cls: SchoolClass, day: dt.date) -> dict[str, str]:
        """Today's whole-day status of each absent student: ill for days on end, or excused."""
        rng, statuses = self.rng, {}
        for student in self.pupils[cls.id]:
            left = self.illness.get(student.id, 0)
            if left:
                self.illness[student.id] = left - 1
                statuses[student.id] = "ill"
            elif rng.random() < 0.008:
                self.illness[student.id] = rng.randint(1, 5)
                statuses[student.id] = "ill"
            elif rng.random() < 0.006:
                statuses[student.id] = "absent_excused"
        return statuses

    def _lesson(self, cls: SchoolClass, lesson: _Lesson, statuses: dict[str, str], day_end: int) -> None:
        """The lesson op, then its attendance, marks and now and then a remark."""
        rng, entry, day = self.rng, lesson.entry, lesson.date
        key = (cls.id, entry.group_id, entry.subject_id)
        subject = self.subjects[entry.subject_id]
        substitute = self.substitution[0] is lesson
        teacher = self.substitution[1] if substitute else entry.teacher_id
        test = self.tests.get(key) is lesson
        bell = self.settings.bells[entry.slot - 1]
        start = self._ms(day, bell.start)
        lesson_id = ids.lesson_id(cls.id, entry.group_id, day.isoformat(), entry.slot)
        topic, theme = self.topics[key][lesson.number]
        homework = topics.homework(rng, subject, cls.grade)
        following = [x for x in self.streams[key][lesson.number + 1 :] if x.date > day]
        due = following[0].date.isoformat() if following and homework else None
        when = rng.random()
        if when < 0.8:
            typed = start + rng.randint(2, 15) * MINUTE
        elif when < 0.96:
            typed = day_end + rng.randint(5, 55) * MINUTE
        else:
            typed = self._ms(day, dt.time(19, 0)) + DAY + rng.randint(0, 180) * MINUTE
        if typed >= self.as_of:  # entered late, but before this morning: the lesson is never missing
            typed = start + rng.randint(2, 15) * MINUTE
        fields = {
            "date": day.isoformat(),
            "slot": entry.slot,
            "class": cls.id,
            "group": entry.group_id,
            "subject": entry.subject_id,
            "teacher": teacher,
            "substitute": substitute,
            "topic": f"Контрольная работа по теме «{theme}»" if test else topic,
            "homework": "" if test else homework,
            "homework_due": None if test else due,
            "cancelled": False,
        }
        if not self._type(typed, cls, teacher, "lesson", lesson_id, fields):
            return
        present = []
        moment = typed
        for student_id in self._attending(cls, entry, day):
            status = statuses.get(student_id)
            if status is None and rng.random() < (0.02 if entry.slot == 1 else 0.003):
                status = "late"
            elif status is None and rng.random() < 0.004:
                status = "absent_unexcused"
            if status in (None, "late"):
                present.append(student_id)
            if status is not None:
                moment += rng.randint(20, 90) * 1000
                self._type(
                    moment,
                    cls,
                    teacher,
                    "attendance",
                    ids.attendance_id(lesson_id, student_id),
                    {"lesson": lesson_id, "student": student_id, "status": status},
                )
        if cls.grade not in self.settings.no_marks_grades:
            self._marks(cls, lesson_id, subject, present, test, start, moment, teacher)
        if present and rng.random() < 0.01:
            self._remark(cls, lesson, rng.choice(present), lesson_id, teacher, max(moment, day_end) + HOUR)

    def _attending(self, cls: SchoolClass, entry: TimetableEntry, day: dt.date) -> list[str]:
        """Students who are on the lesson's list that day: enrolled, and in the group if it has one."""
        members = self.members.get(entry.group_id or "", None)
        return [
            s.id for s in self.pupils[cls.id] if s.active_on(day) and (members is None or s.id in members)
        ]

    def _marks(
        self,
        cls: SchoolClass,
        lesson_id: str,
        subject: str,
        present: list[str],
        test: bool,
        start: int,
        after: int,
        teacher: str,
    ) -> None:
        """Marks of one lesson: the whole class for a test or written work, about a third otherwise."""
        rng = self.rng
        if not present:
            return
        roll = rng.random()
        if test:
            kind, chosen, delay = "test", present, self._later(1, 3, late=(4, 5))
        elif subject == "Русский язык" and roll < 0.08:
            kind, chosen, delay = "dictation", present, self._later(1, 4, late=(5, 6))
        elif subject in LAB and roll < 0.1:
            kind, chosen, delay = "lab", present, self._later(1, 4, late=(5, 6))
        elif roll < 0.06 and subject not in ("Физическая культура", "Музыка"):
            share = rng.uniform(0.6, 1.0)
            kind, chosen, delay = (
                "independent",
                rng.sample(present, max(1, round(share * len(present)))),
                self._later(1, 4, late=(5, 6)),
            )
        else:
            share = rng.uniform(0.2, 0.4)
            kind, chosen = "", rng.sample(present, max(1, round(share * len(present))))
            delay = self._on_the_day()
        moment = max(start + delay, after + 1000)
        for student_id in sorted(chosen, key=present.index):
            work = kind or rng.choices(("oral", "classwork", "homework"), weights=(45, 35, 20))[0]
            value = self._value(student_id, work)
            moment += rng.randint(5, 40) * 1000
            comment = "Нет домашней работы" if work == "homework" and value == "2" else ""
            self._type(
                moment,
                cls,
                teacher,
                "mark",
                demo_id(self.seed, "mark", lesson_id, student_id),
                {
                    "lesson": lesson_id,
                    "student": student_id,
                    "value": value,
                    "work_type": self._work_type(work),
                    "comment": comment,
                },
            )

    def _later(self, low: int, high: int, late: tuple[int, int]) -> int:
        """Delay of written work's marks: checked at home within the deadline, now and then later."""
        days = self.rng.randint(*late) if self.rng.random() < 0.08 else self.rng.randint(low, high)
        return days * DAY + self.rng.randint(9 * 60, 13 * 60) * MINUTE

    def _on_the_day(self) -> int:
        """Delay of oral and class marks after the lesson start: in class, that evening, or days late."""
        roll = self.rng.random()
        if roll < 0.7:
            return self.rng.randint(30, 44) * MINUTE
        if roll < 0.95:
            return self.rng.randint(8 * 60, 12 * 60) * MINUTE
        return 3 * DAY + self.rng.randint(9 * 60, 12 * 60) * MINUTE

    def _value(self, student_id: str, work: str) -> str:
        """A mark near the student's usual level, a little lower in tests."""
        mean = self.ability[student_id] - (0.25 if work == "test" else 0.0)
        value = str(min(5, max(2, round(self.rng.gauss(mean, 0.7)))))
        if value in self.numeric:
            return value
        return min(self.numeric, key=lambda v: abs(int(v) - int(value)) if v.isdigit() else 99)

    def _work_type(self, code: str) -> str:
        """The configured work type for this code, or the closest one the school has."""
        codes = [w.code for w in self.settings.work_types]
        if code in codes:
            return code
        if code == "test":
            return max(self.settings.work_types, key=lambda w: w.weight).code
        return codes[0]

    def _remark(
        self, cls: SchoolClass, lesson: _Lesson, student_id: str, lesson_id: str, teacher: str, typed: int
    ) -> None:
        """A remark, recommendation or praise about a student of the lesson."""
        rng = self.rng
        student = next(s for s in self.pupils[cls.id] if s.id == student_id)
        kind = rng.choices(("remark", "recommendation", "praise"), weights=(45, 25, 30))[0]
        self._type(
            typed,
            cls,
            teacher,
            "remark",
            demo_id(self.seed, "remark", lesson_id, student_id),
            {
                "student": student_id,
                "date": lesson.date.isoformat(),
                "kind": kind,
                "subject": lesson.entry.subject_id,
                "text": topics.remark(rng, kind, female=student.middle_name.endswith("на")),
            },
        )

    def _test_plans(self) -> None:
        """The test schedule, entered by each teacher during the stream's first lesson of the period."""
        for key, test in self.tests.items():
            first = self.streams[key][0]
            cls, entry = self.classes[key[0]], first.entry
            typed = (
                self._ms(first.date, self.settings.bells[entry.slot - 1].end)
                + self.rng.randint(1, 30) * MINUTE
            )
            title = f"Контрольная работа по теме «{self.topics[key][test.number][1]}»"
            self._type(
                typed,
                cls,
                entry.teacher_id,
                "test_plan",
                demo_id(self.seed, "test_plan", *[k or "" for k in key], test.date),
                {
                    "class": cls.id,
                    "group": key[1],
                    "subject": key[2],
                    "date": test.date.isoformat(),
                    "work_type": self._work_type("test"),
                    "title": title,
                },
            )

    def _devices(self) -> list[DemoDevice]:
        """One machine per grade; its ops numbered in typing order with growing HLCs."""
        devices = []
        for index, grade in enumerate(self.grades):
            classes = [c for c in self.school.classes if c.grade == grade]
            ops: list[dict[str, Any]] = []
            last_ms, counter = -1, 0
            for typed in sorted(t for t in self.typed if t.device == index):
                counter = counter + 1 if typed.ms <= last_ms else 0
                last_ms = max(last_ms, typed.ms)
                seq = len(ops) + 1
                ops.append(
                    {
                        "op": demo_id(self.seed, "op", grade, seq),
                        "seq": seq,
                        "hlc": hlc.make(last_ms, counter),
                        "author": typed.author,
                        "entity": typed.entity,
                        "id": typed.id,
                        "action": "upsert",
                        "fields": typed.fields,
                        "base": None,
                    }
                )
            devices.append(
                DemoDevice(f"Ноутбук {', '.join(c.name for c in classes)}", [c.id for c in classes], ops)
            )
        return devices
