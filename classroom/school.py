"""The school as a classroom machine knows it: names, served teachers, the day's lessons, class lists.

Everything is read from the client's replica (what the hub sent) with this machine's pending ops merged
over it, so a lesson saved a minute ago shows as saved before any sync.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sync import clock
from sync.client import SyncClient
from sync.ids import lesson_id
from sync.merge import Record, Write
from sync.protocol import JOURNAL
from sync.replica import live
from sync.schema import parse_date

# The journal app's lookups in the client file: lessons by date, marks by lesson. Expression indexes over the
# replica's JSON (the sync engine's tables are untouched; the indexes are the app's own, made at start-up).
INDEXES = (
    "CREATE INDEX IF NOT EXISTS classroom_replica_date ON replica (entity, json_extract(fields, '$.date'))",
    "CREATE INDEX IF NOT EXISTS classroom_replica_lesson ON replica (entity, json_extract(fields, '$.lesson'))",
    "CREATE INDEX IF NOT EXISTS classroom_replica_class ON replica (entity, json_extract(fields, '$.class'))",
)
LOOKUPS = {
    "date": "SELECT id, fields, clock, rev FROM replica WHERE entity = ? AND json_extract(fields, '$.date') = ?",
    "lesson": "SELECT id, fields, clock, rev FROM replica WHERE entity = ? AND json_extract(fields, '$.lesson') = ?",
    "class": "SELECT id, fields, clock, rev FROM replica WHERE entity = ? AND json_extract(fields, '$.class') = ?",
    "weekday": "SELECT id, fields, clock, rev FROM replica WHERE entity = ? AND json_extract(fields, '$.weekday') = ?",
}


def prepare(client: SyncClient) -> None:
    """Make the app's indexes in the client file (once; cheap when they exist)."""
    with client.store.transaction():
        for statement in INDEXES:
            client.store.db.execute(statement)


def find(client: SyncClient, entity: str, name: str, value: str | int, clocks: bool = True) -> dict[str, Record]:
    """Records of an entity whose field `name` (a key of LOOKUPS) equals `value`, as the teacher sees them
    (pending ops merged), deleted ones included; `clocks=False` skips the pulled rows' per-field clocks (for
    reading only)."""
    found = {}
    for record_id, fields, stamps, rev in client.store.db.execute(LOOKUPS[name], (entity, value)):
        clock_ = {k: Write.from_json(v) for k, v in json.loads(stamps).items()} if clocks else {}
        found[record_id] = Record(json.loads(fields), clock_, int(rev))
    for record_id in client.store.pending_ids(entity):  # this machine's unsent changes over the pulled copy
        record = client.view(entity, record_id)
        found.pop(record_id, None)
        if record is not None and record.values.get(name) == value:
            found[record_id] = record
    return found


def find_many(client: SyncClient, entity: str, name: str, values: Iterable[str]) -> dict[str, Record]:
    """Like `find` without clocks, for many values of the field at once (one query per 500 values)."""
    wanted = sorted(set(values))
    found = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start:start + 500]
        query = (f"SELECT id, fields, rev FROM replica WHERE entity = ? AND json_extract(fields, '$.{name}') "
                 f"IN ({', '.join('?' * len(chunk))})")
        for record_id, fields, rev in client.store.db.execute(query, (entity, *chunk)):
            found[record_id] = Record(json.loads(fields), {}, int(rev))
    chosen = set(wanted)
    for record_id in client.store.pending_ids(entity):
        record = client.view(entity, record_id)
        found.pop(record_id, None)
        if record is not None and record.values.get(name) in chosen:
            found[record_id] = record
    return found


# Pulled reference records (classes, students, the timetable…), shared by the requests of the process: they
# change only when a pull brings reference rows, which moves the client file's `reference_generation`.
_REFERENCE: dict[str, tuple[tuple[Any, ...], dict[str, dict[str, Record]]]] = {}
_REFERENCE_LOCK = threading.Lock()


