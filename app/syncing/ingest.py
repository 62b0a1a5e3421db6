"""Applying a batch on the hub: one transaction that logs every op, merges records and answers.

The same function serves the HTTP endpoint and the USB file import, so both give the same outcomes. A batch is
judged in the batches' turn at writing when the turn is free; while another batch holds it, the batch is judged
meanwhile (`judge_ahead`) and written in its turn as judged when what the judgement read still holds. What it
writes is made in app/syncing/persist.py, the turns in app/syncing/write_turn.py.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, select, update

from app.base import bulk, epoch, settings
from app.base.closed_years import year_closed
from app.base.extensions import db
from app.base.gcpause import fewer_collections
from app.base.journal_store import chunks, load, revs_of
from app.base.models import Device, DeviceRebase, HubEpoch, OpLog
from app.base.models.base import lock_revs
from app.base.settings import Settings
from app.syncing.devices import bound_classes
from app.syncing.persist import Writes, add_revs, persist, write_changes, writes_of
from app.syncing.pull import changes_since, conflicts_for
from app.syncing.school_reference import device_reference
from app.syncing.write_turn import answering_busy, write_turn
from sync import clock, hlc
from sync.answers import ops_digest
from sync.apply import Applied, BatchApplier, HeldLessons, Known, Loader, LogEntry, result_of
from sync.errors import BatchRejected
from sync.merge import Record
from sync.protocol import VERSION
from sync.rules import Calendar, Verdict
from sync.schema import Batch, Op, Rebase, Rejection, Vocabulary, parse_op


def calendar_for(conf: Settings) -> Calendar:
    """The sync rules' view of the school calendar and limits, and whether the year is closed."""
    return Calendar(conf.year_start, conf.year_end, conf.timezone, conf.no_marks_grades, conf.approval_after_days,
                    conf.sync["max_clock_skew_seconds"] * 1000, plan_ahead_days=conf.deadlines["plan_ahead_days"],
                    allow_unplanned_substitutions=bool(conf.sync["allow_unplanned_substitutions"]),
                    closed=year_closed(conf.year_name))


def vocabulary_for(conf: Settings) -> Vocabulary:
    """The mark values and work type codes the school allows."""
    return Vocabulary(frozenset(conf.mark_values), frozenset(w.code for w in conf.work_types))


def apply_batch(device_id: str, batch: Batch, now: dt.datetime | None = None) -> dict[str, Any]:
    """Apply a parsed batch for a device in one transaction and return the protocol answer: judged in the
    batches' turn at writing when that is free, else judged while waiting for it (`judge_ahead`) and applied as
    judged when what the judgement read still holds in the turn."""
    now = now or clock.now()
    return _in_turn(device_id, batch, now, lambda: judge_ahead(device_id, batch, now))


def apply_judged(device_id: str, batch: Batch, now: dt.datetime, ahead: Judged | None) -> dict[str, Any]:
    """Apply a batch in one transaction by a judgement made ahead (`judge_ahead`) when what it read still holds
    in the turn, else judged again there; return the protocol answer."""
    return _in_turn(device_id, batch, now, lambda: None, ahead)


def _in_turn(device_id: str, batch: Batch, now: dt.datetime, while_waiting: Callable[[], Judged | None],
             ahead: Judged | None = None) -> dict[str, Any]:
    """Apply the batch in the batches' turn by the judgement `while_waiting` made (when the turn was taken) or
    `ahead`, commit, and answer with the pull it asked for."""
    _nothing_unsaved()
    with answering_busy():
        with write_turn(while_waiting) as waited:
            answer = _apply(device_id, batch, now, waited or ahead)
            db.session.commit()
        return _with_pull(device_id, batch, answer)


def _nothing_unsaved() -> None:
    """A batch is a transaction of its own: changes the caller left in the session, flushed or not, would be
    rolled back before the write (by the judgement ahead or the turn's wait) or committed with the batch, as
    chance has it. (Core statements the caller executed itself are not seen: the callers run none.)"""
    if db.session.new or db.session.dirty or db.session.deleted or db.session.info.get(FLUSHED):
        raise RuntimeError("a batch is applied in a transaction of its own: commit or roll back the session first")


