"""The quarterly hard copy of a class journal (002 §5, reg. §2.5): printed, signed, numbered, bound.

Parts, in the order of a paper journal: title page (contents, page count, signature block), the class list,
for each subject (and group) the grid of marks and absences by lesson date with the period's average and
period mark, then its lessons' topics and homework; the period's attendance; the period marks of all subjects.
The journal is read through the site's loader (static_site.paper.snapshots.PeriodSnapshot): deleted
records are left out, and the average is app.base.forecast's weighted average, as on the family pages.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from app.base.enrolment import InClass, roster
from app.base.extensions import db
from app.base.forecast import weighted_average
from app.base.models import AcademicYear, Group, Period, SchoolClass, Subject
from app.base.settings import Settings
from app.base.text import format_date, format_datetime, format_decimal, short_name
from static_site.data import ClassJournal, Row
from static_site.pages import GRADE_STATUS
from static_site.paper.pdf import numbered, render_html
from static_site.paper.snapshots import PeriodSnapshot

GRID_COLUMNS = 16  # lesson dates per grid table on a portrait A4 page
GRID_ABSENCE = {"absent_excused": ("н", "У"), "absent_unexcused": ("н", "Н"), "ill": ("н", "Б"), "late": ("оп", "")}
ABSENCE_KEYS = ("ill", "absent_excused", "absent_unexcused", "late")


@dataclass
class Stream:
    """The lessons of one subject for the class or one of its groups."""

    key: str  # anchor id
    subject: str
    group: str
    teachers: str
    students: list[dict[str, Any]]  # number, name, student id
    lessons: list[Row] = field(default_factory=list)
    chunks: list[dict[str, Any]] = field(default_factory=list)
    topics: list[dict[str, str]] = field(default_factory=list)


def grade_text(row: Row | None) -> str:
    """A period mark as printed: the mark, «отсрочка» or «н/а»."""
    if row is None:
        return ""
    return GRADE_STATUS.get(row.status) or (row.value or "")


def journal_context(conf: Settings, school_class: SchoolClass, period: Period, printed_by: str,
                    now: dt.datetime) -> dict[str, Any]:
    """Everything the journal copy prints for a class and a period."""
    snap = PeriodSnapshot(conf, period.start, period.end, period.name)
    journal = snap.classes({school_class.id})[school_class.id]
    students = sorted(roster(school_class.id, period.start, period.end),
                      key=lambda s: (s.last_name, s.first_name, s.middle_name, s.file_no))
    numbers = {s.id: n for n, s in enumerate(students, start=1)}
    no_marks = school_class.grade in conf.no_marks_grades
    lessons = [r for r in journal.lessons if period.start <= r.date <= period.end]
    streams = _streams(snap, journal, lessons, students, numbers)
    marks = _marks_by_lesson(journal, {r.id for r in lessons})
    grades = {(g.student_id, g.subject_id): g for s in students for g in journal.grades.get(s.id, ())
              if g.period_id == period.id}
    by_id = {s.id: s for s in students}
    for stream in streams:
        _fill(snap, stream, marks, journal, grades, by_id, no_marks)
    attendance = _attendance(journal, students, {r.id for r in lessons if not r.cancelled})
    subjects = sorted({r.subject_id for r in lessons} | {g.subject_id for g in grades.values()},
                      key=lambda s: snap.subjects.get(s, ""))
    grade_rows = [{"number": numbers[s.id], "name": s.full_name,
                   "cells": [grade_text(grades.get((s.id, subject))) for subject in subjects]} for s in students]
    homeroom = snap.teachers.get(school_class.homeroom_teacher_id or "", "")
    contents = [("list", "Список класса")] + [(s.key, f"{s.subject}{f' ({s.group})' if s.group else ''}")
                                              for s in streams]
    contents += [("attendance", "Посещаемость")] + ([] if no_marks else [("grades", f"Отметки за {period.name}")])
    return {
        "school": conf.school_name, "class_name": school_class.name, "year": _year_name(period),
        "period": period.name, "dates": f"{format_date(period.start)} – {format_date(period.end)}",
        "homeroom": homeroom, "students": [_listed(s, numbers[s.id], period) for s in students],
        "streams": streams, "attendance": attendance, "no_marks": no_marks,
        "subjects": [_short_subject(s) for s in subjects], "grade_rows": grade_rows,
        "contents": contents, "printed_by": printed_by, "printed_on": format_date(now.astimezone(conf.timezone)),
        "printed_at": format_datetime(now, conf.timezone), "legend": [(w.short, w.name) for w in conf.work_types],
    }


def _short_subject(subject_id: str) -> str:
    subject = db.session.get(Subject, subject_id)
    return (subject.short or subject.name) if subject else ""


def _year_name(period: Period) -> str:
    year = db.session.get(AcademicYear, period.year_id)
    return year.name if year else ""


def _listed(student: InClass, number: int, period: Period) -> dict[str, str | int]:
    notes = []
    if student.enrolled_on > period.start:
        notes.append(f"зачислен(а) {format_date(student.enrolled_on)}")
    if student.left_on is not None and student.left_on <= period.end:
        notes.append(f"выбыл(а) {format_date(student.left_on)}")
    return {"number": number, "name": student.full_name, "birth": format_date(student.birth_date),
            "file_no": student.file_no, "note": "; ".join(notes)}


def _streams(snap: PeriodSnapshot, journal: ClassJournal, lessons: list[Row], students: list[InClass],
             numbers: dict[str, int]) -> list[Stream]:
    """A stream per subject and group that had lessons, with its students and teachers, by subject name."""
    groups = {g.id: g.name for g in db.session.scalars(select(Group).where(
        Group.class_id == journal.school_class.id))}
    teachers: dict[tuple[str, str | None], set[str]] = defaultdict(set)
    for a in journal.assignments:
        teachers[(a.subject_id, a.group_id)].add(snap.teachers.get(a.teacher_id, ""))
    by_key: dict[tuple[str, str | None], list[Row]] = defaultdict(list)
    for lesson in lessons:
        by_key[(lesson.subject_id, lesson.group_id)].append(lesson)
    streams = []
    ordered = sorted(by_key, key=lambda k: (snap.subjects.get(k[0], ""), groups.get(k[1] or "", "")))
    for index, (subject_id, group_id) in enumerate(ordered, start=1):
        members = journal.groups.get(group_id, set()) if group_id else None
        listed = [{"number": numbers[s.id], "name": short_name(s.first_name, s.middle_name, s.last_name), "id": s.id}
                  for s in students if members is None or s.id in members]
        names = sorted(n for n in teachers.get((subject_id, group_id), set()) if n)
        streams.append(Stream(f"subject-{index}", snap.subjects.get(subject_id, ""), groups.get(group_id or "", ""),
                              ", ".join(names), listed, sorted(by_key[(subject_id, group_id)],
                                                               key=lambda r: (r.date, r.slot))))
    return streams


def _marks_by_lesson(journal: ClassJournal, lesson_ids: set[str]) -> dict[tuple[str, str], list[Row]]:
    found: dict[tuple[str, str], list[Row]] = defaultdict(list)
    for student_id, rows in journal.marks.items():
        for mark in rows:
            if mark.lesson_id in lesson_ids:
                found[(student_id, mark.lesson_id)].append(mark)
    return found


def _fill(snap: PeriodSnapshot, stream: Stream, marks: dict[tuple[str, str], list[Row]], journal: ClassJournal,
          grades: dict[tuple[str, str], Row], students: dict[str, InClass], no_marks: bool) -> None:
    """The grid tables (GRID_COLUMNS dates each, the last with average and period mark) and the topics."""
    subject_id = stream.lessons[0].subject_id
    for start in range(0, len(stream.lessons), GRID_COLUMNS):
        part = stream.lessons[start:start + GRID_COLUMNS]
        last = start + GRID_COLUMNS >= len(stream.lessons)
        rows = []
        for listed in stream.students:
            student = students[listed["id"]]
            attendance = journal.attendance.get(student.id, {})
            cells: list[dict[str, Any]] = []
            for lesson in part:
                if not student.active_on(lesson.date):
                    cells.append({"marks": [], "absence": None, "out": True})
                    continue
                presence = attendance.get(lesson.id)
                cells.append({"marks": [] if no_marks else [(m.value, snap.work_types[m.work_type].short
                                                             if m.work_type in snap.work_types else "")
                                                            for m in marks.get((student.id, lesson.id), [])],
                              "absence": GRID_ABSENCE.get(presence.status) if presence is not None else None,
                              "out": False})
            row: dict[str, Any] = {"number": listed["number"], "name": listed["name"], "cells": cells}
            if last and not no_marks:
                period_marks = [(m.value, m.work_type) for lesson in stream.lessons
                                for m in marks.get((student.id, lesson.id), [])]
                average = weighted_average(period_marks, snap.weights)
                row["average"] = format_decimal(average) if average is not None else ""
                row["grade"] = grade_text(grades.get((student.id, subject_id)))
            rows.append(row)
        stream.chunks.append({"dates": [f"{r.date:%d.%m}" for r in part], "cancelled": [r.cancelled for r in part],
                              "rows": rows, "last": last and not no_marks})
    for number, lesson in enumerate(stream.lessons, start=1):
        notes = []
        if lesson.cancelled:
            notes.append("урок отменён")
        if lesson.substitute:
            notes.append(f"замена: {snap.teachers_short.get(lesson.teacher_id, '')}")
        stream.topics.append({"number": str(number), "date": format_date(lesson.date), "topic": lesson.topic,
                              "homework": lesson.homework + (f" (к {lesson.homework_due:%d.%m})"
                                                             if lesson.homework and lesson.homework_due else ""),
                              "note": "; ".join(notes)})


def _attendance(journal: ClassJournal, students: list[InClass], lesson_ids: set[str]) -> list[dict[str, Any]]:
    """Per student: lessons missed (ill, excused, unexcused), their total, and lateness, over the period."""
    rows = []
    for number, student in enumerate(students, start=1):
        counts = Counter(a.status for lesson_id, a in journal.attendance.get(student.id, {}).items()
                         if lesson_id in lesson_ids)
        missed = counts["ill"] + counts["absent_excused"] + counts["absent_unexcused"]
        rows.append({"number": number, "name": student.full_name, "missed": missed,
                     **{key: counts[key] for key in ABSENCE_KEYS}})
    return rows


def journal_html(context: dict[str, Any], pages: int | None) -> str:
    """The journal copy as one printable HTML page; `pages` is stated on the title page when known."""
    return render_html("journal.html", pages=pages, **context)


def journal_document(context: dict[str, Any]) -> tuple[Any, int]:
    """The journal copy laid out by WeasyPrint, its title page stating the final page count."""
    return numbered(lambda pages: journal_html(context, pages))
