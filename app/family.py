"""The hub's side of the family site: the weekly confirmation, view counting, private headers and 404s.

Views: every week page ends with `<link rel="stylesheet" media="print" href="seen-<week>.css">`, a
same-origin request made only by a browser that renders the page, after the page is shown (a print
stylesheet never blocks rendering). Link-preview bots of messengers fetch the HTML only, so they are not
counted; a User-Agent that names itself a bot or a preview is ignored as well. The answer is an empty
stylesheet, never cached. A static host other than the hub answers 404 there: no views are counted.
"""

from __future__ import annotations

import base64
import hashlib
import re
from functools import cache
from typing import Any

from flask import Blueprint, Response, render_template, request
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from app.base import bulk, settings
from app.base.calendar import monday, week_monday
from app.base.extensions import db
from app.base.models import FamilyLink, Guardian, StudentWeekView, WeekAck, WeekView
from app.base.rebuild_queue import mark_families_dirty
from app.base.text import format_datetime, week_label
from app.syncing.api import http_error, is_api_request
from static_site.access import live_link
from static_site.links import TOKEN_PATTERN, active
from static_site.publish import NOT_FOUND, robots_txt
from static_site.render import CSS_SOURCE, TEMPLATES
from static_site.serve import PAGE_POLICY
from sync import clock

bp = Blueprint("family", __name__, template_folder=str(TEMPLATES))
DIGEST = re.compile(r"^[0-9a-f]{1,64}$")
# The family pages' policy, allowing the hub pages' one inline style (the site's stylesheet, inlined because the
# site may not be built yet) by its hash, and nothing else inline.
_CSS_HASH = base64.b64encode(hashlib.sha256(CSS_SOURCE.read_bytes()).digest()).decode()
ACK_POLICY = PAGE_POLICY.replace("style-src 'self'", f"style-src 'self' 'sha256-{_CSS_HASH}'")
BOTS = ("bot", "crawl", "spider", "preview", "facebookexternalhit", "whatsapp", "telegram", "vkshare", "viber",
        "skype", "slack", "discord", "embedly", "yandex", "google", "bing", "curl", "wget", "python")


def _page(status: int, title: str, lines: list[str], back: str | None = None,
          links: list[tuple[str, str]] | None = None, cache: str = "no-store") -> Response:
    """A notice of the hub in the family site's look: a title, lines, a way back, links."""
    return hub_page("ack.html", status, cache, title=title, lines=lines, back=back, links=links or [])


def hub_page(template: str, status: int = 200, cache: str = "no-store", **context: Any) -> Response:
    """A page the hub itself answers to families (`ack.html`, `code.html`), in the family site's look, its
    stylesheet inlined (the site may not be built yet), with the family pages' security headers."""
    html = render_template(template, css=_css(), school=settings().school_name, **context)
    return Response(html, status=status, mimetype="text/html", headers={
        "Cache-Control": cache, "Content-Security-Policy": ACK_POLICY, "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer"})


@cache
def _css() -> Markup:
    return Markup(CSS_SOURCE.read_text(encoding="utf-8"))  # noqa: S704 - our own stylesheet, no user text


@bp.post("/ack")
def ack() -> Response:
    """Record that a guardian has read a week ("Ознакомлен(а)"); a dead link is refused."""
    conf = settings()
    now = clock.now()
    today = conf.today(now)
    token = request.form.get("token", "").strip().lower()
    week = request.form.get("week", "")
    digest = request.form.get("v", "")
    found = live_link(token, today, now) if TOKEN_PATTERN.match(token) else None
    if found is None:
        return _page(403, "Ссылка не действует", [
            "Подтверждение не принято: ссылка на дневник отозвана, устарела или набрана с ошибкой.",
            "Обратитесь к классному руководителю, чтобы получить новую ссылку."])
    if found[0].student_id is not None:  # a student's own link reads; the week is confirmed by a guardian
        return _page(403, "Подтверждают родители", [
            "Ознакомление с неделей подтверждает родитель (законный представитель) по своей ссылке."],
            back=f"d/{token}/")
    start = week_monday(week)
    if start is None or start > monday(today) or start < monday(conf.year_start):
        return _page(400, "Неделя не найдена", ["Подтвердить можно только прошедшую или текущую неделю."],
                     back=f"d/{token}/")
    link = found[0]
    values = {"family_id": link.family_id, "guardian_id": link.guardian_id, "link_id": link.id, "week": week,
              "confirmed_at": now, "digest": digest if DIGEST.match(digest) else "", "changed_at": None}
    bulk.upsert(WeekAck.__table__, [values], ["family_id", "guardian_id", "week"],
                {"link_id": link.id, "confirmed_at": now, "digest": values["digest"], "changed_at": None})
    mark_families_dirty({link.family_id})
    db.session.commit()
    guardian = db.session.get(Guardian, link.guardian_id)
    name = " ".join(p for p in (guardian.first_name, guardian.middle_name) if p) if guardian else ""
    return _page(200, "Спасибо!", [
        f"{name}, вы подтвердили, что ознакомились с дневником за неделю {week_label(start)}.",
        f"Подтверждение записано {format_datetime(now, conf.timezone)}."], back=f"d/{token}/")