FLUSHED = "tetrad.flushed"  # session.info: the session's transaction holds flushed changes


@event.listens_for(db.session, "after_flush")
def _note_flush(session: Any, _context: Any) -> None:
    session.info[FLUSHED] = True


@event.listens_for(db.session, "after_commit")
@event.listens_for(db.session, "after_rollback")
def _forget_flush(session: Any) -> None:
    session.info.pop(FLUSHED, None)


def _with_pull(device_id: str, batch: Batch, answer: dict[str, Any]) -> dict[str, Any]:
    """The answer with the pull the batch asked for, read after the commit, outside the write transaction (on
    SQLite the write lock is the whole database's). It misses nothing: revs are taken under the counter lock,
    so they commit in order, and a change committed later has a higher rev than this pull's cursor."""
    if batch.pull is not None:
        own = batch.pull.own or batch.pull.cursor == 0  # a first pull brings everything
        changes, cursor, more = changes_since(batch.pull.cursor, batch.pull.limit, device_id,
                                              bound_classes(device_id), own)
        answer.update(changes=changes, cursor=cursor, more=more)
        if not more:  # the pull's last page: what concerns the device's teachers (docs/protocol.md)
            answer["conflicts"] = conflicts_for(device_id)
        db.session.rollback()  # end the read transaction
    return answer


def apply_in_batches(device_id: str, batch: Batch, progress: Callable[[int], None] = lambda _n: None) -> Counter[str]:
    """Apply a long list of ops (a USB file, the demo) as consecutive batches of the configured size."""
    limit = settings().sync["max_ops_per_batch"]
    outcomes: Counter[str] = Counter()
    for start in range(0, max(len(batch.ops), 1), limit):
        part = Batch(batch.device, batch.ops[start:start + limit], None, batch.rebase if start == 0 else None)
        with fewer_collections():
            answer = apply_batch(device_id, part)
        outcomes.update(r["status"] for r in answer["results"])
        outcomes["acked_seq"] = answer["acked_seq"]
        progress(len(part.ops))
    return outcomes


@dataclass
class Judged:
    """A batch judged against the hub's state, with everything the judgement read: the same reads giving the
    same values make the same judgement (`BatchApplier` is deterministic), so a batch judged before the write
    lock is applied as it was judged when `_still_holds` finds every read unchanged under the lock."""

    applier: BatchApplier
    applied: Applied
    device: tuple[Any, ...]  # the device row's acked_seq, revoked_at, last_hlc
    epoch: tuple[str, str]
    queued: list[tuple[int | None, str, str | None]]
    known: dict[str, Known]
    seq_owners: dict[int, str]
    revs: dict[str, dict[str, int | None]]  # per entity, each record id loaded: its rev, None when absent
    held: dict[frozenset[str], dict[str, Record]]  # lessons looked up among held ops, and what was found
    writes: Writes
    problems: list[Rejection | None]  # the batch's ops' problems before the judgement (it may add one)


def judge_ahead(device_id: str, batch: Batch, now: dt.datetime) -> Judged | None:
    """Judge a batch by what the hub holds now, without taking the write lock, so that another worker's batch
    can be written meanwhile; None when it must be judged under the lock (a rebase writes as it is judged; the
    device unknown or revoked is answered there; the hub's first epoch is made there)."""
    if batch.rebase is not None:
        return None
    row = db.session.execute(
        select(Device.acked_seq, Device.revoked_at, Device.last_hlc).where(Device.id == device_id)).first()
    newest = db.session.scalars(select(HubEpoch).order_by(HubEpoch.number.desc()).limit(1)).first()
    if row is None or row.revoked_at is not None or newest is None:
        db.session.rollback()
        return None
    problems = [op.problem for op in batch.ops]
    judged = _judge(device_id, batch, now, tuple(row), newest)
    judged.problems = problems
    db.session.rollback()  # end the read transaction before the write lock is taken
    return judged


