"""What a batch's judgement writes: the records' rows, the op log's rows and outcomes, conflicts, the families
to rebuild.

The rows are made with the judgement (`writes_of`: in the batches' turn, or before it when the batch is judged
while another holds it, app/syncing/ingest.judge_ahead) and written under the write lock (`persist`); only the
records' revs are taken there.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update

from app.base import bulk
from app.base.extensions import db
from app.base.journal_store import NewRecord, Prepared, chunks, prepare, write
from app.base.models import Conflict, Device, OpLog, family_student
from app.base.models.base import take_revs
from app.base.rebuild_queue import class_families, mark_families_dirty
from sync.apply import THIS_BATCH, Applied, BatchApplier, LogEntry
from sync.merge import Record
from sync.schema import Op

FINAL = ("applied", "superseded", "conflict", "held", "rejected", "declined")


OwnWrite = tuple[str, Record, int]  # an op, the record it won a field of, that write's rev (THIS_BATCH: the record's)


def _own_writes(results: list[dict[str, Any]], applier: BatchApplier, device_id: str) -> list[OwnWrite]:
    """The writes of the batch's ops that won a field of a record whose every winning write is this device's.

    Their results get the record's rev (`add_revs`): the device then holds the record as the hub does (values,
    per-field clock, rev) without it being pulled back; a record with another writer's field gets no rev here
    and comes back in the pull.
    """
    wanted = {r["op"] for r in results}
    own: list[OwnWrite] = []
    for record in applier.records.values():
        writes = set(record.clock.values())  # a record's fields mostly share one write
        if all(w.device == device_id for w in writes):
            own += [(w.op, record, w.rev) for w in writes if w.op in wanted]
    return own


def add_revs(results: list[dict[str, Any]], own: list[OwnWrite]) -> None:
    """Give each op of `own` its write's rev, once the records have theirs."""
    revs = {op: record.rev if rev == THIS_BATCH else rev for op, record, rev in own}
    for result in results:
        rev = revs.get(result["op"])
        if rev:
            result["rev"] = rev


@dataclass
class Writes:
    """What a judgement writes, made with it (ahead of the write lock, when judged ahead): the changed records'
    rows but for their revs, in the order they take them; the op log's new rows and its queued ops' outcomes; the
    writes whose results get a rev."""

    records: list[tuple[tuple[str, str], Prepared, tuple[str, str, str, str] | None]]  # key, row, CREATION values
    log: list[tuple[Any, ...]]
    decided: list[tuple[Any, ...]]
    own: list[OwnWrite]


def writes_of(device_id: str, applied: Applied, applier: BatchApplier, now: dt.datetime) -> Writes:
    log, decided = _log_rows(device_id, applied.log, now)
    return Writes(_prepare_records(device_id, applier), log, decided, _own_writes(applied.results, applier, device_id))


def persist(device_id: str, applied: Applied, applier: BatchApplier, writes: Writes, now: dt.datetime) -> None:
    _write_records(applier, writes.records)
    _write_conflicts(applier, now)
    _mark_families(applier)
    log_table = OpLog.__table__
    bulk.insert(log_table, LOGGED, writes.log, json_text=("payload",))
    bulk.update(log_table, DECIDED, writes.decided)
    values: dict[str, Any] = {"acked_seq": applied.acked_seq}
    if applied.skew_ms > 0 or applied.log:
        values["last_skew_ms"] = max(applied.skew_ms, 0)
        values["skewed"] = any(e.applied_hlc != e.op.hlc and e.status not in ("rejected", "queued")
                               for e in applied.log)
    device = db.session.get(Device, device_id)
    assert device is not None
    if applied.queued_left and device.gap_since is None:
        values["gap_since"] = now
    elif not applied.queued_left:
        values["gap_since"] = None
    newest = max([device.last_hlc] + [e.applied_hlc for e in applied.log])
    values["last_hlc"] = newest
    db.session.execute(update(Device).where(Device.id == device_id).values(values))
    db.session.expire(device)


def write_changes(device_id: str, applier: BatchApplier, now: dt.datetime) -> None:
    """Persist what the applier merged: records with new revs, conflicts, and the families to rebuild."""
    _write_records(applier, _prepare_records(device_id, applier))
    _write_conflicts(applier, now)
    _mark_families(applier)


