"""The hub's public side of notifications: the unsubscribe link of e-mails and the SMS gateway's reply hook."""

from __future__ import annotations

import hmac

from flask import Blueprint, Response, render_template, request

from app.base import settings
from app.base.extensions import db
from app.notify.config import notify_config
from app.notify.optout import opt_out, read_token, sms_reply
from sync import clock

bp = Blueprint("notify", __name__, url_prefix="/notify", template_folder="templates")


def _page(status: int, title: str, lines: list[str], form: bool = False) -> Response:
    html = render_template("notify_page.html", title=title, lines=lines, form=form)
    return Response(html, status=status, mimetype="text/html",
                    headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
def unsubscribe(token: str) -> Response:
    """GET asks, POST (the button or a mail client's one-click) switches e-mails off."""
    found = read_token(token)
    if found is None:
        return _page(404, "Ссылка не действует", ["Ссылка для отписки неверна. Обратитесь в школу."])
    guardian_id, channel = found
    if request.method == "GET":
        return _page(200, "Отписаться от писем школы?",
                     ["Вы больше не будете получать письма из электронного дневника на этот адрес.",
                      "Дневник по ссылке и бумажные выписки останутся."], form=True)
    opt_out(guardian_id, channel, "email_link", clock.now())
    db.session.commit()
    return _page(200, "Вы отписались", ["Письма из электронного дневника больше не придут. "
                                        "Снова подписаться можно через классного руководителя."])


@bp.post("/sms-reply")
def sms_reply_hook() -> tuple[dict[str, object], int]:
    """The gateway forwards replies here: {"from": "+7…", "text": "СТОП"} with the same Bearer token."""
    conf = notify_config(settings())
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not conf.sms.token or not hmac.compare_digest(given.encode(), conf.sms.token.encode()):
        return {"error": {"code": "unauthorized", "message": "Неверный токен шлюза."}}, 401
    data = request.get_json(silent=True)
    if not isinstance(data, dict) or not isinstance(data.get("from"), str) or not isinstance(data.get("text"), str):
        return {"error": {"code": "bad_request", "message": "Нужны поля from и text."}}, 400
    stopped = sms_reply(conf, data["from"], data["text"], clock.now())
    db.session.commit()
    return {"stopped": stopped}, 200