def _apply(device_id: str, batch: Batch, now: dt.datetime, ahead: Judged | None) -> dict[str, Any]:
    # The first statement writes the device row: it locks it (PostgreSQL) or takes the write lock
    # (SQLite), so one device's batches never interleave.
    locked = db.session.execute(
        update(Device).where(Device.id == device_id).values(last_sync_at=now)
        .returning(Device.acked_seq, Device.revoked_at, Device.last_hlc)
    ).first()
    if locked is None:
        raise BatchRejected("unauthorized")
    if locked.revoked_at is not None:
        raise BatchRejected("device_revoked")
    lock_revs(db.session)
    current_epoch = epoch.current()
    judged = ahead
    if judged is None or not _still_holds(judged, device_id, batch, tuple(locked), current_epoch):
        if judged is not None:
            for op, problem in zip(batch.ops, judged.problems, strict=True):
                op.problem = problem  # as the batch came, for the judgement again
        judged = _judge(device_id, batch, now, tuple(locked), current_epoch, rebase=True)
    applier, applied = judged.applier, judged.applied
    persist(device_id, applied, applier, judged.writes, now)
    add_revs(applied.results, judged.writes.own)
    hub_time = max([hlc.make(int(now.timestamp() * 1000))] + [e.applied_hlc for e in applied.log])
    answer: dict[str, Any] = {"protocol": VERSION, "epoch": current_epoch.epoch, "hub_time": hub_time,
                              "acked_seq": applied.acked_seq, "results": applied.results}
    if batch.short_results:
        answer["ops_digest"] = ops_digest(r["op"] for r in applied.results)
        for result in applied.results:  # each a dict of its own, made for this answer
            del result["op"]
    return answer


def _judge(device_id: str, batch: Batch, now: dt.datetime, device: tuple[Any, ...], current_epoch: HubEpoch,
           rebase: bool = False) -> Judged:
    """Judge the batch against the hub's state as it reads now, noting every read; `rebase`: under the write
    lock, where a batch's rebase is recorded as it is judged."""
    acked_seq, _revoked, last_hlc = device
    acked_seq = int(acked_seq)
    queued = _queued(device_id)
    known = _known([op.op for op in batch.ops])
    seq_owners = _seq_owners(device_id, [op.seq for op in batch.ops if op.seq is not None])
    revs: dict[str, dict[str, int | None]] = defaultdict(dict)
    held: dict[frozenset[str], dict[str, Record]] = {}
    applier = new_applier(device_id, int(now.timestamp() * 1000), acked_seq=acked_seq, known=known,
                          seq_owners=seq_owners, queued=queued, lock=False,
                          load=_noting_revs(revs), held=_noting_held(held))
    if rebase and batch.rebase is not None:
        applier.skip_through = _rebase(device_id, batch.rebase, acked_seq, current_epoch.epoch,
                                       current_epoch.reason, now, {op.seq for op in queued})
    applier.last_clamped = last_hlc
    applied = applier.run(batch.ops)
    return Judged(applier, applied, device, (current_epoch.epoch, current_epoch.reason), _queued_key(queued), known,
                  seq_owners, revs, held, writes_of(device_id, applied, applier, now), [])


