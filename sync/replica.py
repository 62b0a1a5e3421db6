"""The client's picture of the school: the hub's records as pulled, with the outbox's pending ops merged over.

The local view of a record is the pulled record with every pending op of the outbox merged over it by
`sync.merge.merge`, the same merge the hub runs, so what the teacher sees is what the hub will hold
once it has the same ops. The rules' questions (`sync.rules.Reference`) are answered from the pulled
reference entities.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterable
from dataclasses import replace
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sync.apply import lesson_info
from sync.merge import Record, Write, merge
from sync.outbox import Store
from sync.rules import Calendar, LessonInfo, ReferenceSnapshot, StudentInfo
from sync.schema import parse_date

DEFAULT_NO_MARKS_GRADES = frozenset({1})
DEFAULT_APPROVAL_DAYS = 7
DEFAULT_SKEW_SECONDS = 300


def reference_from(store: Store) -> ReferenceSnapshot:
    """Build the rules' reference from the replica's pulled reference entities and the device's scope of the
    last status answer (`classes`, `teachers`)."""
    classes = {cid: int(r.values.get("grade") or 0) for cid, r in store.records("class").items()}
    homerooms = frozenset((str(r.values["homeroom_teacher"]), cid) for cid, r in store.records("class").items()
                          if r.values.get("homeroom_teacher"))
    students = {}
    for sid, r in store.records("student").items():
        class_id = str(r.values.get("class"))
        # Enrolment dates when the hub sends them (it does since they were added); else `active` as of today.
        enrolled, left = parse_date(r.values.get("enrolled_on")), parse_date(r.values.get("left_on"))
        if enrolled is None:
            enrolled = dt.date.min if r.values.get("active") else dt.date.max
        students[sid] = StudentInfo(class_id, classes.get(class_id, 0), enrolled, left)
    periods = {pid: end for pid, r in live(store.records("period")).items()
               if (end := parse_date(r.values.get("end")))}
    assignments = frozenset((str(r.values.get("teacher")), str(r.values.get("class")), str(r.values.get("subject")))
                            for r in store.records("assignment").values())
    substitutions = frozenset(
        (str(v.get("class")), v.get("group"), day, int(v.get("slot") or 0), str(v.get("teacher")))
        for r in store.records("timetable_change").values()
        if not (v := r.values).get("deleted") and v.get("kind") == "substitution"
        and (day := parse_date(v.get("date"))) is not None
    )
    status = _mapping(store.get("status"))
    served = status.get("teachers")
    return ReferenceSnapshot(
        teachers=frozenset(store.records("teacher")),
        subjects=frozenset(store.records("subject")),
        classes=classes,
        groups={gid: str(r.values.get("class")) for gid, r in store.records("group").items()},
        students=students,
        periods=periods,
        assignments=assignments,
        teaching=frozenset((t, c) for t, c, _ in assignments),
        homerooms=homerooms,
        substitutions=substitutions,
        device_classes=frozenset(str(c) for c in status.get("classes") or ()),
        served=frozenset(str(t) for t in served) if isinstance(served, list) else None,
    )


# The rules' reference of each client file, shared by every SyncClient of the process (the classroom app opens
# one per request): rebuilding it from the replica costs more than the rest of a save. Keyed by what it is built
# from: the file, its device, the pulls' reference generation and the device's scope in the last status.
_SNAPSHOTS: dict[str, tuple[tuple[Any, ...], ReferenceSnapshot]] = {}
_SNAPSHOTS_LOCK = threading.Lock()


def shared_reference(store: Store) -> ReferenceSnapshot:
    """The rules' reference of the file, built once per process and shared while what it is built from holds
    (a pull of reference rows moves `reference_generation`; a status may change the device's scope)."""
    status = _mapping(store.get("status"))
    key = (store.get("device"), int(store.get("reference_generation", 0)), repr(status.get("classes")),
           repr(status.get("teachers")))
    path = str(store.path.resolve())
    with _SNAPSHOTS_LOCK:
        shared = _SNAPSHOTS.get(path)
    if shared is not None and shared[0] == key:
        return shared[1]
    snapshot = reference_from(store)
    with _SNAPSHOTS_LOCK:
        _SNAPSHOTS[path] = (key, snapshot)
    return snapshot


def calendar_from(store: Store, status: dict[str, Any]) -> Calendar:
    """The rules' calendar from the last status answer and the pulled school and periods.

    The hub's status carries the timezone, the year's bounds and whether it is closed, the grades without marks,
    the approval window and the skew limit; a hub that leaves one out (an older or a third-party one) gets the
    year from the pulled periods and the rest from the protocol's defaults.
    """
    schools = list(store.records("school").values())
    zone_name = status.get("timezone") or (schools[0].values.get("timezone") if schools else None) or "UTC"
    try:
        zone = ZoneInfo(str(zone_name))
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    periods = list(live(store.records("period")).values())
    starts = [d for r in periods if (d := parse_date(r.values.get("start")))]
    ends = [d for r in periods if (d := parse_date(r.values.get("end")))]
    year = _mapping(status.get("year"))
    year_start = parse_date(year.get("start")) or (min(starts) if starts else dt.date.min)
    year_end = parse_date(year.get("end")) or (max(ends) if ends else dt.date.max)
    limits = _mapping(status.get("limits"))
    no_marks = status.get("no_marks_grades")
    return Calendar(
        year_start=year_start,
        year_end=year_end,
        timezone=zone,
        no_marks_grades=frozenset(int(g) for g in no_marks) if isinstance(no_marks, list) else DEFAULT_NO_MARKS_GRADES,
        approval_after_days=int(status.get("approval_after_days") or DEFAULT_APPROVAL_DAYS),
        max_skew_ms=int(limits.get("max_clock_skew_seconds") or DEFAULT_SKEW_SECONDS) * 1000,
        plan_ahead_days=int(status.get("plan_ahead_days") or 0),  # an older hub does not plan ahead
        allow_unplanned_substitutions=status.get("allow_unplanned_substitutions") is True,
        closed=year.get("closed") is True,  # an older hub does not say: it refuses the ops itself (`year_closed`)
    )


def live(records: dict[str, Record]) -> dict[str, Record]:
    """Pulled reference rows without the ones the hub removed (a period, a holiday, a timetable change), which a
    pull sends once more with `deleted: true`."""
    return {record_id: r for record_id, r in records.items() if not r.values.get("deleted")}


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def copy_record(record: Record) -> Record:
    """A copy that a merge may change without touching the original."""
    return Record(dict(record.values), dict(record.clock), record.rev)


def merge_ops(record: Record | None, ops: Iterable[dict[str, Any]], device: str, rev: int = 0) -> Record | None:
    """`record` with `ops` merged over it in order, as the hub would merge them; the original is not changed.

    `rev` is the hub's rev of the writes when known (an acknowledged op's result carries it), else 0.
    """
    result = copy_record(record) if record is not None else None
    for op in ops:
        if result is None:
            result = Record()
        fields = op.get("fields") or {}
        merge(result, op["action"], fields, Write(op["hlc"], device, op["op"], op["author"], rev), op.get("base"))
    return result


class Replica:
    """The local view of records: pulled state plus pending ops."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def device(self) -> str:
        """This machine's device id."""
        return str(self.store.get("device", ""))

    def view(self, entity: str, record_id: str) -> Record | None:
        """The record as the teacher sees it now, or None when this machine knows nothing of it."""
        return merge_ops(self.store.record(entity, record_id), self.store.pending_for(entity, record_id),
                         self.device())

    def views(self, entity: str) -> dict[str, Record]:
        """Every record of an entity as the teacher sees it (tombstones included)."""
        found = self.store.records(entity)
        for record_id in self.store.pending_ids(entity):
            merged = self.view(entity, record_id)
            if merged is not None:
                found[record_id] = merged
        return found

    def lesson(self, lesson_id: str) -> LessonInfo | None:
        """What the rules need of a lesson, from the local view; a lesson the hub holds for the deputy (known
        here only by its held op) is one too, marked held, as the hub sees it."""
        info = lesson_info(self.view("lesson", lesson_id))
        if info is None:
            fields: dict[str, Any] = {}
            for outcome in self.store.outcomes():
                if (outcome.status, outcome.entity, outcome.record_id) == ("held", "lesson", lesson_id) and \
                        outcome.body.get("action") == "upsert":
                    fields.update(outcome.body.get("fields") or {})
            held = lesson_info(Record(fields)) if fields else None
            info = replace(held, held=True) if held is not None else None
        return info
