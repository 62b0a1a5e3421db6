"""Journal records between the database and the merge: protocol fields ⇄ table columns."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterator, Sequence
from typing import Any, NamedTuple

import msgspec
from sqlalchemy import Table, select

from app.base import bulk
from app.base.extensions import db
from app.base.models import JOURNAL_MODELS
from sync.apply import THIS_BATCH
from sync.merge import Record, Write
from sync.protocol import JOURNAL

CHUNK = 900  # bound parameters per IN (...) query, well under every engine's limit


def column_of(field: str) -> str:
    """The table column that holds a protocol field: references get an `_id` suffix."""
    return f"{field}_id" if JOURNAL_KIND_REF.get(field) else field


JOURNAL_KIND_REF = {
    name: spec.kind.startswith("ref:") for fields in JOURNAL.values() for name, spec in fields.items()
}


def table(entity: str) -> Table:
    """The table of a journal entity."""
    return JOURNAL_MODELS[entity].__table__


def chunks(items: Collection[str], size: int = CHUNK) -> Iterator[list[str]]:
    """Split ids into lists small enough for one IN (...) query."""
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _to_wire(entity: str, row: Any) -> dict[str, Any]:
    values: dict[str, Any] = {"deleted": bool(row.deleted)}
    for name, spec in JOURNAL[entity].items():
        value = getattr(row, column_of(name))
        if spec.kind == "date" and value is not None:
            value = value.isoformat()
        values[name] = value
    return values


# Per entity: (field, kind) with kind "date", "text", "bool" or "" (stored as it is), and the columns a write
# sets, in the order `_row` gives them; looked up once.
_FIELDS = {
    entity: [(name, spec.kind if spec.kind in ("date", "text", "bool") else "") for name, spec in fields.items()]
    for entity, fields in JOURNAL.items()
}
_WRITTEN = {entity: ("deleted", *(column_of(name) for name in fields), "clock", "rev")
            for entity, fields in JOURNAL.items()}
CREATION = ("device_id", "author_id", "entered_hlc", "scope_class_id")  # set when a record is made


class Prepared(NamedTuple):
    """A record's row as `write` stores it, made before its rev is known (a batch's rows are made with its
    judgement, which may come before the write lock; its revs are taken under it): the values of `_WRITTEN`'s
    columns up to the clock, and the clock's distinct writes with the fields each won."""

    values: tuple[Any, ...]
    clock: list[tuple[Write, list[str]]]

    def row(self, rev: int) -> tuple[Any, ...]:
        """The whole row for `_WRITTEN`. The clock is stored as JSON text, one entry per distinct write,
        `[hlc, device, op, author, rev, field…]` (a record's fields mostly share one write: a new mark's five fields
        are one entry), writes made in this batch given `rev`."""
        return (*self.values, _encode([(*w[:4], rev if w.rev == THIS_BATCH else w.rev, *names)
                                       for w, names in self.clock]).decode(), rev)


def prepare(entity: str, record: Record) -> Prepared:
    """A record's row, but for its rev."""
    values = record.values
    row: list[Any] = [bool(values.get("deleted", False))]
    for name, kind in _FIELDS[entity]:
        value = values.get(name)
        if kind == "date":
            if value is not None:
                value = dt.date.fromisoformat(value)
        elif kind and value is None:
            value = "" if kind == "text" else False
        row.append(value)
    fields: dict[Write, list[str]] = {}
    for name, w in record.clock.items():
        names = fields.get(w)
        if names is None:
            fields[w] = [name]
        else:
            names.append(name)
    return Prepared(tuple(row), list(fields.items()))


def record_of(entity: str, row: Any) -> Record:
    """A database row as the merge sees it."""
    return Record(values=_to_wire(entity, row), clock=clock_of(row.clock or []), rev=row.rev)


def clock_by_field(stored: list[list[Any]] | dict[str, list[Any]]) -> dict[str, list[Any]]:
    """A stored clock as `{field: [hlc, device, op, author, rev]}`, the form it was stored in before migration
    c3f1a8d2e5b7 (given in that form, as it is): what a database report hashes, so that a backup taken before the
    migration still matches its report once restored and migrated."""
    if isinstance(stored, dict):
        return stored
    return {name: list(entry[:5]) for entry in stored for name in entry[5:]}


def clock_of(stored: list[list[Any]]) -> dict[str, Write]:
    """A stored clock as the merge's `{field: winning write}`."""
    clock: dict[str, Write] = {}
    for entry in stored:
        write = Write(str(entry[0]), str(entry[1]), str(entry[2]), str(entry[3]), int(entry[4]))
        for name in entry[5:]:
            clock[name] = write
    return clock


def load(entity: str, ids: Collection[str]) -> dict[str, Record]:
    """The existing records of an entity among `ids`."""
    t = table(entity)
    return {row.id: record_of(entity, row) for row in db.session.execute(select(t).where(bulk.among(t.c.id, ids)))}


def revs_of(entity: str, ids: Collection[str]) -> dict[str, int]:
    """The rev of each existing record of an entity among `ids`."""
    t = table(entity)
    return {row.id: row.rev for row in db.session.execute(select(t.c.id, t.c.rev).where(bulk.among(t.c.id, ids)))}


NewRecord = tuple[str, tuple[Any, ...], tuple[str, str, str, str]]  # id, its `Prepared.row`, the values of CREATION


def write(entity: str, new: Sequence[NewRecord], changed: Sequence[tuple[str, tuple[Any, ...]]]) -> None:
    """Insert new records (their rows with their creation metadata) and update changed ones, in bulk."""
    t, columns = table(entity), _WRITTEN[entity]
    bulk.insert(t, ("id", *columns, *CREATION), [(rid, *row, *made) for rid, row, made in new], json_text=("clock",))
    bulk.update(t, (*columns, "id"), [(*row, rid) for rid, row in changed], json_text=("clock",))


_encode = msgspec.json.Encoder().encode
