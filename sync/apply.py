"""Applying one device's batch: order by seq, deduplicate, judge by the rules, merge. No I/O here.

ALGORITHM:
1. Sort each op of the batch: already known (`duplicate`, or `op_id_taken` when another device owns the
   id), a seq already taken by another op (`seq_reused`), or pending.
2. Pending ops of this batch and ops queued by earlier batches are applied in seq order from the first
   seq the hub has not acknowledged; an op after a gap is `queued` until the gap is filled.
3. Each applied op: shape problems reject it; its HLC is clamped to the hub clock plus the allowed skew;
   the rules may reject it or hold it for approval; otherwise its fields are merged into the record.
4. The caller persists the touched records, the op log entries and the conflicts in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from sync import hlc
from sync.check import check_op
from sync.merge import FieldConflict, Record, Write, merge
from sync.protocol import CODES
from sync.rules import Calendar, LessonInfo, Reference, Verdict
from sync.schema import Op, Rejection, Vocabulary, parse_date

THIS_BATCH = -1  # the rev of a write made in this batch, replaced by the record's new rev on persist


@dataclass(frozen=True)
class Known:
    """An op id the hub has already logged: its device, seq and first result."""

    device: str
    seq: int | None
    result: dict[str, Any]


@dataclass
class LogEntry:
    """The op log row for an op, new or updated (a queued op that got its final outcome)."""

    op: Op
    status: str
    code: str | None = None
    applied_hlc: str = hlc.ZERO
    substitute: bool = False
    keep_seq: bool = True
    update: bool = False

    def result(self) -> dict[str, Any]:
        """The op's result object in the answer."""
        return {"op": self.op.op, **result_of(self.status, self.code, self.op.hlc, self.applied_hlc, self.substitute)}


def result_of(status: str, code: str | None, sent_hlc: str, applied_hlc: str, substitute: bool) -> dict[str, Any]:
    """An op's outcome as the protocol reports it (without the op id)."""
    out: dict[str, Any] = {"status": status}
    if code:
        out["code"] = code
        out["message"] = CODES.get(code, code)
    if applied_hlc != sent_hlc and status not in ("rejected", "queued"):
        out["clamped_hlc"] = applied_hlc
    if substitute:
        out["substitute"] = True
    return out


@dataclass
class Applied:
    """A batch's answer and op log entries; the records it changed stay on the applier."""

    results: list[dict[str, Any]]
    log: list[LogEntry]
    acked_seq: int
    skew_ms: int
    queued_left: int


Loader = Callable[[str, Collection[str]], dict[str, Record]]
HeldLessons = Callable[[Collection[str]], dict[str, Record]]


def _no_held_lessons(_ids: Collection[str]) -> dict[str, Record]:
    return {}