def reference(client: SyncClient, entity: str) -> dict[str, Record]:
    """Every pulled record of a reference entity, from the process's cache while the replica's reference data
    is unchanged (read them, never change them)."""
    key = (client.store.get("device"), int(client.store.get("reference_generation", 0)))
    path = str(client.store.path.resolve())
    with _REFERENCE_LOCK:
        cached = _REFERENCE.get(path)
        if cached is None or cached[0] != key:
            cached = _REFERENCE[path] = (key, {})
        entities = cached[1]
        if entity not in entities:
            entities[entity] = client.store.records(entity)
        return entities[entity]


def full_name(values: dict[str, Any]) -> str:
    """Surname first: Иванова Мария Петровна."""
    return " ".join(p for p in (str(values.get(k) or "") for k in ("last_name", "first_name", "middle_name")) if p)


def short_date(day: dt.date) -> str:
    """16.11.2026."""
    return f"{day:%d.%m.%Y}"


def zone(client: SyncClient) -> dt.tzinfo:
    """The school's timezone as pulled (UTC until the first pull)."""
    status = client.store.get("status") or {}
    names = [status.get("timezone")] + [r.values.get("timezone") for r in client.store.records("school").values()]
    for name in names:
        if name:
            try:
                return ZoneInfo(str(name))
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return dt.UTC


def today(client: SyncClient) -> dt.date:
    """The school's day now."""
    return clock.today(zone(client))


def served_teachers(client: SyncClient) -> list[tuple[str, str]]:
    """The teachers who may sign in here: (id, name), by name.

    The hub's status names the teachers this device serves; an older hub does not, and then every pulled
    teacher with a PIN may sign in.
    """
    status = client.store.get("status") or {}
    teachers = client.store.records("teacher")
    wanted = status.get("teachers")
    ids = [t for t in wanted if t in teachers] if isinstance(wanted, list) else list(teachers)
    return sorted(((t, full_name(teachers[t].values)) for t in ids), key=lambda item: item[1])


@dataclass
class Slot:
    """One lesson of a teacher's day: from the timetable, a planned change, or recorded here."""

    date: dt.date
    slot: int
    class_id: str
    group_id: str | None
    subject_id: str
    teacher_id: str
    kind: str = "regular"  # regular, substitution, cancelled, moved_away, moved_here, recorded
    note: str = ""
    lesson: Record | None = None

    @property
    def lesson_id(self) -> str:
        """The lesson's derived id."""
        return lesson_id(self.class_id, self.group_id, self.date.isoformat(), self.slot)

    @property
    def substitute(self) -> bool:
        """Whether the teacher takes the lesson instead of its own teacher."""
        return self.kind == "substitution"


