"""The `/staff` blueprint: access checks before every view, safe headers after, the menu, filters, errors."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, Flask, Response, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import refresh
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as BaseResponse

from app.base import settings
from app.base.extensions import db
from app.base.text import format_date, format_datetime, format_day, format_decimal
from app.staff import (
    LOCALES,
    accounts,
    auth,
    calendar_page,
    classlist,
    consent,
    csrf,
    dashboard,
    devices,
    families,
    imports,
    jobs,
    monitoring,
    notify,
    printing,
    reports,
    review,
    select_locale,
    timetable,
    year,
)
from app.staff.access import can, check_access, public, requires
from app.staff.i18n import N_, role_label
from app.staff.rights import allowed

bp = Blueprint("staff", __name__, url_prefix="/staff", template_folder="templates", static_folder="static")
for child in (auth.bp, dashboard.bp, review.bp, devices.bp, families.bp, monitoring.bp, reports.bp, printing.bp,
              accounts.bp, jobs.bp, consent.bp, imports.bp,
              classlist.bp, notify.bp, timetable.bp, calendar_page.bp, year.bp):
    bp.register_blueprint(child)

# The menu: (endpoint, action that shows it, label). Labels are translated when the page is drawn.
MENU = (
    ("staff.dashboard.index", "dashboard.view", N_("Dashboard")),
    ("staff.review.index", "review.view", N_("Review")),
    ("staff.devices.index", "devices.view", N_("Machines")),
    ("staff.classlist.index", "classlist.view", N_("Class lists")),
    ("staff.timetable.index", "timetable.view", N_("Substitutions")),
    ("staff.calendar.index", "calendar.view", N_("Calendar")),
    ("staff.families.index", "families.view", N_("Families")),
    ("staff.access.index", "access.view", N_("Access requests")),
    ("staff.monitoring.index", "monitoring.view", N_("Parents' viewing")),
    ("staff.reports.index", "reports.view", N_("Reports")),
    ("staff.printing.index", "printing.view", N_("Printing")),
    ("staff.imports.index", "imports.run", N_("Import")),
    ("staff.accounts.index", "accounts.view", N_("Accounts")),
    ("staff.accounts.audit", "audit.view", N_("Audit log")),
    ("staff.notify.index", "notify.view", N_("Send log")),
)


@bp.before_request
def guard() -> Any:
    """CSRF on every POST, then the account and its right to this view."""
    # `g` outlives a request when an app context was pushed around several (tests, scripts): start clean.
    for name in ("staff", "staff_scope", "csrf_token"):
        g.pop(name, None)
    refresh()
    if request.method == "POST":
        csrf.protect()
    return check_access()


@bp.after_request
def safe_headers(response: Response) -> Response:
    """Staff pages hold personal data: no caching, no framing, no foreign resources, no referrer outside."""
    if request.endpoint != "staff.static":  # the stylesheet may be cached: it holds nothing personal
        response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'none'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    )
    return response


@bp.context_processor
def page_context() -> dict[str, Any]:
    """What every staff template may use: the account, its menu, rights, the school's name and the locale."""
    user = g.get("staff")
    menu = [(endpoint, _(label)) for endpoint, action, label in MENU if user and allowed(user.role, action)]
    return {"staff_user": user, "menu": menu, "can": can, "school_name": settings().school_name,
            "role_name": role_label, "locale": select_locale(),
            "print_view": request.args.get("print") == "1"}


@bp.route("/")
@requires("home.view")
def home() -> BaseResponse:
    """The first page the account may open."""
    for endpoint, action, _label in MENU:
        if can(action):
            return redirect(url_for(endpoint))
    return redirect(url_for("staff.auth.login"))


@bp.route("/lang", methods=["POST"])
@public
def language() -> BaseResponse:
    """Switch the pages between Russian and English for this session."""
    chosen = request.form.get("lang", "")
    if chosen in LOCALES:
        session["lang"] = chosen
        user = g.get("staff")
        if user is not None:  # kept with the account: the next sign-in, on any computer, opens in it
            user.language = chosen
            db.session.commit()
    target = request.form.get("back", "")
    return redirect(target if target.startswith("/staff") and not target.startswith("//") else url_for("staff.home"))


@bp.errorhandler(CSRFError)
def csrf_failed(_exc: CSRFError) -> tuple[str, int]:
    """A form without a valid token: stale page or a forged request."""
    return render_template("staff/error.html", code=400,
                           message=_("The form has expired or did not come from this page. "
                                     "Go back, reload the page and try again.")), 400


@bp.errorhandler(403)
def forbidden(_exc: HTTPException) -> tuple[str, int]:
    """A page or action the account's role may not use."""
    return render_template("staff/error.html", code=403,
                           message=_("Your role does not allow this page or action.")), 403


@bp.errorhandler(404)
def not_found(_exc: HTTPException) -> tuple[str, int]:
    """Something that does not exist (any more)."""
    return render_template("staff/error.html", code=404, message=_("Not found.")), 404


def register_filters(app: Flask) -> None:
    """Jinja filters that write dates, times and numbers as a Russian school does."""
    app.add_template_filter(lambda d: format_date(d) if d else "", "ru_date")
    app.add_template_filter(lambda d: format_day(d) if d else "", "ru_day")
    app.add_template_filter(lambda v, places=2: "" if v is None else format_decimal(v, places), "ru_decimal")
    app.add_template_filter(
        lambda m: format_datetime(m, settings().timezone) if isinstance(m, dt.datetime) else "", "ru_datetime")
    app.add_template_filter(lambda v: "" if v is None else f"{round(v * 100)} %", "ru_percent")
    app.add_template_filter(
        lambda m: m.astimezone(settings().timezone).strftime("%d.%m") if isinstance(m, dt.datetime) else "",
        "ru_daymonth")
