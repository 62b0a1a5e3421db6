"""A realistic sync workload from the demo school's timetable: lessons, absences, marks, corrections."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections import defaultdict
from typing import Any

from sqlalchemy import select

from app.base.extensions import db
from app.base.models import SchoolClass, Student, TimetableEntry
from app.base.settings import Settings
from sync import clock, hlc, ids

STATUSES = ("absent_excused", "absent_unexcused", "ill", "late", "present")


def school_days(conf: Settings, start: dt.date, end: dt.date) -> list[dt.date]:
    """Monday to Saturday between two dates, holidays left out."""
    days, day = [], start
    while day <= end:
        if day.weekday() < 6 and not any(h.start <= day <= h.end for h in conf.holidays):
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def generate(conf: Settings, total: int, seed: int = 7) -> dict[str, list[dict[str, Any]]]:
    """About `total` ops per grade's machine key ("grade-7"), in the order teachers typed them."""
    rng = random.Random(seed)
    start = conf.year_start
    classes = {c.id: c for c in db.session.scalars(select(SchoolClass))}
    students: dict[str, list[str]] = defaultdict(list)
    for s in db.session.scalars(select(Student).where(Student.left_on.is_(None), Student.enrolled_on <= start)):
        students[s.class_id].append(s.id)
    by_weekday: dict[int, list[TimetableEntry]] = defaultdict(list)
    for entry in db.session.scalars(select(TimetableEntry)):
        by_weekday[entry.weekday].append(entry)
    ops: dict[str, list[dict[str, Any]]] = defaultdict(list)
    count = 0
    yesterday = clock.today(conf.timezone) - dt.timedelta(days=1)  # the bench fixes the clock
    for day in school_days(conf, start, min(conf.year_end, yesterday)):
        for entry in sorted(by_weekday[day.isoweekday()], key=lambda e: (e.class_id, e.slot)):
            cls = classes[entry.class_id]
            device = f"grade-{cls.grade}"
            start = conf.bells[min(entry.slot, len(conf.bells)) - 1].start
            ms = int(dt.datetime.combine(day, start, conf.timezone).timestamp() * 1000) + rng.randint(0, 40) * 60_000
            lesson = ids.lesson_id(cls.id, entry.group_id, day.isoformat(), entry.slot)
            ops[device].append(_op(rng, ms, entry.teacher_id, "lesson", lesson, {
                "date": day.isoformat(), "slot": entry.slot, "class": cls.id, "group": entry.group_id,
                "subject": entry.subject_id, "teacher": entry.teacher_id, "substitute": False,
                "topic": f"Тема урока {rng.randint(1, 300)}",
                "homework": f"§ {rng.randint(1, 40)}, № {rng.randint(1, 900)}",
                "homework_due": None, "cancelled": False}))
            count += 1
            for student in students[cls.id]:
                roll = rng.random()
                if roll < 0.15:
                    row = ids.attendance_id(lesson, student)
                    ops[device].append(_op(rng, ms + 60_000, entry.teacher_id, "attendance", row,
                                           {"lesson": lesson, "student": student, "status": rng.choice(STATUSES)}))
                    count += 1
                elif roll < 0.40 and cls.grade not in conf.no_marks_grades:
                    mark = str(uuid.UUID(int=rng.getrandbits(128)))
                    fields = {"lesson": lesson, "student": student, "value": rng.choice("5544332"),
                              "work_type": rng.choice(("oral", "classwork", "homework", "test"))}
                    ops[device].append(_op(rng, ms + 120_000, entry.teacher_id, "mark", mark, fields))
                    count += 1
                    if rng.random() < 0.05:  # a correction the same evening
                        ops[device].append(_op(rng, ms + 8 * 3_600_000, entry.teacher_id, "mark", mark,
                                               {"value": rng.choice("543")}))
                        count += 1
            if count >= total:
                return ops
    return ops


def _op(rng: random.Random, ms: int, author: str, entity: str, record: str, fields: dict[str, Any]) -> dict[str, Any]:
    op_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))  # replaced by the client's form once seqs are set
    return {"op": op_id, "seq": 0, "hlc": hlc.make(ms), "author": author, "entity": entity,
            "id": record, "action": "upsert", "fields": fields, "base": None}
