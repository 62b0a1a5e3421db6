"""A small, hand-built school for tests, and helpers that make protocol ops and post batches."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from dataclasses import dataclass, field
from typing import Any

from app.base import settings
from app.base.calendar import ensure_calendar
from app.base.extensions import db
from app.base.models import Assignment, Period, SchoolClass, Student, Subject, Teacher
from app.syncing.devices import register
from sync import hlc
from sync.ids import attendance_id, lesson_id, period_grade_id

LESSON_DAY = dt.date(2026, 11, 16)  # a Monday of the 2nd quarter
# The school's clock for the whole suite (set in conftest.py), whatever the machine's date: the Sunday after
# LESSON_DAY's week, so its marks are recent, not late corrections. A test that needs another day says so.
SUITE_NOW = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=3)))


def ms_at(day: dt.date, hour: int = 10, minute: int = 0) -> int:
    """Unix ms of a Moscow-time moment, as a classroom machine's clock would give it."""
    moment = dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=settings().timezone)
    return int(moment.timestamp() * 1000)


@dataclass
class TinySchool:
    """Grade 7А (maths by Петрова, Russian by Сидоров, homeroom Петрова), grade 1А (Кузнецова), two students each."""

    ids: dict[str, str] = field(default_factory=dict)

    def __getitem__(self, key: str) -> str:
        return self.ids[key]


def build_tiny_school() -> TinySchool:
    """Write the tiny school to the database and return its ids."""
    year = ensure_calendar(settings())
    school = TinySchool()
    teachers = {
        "petrova": Teacher(code="T1", last_name="Петрова", first_name="Анна", middle_name="Ивановна"),
        "sidorov": Teacher(code="T2", last_name="Сидоров", first_name="Олег", middle_name="Петрович"),
        "kuznetsova": Teacher(code="T3", last_name="Кузнецова", first_name="Вера", middle_name="Андреевна"),
        "outsider": Teacher(code="T4", last_name="Орлов", first_name="Илья", middle_name="Сергеевич"),
    }
    subjects = {"math": Subject(name="Математика", short="Матем."), "russian": Subject(name="Русский язык",
                                                                                      short="Рус. яз.")}
    db.session.add_all([*teachers.values(), *subjects.values()])
    db.session.flush()
    c7 = SchoolClass(year_id=year.id, grade=7, letter="А", homeroom_teacher_id=teachers["petrova"].id)
    c1 = SchoolClass(year_id=year.id, grade=1, letter="А", homeroom_teacher_id=teachers["kuznetsova"].id)
    db.session.add_all([c7, c1])
    db.session.flush()
    students = {
        "ivanova": Student(file_no="S1", last_name="Иванова", first_name="Мария", middle_name="Петровна",
                           birth_date=dt.date(2013, 3, 1), class_id=c7.id, enrolled_on=dt.date(2026, 9, 1)),
        "smirnov": Student(file_no="S2", last_name="Смирнов", first_name="Павел", middle_name="Олегович",
                           birth_date=dt.date(2013, 5, 2), class_id=c7.id, enrolled_on=dt.date(2026, 9, 1)),
        "first_grader": Student(file_no="S3", last_name="Белова", first_name="Ольга", middle_name="Ивановна",
                                birth_date=dt.date(2019, 4, 4), class_id=c1.id, enrolled_on=dt.date(2026, 9, 1)),
    }
    db.session.add_all(students.values())
    db.session.add_all([
        Assignment(teacher_id=teachers["petrova"].id, class_id=c7.id, subject_id=subjects["math"].id, hours_per_week=5),
        Assignment(teacher_id=teachers["sidorov"].id, class_id=c7.id, subject_id=subjects["russian"].id,
                   hours_per_week=4),
        Assignment(teacher_id=teachers["kuznetsova"].id, class_id=c1.id, subject_id=subjects["math"].id,
                   hours_per_week=4),
    ])
    db.session.flush()
    school.ids.update({f"t_{k}": v.id for k, v in teachers.items()})
    school.ids.update({f"s_{k}": v.id for k, v in subjects.items()})
    school.ids.update({f"st_{k}": v.id for k, v in students.items()})
    school.ids.update({"c7": c7.id, "c1": c1.id})
    school.ids["q2"] = db.session.query(Period).filter_by(number=2).one().id
    db.session.commit()
    return school


class Machine:
    """A classroom machine as the tests play it: makes ops with seqs and HLCs, posts batches."""

    def __init__(self, client: Any, name: str = "Кабинет 12", class_ids: list[str] | None = None) -> None:
        record, self.token = register(name, class_ids)
        db.session.commit()
        self.id = record.id
        self.client = client
        self.seq = itertools.count(1)
        self.clock = hlc.Clock(now_ms=lambda: ms_at(LESSON_DAY))

    def op(self, entity: str, record_id: str, fields: dict[str, Any] | None = None, *, author: str,
           action: str = "upsert", base: int | None = None, at: int | None = None) -> dict[str, Any]:
        """A protocol op with the next seq; `at` fixes its HLC milliseconds."""
        stamp = hlc.make(at) if at is not None else self.clock.tick()
        return {"op": str(uuid.uuid4()), "seq": next(self.seq), "hlc": stamp, "author": author, "entity": entity,
                "id": record_id, "action": action, "fields": fields or {}, "base": base}

    def post(self, ops: list[dict[str, Any]], pull: dict[str, Any] | None = None, **extra: Any) -> Any:
        """POST a batch of ops; return the response."""
        body: dict[str, Any] = {"protocol": 1, "device": self.id, "ops": ops, **extra}
        if pull is not None:
            body["pull"] = pull
        return self.client.post("/api/v1/sync", json=body, headers={"Authorization": f"Bearer {self.token}"})


def lesson_fields(school: TinySchool, *, day: dt.date = LESSON_DAY, slot: int = 2, cls: str = "c7",
                  subject: str = "s_math", teacher: str = "t_petrova", **changes: Any) -> tuple[str, dict[str, Any]]:
    """A lesson's derived id and a complete set of its fields."""
    fields = {"date": day.isoformat(), "slot": slot, "class": school[cls], "group": None, "subject": school[subject],
              "teacher": school[teacher], "substitute": False, "topic": "Линейные уравнения",
              "homework": "№ 245, 247", "homework_due": (day + dt.timedelta(days=2)).isoformat(), "cancelled": False}
    fields.update(changes)
    return lesson_id(fields["class"], fields["group"], fields["date"], fields["slot"]), fields


def attendance_key(lesson: str, student: str) -> str:
    """The derived id of an attendance row."""
    return attendance_id(lesson, student)


def period_grade_key(student: str, subject: str, period: str) -> str:
    """The derived id of a period mark."""
    return period_grade_id(student, subject, period)
