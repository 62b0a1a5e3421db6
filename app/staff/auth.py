"""Signing in and out, throttled; changing one's own password."""

from __future__ import annotations

import datetime as dt
import math

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.security import check_password_hash
from werkzeug.wrappers import Response

from app.base.extensions import db
from app.staff import throttle
from app.staff.access import audit, current_user, public, requires, safe_next, sign_in, sign_out
from app.staff.users import LOGIN_MAX, AccountError, authenticate, normal_login, set_password
from sync import clock

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
@public
def login() -> Response | str | tuple[str, int]:
    """The sign-in form; five wrong passwords for a login within 15 minutes lock it for the rest of them, and an
    address failing many times waits a little longer before each try (see `throttle`)."""
    target = request.values.get("next")
    if request.method == "GET":
        if g.staff is not None:
            return redirect(safe_next(target))
        return render_template("staff/login.html", next=target, login="")
    # Normalised first, then refused when longer than any login may be: the throttle counts exactly the
    # account the password is checked against (padding a login with spaces once slipped past the count).
    login_name = normal_login(request.form.get("login", ""))
    password = request.form.get("password", "")
    address = (request.remote_addr or "")[:64]
    if not login_name or len(login_name) > LOGIN_MAX:
        throttle.record(login_name[:LOGIN_MAX], address, succeeded=False)
        db.session.commit()
        flash(_("Wrong login or password."), "error")
        return render_template("staff/login.html", next=target, login=""), 401
    wait = throttle.wait_for(login_name, address)
    if wait is not None:
        if wait < dt.timedelta(minutes=1):
            seconds = max(1, math.ceil(wait.total_seconds()))
            flash(_("Too many failed attempts. Try again in %(seconds)s s.", seconds=seconds), "error")
        else:
            minutes = max(1, math.ceil(wait.total_seconds() / 60))
            flash(_("Too many failed attempts. Try again in %(minutes)s min.", minutes=minutes), "error")
        return render_template("staff/login.html", next=target, login=login_name), 429
    user = authenticate(login_name, password)
    throttle.record(login_name, address, succeeded=user is not None)
    if user is None:
        db.session.commit()
        flash(_("Wrong login or password."), "error")
        return render_template("staff/login.html", next=target, login=login_name), 401
    user.last_login_at = clock.now()
    db.session.commit()
    sign_in(user)
    return redirect(safe_next(target))


@bp.route("/logout", methods=["POST"])
@public
def logout() -> Response:
    """End the session: on this browser and, server-side, every copy of its cookie."""
    sign_out()
    db.session.commit()
    flash(_("You have signed out."), "info")
    return redirect(url_for("staff.auth.login"))


@bp.route("/password", methods=["GET", "POST"])
@requires("own.password")
def password() -> Response | str | tuple[str, int]:
    """Change one's own password (the current one is asked again)."""
    if request.method == "GET":
        return render_template("staff/password.html")
    user = current_user()
    if not check_password_hash(user.password_hash, request.form.get("current", "")):
        flash(_("The current password is wrong."), "error")
        return render_template("staff/password.html"), 400
    new = request.form.get("new", "")
    if new != request.form.get("repeat", ""):
        flash(_("The new passwords differ."), "error")
        return render_template("staff/password.html"), 400
    try:
        set_password(user, new)
    except AccountError as exc:
        flash(str(exc), "error")
        return render_template("staff/password.html"), 400
    audit("password.own", f"staff_user:{user.id}")
    db.session.commit()
    sign_in(user)
    flash(_("The password has been changed."), "info")
    return redirect(url_for("staff.home"))
