"""The teacher's day: the lessons of one date, a week strip to jump to any day, and the page frame."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from classroom import get_client
from classroom.auth import signed_in, teacher
from classroom.school import School, short_date, today, week_day, zone
from sync.schema import parse_date

bp = Blueprint("views", __name__)

KIND_WORDS = {"substitution": "замена", "cancelled": "отменён", "moved_away": "перенесён",
              "moved_here": "перенесён сюда", "recorded": "записан здесь", "regular": ""}


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
    return render_template("day.html", school=school, chosen=chosen, today=now, week=week, slots=slots,
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

    return {"good": shown(good.get("at")), "last": shown(last.get("at")), "last_ok": bool(last.get("ok")),
            "backlog": client.store.backlog(), "problems": len(client.store.outcomes())}


def _teacher_name() -> str:
    me = teacher()
    return School(get_client()).teacher_name(me) if me else ""


def template_globals() -> dict[str, Any]:
    """Helpers every template may call."""
    return {"sync_state": _last_sync, "teacher_name": _teacher_name, "short_date": short_date,
            "week_day": week_day}
