"""Parents' viewing: per class, students × school weeks of the period, and the families to phone."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, render_template, request
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from app.base import settings
from app.base.extensions import db
from app.base.models import SchoolClass
from app.base.settings import Period
from app.base.text import format_date
from app.staff import figures, viewing
from app.staff.access import current_scope, requires, school_classes
from app.staff.csvout import csv_response
from sync import clock

bp = Blueprint("monitoring", __name__, url_prefix="/monitoring")


def _query(class_id: str) -> tuple[SchoolClass, Period, dt.date, list[viewing.Week]]:
    """The class (within the account's scope), period, today and the period's weeks."""
    school_class = db.session.get(SchoolClass, class_id)
    if school_class is None:
        abort(404)
    if not current_scope().sees_families(school_class.id):
        abort(403)
    conf = settings()
    today = conf.today()
    try:
        number = int(request.args["period"]) if request.args.get("period") else None
    except ValueError:
        abort(404)
    period = figures.period_for(conf, today, number)
    return school_class, period, today, viewing.period_weeks(conf, period, today)


def cell_text(cell: viewing.Cell) -> str:
    """A cell as words (CSV) or as its short mark (the table)."""
    if cell.state == "confirmed":
        when = format_date(cell.confirmed_at.astimezone(settings().timezone).date()) if cell.confirmed_at else ""
        return (_("paper %(date)s", date=when) if cell.paper else when) or _("confirmed")
    texts: dict[str, str] = {"none": "", "opened": _("opened"), "future": "",
                             "changed": _("changed after confirmation")}
    return texts[cell.state]


@bp.route("/")
@requires("monitoring.view")
def index() -> str:
    """Choose a class (one's own class goes straight to its table)."""
    classes = school_classes(current_scope().sees_families)
    class_id = request.args.get("class") or (classes[0].id if len(classes) == 1 else None)
    if class_id is None:
        return render_template("staff/monitoring_index.html", classes=classes)
    school_class, period, today, weeks = _query(class_id)
    now = clock.now()
    rows = viewing.class_table(settings(), school_class.id, weeks, today)
    return render_template("staff/monitoring.html", school_class=school_class, period=period, weeks=weeks,
                           rows=rows, classes=classes, periods=settings().periods, cell_text=cell_text,
                           silent=viewing.silent_families(school_class.id, today, now),
                           linked=viewing.linked_families(school_class.id, today, now), today=today,
                           silent_days=viewing.SILENT_DAYS)


@bp.route("/table.csv")
@requires("monitoring.view")
def table_csv() -> Response:
    """The table as CSV: a line per student, a column per week."""
    school_class, period, today, weeks = _query(request.args.get("class", ""))
    rows = viewing.class_table(settings(), school_class.id, weeks, today)
    header = [_("Student")] + [f"{format_date(w.monday)}–{format_date(w.saturday)}" for w in weeks] + [
        _("Confirmed"), _("On paper"), _("Opened only")]
    lines = [[r.student.full_name] + [cell_text(c) for c in r.cells]
             + [r.count("confirmed", paper=False), r.count("confirmed", paper=True), r.count("opened")] for r in rows]
    name = _("parents")
    return csv_response(f"{school_class.name} {period.name} {name}.csv", header, lines)
