"""The year-end summary sheet of final marks (сводная ведомость итоговых отметок), kept 25 years (002 §5).

Rows are the class's students of the year (those who left are listed with the date), columns the subjects,
each with its period marks and the year mark (a period of kind "year"). A deferred mark reads «отсрочка»,
a student not assessed «н/а». Below: per subject the count of year marks, the share of students who passed
(успеваемость: year mark 3 or better) and of good marks (качество: 4 or 5), and each student's missed lessons.
Read straight from the tables for any academic year (the site's Snapshot knows only the configured one),
leaving deleted records out as the site does.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from typing import Any

from sqlalchemy import func, select

from app.base.enrolment import InClass, roster
from app.base.extensions import db
from app.base.journal_store import chunks
from app.base.models import (
    AcademicYear,
    Assignment,
    Attendance,
    Lesson,
    Period,
    PeriodGrade,
    SchoolClass,
    Subject,
)
from app.base.settings import Settings
from app.base.text import format_date, format_decimal
from static_site.pages import GRADE_STATUS
from static_site.paper.pdf import layout, render_html

SUBJECTS_PER_TABLE = 4
KIND_SHORT = {"quarter": "ч.", "trimester": "тр.", "half": "пг."}
MISSED = ("ill", "absent_excused", "absent_unexcused")


def summary_context(conf: Settings, school_class: SchoolClass, year: AcademicYear, now: dt.datetime) -> dict[str, Any]:
    """Everything the summary sheet prints for a class and its academic year."""
    periods = list(db.session.scalars(select(Period).where(Period.year_id == year.id).order_by(Period.start)))
    terms = [p for p in periods if p.kind != "year"]
    final = next((p for p in periods if p.kind == "year"), None)
    students = sorted(roster(school_class.id, year.start, year.end),
                      key=lambda s: (s.last_name, s.first_name, s.middle_name, s.file_no))
    grades = _grades([s.id for s in students], [p.id for p in periods])
    taught = set(db.session.scalars(select(Assignment.subject_id).where(Assignment.class_id == school_class.id)))
    subject_ids = taught | {subject for _, subject, _ in grades}
    subjects = sorted(db.session.scalars(select(Subject).where(Subject.id.in_(subject_ids))), key=lambda s: s.name) \
        if subject_ids else []
    columns = [(p.id, f"{p.number} {KIND_SHORT.get(p.kind, '')}".strip()) for p in terms]
    if final is not None:
        columns.append((final.id, "год"))
    tables = []
    for start in range(0, len(subjects), SUBJECTS_PER_TABLE):
        part = subjects[start:start + SUBJECTS_PER_TABLE]
        rows = [{"number": n, "name": s.full_name, "cells": [[_text(grades.get((s.id, subject.id, pid)))
                                                            for pid, _ in columns] for subject in part]}
                for n, s in enumerate(students, start=1)]
        tables.append({"subjects": [s.name for s in part], "rows": rows})
    missed = _missed(students, school_class.id, year)
    return {
        "school": conf.school_name, "class_name": school_class.name, "year": year.name,
        "no_marks": school_class.grade in conf.no_marks_grades, "columns": [label for _, label in columns],
        "has_final": final is not None, "tables": tables,
        "stats": [_stats(subject, students, grades, final) for subject in subjects] if final else [],
        "students": [{"number": n, "name": s.full_name, "note": _note(s, year), **missed[s.id]}
                     for n, s in enumerate(students, start=1)],
        "homeroom": _homeroom(school_class), "printed_on": format_date(now.astimezone(conf.timezone).date()),
    }


def _grades(student_ids: list[str], period_ids: list[str]) -> dict[tuple[str, str, str], Any]:
    found = {}
    for part in chunks(student_ids):
        query = select(PeriodGrade.student_id, PeriodGrade.subject_id, PeriodGrade.period_id, PeriodGrade.value,
                       PeriodGrade.status).where(PeriodGrade.student_id.in_(part),
                                                 PeriodGrade.period_id.in_(period_ids), PeriodGrade.deleted.is_(False))
        for row in db.session.execute(query):
            found[(row.student_id, row.subject_id, row.period_id)] = row
    return found


def _text(row: Any) -> str:
    if row is None:
        return ""
    return GRADE_STATUS.get(row.status) or (row.value or "")


def _stats(subject: Subject, students: list[InClass], grades: dict[tuple[str, str, str], Any],
           final: Period) -> dict[str, Any]:
    """Year marks of a subject counted; успеваемость and качество as shares of the students graded."""
    values = [_text(grades.get((s.id, subject.id, final.id))) for s in students]
    counts = Counter(values)
    graded = sum(counts[v] for v in ("5", "4", "3", "2", "1"))
    passed = sum(counts[v] for v in ("5", "4", "3"))
    good = counts["5"] + counts["4"]

    def share(n: int) -> str:
        return format_decimal(100 * n / graded, 1) + " %" if graded else "—"

    return {"subject": subject.name, "5": counts["5"], "4": counts["4"], "3": counts["3"],
            "2": counts["2"] + counts["1"], "na": counts[GRADE_STATUS["not_assessed"]],
            "deferred": counts[GRADE_STATUS["deferred"]], "passed": share(passed), "quality": share(good)}


def _missed(students: list[InClass], class_id: str, year: AcademicYear) -> dict[str, dict[str, int]]:
    """Per student, lessons of the class missed in the year (in total and for illness) and lateness."""
    result: dict[str, dict[str, int]] = defaultdict(lambda: {"missed": 0, "ill": 0, "late": 0})
    for part in chunks([s.id for s in students]):
        query = select(Attendance.student_id, Attendance.status, func.count()).join(
            Lesson, Lesson.id == Attendance.lesson_id).where(
            Attendance.student_id.in_(part), Attendance.deleted.is_(False), Lesson.deleted.is_(False),
            Lesson.cancelled.is_(False), Lesson.class_id == class_id, Lesson.date.between(year.start, year.end),
        ).group_by(Attendance.student_id, Attendance.status)
        for student_id, status, count in db.session.execute(query):
            entry = result[student_id]
            if status in MISSED:
                entry["missed"] += count
            if status in ("ill", "late"):
                entry[status] += count
    return {s.id: dict(result[s.id]) for s in students}


def _note(student: InClass, year: AcademicYear) -> str:
    notes = []
    if student.enrolled_on > year.start:
        notes.append(f"зачислен(а) {format_date(student.enrolled_on)}")
    if student.left_on is not None and student.left_on <= year.end:
        notes.append(f"выбыл(а) {format_date(student.left_on)}")
    return "; ".join(notes)


def _homeroom(school_class: SchoolClass) -> str:
    teacher = school_class.homeroom_teacher
    return " ".join(p for p in (teacher.last_name, teacher.first_name, teacher.middle_name) if p) if teacher else ""


def summary_html(context: dict[str, Any]) -> str:
    """The summary sheet as one printable HTML page (A4 landscape)."""
    return render_html("summary.html", **context)


def summary_document(context: dict[str, Any]) -> Any:
    """The summary sheet laid out by WeasyPrint."""
    return layout(summary_html(context))
