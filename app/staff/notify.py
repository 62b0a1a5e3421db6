"""The send log: what went to whom by which channel, when, and with what result; switching a channel off."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.base.extensions import db
from app.base.models import Guardian, NotifyMessage
from app.notify.optout import opt_out
from app.notify.outbox import queue_state
from app.staff.access import audit, requires
from sync import clock

bp = Blueprint("notify", __name__, url_prefix="/notify")
SHOWN = 200


@bp.route("/")
@requires("notify.view")
def index() -> str:
    """The latest messages without their texts, newest first, and the queue's figures."""
    state = request.args.get("state", "")
    query = select(NotifyMessage).order_by(NotifyMessage.id.desc()).limit(SHOWN)
    if state in ("queued", "sending", "sent", "failed", "cancelled"):
        query = query.where(NotifyMessage.state == state)
    messages = list(db.session.scalars(query))
    ids = {m.guardian_id for m in messages if m.guardian_id}
    names = {g.id: g.full_name for g in db.session.scalars(select(Guardian).where(Guardian.id.in_(ids)))} if ids \
        else {}
    return render_template("staff/notify.html", messages=messages, names=names, queue=queue_state(), state=state)


@bp.route("/opt-out", methods=["POST"])
@requires("notify.manage")
def switch_off() -> Response:
    """Switch a guardian's SMS or e-mail off at their request (by phone, in person)."""
    guardian = db.session.get(Guardian, request.form.get("guardian", ""))
    channel = request.form.get("channel", "")
    if guardian is None or channel not in ("sms", "email"):
        abort(404)
    if opt_out(guardian.id, channel, "staff", clock.now()):
        audit("notify.opt_out", f"guardian:{guardian.id}", channel)
        flash(_("Messages by %(channel)s to %(name)s are switched off.", channel=channel, name=guardian.full_name))
    else:
        flash(_("This channel was already off."))
    db.session.commit()
    return redirect(url_for("staff.notify.index"))
