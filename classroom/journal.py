"""The class journal grid of a subject and period: students × lesson dates, the average, the forecast, and
the period marks, entered here at the end of the period.

Cells: marks with their work type's letter (5 with К for a test), absences as н with the reason (У, Н, Б),
lateness as оп. The average and forecast are the hub's (`sync.forecast`, with the weights and thresholds the
hub's status sends).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request
from werkzeug.wrappers import Response

from classroom import get_client
from classroom.auth import signed_in, teacher
from classroom.i18n import N_, gettext
from classroom.school import School, find, find_many, today
from sync.client import SyncClient
from sync.errors import RecordRefused
from sync.forecast import Forecast, forecast, marks_needed
from sync.ids import period_grade_id
from sync.schema import parse_date

bp = Blueprint("journal", __name__)

ABSENCE = {"absent_excused": "нУ", "absent_unexcused": "нН", "ill": "нБ", "late": "оп"}
DEFAULT_THRESHOLDS = {"5": 4.60, "4": 3.60, "3": 2.60}  # DOMAIN.md's common rule, when the hub does not say
PERIOD_STATUSES = (("deferred", N_("deferred")), ("not_assessed", N_("not assessed")))


def decimal(value: float | None) -> str:
    """4,25: two places with a decimal comma."""
    return "" if value is None else f"{value:.2f}".replace(".", ",")


@dataclass
class Line:
    """One student's line of the grid."""

    id: str
    name: str
    cells: dict[str, list[str]] = field(default_factory=dict)
    marks: list[tuple[str, str]] = field(default_factory=list)
    forecast: Forecast | None = None
    period: dict[str, Any] = field(default_factory=dict)
    row: list[str] = field(default_factory=list)  # the cells in the order of the lessons, as shown


def my_subjects(school: School, me: str) -> list[dict[str, Any]]:
    """The teacher's classes and subjects (the pulled teaching load)."""
    found = []
    for record in school.records("assignment").values():
        v = record.values
        if v.get("teacher") == me:
            found.append({"class": v["class"], "group": v.get("group"), "subject": v["subject"],
                          "hours": float(v.get("hours_per_week") or 0),
                          "label": f"{school.name('class', v['class'])} — {school.name('subject', v['subject'])}"})
    return sorted(found, key=lambda a: a["label"])


def current_period(school: School, day: dt.date) -> str | None:
    """The period containing `day`, else the last one that began before it."""
    periods = sorted(school.periods().items(), key=lambda p: str(p[1].values.get("start")))
    chosen = None
    for pid, record in periods:
        start = parse_date(record.values.get("start"))
        if start is not None and start <= day:
            chosen = pid
    return chosen


@bp.get("/journal")
@signed_in
def index() -> str:
    """The teacher's classes and subjects, each a link to its grid."""
    client = get_client()
    school = School(client)
    me = teacher()
    assert me is not None
    return render_template("journal_index.html", subjects=my_subjects(school, me), school=school)


