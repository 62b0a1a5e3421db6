"""Reports per class and subject: marks and forecasts, timeliness, lessons without topic or homework.

Every report is a page (add `print=1` for the printable layout) and a CSV download with the same figures.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import Blueprint, abort, render_template, request
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from app.base import settings
from app.base.extensions import db
from app.base.models import SchoolClass, Subject
from app.base.settings import Period
from app.base.text import format_date, format_datetime, format_decimal
from app.staff import figures
from app.staff.access import current_scope, requires, school_classes
from app.staff.csvout import csv_response

bp = Blueprint("reports", __name__, url_prefix="/reports")
KINDS = ("topic", "homework", "absence", "mark")


def kind_label(kind: str) -> str:
    """An entry kind in the page's language."""
    labels: dict[str, str] = {"topic": _("Lesson topics"), "homework": _("Homework"), "absence": _("Absences"),
                              "mark": _("Marks")}
    return labels[kind]


def status_label(status: str) -> str:
    """A student's marks status in the page's language."""
    labels: dict[str, str] = {"none": _("no marks"), "one": _("one mark"), "behind": _("fewer than required"),
                              "ok": _("enough")}
    return labels[status]


def forecast_label(mark: str) -> str:
    """The forecast as shown: a mark, or "not enough marks"."""
    return _("not enough marks") if mark == figures.NOT_ENOUGH else mark


def mark_letter(work_type: str) -> str:
    """The small letter shown beside a mark of a work type that weighs more (К for a test), else nothing."""
    found = settings().work_type(work_type)
    return found.short if found is not None and found.weight > 1 else ""


def marks_text(marks: tuple[tuple[str, str], ...]) -> str:
    """Marks as a line, with their letters: 5 4К 3С."""
    return " ".join(value + mark_letter(work_type) for value, work_type in marks)


@dataclass(frozen=True)
class Query:
    """What a report page was asked for, checked against the account's scope."""

    school_class: SchoolClass
    period: Period
    day: dt.date
    subject: Subject | None

    def args(self, **extra: str) -> dict[str, str]:
        """The query string for links to related reports."""
        args = {"class": self.school_class.id, "period": str(self.period.number), "day": self.day.isoformat()}
        if self.subject is not None:
            args["subject"] = self.subject.id
        args.update(extra)
        return args


def read_query(subject_needed: bool) -> Query:
    """Class, period, day and subject from the query string; 404 if unknown, 403 if outside the scope."""
    school_class = db.session.get(SchoolClass, request.args.get("class", ""))
    if school_class is None:
        abort(404)
    try:
        day = dt.date.fromisoformat(request.args["day"]) if request.args.get("day") else settings().today()
        number = int(request.args["period"]) if request.args.get("period") else None
    except ValueError:
        abort(404)
    subject = None
    if subject_needed:
        subject = db.session.get(Subject, request.args.get("subject", ""))
        if subject is None:
            abort(404)
    scope = current_scope()
    if not scope.sees_class(school_class.id) or (subject is not None and not scope.sees(school_class.id, subject.id)):
        abort(403)
    return Query(school_class, figures.period_for(settings(), day, number), day, subject)


def _course(query: Query) -> figures.Course:
    assert query.subject is not None
    found = figures.courses(query.school_class.id, figures.last_day(query.period, query.day), query.subject.id)
    if not found:
        abort(404)
    return found[0]


def _summaries(query: Query) -> list[figures.CourseSummary]:
    scope = current_scope()
    day = figures.last_day(query.period, query.day)
    return [figures.summary(course, settings(), query.period, query.day)
            for course in figures.courses(query.school_class.id, day) if scope.sees(*course.key)]


@bp.route("/")
@requires("reports.view")
def index() -> str:
    """Choose a class; with a class, its subjects on one table."""
    classes = school_classes(current_scope().sees_class)
    if not request.args.get("class"):
        return render_template("staff/reports_index.html", classes=classes, periods=settings().periods)
    query = read_query(subject_needed=False)
    return render_template("staff/reports_class.html", q=query, classes=classes, periods=settings().periods,
                           rows=_summaries(query))