@bp.get("/d/<token>/seen-<week>.css")
def seen(token: str, week: str) -> Response:
    """Count a view of a week by the family of a link (a browser's request, not a preview bot's)."""
    response = Response("", mimetype="text/css", headers={"Cache-Control": "no-store"})
    agent = request.headers.get("User-Agent", "").lower()
    if not TOKEN_PATTERN.match(token) or week_monday(week) is None or not agent or any(b in agent for b in BOTS):
        return response
    now = clock.now()
    try:
        link = db.session.scalars(select(FamilyLink).where(FamilyLink.token == token)).first()
        if link is None or not active(link, now):
            return response
        if link.student_id is not None:  # a student's own link: counted apart from the family's views (004)
            bulk.upsert(StudentWeekView.__table__,
                        [{"student_id": link.student_id, "week": week, "views": 1, "first_at": now, "last_at": now}],
                        ["student_id", "week"], {"views": StudentWeekView.__table__.c.views + 1, "last_at": now})
        else:
            bulk.upsert(WeekView.__table__,
                        [{"family_id": link.family_id, "week": week, "views": 1, "first_at": now, "last_at": now}],
                        ["family_id", "week"], {"views": WeekView.__table__.c.views + 1, "last_at": now})
        db.session.commit()
    except DBAPIError:  # busy database: a lost view is better than a slow or failed page
        db.session.rollback()
    return response


@bp.get("/robots.txt")
def robots() -> Response:
    """robots.txt before the first build has written it to the site folder."""
    return Response(robots_txt(settings().site_base_url), mimetype="text/plain")


# Every error of the hub's pages in Russian (the API answers its JSON, the staff pages their own page).
ERRORS = {
    400: ("Неверный запрос", "Адрес или данные запроса не поняты. Проверьте ссылку и попробуйте ещё раз."),
    403: ("Доступ запрещён", "Эта страница или действие вам недоступны."),
    404: ("Страница не найдена", "Такой страницы здесь нет. Проверьте адрес."),
    405: ("Так эту страницу не открыть", "Этот адрес не принимает такой запрос."),
    413: ("Слишком большой запрос", "Отправлено больше данных, чем хаб принимает за раз."),
    429: ("Слишком много запросов", "Подождите немного и попробуйте снова."),
    500: ("Ошибка на сервере", "Что-то пошло не так. Попробуйте позже; если ошибка повторяется, сообщите "
          "администратору школы."),
    503: ("Сервер занят", "Хаб сейчас занят. Попробуйте через минуту."),
}
ACK_BY_HAND = ("Подтверждение не отправлено", "Подтверждение отправляется кнопкой «Я ознакомился(ась)» на странице "
               "дневника. Откройте ссылку на дневник, которую дал классный руководитель.")


def error_page(error: HTTPException) -> Response:
    """A Russian error page for any path but the API's; never a hint whether a family link existed."""
    code = error.code or 500
    if request.path.startswith("/d/") and code == 404:
        return Response(NOT_FOUND, status=404, mimetype="text/html", headers={"Cache-Control": "no-store"})
    title, line = ACK_BY_HAND if (request.path == "/ack" and code == 405) else \
        ERRORS.get(code, ERRORS[500] if code >= 500 else ERRORS[400])
    links = [("/staff/", "Вход для сотрудников")] if request.path.startswith("/staff") else [("/", "На главную")]
    response = _page(code, title, [line], links=links)
    if isinstance(error, MethodNotAllowed) and isinstance(error.valid_methods, list):
        response.headers["Allow"] = ", ".join(error.valid_methods)
    return response


@bp.app_errorhandler(HTTPException)
def hub_error(error: HTTPException) -> Response | HTTPException:
    """The hub's one handler of HTTP errors: the API's JSON for the API, a Russian page for the rest."""
    if is_api_request():
        return http_error(error)
    return error_page(error)


@bp.get("/")
def start() -> Response:
    """The hub's start page: what it is and where the staff sign in (nothing of any family, no token)."""
    conf = settings()
    return _page(200, "Электронный журнал «Тетрадь»", [
        f"Это хаб электронного журнала школы «{conf.school_name}»: сюда компьютеры классов присылают записи "
        "уроков, отсюда родители получают страницы дневника.",
        "Родители открывают дневник по личной ссылке из письма классного руководителя (или по пригласительному коду, "
        "продиктованному по телефону); здесь, на главной, "
        "дневников нет.",
        "Сотрудники школы входят на свои страницы по логину и паролю."],
        links=[("/code", "Вход по пригласительному коду (для родителей)"), ("/staff/login", "Вход для сотрудников")],
        cache="no-cache")


@bp.after_app_request
def private_headers(response: Response) -> Response:
    """No referrer leaves a page with a token in its address; nothing of the hub is to be indexed."""
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("X-Robots-Tag", "noindex, nofollow")
    return response
