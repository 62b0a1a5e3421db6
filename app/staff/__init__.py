"""The staff pages of the hub: sign-in, dashboard, review queues, machines, families, monitoring, reports.

`init_app` binds Flask-Babel (Russian first, English second), CSRF protection for the staff pages only (the
sync API is authenticated by device tokens and the family site's forms come from static pages) and the
`/staff` blueprint with its children.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from flask import Flask, g, has_request_context, session
from flask_babel import Babel
from flask_wtf.csrf import CSRFProtect

from app.staff.i18n import compile_catalogs

TRANSLATIONS = Path(__file__).resolve().parent / "translations"
LOCALES = ("ru", "en")
SESSION_HOURS = 10

babel = Babel()
csrf = CSRFProtect()


def select_locale() -> str:
    """The school's language (Russian), whatever the browser asks for, unless the person chose English:
    the signed-in account's choice (kept with the account), else this session's (the sign-in page)."""
    if has_request_context():
        user = g.get("staff")
        chosen = getattr(user, "language", None) if user is not None else session.get("lang")
        if chosen in LOCALES:
            return str(chosen)
    return LOCALES[0]


def init_app(app: Flask) -> None:
    """Configure sessions, CSRF and translations, and register the staff blueprint."""
    # The session cookie: signed by SECRET_KEY (older keys still verify), out of reach of scripts, not sent
    # with cross-site posts, HTTPS-only when the hub is served over HTTPS, ended after a working day.
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = app.config.get("SESSION_COOKIE_SAMESITE") or "Lax"
    # HTTPS when the public address is https (the documented nginx), or TETRAD_HTTPS=1 says so.
    https = os.environ.get("TETRAD_HTTPS") == "1" or app.extensions["tetrad.settings"].site_base_url.startswith(
        "https://")
    app.config["SESSION_COOKIE_SECURE"] = bool(app.config.get("SESSION_COOKIE_SECURE")) or https
    app.config["PERMANENT_SESSION_LIFETIME"] = dt.timedelta(hours=SESSION_HOURS)
    # Staff forms check their token in the staff blueprint; the rest of the hub is not a form site.
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", SESSION_HOURS * 3600)
    app.config.setdefault("STAFF_JOBS_INLINE", False)
    compile_catalogs(TRANSLATIONS)
    babel.init_app(app, default_locale="ru", default_translation_directories=str(TRANSLATIONS),
                   locale_selector=select_locale)
    csrf.init_app(app)

    from app.staff.web import bp, register_filters

    register_filters(app)
    app.register_blueprint(bp)