def _still_holds(judged: Judged, device_id: str, batch: Batch, device: tuple[Any, ...], current: HubEpoch) -> bool:
    """Whether every read of a judgement gives the same value now (under the write lock): the device's row and
    queue, the hub's epoch, the batch's op ids and seqs in the log, each record loaded (by its rev), the held
    lessons, the reference data, calendar and vocabulary."""
    conf = settings()
    applier = judged.applier
    return (
        device == judged.device
        and (current.epoch, current.reason) == judged.epoch
        and _queued_key(_queued(device_id)) == judged.queued
        and _known([op.op for op in batch.ops]) == judged.known
        and _seq_owners(device_id, [op.seq for op in batch.ops if op.seq is not None]) == judged.seq_owners
        and all(revs_of(entity, list(ids)) == {i: r for i, r in ids.items() if r is not None}
                for entity, ids in judged.revs.items())
        and all(held_lessons(ids) == found for ids, found in judged.held.items())
        and device_reference(device_id) == applier.reference
        and calendar_for(conf) == applier.calendar
        and vocabulary_for(conf) == applier.vocabulary
    )


def _queued_key(queued: list[Op]) -> list[tuple[int | None, str, str | None]]:
    return [(op.log_id, op.op, op.problem.code if op.problem else None) for op in queued]


def _noting_revs(revs: dict[str, dict[str, int | None]]) -> Callable[[str, Collection[str]], dict[str, Record]]:
    """`load`, noting the rev of each record asked for (None: absent)."""
    def load_noting(entity: str, ids: Collection[str]) -> dict[str, Record]:
        found = load(entity, ids)
        noted = revs[entity]
        for record_id in ids:
            record = found.get(record_id)
            noted[record_id] = None if record is None else record.rev
        return found
    return load_noting


def _noting_held(held: dict[frozenset[str], dict[str, Record]]) -> Callable[[Collection[str]], dict[str, Record]]:
    """`held_lessons`, noting what was asked for and found."""
    def held_noting(lesson_ids: Collection[str]) -> dict[str, Record]:
        found = held_lessons(lesson_ids)
        held[frozenset(lesson_ids)] = found
        return found
    return held_noting


def _rebase(device_id: str, rebase: Rebase, acked_seq: int, current: str, reason: str, now: dt.datetime,
            held: set[int | None]) -> int:
    """After a restore, the seq up to which the applier skips what nobody holds (0: no rebase).

    Only for the hub's current epoch, and only when that epoch began with a restore; a rebase that is
    already in effect (the answer to it was lost and the batch comes again) changes nothing. Ops of the range
    the restored hub holds as `queued` (they came before a gap that the lost state filled) are applied in
    their seq turn, not left queued; the seqs nobody holds are recorded (`device_rebase`, one row per run)
    for staff: those ops were acknowledged once and are gone.
    """
    if rebase.epoch != current or reason != "restore" or rebase.from_seq <= acked_seq + 1:
        return 0
    first: int | None = None
    for seq in range(acked_seq + 1, rebase.from_seq + 1):
        if seq not in held and seq < rebase.from_seq:
            first = seq if first is None else first
        elif first is not None:
            db.session.add(DeviceRebase(device_id=device_id, epoch=current, first_seq=first, last_seq=seq - 1, at=now))
            first = None
    return rebase.from_seq - 1


def new_applier(device_id: str, now_ms: int, acked_seq: int = 0, known: dict[str, Known] | None = None,
                seq_owners: dict[int, str] | None = None, queued: list[Op] | None = None, lock: bool = True,
                load: Loader = load, held: HeldLessons | None = None) -> BatchApplier:
    """An applier for a device's ops against this hub's records, reference data and rules.

    `lock`: first lock the change counter, as every writer of records does before it reads what it merges: on
    PostgreSQL two batches would otherwise read the same record and the later commit would overwrite the
    earlier merge (SQLite's single writer already serializes them). A judgement ahead of the lock does not
    (`judge_ahead`): it is checked under the lock.
    """
    conf = settings()
    if lock:
        lock_revs(db.session)
    return BatchApplier(
        device=device_id, acked_seq=acked_seq, known=known or {}, seq_owners=seq_owners or {}, queued=queued or [],
        load=load, reference=device_reference(device_id), calendar=calendar_for(conf), vocabulary=vocabulary_for(conf),
        now_ms=now_ms, held_lessons=held or held_lessons,
    )


class LessonNotDecided(Exception):
    """A mark or attendance row whose lesson is not in the journal (still held, or declined)."""


