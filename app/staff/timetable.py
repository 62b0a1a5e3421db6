"""The deputy's changes to single lessons: substitutions, cancelled and moved lessons (app/base/timetable_changes)."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.base import settings
from app.base.extensions import db
from app.base.models import Group, Subject, Teacher
from app.base.timetable_changes import KINDS, ChangeError, changes, plan, remove
from app.staff.access import audit, current_user, requires, school_classes

bp = Blueprint("timetable", __name__, url_prefix="/timetable")


def _page(status: int = 200) -> tuple[str, int]:
    since = settings().today() - dt.timedelta(days=7)
    return render_template(
        "staff/timetable.html", changes=changes(since), kinds=KINDS, classes=school_classes(),
        groups=db.session.scalars(select(Group).order_by(Group.name)).all(),
        teachers=db.session.scalars(select(Teacher).order_by(Teacher.last_name, Teacher.first_name)).all(),
        subjects=db.session.scalars(select(Subject).order_by(Subject.name)).all(),
        names={c.id: c.name for c in school_classes()},
        teacher_names={t.id: f"{t.last_name} {t.first_name}" for t in db.session.scalars(select(Teacher))},
    ), status


@bp.route("/")
@requires("timetable.view")
def index() -> tuple[str, int]:
    """The changes from a week ago on, and (for the deputy) the form to plan one."""
    return _page()


def _date(name: str) -> dt.date | None:
    text = request.form.get(name, "").strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ChangeError(_("The date is not readable.")) from None


def _int(name: str) -> int | None:
    text = request.form.get(name, "").strip()
    if not text:
        return None
    if not text.isdigit():
        raise ChangeError(_("The lesson number is not a number."))
    return int(text)


@bp.route("/", methods=["POST"])
@requires("timetable.plan")
def add() -> Response | tuple[str, int]:
    """Plan one change."""
    try:
        day, slot = _date("date"), _int("slot")
        if day is None or slot is None:
            raise ChangeError(_("Give the lesson's date and number."))
        change = plan(request.form.get("kind", ""), day, slot, request.form.get("class", ""),
                      by=current_user().login, group_id=request.form.get("group") or None,
                      teacher_id=request.form.get("teacher") or None, subject_id=request.form.get("subject") or None,
                      to_date=_date("to_date"), to_slot=_int("to_slot"), note=request.form.get("note", ""))
    except ChangeError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return _page(400)
    audit("timetable.plan", f"timetable_change:{change.id}", f"{change.kind} {change.date} {change.slot}")
    db.session.commit()
    flash(_("The change is planned; machines receive it at their next sync."), "info")
    return redirect(url_for("staff.timetable.index"))


@bp.route("/<change_id>/remove", methods=["POST"])
@requires("timetable.plan")
def drop(change_id: str) -> Response:
    """Remove a planned change."""
    try:
        change = remove(change_id)
    except ChangeError as exc:
        flash(str(exc), "error")
        return redirect(url_for("staff.timetable.index"))
    audit("timetable.remove", f"timetable_change:{change.id}")
    db.session.commit()
    flash(_("The change is removed."), "info")
    return redirect(url_for("staff.timetable.index"))
