"""The public page `/code`: a family types the invitation code it was read by phone and is sent to its link.

The rules of codes (expiry, single use, locking after wrong tries, never logged) are in static_site/invitations.py.
The page is a plain form (no JavaScript), in Russian, with a CSRF token; the message stands beside the field.
The redirect to the link is relative (the hub serves the family site) and, like every hub answer outside the
staff pages, carries `Referrer-Policy: no-referrer`, so the token never leaves in a Referer header.
"""

from __future__ import annotations

from flask import Blueprint, Response, g, redirect, request
from flask_wtf.csrf import CSRFError, generate_csrf, validate_csrf
from werkzeug.wrappers import Response as BaseResponse

from app.base import settings
from app.base.extensions import db
from app.family import hub_page
from static_site.invitations import locked_for, redeem, typed
from static_site.render import TEMPLATES
from sync import clock

bp = Blueprint("invitation", __name__, template_folder=str(TEMPLATES))


@bp.before_request
def fresh_token() -> None:
    """Flask-WTF keeps the token in `g`, which outlives a request when an app context spans several (tests)."""
    g.pop("csrf_token", None)


def _form(status: int = 200, error: str = "", value: str = "") -> Response:
    return hub_page("code.html", status, error=error, value=value, csrf_token=generate_csrf())


@bp.get("/code")
def code_form() -> Response:
    """The form to type an invitation code."""
    return _form()


@bp.post("/code")
def code_entered() -> Response | BaseResponse:
    """Check a typed code: to its link when it is valid, else the reason beside the field (nothing is opened)."""
    try:
        validate_csrf(request.form.get("csrf_token", ""))
    except (CSRFError, ValueError):
        return _form(400, "Форма устарела: обновите страницу и введите код ещё раз.")
    conf = settings()
    now = clock.now()
    address = (request.remote_addr or "")[:64]
    wait = locked_for(address, now)
    if wait is not None:
        minutes = max(1, -(-int(wait.total_seconds()) // 60))
        return _form(429, f"Слишком много неверных попыток. Попробуйте снова через {minutes} мин.")
    code = typed(request.form.get("code", ""))
    if code is None:  # a typing error: not counted as a guess
        return _form(400, "Код — девять цифр, например 123 456 789.", request.form.get("code", "")[:20])
    outcome = redeem(code, address, conf.today(now), now)
    db.session.commit()
    if outcome.link is None:
        return _form(400, outcome.reason)
    answer = redirect(f"/d/{outcome.link.token}/", code=303)
    answer.headers["Referrer-Policy"] = "no-referrer"
    answer.headers["Cache-Control"] = "no-store"
    return answer
