"""The send log (what went to whom by which channel, when, with what result) and each guardian's channels:
consent per channel, what they want by it, switching it off."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.base.extensions import db
from app.base.models import Guardian, GuardianChannel, NotifyMessage
from app.base.models.notify import CHANNELS
from app.notify.channels import set_channel
from app.notify.optout import opt_out
from app.notify.outbox import queue_state
from app.staff.access import audit, requires
from static_site.paper.lookup import PaperError, parse_day
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
    back = request.form.get("back", "")
    return redirect(back if back.startswith("/staff/notify/") else url_for("staff.notify.index"))


@bp.route("/guardian/<guardian_id>")
@requires("notify.view")
def guardian(guardian_id: str) -> str:
    """A guardian's channels: consent, the digest and alerts wanted, opt-out; the latest messages to them."""
    person = db.session.get(Guardian, guardian_id)
    if person is None:
        abort(404)
    rows = {r.channel: r for r in db.session.scalars(select(GuardianChannel).where(
        GuardianChannel.guardian_id == person.id))}
    messages = list(db.session.scalars(select(NotifyMessage).where(NotifyMessage.guardian_id == person.id)
                                       .order_by(NotifyMessage.id.desc()).limit(20)))
    return render_template("staff/notify_guardian.html", guardian=person, rows=rows, channels=CHANNELS,
                           messages=messages)


@bp.route("/guardian/<guardian_id>", methods=["POST"])
@requires("notify.manage")
def save_channel(guardian_id: str) -> Response:
    """Record consent to a channel (the date and the paper it rests on) and what the guardian wants by it."""
    person = db.session.get(Guardian, guardian_id)
    channel = request.form.get("channel", "")
    if person is None or channel not in CHANNELS:
        abort(404)
    back = redirect(url_for("staff.notify.guardian", guardian_id=person.id))
    try:
        consent_on = parse_day(request.form.get("consent_on", ""))
    except PaperError as exc:
        flash(str(exc), "error")
        return back
    basis = request.form.get("basis", "").strip()[:200]
    if not basis:
        flash(_("Name the document the consent rests on (e.g. application no. 5)."), "error")
        return back
    wants = {name: request.form.get(name) == "1" for name in ("digest", "absence", "grade", "correction")}
    set_channel(person.id, channel, consent_on, basis, **wants)
    audit("notify.consent", f"guardian:{person.id}", f"{channel} {consent_on.isoformat()} {basis}")
    db.session.commit()
    flash(_("Saved."))
    return back
