"""Pull: what changed on the hub since a cursor, in the device's scope, oldest first.

A device bound to classes gets its classes' journal rows and only the reference data it needs: its classes'
students and groups, the timetable and teaching load of its classes and of the teachers who teach them, and
every teacher, subject, class, period and holiday (names only). A whole-school machine gets everything.

No echo: a journal record whose every field's winning write is this device's own, acknowledged in a sync
answer (which carried the outcome, HLC and rev), is not sent back; the cursor still moves past it. A write
that staff decided later (an approved held op, a replayed rejected one) is sent, and so is every record
another machine or staff changed. A device that lost its replica asks for its own records too (`own`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import selectinload

from app.base import settings
from app.base.extensions import db
from app.base.journal_store import record_of, table
from app.base.models import (
    Assignment,
    Conflict,
    Group,
    Holiday,
    OpLog,
    Period,
    RemovedPeriod,
    School,
    SchoolClass,
    Student,
    Subject,
    Teacher,
    TimetableChange,
    TimetableEntry,
)
from app.base.text import aware, short_name
from sync import clock
from sync.enrolment import enrolled
from sync.protocol import JOURNAL


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _student(s: Student) -> dict[str, Any]:
    today = settings().today()
    return {"last_name": s.last_name, "first_name": s.first_name, "middle_name": s.middle_name, "class": s.class_id,
            "active": enrolled(s.enrolled_on, s.left_on, today),
            "enrolled_on": _iso(s.enrolled_on), "left_on": _iso(s.left_on)}


# Each reference entity with the fields a device may see (never birth dates, guardians or consent).
REFERENCE: dict[str, tuple[type[Any], Any]] = {
    "school": (School, lambda r: {"name": r.name, "timezone": r.timezone}),
    "period": (Period, lambda r: {"name": r.name, "kind": r.kind, "number": r.number, "start": _iso(r.start),
                                  "end": _iso(r.end)}),
    # A holiday the administrator removed keeps its row (`removed_at`) and is pulled as deleted, its fields as
    # they were (docs/protocol.md): a client that ignores `deleted` there keeps it, as before.
    "holiday": (Holiday, lambda r: {"name": r.name, "start": _iso(r.start), "end": _iso(r.end)}),
    "class": (SchoolClass, lambda r: {"name": r.name, "grade": r.grade, "letter": r.letter,
                                      "homeroom_teacher": r.homeroom_teacher_id}),
    "group": (Group, lambda r: {"class": r.class_id, "subject": r.subject_id, "name": r.name,
                                "students": sorted(s.id for s in r.students)}),
    "student": (Student, _student),
    "teacher": (Teacher, lambda r: {"last_name": r.last_name, "first_name": r.first_name,
                                    "middle_name": r.middle_name, "pin_hash": r.pin_hash}),
    "subject": (Subject, lambda r: {"name": r.name, "short": r.short}),
    "assignment": (Assignment, lambda r: {"teacher": r.teacher_id, "class": r.class_id, "group": r.group_id,
                                          "subject": r.subject_id, "hours_per_week": r.hours_per_week}),
    "timetable": (TimetableEntry, lambda r: {"weekday": r.weekday, "slot": r.slot, "class": r.class_id,
                                             "group": r.group_id, "subject": r.subject_id, "teacher": r.teacher_id,
                                             "valid_from": _iso(r.valid_from), "valid_to": _iso(r.valid_to)}),
    # The deputy's planned substitutions, cancelled and moved lessons; a removed one is pulled as deleted.
    "timetable_change": (TimetableChange, lambda r: {"date": _iso(r.date), "slot": r.slot, "class": r.class_id,
                                                     "group": r.group_id, "kind": r.kind, "teacher": r.teacher_id,
                                                     "subject": r.subject_id, "to_date": _iso(r.to_date),
                                                     "to_slot": r.to_slot, "note": r.note}),
}


# Reference rows taken out of their table, pulled as deleted with their last fields (`removed_at`): a period
# removed from the calendar (app/base/school_calendar.write).
REMOVED: dict[str, type[Any]] = {"period": RemovedPeriod}


def reference_scope(classes: set[str]) -> dict[str, ColumnElement[bool]]:
    """The conditions on reference entities for a device bound to `classes` (none for a whole-school one)."""
    if not classes:
        return {}
    bound = sorted(classes)
    teachers = set(db.session.scalars(select(Assignment.teacher_id).where(Assignment.class_id.in_(bound))))
    teachers |= set(db.session.scalars(select(TimetableEntry.teacher_id).where(TimetableEntry.class_id.in_(bound))))
    teachers |= {t for t in db.session.scalars(select(SchoolClass.homeroom_teacher_id)
                                               .where(SchoolClass.id.in_(bound))) if t}
    taught = sorted(teachers)
    return {
        "student": Student.class_id.in_(bound),
        "group": Group.class_id.in_(bound),
        "timetable": or_(TimetableEntry.class_id.in_(bound), TimetableEntry.teacher_id.in_(taught)),
        "assignment": or_(Assignment.class_id.in_(bound), Assignment.teacher_id.in_(taught)),
    }


SCAN = 1_000  # records read at a time
MAX_SCAN = 20_000  # records one pull reads past echoes at most, to fill its page


def changes_since(cursor: int, limit: int, device_id: str, classes: set[str],
                  own: bool = False) -> tuple[list[dict[str, Any]], str, bool]:
    """Up to `limit` changes after `cursor` (echoes left out unless `own`); the new cursor; whether more remain.

    Echoes do not count against `limit`: the page reads on past them (up to MAX_SCAN records), so a machine's
    night of its own writes costs one short answer, not a page per thousand records.
    """
    scope_of = reference_scope(classes)
    changes: list[dict[str, Any]] = []
    scanned = 0
    while True:
        page, next_cursor, more = _scan(cursor, max(limit, SCAN), device_id, classes, scope_of)
        scanned += len(page)
        kept = page if own else _without_echo(page, device_id)
        room = limit - len(changes)
        if len(kept) > room:  # the page is full: continue after its last change next time
            changes += kept[:room]
            return changes, str(changes[-1]["rev"]), True
        changes += kept
        cursor = int(next_cursor)
        if not more or len(changes) >= limit or scanned >= MAX_SCAN:
            return changes, next_cursor, more


def _scan(cursor: int, limit: int, device_id: str, classes: set[str],
          scope_of: dict[str, ColumnElement[bool]]) -> tuple[list[dict[str, Any]], str, bool]:
    """Up to `limit` changes after `cursor`, echoes included; the new cursor; whether more remain."""
    found: list[tuple[int, dict[str, Any]]] = []
    sources = [(entity, model, fields) for entity, (model, fields) in REFERENCE.items()]
    sources += [(entity, model, REFERENCE[entity][1]) for entity, model in REMOVED.items()]
    for entity, model, fields in sources:
        query = select(model).where(model.rev > cursor).order_by(model.rev).limit(limit + 1)
        if entity in scope_of:
            query = query.where(scope_of[entity])
        if model is Group:
            query = query.options(selectinload(Group.students))  # members in one query, not one per group
        for row in db.session.scalars(query):
            found.append((row.rev, {"entity": entity, "id": row.id, "rev": row.rev, "fields": fields(row),
                                    "deleted": getattr(row, "removed_at", None) is not None}))
    for entity in JOURNAL:
        t = table(entity)
        query = select(t).where(t.c.rev > cursor)
        if classes:
            scope: ColumnElement[bool] = t.c.scope_class_id.in_(sorted(classes))
            if entity == "lesson":  # a substitute's own lessons in other classes
                scope = or_(scope, t.c.device_id == device_id)
            query = query.where(scope)
        for row in db.session.execute(query.order_by(t.c.rev).limit(limit + 1)):
            record = record_of(entity, row)
            values = dict(record.values)
            deleted = bool(values.pop("deleted", False))
            found.append((row.rev, {"entity": entity, "id": row.id, "rev": row.rev, "fields": values,
                                    "deleted": deleted,
                                    "clock": {k: w.to_json() for k, w in record.clock.items()}}))
    found.sort(key=lambda item: item[0])
    page = found[:limit]
    next_cursor = str(page[-1][0]) if page else str(cursor)
    return [change for _, change in page], next_cursor, len(found) > limit


def _without_echo(changes: list[dict[str, Any]], device_id: str) -> list[dict[str, Any]]:
    """The page without records the device already holds as they are: every winning write its own, as answered."""
    own = [c for c in changes if c.get("clock") and all(w[1] == device_id for w in c["clock"].values())]
    if not own:
        return changes
    ops = sorted({w[2] for c in own for w in c["clock"].values()})
    decided: set[str] = set()
    for start in range(0, len(ops), 500):
        decided.update(db.session.scalars(select(OpLog.op_id).where(OpLog.op_id.in_(ops[start:start + 500]),
                                                                    OpLog.decided_by.is_not(None))))
    echoes = {id(c) for c in own if not any(w[2] in decided for w in c["clock"].values())}
    return [c for c in changes if id(c) not in echoes]


# What concerns a machine's teachers beyond its own results (docs/protocol.md, "Conflicts in the answer"): the
# recorded conflicts its writes lost (open, or decided in the last NOTICE_DAYS) and its held ops the deputy
# declined in that time. The whole list comes on the last page of every pull; the machine replaces its copy.
NOTICE_DAYS = 30
NOTICE_LIMIT = 100
FIELD_WORDS = {"value": "отметка", "work_type": "вид работы", "status": "посещаемость", "topic": "тема",
               "homework": "домашнее задание", "homework_due": "срок задания", "cancelled": "отмена урока",
               "text": "текст", "deleted": "удаление", "comment": "комментарий"}


def _shown(value: Any) -> str:
    if value is True:
        return "да"
    if value is False:
        return "нет"
    return "пусто" if value in (None, "") else f"«{value}»"


def conflicts_for(device_id: str) -> list[dict[str, Any]]:
    """The conflicts and declined corrections that concern the device's teachers, newest first."""
    since = clock.now() - dt.timedelta(days=NOTICE_DAYS)
    conflicts = list(db.session.scalars(
        select(Conflict).where(Conflict.loser_device == device_id,
                               or_(Conflict.resolved_at.is_(None), Conflict.resolved_at >= since))
        .order_by(Conflict.id.desc()).limit(NOTICE_LIMIT)))
    declined = list(db.session.scalars(
        select(OpLog).where(OpLog.device_id == device_id, OpLog.status == "declined", OpLog.decided_at >= since)
        .order_by(OpLog.id.desc()).limit(NOTICE_LIMIT)))
    names = {t.id: short_name(t.first_name, t.middle_name or "", t.last_name) for t in db.session.scalars(
        select(Teacher).where(Teacher.id.in_({c.winner_author for c in conflicts})))} if conflicts else {}
    found: list[dict[str, Any]] = []
    for c in conflicts:
        winner = names.get(c.winner_author) or ("сотрудник школы" if c.winner_device == "hub" else c.winner_author)
        what = FIELD_WORDS.get(c.field, c.field)
        if c.resolution == "loser":
            message = f"Конфликт решён в вашу пользу: {what} — ваше значение {_shown(c.loser_value)}."
        else:
            message = (f"Ваше значение {_shown(c.loser_value)} ({what}) уступило значению {_shown(c.winner_value)}, "
                       f"которое одновременно записал(а) {winner}.")
            message += " Завуч оставил это значение." if c.resolution == "winner" else " Решает завуч."
        found.append({"kind": "conflict", "op": c.loser_op, "author": c.loser_author, "entity": c.entity,
                      "id": c.record_id, "field": c.field, "value": c.loser_value, "winner_value": c.winner_value,
                      "winner": winner, "status": "resolved" if c.resolved_at else "open",
                      "resolution": c.resolution, "at": aware(c.detected_at).isoformat(timespec="seconds"),
                      "message": message})
    for row in declined:
        assert row.decided_at is not None
        found.append({"kind": "declined", "op": row.op_id or "", "author": row.author_id, "entity": row.entity,
                      "id": row.record_id, "fields": row.payload.get("fields") or {}, "status": "resolved",
                      "at": aware(row.decided_at).isoformat(timespec="seconds"),
                      "message": "Завуч отклонил эту запись: в журнале осталось прежнее значение."})
    found.sort(key=lambda n: str(n["at"]), reverse=True)
    return found[:NOTICE_LIMIT]