@dataclass
class BatchApplier:
    """Applies one device's ops against the hub's (or a replica's) state."""

    device: str
    acked_seq: int
    known: dict[str, Known]
    seq_owners: dict[int, str]
    queued: list[Op]
    load: Loader
    reference: Reference
    calendar: Calendar
    vocabulary: Vocabulary
    now_ms: int
    records: dict[tuple[str, str], Record] = field(default_factory=dict)
    created: set[tuple[str, str]] = field(default_factory=set)
    conflicts: list[tuple[str, str, FieldConflict]] = field(default_factory=list)
    changed: set[tuple[str, str]] = field(default_factory=set)
    creators: dict[tuple[str, str], Write] = field(default_factory=dict)
    held_lessons: HeldLessons = _no_held_lessons  # lessons known only by a held op, as records of its fields
    _lessons: dict[str, LessonInfo | None] = field(default_factory=dict)  # parsed lessons, reset when one changes
    _held: dict[str, Record] = field(default_factory=dict)
    last_clamped: str = hlc.ZERO  # clamped ops keep their order: each lands after the one before
    skip_through: int = 0  # a rebase after a restore: seqs up to this one that nobody holds are skipped

    def run(self, ops: list[Op]) -> Applied:
        """Apply the batch; return results in the order of `ops`."""
        self.preload(ops + self.queued)
        entries: dict[str, LogEntry] = {}
        first_in_batch: dict[str, int] = {}
        pending: dict[int, Op] = {op.seq: op for op in self.queued if op.seq is not None}
        from_db = {op.op for op in self.queued}
        order: list[tuple[str, Any]] = []
        known_results: dict[str, dict[str, Any]] = {}
        for index, op in enumerate(ops):
            if op.op in known_results:  # a known op sent twice in this batch: the same first outcome
                order.append(("dup_known", (op.op, known_results[op.op])))
                continue
            if op.op in first_in_batch:
                order.append(("dup_batch", op.op))
                continue
            first_in_batch[op.op] = index
            known = self.known.get(op.op)
            if known is not None and known.device != self.device:
                op.problem = Rejection("op_id_taken")  # rejected in its seq turn, so the seq is not lost
                known = None
            if known is not None and op.op not in from_db:
                known_results[op.op] = known.result
                order.append(("dup_known", (op.op, known.result)))
                continue
            elif op.op in from_db:
                pass  # queued earlier: applied below in seq order
            elif op.seq is None:
                entries[op.op] = LogEntry(op, "rejected", "bad_seq", keep_seq=False)
            elif self.seq_owners.get(op.seq, op.op) != op.op or op.seq in pending or op.seq <= self.acked_seq:
                entries[op.op] = LogEntry(op, "rejected", "seq_reused", keep_seq=False)
            else:
                pending[op.seq] = op
            order.append(("entry", op.op))

        next_seq, skew = self.acked_seq + 1, 0
        while next_seq in pending or next_seq <= self.skip_through:
            if next_seq not in pending:  # lost with the hub's later state; held ops of the range still apply
                next_seq += 1
                continue
            op = pending.pop(next_seq)
            entry = self.judge(op)
            entry.update = op.op in from_db
            if op.problem is None:
                skew = max(skew, hlc.parse(op.hlc)[0] - self.now_ms)
            entries[op.op] = entry
            next_seq += 1
        for op in pending.values():
            entries[op.op] = LogEntry(op, "queued")

        results = [self._result(kind, value, entries) for kind, value in order]
        log = [e for e in entries.values() if not (e.status == "queued" and e.op.op in from_db)]
        return Applied(results, log, next_seq - 1, skew, len(pending))

    @staticmethod
    def _result(kind: str, value: Any, entries: dict[str, LogEntry]) -> dict[str, Any]:
        if kind == "entry":
            return entries[value].result()
        if kind == "dup_known":
            return {"op": value[0], "status": "duplicate", "first": value[1]}
        first = {k: v for k, v in entries[value].result().items() if k != "op"}
        return {"op": value, "status": "duplicate", "first": first}

    def preload(self, ops: Iterable[Op]) -> None:
        """Load every record the ops touch, then the lessons their marks and attendance refer to."""
        wanted: dict[str, set[str]] = {}
        for op in ops:
            if op.problem is None:
                wanted.setdefault(op.entity, set()).add(op.id)
        self._load(wanted)
        lessons = {
            str(ref)
            for op in ops if op.problem is None and op.entity in ("mark", "attendance")
            for ref in (op.fields.get("lesson"), self._value(op.entity, op.id, "lesson")) if isinstance(ref, str)
        }
        self._load({"lesson": {i for i in lessons if ("lesson", i) not in self.records}})
        missing = {i for i in lessons if ("lesson", i) not in self.records}
        if missing:
            self._held.update(self.held_lessons(missing))

    def _load(self, wanted: dict[str, set[str]]) -> None:
        for entity, ids in wanted.items():
            if ids:
                for record_id, record in self.load(entity, ids).items():
                    self.records[(entity, record_id)] = record

    def _value(self, entity: str, record_id: str, name: str) -> Any:
        record = self.records.get((entity, record_id))
        return record.values.get(name) if record else None

    def judge(self, op: Op) -> LogEntry:
        """Clamp, check and, when the rules allow, merge one op (loaded by `preload`)."""
        if op.problem is not None:
            return LogEntry(op, "rejected", op.problem.code)  # before the clamp: a broken op has no usable HLC
        applied_hlc = hlc.clamp(op.hlc, self.now_ms, self.calendar.max_skew_ms)
        if applied_hlc != op.hlc:
            applied_hlc = self.last_clamped = hlc.after(applied_hlc, self.last_clamped)
        verdict = check_op(op, self.records.get((op.entity, op.id)), self.reference, self.lesson, self.calendar,
                           self.vocabulary, self.now_ms, applied_hlc)
        if verdict.rejection is not None:
            return LogEntry(op, "rejected", verdict.rejection.code, applied_hlc)
        if verdict.held is not None:
            if op.entity == "lesson" and op.action == "upsert" and ("lesson", op.id) not in self.records:
                # a new lesson held for the deputy: its attendance and marks wait with it (`sync.rules.check`)
                self._held[op.id] = Record(dict(op.fields))
                self._lessons.pop(op.id, None)
            return LogEntry(op, "held", verdict.held, applied_hlc, verdict.substitute)
        return self.merge_op(op, applied_hlc, verdict)

    def lesson(self, lesson: str) -> LessonInfo | None:
        """A lesson as this batch sees it: the batch's own writes over the hub's records."""
        if lesson not in self._lessons:
            record = self.records.get(("lesson", lesson))
            info = lesson_info(record)
            if record is None and lesson in self._held:
                info = lesson_info(self._held[lesson])
                info = replace(info, held=True) if info is not None else None
            self._lessons[lesson] = info
        return self._lessons[lesson]

    def merge_op(self, op: Op, applied_hlc: str, verdict: Verdict) -> LogEntry:
        """Merge an allowed op into its record (also used when a held op is approved)."""
        key = (op.entity, op.id)
        record = self.records.get(key)
        write = Write(applied_hlc, self.device, op.op, op.author, THIS_BATCH)
        if record is None:
            record = self.records[key] = Record()
            self.created.add(key)
            self.creators[key] = write
        outcome = merge(record, op.action, op.fields, write, op.base)
        if outcome.won:
            self.changed.add(key)
            if op.entity == "lesson":
                self._lessons.pop(op.id, None)
        if outcome.conflicts:
            self.conflicts += [(op.entity, op.id, c) for c in outcome.conflicts]
        return LogEntry(op, outcome.status, None, applied_hlc, verdict.substitute)


def lesson_info(record: Record | None) -> LessonInfo | None:
    """What the rules need of a lesson record, or None when it is missing or deleted."""
    if record is None or record.deleted:
        return None
    v = record.values
    day = parse_date(v.get("date"))
    if day is None:
        return None
    slot = v.get("slot")
    return LessonInfo(v["class"], v.get("group"), v["subject"], v["teacher"], day, bool(v.get("substitute")),
                      slot if isinstance(slot, int) else None)


__all__ = ["Applied", "BatchApplier", "Known", "LogEntry", "Rejection"]