def _prepare_records(device_id: str, applier: BatchApplier) -> list[tuple[tuple[str, str], Prepared,
                                                                          tuple[str, str, str, str] | None]]:
    """The changed records' rows but for their revs, in the order they take them, with the values of
    `journal_store.CREATION` for the new ones."""
    prepared = []
    for key in sorted(applier.changed):
        record = applier.records[key]
        entity = key[0]
        made = None
        if key in applier.created:
            creator = applier.creators[key]
            made = (device_id, creator.author, creator.hlc, _scope_class(entity, record, applier))
        prepared.append((key, prepare(entity, record), made))
    return prepared


def _write_records(applier: BatchApplier, prepared: list[tuple[tuple[str, str], Prepared,
                                                               tuple[str, str, str, str] | None]]) -> None:
    """Take the records' revs and write their rows."""
    if not prepared:
        return
    first = take_revs(db.session, len(prepared))
    new: dict[str, list[NewRecord]] = defaultdict(list)
    updated: dict[str, list[tuple[str, tuple[Any, ...]]]] = defaultdict(list)
    for offset, (key, rows, made) in enumerate(prepared):
        rev = applier.records[key].rev = first + offset
        entity, record_id = key
        if made is not None:
            new[entity].append((record_id, rows.row(rev), made))
        else:
            updated[entity].append((record_id, rows.row(rev)))
    # Lessons first: marks and attendance refer to them.
    for entity in sorted(set(new) | set(updated), key=lambda e: e != "lesson"):
        write(entity, new.get(entity, []), updated.get(entity, []))


def _scope_class(entity: str, record: Record, applier: BatchApplier) -> str:
    values = record.values
    if entity in ("lesson", "test_plan"):
        return str(values["class"])
    if entity in ("attendance", "mark"):  # the lesson's class, even when the same batch deleted the lesson
        return str(applier.records[("lesson", values["lesson"])].values["class"])
    student = applier.reference.student(values["student"])
    assert student is not None
    return student.class_id


LOGGED = ("op_id", "device_id", "seq", "hlc", "applied_hlc", "author_id", "entity", "record_id", "action", "payload",
          "status", "code", "substitute", "received_at", "decided_at")  # an op log row, as `_write_log` gives it


DECIDED = ("status", "code", "applied_hlc", "substitute", "decided_at", "id")  # a queued op's outcome, by row id


def _log_rows(device_id: str, log: list[LogEntry], now: dt.datetime) -> tuple[list[tuple[Any, ...]],
                                                                              list[tuple[Any, ...]]]:
    """The op log's new rows (`LOGGED`) and its queued ops' outcomes (`DECIDED`)."""
    rows = []
    for entry in log:
        if entry.update:
            continue
        op = entry.op
        code = entry.code or (op.problem.code if op.problem else None)
        taken = code == "op_id_taken" or (op.problem is not None and op.problem.code == "op_id_taken")
        rows.append((None if taken else op.op, device_id, op.seq if entry.keep_seq else None, op.hlc,
                     entry.applied_hlc, op.author, op.entity, op.id, op.action or "?", op_text(op), entry.status,
                     code, entry.substitute, now, now if entry.status in FINAL else None))
    decided = [(e.status, e.code, e.applied_hlc, e.substitute, now, e.op.log_id) for e in log if e.update]
    return rows, decided


def op_text(op: Op) -> str:
    """The op as it was sent: its original JSON text, or (when only its data came: a file, the demo) that data as
    JSON."""
    return op.text if op.text is not None else json.dumps(op.raw)


def _write_conflicts(applier: BatchApplier, now: dt.datetime) -> None:
    rows = [
        {"entity": entity, "record_id": record_id, "field": c.field, "winner_op": c.winner.op, "loser_op": c.loser.op,
         "winner_author": c.winner.author, "loser_author": c.loser.author, "winner_device": c.winner.device,
         "loser_device": c.loser.device, "winner_value": c.winner_value, "loser_value": c.loser_value,
         "detected_at": now}
        for entity, record_id, c in applier.conflicts
    ]
    if rows:
        db.session.execute(Conflict.__table__.insert(), rows)


def _mark_families(applier: BatchApplier) -> None:
    """Queue, durably, the families whose children's journal this batch changed."""
    students: set[str] = set()
    classes: set[str] = set()
    for entity, record_id in applier.changed:
        values = applier.records[(entity, record_id)].values
        if entity in ("lesson", "test_plan"):
            classes.add(str(values["class"]))
        else:
            students.add(str(values["student"]))
    families: set[str] = set()
    for part in chunks(students):
        families.update(db.session.scalars(
            select(family_student.c.family_id).where(family_student.c.student_id.in_(part))))
    families |= class_families(classes)
    if families:
        mark_families_dirty(families)