def grid(client: SyncClient, school: School, class_id: str, group_id: str | None, subject_id: str,
         period_id: str, hours: float) -> tuple[list[Any], list[Line]]:
    """The lessons of the period (dated, not cancelled) and each student's line."""
    period = school.periods()[period_id].values
    start, end = parse_date(period.get("start")), parse_date(period.get("end"))
    assert start is not None and end is not None
    lessons = sorted(
        ((lid, r.values) for lid, r in find(client, "lesson", "class", class_id, clocks=False).items()
         if not r.deleted and r.values.get("subject") == subject_id and r.values.get("group") == group_id
         and not r.values.get("cancelled") and start <= (parse_date(r.values.get("date")) or dt.date.min) <= end),
        key=lambda item: (str(item[1]["date"]), int(item[1]["slot"])))
    status = client.store.get("status") or {}
    weights = {str(w["code"]): float(w.get("weight") or 1) for w in status.get("work_types") or []}
    shorts = {str(w["code"]): str(w.get("short") or "") for w in status.get("work_types") or []}
    rule = status.get("forecast") or {}
    thresholds = {str(k): float(v) for k, v in (rule.get("thresholds") or DEFAULT_THRESHOLDS).items()}
    needed = marks_needed(hours, int(rule.get("min_marks_one_hour") or 3), int(rule.get("min_marks_more_hours") or 5))
    lines = [Line(sid, name) for sid, name in school.class_list(class_id, group_id, min(end, today(client)))]
    by_id = {line.id: line for line in lines}
    order = {lid: index for index, (lid, _values) in enumerate(lessons)}
    for entity in ("attendance", "mark"):  # one query each for the whole period, in the order of the lessons
        found = find_many(client, entity, "lesson", order).values()
        for record in sorted(found, key=lambda r: order.get(str(r.values.get("lesson")), -1)):
            v = record.values
            line, lid = by_id.get(str(v.get("student"))), str(v.get("lesson"))
            if line is None or record.deleted or lid not in order:
                continue
            if entity == "attendance" and v.get("status") in ABSENCE:
                line.cells.setdefault(lid, []).insert(0, ABSENCE[str(v["status"])])
            elif entity == "mark":
                line.cells.setdefault(lid, []).append(f"{v['value']}{shorts.get(str(v['work_type']), '')}"
                                                      if v.get("work_type") == "test" else str(v["value"]))
                line.marks.append((str(v["value"]), str(v["work_type"])))
    for line in lines:
        line.row = [" ".join(line.cells.get(lid, ())) for lid, _ in lessons]
        line.forecast = forecast(line.marks, weights, thresholds, needed)
        grade = client.view("period_grade", period_grade_id(line.id, subject_id, period_id))
        line.period = dict(grade.values) if grade is not None and not grade.deleted else {}
    return lessons, lines


@bp.route("/journal/<class_id>/<subject_id>", methods=["GET", "POST"])
@signed_in
def class_grid(class_id: str, subject_id: str) -> tuple[str, int] | Response:
    """The grid of one class (or group) and subject for a period; period marks saved from it."""
    client = get_client()
    school = School(client)
    me = teacher()
    assert me is not None
    group_id = request.args.get("group") or None
    mine = [a for a in my_subjects(school, me)
            if (a["class"], a["group"], a["subject"]) == (class_id, group_id, subject_id)]
    if not mine:
        abort(404, gettext("You do not teach this subject in this class."))
    periods = sorted(school.periods().items(), key=lambda p: str(p[1].values.get("start")))
    period_id = request.args.get("period") or current_period(school, today(client))
    if period_id not in school.periods():
        abort(404, gettext("No such period."))
    error = None
    if request.method == "POST":
        try:
            written = save_period_marks(client, school, class_id, group_id, subject_id, period_id, me, request.form)
        except RecordRefused as refused:
            error = refused.message
        else:
            flash(gettext("The period marks are saved (entries: %(n)s).", n=written), "ok")
            return redirect(request.full_path.rstrip("?"))
    lessons, lines = grid(client, school, class_id, group_id, subject_id, period_id, mine[0]["hours"])
    return render_template("journal.html", school=school, lessons=lessons, lines=lines, periods=periods,
                           period_id=period_id, class_id=class_id, group_id=group_id, subject_id=subject_id,
                           decimal=decimal, error=error, statuses=PERIOD_STATUSES,
                           mark_values=school.mark_values(), label=mine[0]["label"]), \
        422 if error else 200


def save_period_marks(client: SyncClient, school: School, class_id: str, group_id: str | None, subject_id: str,
                      period_id: str, me: str, form: Any) -> int:
    """Period marks from the grid's last column, in one transaction; a value, «отсрочка» or «не аттестован»."""
    written = 0
    with client.store.transaction():
        for sid, name in school.class_list(class_id, group_id, today(client)):
            choice = form.get(f"period-{sid}") or ""
            record = client.view("period_grade", period_grade_id(sid, subject_id, period_id))
            current = record.values if record is not None and not record.deleted else {}
            shown = current.get("value") if current.get("status") == "graded" else current.get("status")
            if not choice or choice == (shown or ""):
                continue
            graded = choice not in dict(PERIOD_STATUSES)
            fields = {"student": sid, "subject": subject_id, "period": period_id,
                      "value": choice if graded else None, "status": "graded" if graded else choice}
            try:
                client.record("period_grade", fields, author=me)
            except RecordRefused as refused:
                raise _named(refused, name) from None
            written += 1
    return written


def _named(refused: RecordRefused, name: str) -> RecordRefused:
    """The same refusal, naming the student."""
    named = RecordRefused(refused.code, refused.field)
    named.message = f"{name}: {refused.message}"
    return named
