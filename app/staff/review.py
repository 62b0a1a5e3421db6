"""The review queues: conflicts, held late corrections and rejected ops, each with its decision buttons.

Decisions are taken by app.syncing.review (one transaction each); the audit entry is added to the same session
first, so the decision and its record commit together or not at all.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, or_, select
from werkzeug.wrappers import Response

from app.base.extensions import db
from app.base.journal_store import column_of
from app.base.models import JOURNAL_MODELS, Conflict, OpLog
from app.staff import jobs
from app.staff.access import audit, current_scope, current_user, requires
from app.staff.describe import (
    Described,
    Describer,
    changed_fields,
    entity_label,
    field_label,
    hlc_moment,
    status_label,
)
from app.syncing import review as decisions
from sync.protocol import CODES

bp = Blueprint("review", __name__, url_prefix="/review")
LIMIT = 200
KEYS = ("lesson", "student", "class", "group", "subject", "period", "slot", "date")  # shown in "Record"


@dataclass
class Change:
    """One field of an op: its name, the journal's value now, and the op's value."""

    label: str
    now: str
    proposed: str


@dataclass
class OpItem:
    """An op log row as the review page shows it."""

    row: OpLog
    about: Described
    changes: list[Change] = field(default_factory=list)
    author: str = ""
    device: str = ""
    entered_at: dt.datetime | None = None
    reason: str = ""
    replayable: bool = False


@dataclass
class ConflictItem:
    """A conflict with both sides in words."""

    conflict: Conflict
    about: Described
    field: str
    winner: str
    loser: str
    winner_author: str
    loser_author: str
    winner_device: str
    loser_device: str
    winner_at: dt.datetime | None
    loser_at: dt.datetime | None


def op_item(words: Describer, row: OpLog) -> OpItem:
    """Describe an op with its fields against the journal's current values."""
    about = words.op(row)
    model = JOURNAL_MODELS.get(row.entity)
    record = db.session.get(model, row.record_id) if model is not None else None
    changes = []
    for name, value in changed_fields(row).items():
        if name in KEYS and row.entity != "lesson":
            continue
        current = getattr(record, column_of(name), None) if record is not None else None
        changes.append(Change(field_label(name), words.value(row.entity, name, current),
                              words.value(row.entity, name, value)))
    return OpItem(row=row, about=about, changes=changes, author=words.author(row.author_id),
                  device=words.device(row.device_id), entered_at=hlc_moment(row.hlc),
                  reason=CODES.get(row.code or "", row.code or ""),
                  replayable=row.code not in decisions.NOT_REPLAYABLE and row.op_id is not None)


def conflict_item(words: Describer, conflict: Conflict) -> ConflictItem:
    """Describe a conflict: both values, both authors and machines, which won."""
    stamps = dict(db.session.execute(select(OpLog.op_id, OpLog.hlc)
                                     .where(OpLog.op_id.in_([conflict.winner_op, conflict.loser_op]))).all())
    return ConflictItem(
        conflict=conflict, about=words.conflict(conflict), field=field_label(conflict.field),
        winner=words.value(conflict.entity, conflict.field, conflict.winner_value),
        loser=words.value(conflict.entity, conflict.field, conflict.loser_value),
        winner_author=words.author(conflict.winner_author), loser_author=words.author(conflict.loser_author),
        winner_device=words.device(conflict.winner_device), loser_device=words.device(conflict.loser_device),
        winner_at=hlc_moment(stamps.get(conflict.winner_op)), loser_at=hlc_moment(stamps.get(conflict.loser_op)),
    )


def _visible(items: list[Any]) -> list[Any]:
    scope = current_scope()
    return [i for i in items if scope.sees(i.about.class_id, i.about.subject_id)]