def merge_decided(device_id: str, op: Op, applied_hlc: str, verdict: Verdict, now: dt.datetime) -> LogEntry:
    """Merge one op that staff decided (an approved held op, the hub's own write of a conflict's other value)
    with the clock it was judged by, and write what it changed; the caller records the decision."""
    applier = new_applier(device_id, int(now.timestamp() * 1000))
    applier.preload([op])
    lesson = op.fields.get("lesson") if op.entity in ("attendance", "mark") else None
    if isinstance(lesson, str) and ("lesson", lesson) not in applier.records:
        raise LessonNotDecided(lesson)
    entry = applier.merge_op(op, applied_hlc, verdict)
    write_changes(device_id, applier, now)
    return entry


def judge_again(device_id: str, op: Op, now: dt.datetime) -> LogEntry:
    """Judge a logged op again by today's reference data and rules (a rejected op whose cause staff fixed),
    writing what it changed when it now applies."""
    applier = new_applier(device_id, int(now.timestamp() * 1000))
    applier.preload([op])
    entry = applier.judge(op)
    if entry.status not in ("rejected", "held"):
        write_changes(device_id, applier, now)
    return entry


def log_decision(device_id: str, op: Op, entry: LogEntry, by: str, now: dt.datetime) -> None:
    """Log an op the hub wrote itself for a staff decision, decided by `by` at once."""
    db.session.add(OpLog(op_id=op.op, device_id=device_id, seq=op.seq, hlc=op.hlc, applied_hlc=entry.applied_hlc,
                         author_id=by, entity=op.entity, record_id=op.id, action=op.action, payload=op.raw,
                         status=entry.status, received_at=now, decided_at=now, decided_by=by))


def held_lessons(lesson_ids: Collection[str]) -> dict[str, Record]:
    """Lessons the hub knows only by a held op (an unplanned substitution), as records of the op's fields."""
    found: dict[str, Record] = {}
    for part in chunks(lesson_ids):
        rows = db.session.execute(
            select(OpLog.record_id, OpLog.payload).where(OpLog.entity == "lesson", OpLog.status == "held",
                                                         OpLog.action == "upsert", OpLog.record_id.in_(part))
            .order_by(OpLog.id))
        for row in rows:
            fields = row.payload.get("fields") if isinstance(row.payload, dict) else None
            if isinstance(fields, dict):
                found[row.record_id] = Record({**(found[row.record_id].values if row.record_id in found else {}),
                                               **fields})
    return found


def _known(op_ids: list[str]) -> dict[str, Known]:
    rows = db.session.execute(
        select(OpLog.op_id, OpLog.device_id, OpLog.seq, OpLog.status, OpLog.code, OpLog.hlc, OpLog.applied_hlc,
               OpLog.substitute).where(bulk.among(OpLog.op_id, set(op_ids)))
    )
    return {row.op_id: Known(row.device_id, row.seq, result_of(row.status, row.code, row.hlc, row.applied_hlc,
                                                                row.substitute)) for row in rows}


def _seq_owners(device_id: str, seqs: list[int]) -> dict[int, str]:
    if not seqs:
        return {}
    rows = db.session.execute(
        select(OpLog.seq, OpLog.op_id).where(OpLog.device_id == device_id, OpLog.seq.between(min(seqs), max(seqs)))
    )
    wanted = set(seqs)
    return {row.seq: row.op_id for row in rows if row.seq in wanted}


def _queued(device_id: str) -> list[Op]:
    rows = db.session.execute(
        select(OpLog.id, OpLog.payload, OpLog.code)
        .where(OpLog.device_id == device_id, OpLog.status == "queued").order_by(OpLog.seq)
    )
    ops = []
    for row in rows:
        op = parse_op(row.payload)
        op.log_id = row.id
        if row.code:  # decided when it arrived (an op id owned by another device)
            op.problem = Rejection(row.code)
        ops.append(op)
    return ops


