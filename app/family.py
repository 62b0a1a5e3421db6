"""The hub's side of the family site: the weekly confirmation, view counting, private headers and 404s.

Views: every week page ends with `<link rel="stylesheet" media="print" href="seen-<week>.css">`, a
same-origin request made only by a browser that renders the page, after the page is shown (a print
stylesheet never blocks rendering). Link-preview bots of messengers fetch the HTML only, so they are not
counted; a User-Agent that names itself a bot or a preview is ignored as well. The answer is an empty
stylesheet, never cached. A static host other than the hub answers 404 there: no views are counted.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re

from flask import Blueprint, Response, render_template, request
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException

from app.base import bulk, settings
from app.base.calendar import monday
from app.base.extensions import db
from app.base.models import FamilyLink, Guardian, WeekAck, WeekView
from app.base.rebuild_queue import mark_families_dirty
from app.base.text import format_datetime, week_label
from static_site.access import link_expired, live_link
from static_site.links import TOKEN_PATTERN
from static_site.publish import NOT_FOUND, robots_txt
from static_site.render import TEMPLATES
from static_site.serve import PAGE_POLICY
from sync import clock

bp = Blueprint("family", __name__, template_folder=str(TEMPLATES))
WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
DIGEST = re.compile(r"^[0-9a-f]{1,64}$")
# The family pages' policy, allowing the answer page's own inline style by its hash (and nothing else inline).
_STYLE = re.search(r"<style>(.*?)</style>", (TEMPLATES / "ack.html").read_text(encoding="utf-8"), re.S)
ACK_POLICY = PAGE_POLICY.replace("style-src 'self'", "style-src 'self' 'sha256-{}'".format(
    base64.b64encode(hashlib.sha256(_STYLE[1].encode() if _STYLE else b"").digest()).decode()))
BOTS = ("bot", "crawl", "spider", "preview", "facebookexternalhit", "whatsapp", "telegram", "vkshare", "viber",
        "skype", "slack", "discord", "embedly", "yandex", "google", "bing", "curl", "wget", "python")


def week_start(week: str) -> dt.date | None:
    """The Monday of an ISO week id such as 2026-W47, or None when it is not one."""
    match = WEEK.match(week)
    if not match:
        return None
    try:
        return dt.date.fromisocalendar(int(match[1]), int(match[2]), 1)
    except ValueError:
        return None


def _page(status: int, title: str, lines: list[str], back: str | None = None) -> Response:
    """The answer page of "Ознакомлен(а)", with the family pages' private headers."""
    html = render_template("ack.html", title=title, lines=lines, back=back)
    return Response(html, status=status, mimetype="text/html", headers={
        "Cache-Control": "no-store", "Content-Security-Policy": ACK_POLICY, "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY"})


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
    start = week_start(week)
    if start is None or start > monday(today) or start < monday(conf.year_start):
        return _page(400, "Неделя не найдена", ["Подтвердить можно только прошедшую или текущую неделю."],
                     back=f"d/{token}/")
    link = found[0]
    values = {"family_id": link.family_id, "guardian_id": link.guardian_id, "link_id": link.id, "week": week,
              "confirmed_at": now, "digest": digest if DIGEST.match(digest) else "", "changed_at": None}
    bulk.upsert(WeekAck.__table__, [values], ["family_id", "guardian_id", "week"],  # type: ignore[arg-type]
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
    if not TOKEN_PATTERN.match(token) or week_start(week) is None or not agent or any(b in agent for b in BOTS):
        return response
    now = clock.now()
    try:
        link = db.session.scalars(select(FamilyLink).where(FamilyLink.token == token)).first()
        if link is None or link.revoked_at is not None or link_expired(link, now):
            return response
        bulk.upsert(WeekView.__table__,  # type: ignore[arg-type]
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


@bp.app_errorhandler(404)
def not_found(error: HTTPException) -> Response | HTTPException:
    """A removed or unknown family page: a short Russian page, never a hint whether the link existed."""
    if request.path.startswith("/d/"):
        return Response(NOT_FOUND, status=404, mimetype="text/html", headers={"Cache-Control": "no-store"})
    return error


@bp.after_app_request
def private_headers(response: Response) -> Response:
    """No referrer leaves a page with a token in its address; nothing of the hub is to be indexed."""
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("X-Robots-Tag", "noindex, nofollow")
    return response