@bp.route("/")
@requires("review.view")
def index() -> str:
    """Open conflicts, held corrections and rejected ops, then the latest decisions."""
    words = Describer()
    conflicts = db.session.scalars(select(Conflict).where(Conflict.resolved_at.is_(None))
                                   .order_by(Conflict.detected_at).limit(LIMIT)).all()
    held = db.session.scalars(select(OpLog).where(OpLog.status == "held").order_by(OpLog.id).limit(LIMIT)).all()
    rejected = db.session.scalars(select(OpLog).where(OpLog.status == "rejected")
                                  .order_by(OpLog.id.desc()).limit(LIMIT)).all()
    totals = dict(db.session.execute(select(OpLog.status, func.count()).where(OpLog.status.in_(("held", "rejected")))
                                     .group_by(OpLog.status)).all())
    open_conflicts = db.session.scalar(select(func.count()).select_from(Conflict)
                                       .where(Conflict.resolved_at.is_(None))) or 0
    decided_ops = db.session.scalars(select(OpLog).where(OpLog.decided_by.is_not(None))
                                     .order_by(OpLog.decided_at.desc()).limit(30)).all()
    decided_conflicts = db.session.scalars(select(Conflict).where(Conflict.resolved_at.is_not(None))
                                           .order_by(Conflict.resolved_at.desc()).limit(30)).all()
    rejected_items = _visible([op_item(words, r) for r in rejected])
    codes = sorted({(i.row.code or "", i.reason) for i in rejected_items if i.replayable})
    return render_template(
        "staff/review.html",
        conflicts=_visible([conflict_item(words, c) for c in conflicts]),
        held=_visible([op_item(words, r) for r in held]),
        rejected=rejected_items,
        replay_codes=codes,
        totals={"held": totals.get("held", 0), "rejected": totals.get("rejected", 0), "conflicts": open_conflicts},
        decided_ops=_visible([op_item(words, r) for r in decided_ops]),
        decided_conflicts=_visible([conflict_item(words, c) for c in decided_conflicts]),
        limit=LIMIT, entity_label=entity_label, author=words.author, status_label=status_label,
    )


def _decide(action: str, obj: str, take: Any) -> Response:
    """Record the decision and take it in one transaction; a refused decision changes nothing."""
    try:
        audit(action, obj)
        outcome = take()
    except decisions.DecisionError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        done = _("Done: %(outcome)s.", outcome=status_label(outcome)) if isinstance(outcome, str) else _("Done.")
        flash(done, "info")
    return redirect(url_for("staff.review.index") + request.form.get("anchor", ""))


@bp.route("/op/<int:log_id>/approve", methods=["POST"])
@requires("review.decide")
def approve(log_id: int) -> Response:
    """Approve a held late correction: it enters the journal."""
    return _decide("review.approve", f"op_log:{log_id}", lambda: decisions.approve(log_id, current_user().login))


@bp.route("/op/<int:log_id>/decline", methods=["POST"])
@requires("review.decide")
def decline(log_id: int) -> Response:
    """Decline a held late correction: the journal keeps its value."""
    return _decide("review.decline", f"op_log:{log_id}", lambda: decisions.decline(log_id, current_user().login))


@bp.route("/op/<int:log_id>/replay", methods=["POST"])
@requires("review.replay")
def replay(log_id: int) -> Response:
    """Judge a rejected op again once its cause is fixed."""
    return _decide("review.replay", f"op_log:{log_id}", lambda: decisions.replay(log_id, current_user().login))


@bp.route("/conflict/<int:conflict_id>/other", methods=["POST"])
@requires("review.decide")
def choose_other(conflict_id: int) -> Response:
    """Choose the value that lost the conflict."""
    return _decide("review.choose_other", f"conflict:{conflict_id}",
                   lambda: decisions.choose_other(conflict_id, current_user().login))


@bp.route("/conflict/<int:conflict_id>/keep", methods=["POST"])
@requires("review.decide")
def keep_winner(conflict_id: int) -> Response:
    """Confirm the value that won the conflict."""
    return _decide("review.keep_winner", f"conflict:{conflict_id}",
                   lambda: decisions.keep_winner(conflict_id, current_user().login))


@bp.route("/replay-all", methods=["POST"])
@requires("review.replay")
def replay_all() -> Response:
    """Replay every rejected op with one reason code, in the background with a progress page."""
    code = request.form.get("code", "")
    if code in decisions.NOT_REPLAYABLE or code not in CODES:
        flash(_("These operations cannot be replayed."), "error")
        return redirect(url_for("staff.review.index"))
    job = jobs.start("replay", {"code": code})
    return redirect(url_for("staff.jobs.show", job_id=job.id))


def replay_job(params: dict[str, Any], by: str, progress: jobs.Progress) -> dict[str, Any]:
    """The replay job: every rejected op with the code, oldest first; outcomes counted."""
    ids = list(db.session.scalars(select(OpLog.id).where(OpLog.status == "rejected", OpLog.code == params["code"],
                                                         or_(OpLog.op_id.is_not(None))).order_by(OpLog.id)))
    progress.total(len(ids))
    outcomes: dict[str, int] = {}
    for log_id in ids:
        try:
            outcome = decisions.replay(log_id, by)
        except decisions.DecisionError:
            db.session.rollback()
            outcome = "skipped"
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
        progress.step()
    return outcomes


jobs.register("replay", replay_job)