@bp.route("/summary.csv")
@requires("reports.view")
def summary_csv() -> Response:
    """The class table as CSV."""
    query = read_query(subject_needed=False)
    header = [_("Subject"), _("Teachers"), _("Hours a week"), _("Students"), _("No marks"), _("One mark"),
              _("Fewer than required"), _("Lessons"), _("Not recorded"), _("Without topic"), _("Without homework"),
              _("Entered on time, %")]
    rows = [[r.course.subject.name, ", ".join(r.course.teachers), format_decimal(r.course.hours, 1), r.students,
             r.no_marks if r.marks_given else "", r.one_mark if r.marks_given else "",
             r.behind if r.marks_given else "", r.lessons, r.missing, r.without_topic, r.without_homework,
             "" if r.on_time is None else round(r.on_time * 100)] for r in _summaries(query)]
    return csv_response(f"{query.school_class.name} {query.period.name}.csv", header, rows)


@bp.route("/course")
@requires("reports.view")
def course() -> str:
    """One subject of a class: marks and forecasts, timeliness, lessons without topic or homework."""
    query = read_query(subject_needed=True)
    found = _course(query)
    conf = settings()
    marks_given = query.school_class.grade not in conf.no_marks_grades
    timeliness = figures.course_timeliness(found, conf, query.period, query.day)
    return render_template(
        "staff/reports_course.html", q=query, course=found, marks_given=marks_given,
        marks=figures.course_marks(found, conf, query.period, query.day) if marks_given else [],
        timeliness=timeliness, kinds=KINDS, gaps=figures.lessons_without(found, query.period, query.day),
        kind_label=kind_label, status_label=status_label, forecast_label=forecast_label,
        deadlines=conf.deadlines, periods=conf.periods, mark_letter=mark_letter,
        period_marks_due=query.period.end + dt.timedelta(days=conf.deadlines["period_marks_days"]),
    )


@bp.route("/marks.csv")
@requires("reports.view")
def marks_csv() -> Response:
    """Marks, requirement and forecast per student as CSV."""
    query = read_query(subject_needed=True)
    found = _course(query)
    rows = [[r.student.full_name, marks_text(r.marks), r.count, r.required_now, r.needed,
             "" if r.average is None else format_decimal(r.average), forecast_label(r.forecast),
             status_label(r.status)]
            for r in figures.course_marks(found, settings(), query.period, query.day)]
    header = [_("Student"), _("Marks"), _("Count"), _("Required now"), _("Needed for the period"), _("Average"),
              _("Forecast"), _("Status")]
    name = _("marks")
    return csv_response(f"{query.school_class.name} {found.subject.name} {name}.csv", header, rows)


@bp.route("/timeliness.csv")
@requires("reports.view")
def timeliness_csv() -> Response:
    """Every entry with its moment, deadline and whether it was late, as CSV."""
    query = read_query(subject_needed=True)
    found = _course(query)
    conf = settings()
    result = figures.course_timeliness(found, conf, query.period, query.day)
    rows = [[kind_label(e.kind), format_date(e.lesson.date), e.lesson.slot, e.what,
             format_datetime(e.entered, conf.timezone), format_datetime(e.deadline, conf.timezone),
             _("late") if e.late else _("on time")]
            for e in sorted(result.entries, key=lambda e: (e.lesson.date, e.lesson.slot, KINDS.index(e.kind)))]
    rows += [[kind_label(kind), format_date(m.date), m.slot, _("lesson not recorded"), "",
              format_datetime(m.deadline, conf.timezone), _("not entered")]
             for m in result.missing for kind in figures.OWED_BY_A_LESSON]
    header = [_("Entry"), _("Lesson date"), _("Lesson"), _("Detail"), _("Entered"), _("Deadline"), _("Result")]
    name = _("timeliness")
    return csv_response(f"{query.school_class.name} {found.subject.name} {name}.csv", header, rows)


@bp.route("/gaps.csv")
@requires("reports.view")
def gaps_csv() -> Response:
    """Lessons without topic or homework as CSV."""
    query = read_query(subject_needed=True)
    found = _course(query)
    rows = [[format_date(lesson.date), lesson.slot, lesson.topic, lesson.homework]
            for lesson in figures.lessons_without(found, query.period, query.day)]
    rows += [[format_date(m.date), m.slot, _("lesson not recorded"), _("lesson not recorded")]
             for m in figures.missing_lessons(found, settings(), query.period, query.day)]
    header = [_("Lesson date"), _("Lesson"), _("Topic"), _("Homework")]
    name = _("gaps")
    return csv_response(f"{query.school_class.name} {found.subject.name} {name}.csv", header, rows)
