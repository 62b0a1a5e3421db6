"""Signing in: a teacher chooses themselves among those this machine serves and types a PIN.

The PIN is checked against the slow salted hash pulled from the hub (`sync.pins`). Five wrong tries
lock that teacher's sign-in for a minute (kept in the client file, so a restart does not reset it). A
signed-in teacher is signed out after a while idle: the machine is shared.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from flask import Blueprint, Flask, abort, current_app, flash, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from classroom import get_client
from classroom.i18n import gettext
from classroom.school import served_teachers
from sync import clock
from sync.pins import verify_pin

bp = Blueprint("auth", __name__)
P = ParamSpec("P")
R = TypeVar("R")
FAILURES = "classroom_pin_failures"
OPEN = ("auth.signin", "static")


def init_app(app: Flask) -> None:
    """Register sign-in and the checks every request passes."""
    app.register_blueprint(bp)
    app.before_request(_idle_and_csrf)


def teacher() -> str | None:
    """The signed-in teacher's id, or None."""
    value = session.get("teacher")
    return str(value) if value else None


def _now_s() -> float:
    return clock.now().timestamp()


def _idle_and_csrf() -> Response | None:
    """Sign out after idling; refuse a form not made by this app; send the signed-out to sign in."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(16)
    if request.method == "POST" and request.form.get("csrf") != session["csrf"]:
        abort(400, gettext("The form is out of date: open the page again."))
    if request.endpoint in OPEN:
        return None
    if teacher() is not None:
        idle = current_app.config["CLASSROOM_IDLE_MINUTES"] * 60
        if _now_s() - float(session.get("seen", 0)) > idle:
            session.pop("teacher", None)
            flash(gettext("You were signed out: the machine was not used for a while."), "info")
        else:
            session["seen"] = _now_s()
            return None
    return redirect(url_for("auth.signin", next=request.full_path if request.method == "GET" else None))


def lockout_left(teacher_id: str) -> int:
    """Seconds until the teacher may try a PIN again (0 when not locked)."""
    state = (get_client().store.get(FAILURES) or {}).get(teacher_id) or {}
    return max(0, int(float(state.get("until", 0)) - _now_s() + 0.999))


def _note_failure(teacher_id: str) -> int:
    """Count a wrong PIN; return the seconds of the lock it started (0 when none)."""
    store = get_client().store
    tries, seconds = current_app.config["CLASSROOM_LOCK_TRIES"], current_app.config["CLASSROOM_LOCK_SECONDS"]
    with store.transaction():
        failures = store.get(FAILURES) or {}
        state = failures.get(teacher_id) or {"count": 0, "until": 0}
        state["count"] = int(state["count"]) + 1
        locked = 0
        if state["count"] >= tries:
            state = {"count": 0, "until": _now_s() + seconds}
            locked = seconds
        failures[teacher_id] = state
        store.put(FAILURES, failures)
    return locked


def _clear_failures(teacher_id: str) -> None:
    store = get_client().store
    with store.transaction():
        failures = store.get(FAILURES) or {}
        if failures.pop(teacher_id, None) is not None:
            store.put(FAILURES, failures)


@bp.route("/signin", methods=["GET", "POST"])
def signin() -> tuple[str, int] | Response:
    """Choose yourself, type your PIN."""
    client = get_client()
    teachers = served_teachers(client) if client.store.get("status") else []
    chosen = request.form.get("teacher") or request.args.get("teacher") or ""
    error = None
    if request.method == "POST":
        ids = {t for t, _ in teachers}
        pin = request.form.get("pin", "")
        if chosen not in ids:
            error = gettext("Choose yourself in the list of teachers.")
        elif (left := lockout_left(chosen)) > 0:
            error = gettext("Too many wrong tries: signing in is locked for %(s)s s more.", s=left)
        else:
            record = client.store.record("teacher", chosen)
            stored = record.values.get("pin_hash") if record else None
            if not stored:
                error = gettext("You have no PIN: ask the school's administrator to set one on the server.")
            elif verify_pin(pin, str(stored)):
                _clear_failures(chosen)
                session.clear()
                session.update(teacher=chosen, seen=_now_s(), csrf=secrets.token_urlsafe(16))
                target = request.form.get("next") or ""
                return redirect(target if target.startswith("/") and not target.startswith("//")
                                else url_for("views.day"))
            else:
                locked = _note_failure(chosen)
                error = (gettext("Wrong PIN. Signing in is locked for %(s)s s.", s=locked) if locked
                         else gettext("Wrong PIN. Try again."))
    status = 403 if error and request.method == "POST" else 200
    return render_template("signin.html", teachers=teachers, chosen=chosen, error=error,
                           next=request.values.get("next", "")), status


@bp.post("/signout")
def signout() -> Response:
    """Sign out; the next teacher signs in."""
    session.pop("teacher", None)
    flash(gettext("You signed out."), "info")
    return redirect(url_for("auth.signin"))


def signed_in(view: Callable[P, R]) -> Callable[P, R | Response]:
    """A view for a signed-in teacher (the before-request check already redirected everyone else)."""

    @wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R | Response:
        if teacher() is None:
            return redirect(url_for("auth.signin"))
        return view(*args, **kwargs)

    return wrapper