class School:
    """Names and lists read from one client's replica."""

    def __init__(self, client: SyncClient) -> None:
        self.client = client
        self._cache: dict[str, dict[str, Record]] = {}

    def records(self, entity: str) -> dict[str, Record]:
        """Pulled records of a reference entity (cached for the process while they are unchanged; read only)."""
        if entity not in self._cache:
            self._cache[entity] = (self.client.store.records(entity) if entity in JOURNAL
                                   else reference(self.client, entity))
        return self._cache[entity]

    def periods(self) -> dict[str, Record]:
        """The year's periods, without the ones the hub removed from its calendar (pulled as deleted)."""
        return live(self.records("period"))

    def name(self, entity: str, record_id: str | None) -> str:
        """A record's display name: a class's 7Б, a subject's name, a person's full name."""
        if not record_id:
            return ""
        record = self.records(entity).get(record_id)
        if record is None:
            return "?"
        if entity in ("teacher", "student"):
            return full_name(record.values)
        return str(record.values.get("name") or "?")

    def teacher_name(self, teacher: str) -> str:
        """Surname first."""
        return self.name("teacher", teacher)

    def day(self, teacher: str, day: dt.date) -> list[Slot]:
        """The teacher's lessons on a day: the timetable, the deputy's planned changes, and what was recorded."""
        slots: dict[tuple[int, str, str | None], Slot] = {}
        for entry in self.records("timetable").values():
            v = entry.values
            start, end = parse_date(v.get("valid_from")), parse_date(v.get("valid_to"))
            if v.get("weekday") != day.isoweekday() or (start and day < start) or (end and day > end):
                continue
            key = (int(v["slot"]), str(v["class"]), v.get("group"))
            slots[key] = Slot(day, int(v["slot"]), str(v["class"]), v.get("group"), str(v["subject"]),
                              str(v["teacher"]))
        for change in self.records("timetable_change").values():
            self._apply_change(slots, change.values, day)
        mine = [s for s in slots.values() if s.teacher_id == teacher]
        known = {s.lesson_id for s in mine}
        lessons = find(self.client, "lesson", "date", day.isoformat(), clocks=False)
        for s in mine:
            s.lesson = lessons.get(s.lesson_id)
        for lid, record in lessons.items():  # lessons recorded here that no timetable entry covers
            v = record.values
            if lid in known or record.deleted or v.get("date") != day.isoformat() or v.get("teacher") != teacher:
                continue
            kind = "substitution" if v.get("substitute") else "recorded"
            mine.append(Slot(day, int(v["slot"]), str(v["class"]), v.get("group"), str(v["subject"]), teacher, kind,
                             lesson=record))
        return sorted(mine, key=lambda s: (s.slot, self.name("class", s.class_id)))

    @staticmethod
    def _apply_change(slots: dict[tuple[int, str, str | None], Slot], v: dict[str, Any], day: dt.date) -> None:
        """A planned change (substitution, cancellation, move) of the deputy, as it concerns `day`."""
        when, target = parse_date(v.get("date")), parse_date(v.get("to_date"))
        kind, note = str(v.get("kind") or ""), str(v.get("note") or "")
        if when is None or v.get("slot") is None or v.get("class") is None:
            return
        key = (int(v["slot"]), str(v["class"]), v.get("group"))
        original = slots.get(key) if when == day else None
        if when == day and kind == "substitution":
            base = original or Slot(day, key[0], key[1], key[2], str(v.get("subject") or ""), "")
            slots[key] = Slot(day, key[0], key[1], key[2], str(v.get("subject") or base.subject_id),
                              str(v.get("teacher") or base.teacher_id), "substitution", note)
        elif when == day and kind == "cancelled" and original is not None:
            original.kind, original.note = "cancelled", note
        elif kind == "moved":
            if when == day and original is not None:
                original.kind, original.note = "moved_away", note
            if target == day and v.get("to_slot") is not None:
                new_key = (int(v["to_slot"]), key[1], key[2])
                source_teacher = str(v.get("teacher") or (original.teacher_id if original else ""))
                slots[new_key] = Slot(day, new_key[0], key[1], key[2], str(v.get("subject") or ""),
                                      source_teacher, "moved_here", note)

    def class_list(self, class_id: str, group_id: str | None, day: dt.date) -> list[tuple[str, str]]:
        """The students of a class (or group) on a day: (id, name), surname first."""
        members: set[str] | None = None
        if group_id:
            group = self.records("group").get(group_id)
            members = set(group.values.get("students") or []) if group else set()
        found = []
        for sid, record in self.records("student").items():
            v = record.values
            if v.get("class") != class_id or record.deleted:
                continue
            if members is not None and sid not in members:
                continue
            enrolled, left = parse_date(v.get("enrolled_on")), parse_date(v.get("left_on"))
            if enrolled is not None:
                if day < enrolled or (left is not None and day >= left):
                    continue
            elif not v.get("active"):
                continue
            found.append((sid, full_name(v)))
        return sorted(found, key=lambda item: item[1])

    def work_types(self) -> list[dict[str, str]]:
        """The school's work types: code, name, short letter."""
        status = self.client.store.get("status") or {}
        return list(status.get("work_types") or [])

    def mark_values(self) -> list[str]:
        """The marks a teacher may give."""
        status = self.client.store.get("status") or {}
        return list(status.get("mark_values") or [])
