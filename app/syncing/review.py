"""Staff decisions on what sync could not settle alone: held corrections, rejected ops, conflicts.

Each decision is one transaction, recorded on the op log row (or the conflict) with who and when, and
reaches the classroom machines through pull, never through a resend. A decision that would write a record of a
closed year (app/base/closed_years.py) is refused; declining and keeping a conflict's winner write no record.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import select

from app.base.closed_years import YearClosed, check_open
from app.base.extensions import db
from app.base.journal_store import load
from app.base.models import Conflict, Device, OpLog
from app.syncing.ingest import LessonNotDecided, judge_again, log_decision, merge_decided
from sync import clock, hlc
from sync.rules import Verdict
from sync.schema import parse_op

HUB_DEVICE = "hub"
NOT_REPLAYABLE = ("op_id_taken", "seq_reused", "bad_seq", "bad_op", "bad_hlc", "bad_entity", "bad_action", "read_only")


class DecisionError(Exception):
    """A decision that cannot be taken; the message is for staff."""


def _op_row(log_id: int, status: str) -> OpLog:
    row = db.session.get(OpLog, log_id, with_for_update=True)
    if row is None:
        raise DecisionError("Операция не найдена.")
    if row.status != status:
        raise DecisionError("Решение по этой операции уже принято.")
    return row


def _open_year(entity: str, record_id: str, fields: dict[str, Any]) -> None:
    """Refuse (DecisionError, nothing changed) a decision that would write a closed year's journal."""
    try:
        check_open(entity, record_id, fields)
    except YearClosed as exc:
        raise DecisionError(str(exc)) from None


def approve(log_id: int, by: str) -> str:
    """The deputy approves a held late correction: it is merged now, with its own clock; return the outcome."""
    row = _op_row(log_id, "held")
    op = parse_op(row.payload)
    _open_year(op.entity, op.id, op.fields)
    now = clock.now()
    try:
        entry = merge_decided(row.device_id, op, row.applied_hlc, Verdict(substitute=row.substitute), now)
    except LessonNotDecided:
        raise DecisionError("Сначала утвердите урок этой записи: он ещё ждёт решения или отклонён.") from None
    row.status, row.decided_at, row.decided_by = entry.status, now, by
    db.session.commit()
    return entry.status


def decline(log_id: int, by: str) -> None:
    """The deputy declines a held correction: the journal keeps its value, the op stays in the log."""
    row = _op_row(log_id, "held")
    row.status, row.code, row.decided_at, row.decided_by = "declined", "declined", clock.now(), by
    db.session.commit()


def replay(log_id: int, by: str) -> str:
    """Judge a rejected op again once its cause is fixed (a missing student added, say); return the outcome."""
    row = _op_row(log_id, "rejected")
    if row.code in NOT_REPLAYABLE or row.op_id is None:
        raise DecisionError("Эту операцию нельзя применить повторно: она повреждена или повторяет другую.")
    op = parse_op(row.payload)
    _open_year(op.entity, op.id, op.fields)
    now = clock.now()
    entry = judge_again(row.device_id, op, now)
    row.status, row.code, row.applied_hlc = entry.status, entry.code, entry.applied_hlc
    row.decided_at, row.decided_by = now, by
    db.session.commit()
    return entry.status


def choose_other(conflict_id: int, by: str) -> None:
    """Staff choose the losing value of a conflict: the hub writes it anew, later than both, as its own op."""
    conflict = db.session.get(Conflict, conflict_id, with_for_update=True)
    if conflict is None:
        raise DecisionError("Конфликт не найден.")
    if conflict.resolved_at is not None:
        raise DecisionError("Решение по этому конфликту уже принято.")
    _open_year(conflict.entity, conflict.record_id, {})
    now = clock.now()
    hub = _hub_device(now)
    stamp = max(hlc.make(int(now.timestamp() * 1000)), _record_hlc(conflict))
    seq = hub.acked_seq + 1
    current = load(conflict.entity, [conflict.record_id]).get(conflict.record_id)
    if current is None:
        raise DecisionError("Запись конфликта больше не существует.")
    # A deleted-or-not conflict is settled by a delete or a plain upsert; `base` says the hub saw both writes.
    action, fields = "upsert", {conflict.field: conflict.loser_value}
    if conflict.field == "deleted":
        action, fields = ("delete" if conflict.loser_value else "upsert"), {}
    raw = {"op": f"hub-{uuid.uuid4()}", "seq": seq, "hlc": stamp, "author": by, "entity": conflict.entity,
           "id": conflict.record_id, "action": action, "fields": fields, "base": current.rev}
    op = parse_op(raw)
    log_decision(HUB_DEVICE, op, merge_decided(HUB_DEVICE, op, stamp, Verdict(), now), by, now)
    hub.acked_seq = seq
    conflict.resolved_at, conflict.resolved_by, conflict.resolution = now, by, "loser"
    db.session.commit()


def keep_winner(conflict_id: int, by: str) -> None:
    """Staff confirm the value that won the conflict."""
    conflict = db.session.get(Conflict, conflict_id)
    if conflict is None or conflict.resolved_at is not None:
        raise DecisionError("Решение по этому конфликту уже принято.")
    conflict.resolved_at, conflict.resolved_by, conflict.resolution = clock.now(), by, "winner"
    db.session.commit()


def _record_hlc(conflict: Conflict) -> str:
    """The newest HLC on the conflicting field, so the hub's write lands after it."""
    rows = db.session.scalars(select(OpLog.applied_hlc).where(OpLog.record_id == conflict.record_id))
    newest = max(rows, default=hlc.ZERO)
    ms, counter = hlc.parse(newest)
    return hlc.make(ms, counter + 1) if counter < hlc.MAX_COUNTER else hlc.make(ms + 1)


def _hub_device(now: dt.datetime) -> Device:
    """The hub's own device row, under which staff decisions enter the journal."""
    device = db.session.get(Device, HUB_DEVICE, with_for_update=True)
    if device is None:
        device = Device(id=HUB_DEVICE, name="Сервер школы (решения сотрудников)", created_at=now, token_generation=0,
                        acked_seq=0, last_skew_ms=0, skewed=False, revoked_at=now)
        db.session.add(device)
        db.session.flush()
    return device
