"""The school's calendar: the administrator edits the year's periods and holidays (app/base/school_calendar).

config.yaml gives the defaults; once saved here, the database's calendar is in force for the year (one rule,
in app/base/school_calendar.py). Every family's pages are queued for a rebuild, as holidays show on them.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.base import file_settings, school_calendar, settings
from app.base.extensions import db
from app.base.models import Family
from app.base.rebuild_queue import mark_families_dirty
from app.base.settings import Holiday, Period
from app.staff.access import audit, current_user, requires
from static_site.paper.lookup import PaperError, parse_day
from sync import clock

bp = Blueprint("calendar", __name__, url_prefix="/calendar")
BLANK_HOLIDAYS = 2  # empty rows to add holidays


def _form_of(conf: Any) -> dict[str, str]:
    form = {}
    for p in conf.periods:
        form.update({f"period-{p.number}-name": p.name, f"period-{p.number}-start": f"{p.start:%d.%m.%Y}",
                     f"period-{p.number}-end": f"{p.end:%d.%m.%Y}"})
    for number, h in enumerate(conf.holidays, start=1):
        form.update({f"holiday-{number}-name": h.name, f"holiday-{number}-start": f"{h.start:%d.%m.%Y}",
                     f"holiday-{number}-end": f"{h.end:%d.%m.%Y}"})
    return form


def _page(form: dict[str, str], errors: dict[str, str], holiday_rows: int, status: int = 200) -> tuple[str, int]:
    conf = settings()
    year = school_calendar.edited(conf)
    return render_template("staff/calendar.html", conf=conf, form=form, errors=errors, year=year,
                           numbers=[p.number for p in conf.periods], holiday_rows=holiday_rows), status


@bp.route("/")
@requires("calendar.view")
def index() -> tuple[str, int]:
    """The periods and holidays in force, where they come from, and (for the administrator) the form."""
    conf = settings()
    return _page(_form_of(conf), {}, len(conf.holidays) + BLANK_HOLIDAYS)


def _day(form: dict[str, str], name: str, errors: dict[str, str]) -> Any:
    text = form.get(name, "").strip()
    if not text:
        errors[name] = _("Enter the date, e.g. 16.11.2026.")
        return None
    try:
        return parse_day(text)
    except PaperError as exc:
        errors[name] = str(exc)
        return None


@bp.route("/", methods=["POST"])
@requires("calendar.edit")
def save() -> Response | tuple[str, int]:
    """Save the year's periods and holidays; nothing changes while a field is wrong."""
    conf = settings()
    form = {k: str(v) for k, v in request.form.items() if k != "csrf_token"}
    errors: dict[str, str] = {}
    periods = []
    for p in conf.periods:
        start, end = _day(form, f"period-{p.number}-start", errors), _day(form, f"period-{p.number}-end", errors)
        if start and end:
            periods.append(Period(p.number, form.get(f"period-{p.number}-name", ""), start, end))
    holidays = []
    rows = int(form.get("holiday_rows", "0") or 0) if form.get("holiday_rows", "").isdigit() else 0
    for number in range(1, min(rows, 40) + 1):
        key = f"holiday-{number}"
        if not any(form.get(f"{key}-{part}", "").strip() for part in ("name", "start", "end")):
            continue  # an empty row: no holiday (clearing a row removes it)
        start, end = _day(form, f"{key}-start", errors), _day(form, f"{key}-end", errors)
        if start and end:
            holidays.append(Holiday(form.get(f"{key}-name", ""), start, end))
        elif not form.get(f"{key}-name", "").strip():
            errors[f"{key}-name"] = _("Name the holidays.")
    starts = [h.start for h in holidays]
    if len(set(starts)) != len(starts):
        errors["holidays"] = _("Two holidays start on the same day.")
    errors = {**school_calendar.check(conf, periods, holidays), **errors}  # every problem at once
    if errors:
        return _page(form, errors, max(rows, 1), 400)
    try:
        school_calendar.save(conf, periods, sorted(holidays, key=lambda h: h.start), current_user().login,
                             clock.now())
    except school_calendar.CalendarError as exc:  # periods with period marks (`_keep_graded`): nothing written
        db.session.rollback()
        for field, message in exc.errors.items():
            if field not in form:  # a period the page does not show (config.yaml dropped it): said above the form
                flash(message, "error")
        return _page(form, {k: v for k, v in exc.errors.items() if k in form}, max(rows, 1), 400)
    mark_families_dirty(set(db.session.scalars(select(Family.id))))
    audit("calendar.save", "academic_year:" + conf.year_name,
          f"{len(periods)} periods, {len(holidays)} holidays")
    db.session.commit()
    flash(_("The calendar is saved: it is in force instead of config.yaml's; machines get it at their next sync "
            "and the family pages at the next build."), "info")
    return redirect(url_for("staff.calendar.index"))


@bp.route("/reset", methods=["POST"])
@requires("calendar.edit")
def reset() -> Response:
    """Hand the year back to config.yaml's periods and holidays."""
    try:
        year = school_calendar.reset(file_settings())
    except school_calendar.CalendarError as exc:  # nothing written: the school's calendar stays in force
        db.session.rollback()
        for message in exc.errors.values():
            flash(message, "error")
        return redirect(url_for("staff.calendar.index"))
    mark_families_dirty(set(db.session.scalars(select(Family.id))))
    audit("calendar.reset", f"academic_year:{year.name}")
    db.session.commit()
    flash(_("The calendar is config.yaml's again."), "info")
    return redirect(url_for("staff.calendar.index"))
