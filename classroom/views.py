"""The teacher's day: the lessons of one date, a week strip to jump to any day, and the page frame."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from classroom import get_client
from classroom.auth import signed_in, teacher
from classroom.i18n import N_, gettext, week_day
from classroom.school import School, short_date, today, zone
from sync import notices
from sync.schema import parse_date

bp = Blueprint("views", __name__)

KIND_WORDS = {"substitution": N_("substitution"), "cancelled": N_("cancelled"), "moved_away": N_("moved"),
              "moved_here": N_("moved here"), "recorded": N_("recorded here"), "regular": ""}


@bp.get("/substitution")
@signed_in
def substitution() -> Response:
    """Open the lesson screen for a lesson taught instead of its teacher (not planned by the deputy)."""
    day = parse_date(request.args.get("date")) or today(get_client())
    try:
        number = int(request.args.get("slot") or "")
    except ValueError:
        number = 0
    if not 0 < number <= 12 or not request.args.get("class") or not request.args.get("subject"):
        flash(gettext("For a substitution give the class, the lesson number and the subject."), "error")
        return redirect(url_for("views.day", date=day.isoformat()))
    return redirect(url_for("lessons.lesson", day=day.isoformat(), number=number, class_id=request.args["class"],
                            substitute=request.args["subject"]))


@bp.get("/")
def home() -> Response:
    """Today's lessons."""
    return redirect(url_for("views.day"))


@bp.get("/day")
@signed_in
def day() -> str:
    """The signed-in teacher's lessons of a day (today unless ?date=), with the week around it."""
    client = get_client()
    school = School(client)
    now = today(client)
    chosen = parse_date(request.args.get("date")) or now
    monday = chosen - dt.timedelta(days=chosen.weekday())
    week = [monday + dt.timedelta(days=i) for i in range(6)]
    me = teacher()
    assert me is not None
    slots = school.day(me, chosen)
    classes = sorted(((cid, school.name("class", cid)) for cid in school.records("class")),
                     key=lambda c: (len(c[1]), c[1]))
    subjects = sorted(((sid, school.name("subject", sid)) for sid in school.records("subject")), key=lambda s: s[1])
    return render_template("day.html", school=school, chosen=chosen, today=now, week=week, slots=slots,
                           classes=classes, subjects=subjects,
                           kind_words=KIND_WORDS, prev_week=monday - dt.timedelta(days=7),
                           next_week=monday + dt.timedelta(days=7))


def _last_sync() -> dict[str, Any]:
    """What the frame shows of syncing: the last good sync's time and the backlog."""
    client = get_client()
    good = client.store.get("last_good_sync") or {}
    last = client.store.get("last_sync") or {}
    tz = zone(client)

    def shown(value: str | None) -> str | None:
        if not value:
            return None
        moment = dt.datetime.fromisoformat(value).astimezone(tz)
        return f"{moment:%d.%m.%Y} {moment.hour}:{moment:%M}"

    me = teacher()
    conflicts = [n for n in notices.kept(client.store, me) if n.get("status") == "open"] if me else []
    return {"good": shown(good.get("at")), "last": shown(last.get("at")), "last_ok": bool(last.get("ok")),
            "backlog": client.store.backlog(), "problems": len(client.store.outcomes()),
            "conflicts": len(conflicts)}


def _teacher_name() -> str:
    me = teacher()
    return School(get_client()).teacher_name(me) if me else ""


def template_globals() -> dict[str, Any]:
    """Helpers every template may call."""
    return {"sync_state": _last_sync, "teacher_name": _teacher_name, "short_date": short_date,
            "week_day": week_day}
