"""Journal records between the database and the merge: protocol fields ⇄ table columns."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Iterator
from typing import Any

from sqlalchemy import Table, bindparam, select, update

from app.extensions import db
from app.models import JOURNAL_MODELS
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
    result: Table = JOURNAL_MODELS[entity].__table__  # type: ignore[assignment]
    return result


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


def _to_columns(entity: str, values: dict[str, Any]) -> dict[str, Any]:
    columns: dict[str, Any] = {"deleted": bool(values.get("deleted", False))}
    for name, spec in JOURNAL[entity].items():
        value = values.get(name)
        if spec.kind == "date" and value is not None:
            value = dt.date.fromisoformat(value)
        elif value is None and spec.kind == "text":
            value = ""
        elif value is None and spec.kind == "bool":
            value = False
        columns[column_of(name)] = value
    return columns


def record_of(entity: str, row: Any) -> Record:
    """A database row as the merge sees it."""
    clock = {name: Write.from_json(entry) for name, entry in (row.clock or {}).items()}
    return Record(values=_to_wire(entity, row), clock=clock, rev=row.rev)


def load(entity: str, ids: Collection[str]) -> dict[str, Record]:
    """The existing records of an entity among `ids`."""
    t = table(entity)
    found: dict[str, Record] = {}
    for part in chunks(ids):
        for row in db.session.execute(select(t).where(t.c.id.in_(part))):
            found[row.id] = record_of(entity, row)
    return found


NewRecord = tuple[str, Record, dict[str, Any]]


def write(entity: str, new: Iterable[NewRecord], changed: Iterable[tuple[str, Record]]) -> None:
    """Insert new records (with their creation metadata) and update changed ones, in bulk."""
    t = table(entity)
    inserts = [
        {"id": rid, **_to_columns(entity, rec.values), "clock": _clock(rec), "rev": rec.rev, **meta}
        for rid, rec, meta in new
    ]
    if inserts:
        db.session.execute(t.insert(), inserts)
    updates = [
        {"_id": rid, **_to_columns(entity, rec.values), "clock": _clock(rec), "rev": rec.rev} for rid, rec in changed
    ]
    if updates:
        # Bind names must differ from column names in an executemany UPDATE.
        keys = [k for k in updates[0] if k != "_id"]
        statement = update(t).where(t.c.id == bindparam("_id")).values({k: bindparam(f"v_{k}") for k in keys})
        rows = [{"_id": u["_id"], **{f"v_{k}": u[k] for k in keys}} for u in updates]
        db.session.connection().execute(statement, rows)


def _clock(record: Record) -> dict[str, list[Any]]:
    return {name: w.to_json() for name, w in record.clock.items()}
