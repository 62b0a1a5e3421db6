"""The classroom machine's one SQLite file: settings, the outbox, the replica of the hub, and op outcomes.

Tables:
    meta     key → JSON value: hub address, token, device id, HLC, next seq, pull cursor, last status
    outbox   ops not yet acknowledged by the hub, by seq
    retained ops the hub acknowledged, kept for its `retain_days` to resend after a restore (sync/retention.py)
    replica  the hub's records as pulled (reference and journal): values, per-field clock, rev
    outcome  rejected and held ops, with the hub's reason, for the teacher to see

Every write goes through `transaction()` (BEGIN IMMEDIATE), so a cron run and the teacher's program
can share the file: two writers wait for each other instead of reusing a seq.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sync.merge import Record, Write

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY, op TEXT NOT NULL UNIQUE, entity TEXT NOT NULL, record_id TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_record ON outbox (entity, record_id);
CREATE TABLE IF NOT EXISTS retained (
    seq INTEGER PRIMARY KEY, op TEXT NOT NULL UNIQUE, entity TEXT NOT NULL, record_id TEXT NOT NULL,
    body TEXT NOT NULL, acked_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS replica (
    entity TEXT NOT NULL, id TEXT NOT NULL, fields TEXT NOT NULL, clock TEXT NOT NULL, rev INTEGER NOT NULL,
    PRIMARY KEY (entity, id)
);
CREATE TABLE IF NOT EXISTS outcome (
    op TEXT PRIMARY KEY, seq INTEGER NOT NULL, entity TEXT NOT NULL, record_id TEXT NOT NULL,
    author TEXT NOT NULL, status TEXT NOT NULL, code TEXT, message TEXT, body TEXT NOT NULL, decided_at TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class Outcome:
    """A rejected or held op as the teacher sees it."""

    op: str
    seq: int
    entity: str
    record_id: str
    author: str
    status: str
    code: str | None
    message: str | None
    body: dict[str, Any]
    decided_at: str


class Store:
    """The client's SQLite file."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.path.exists():
            # The file holds the device token: owner-only from the start.
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
        self.db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        self.db.execute("PRAGMA journal_mode = WAL")
        self.db.execute("PRAGMA synchronous = FULL")
        self.db.executescript(SCHEMA)
        self._depth = 0

    def close(self) -> None:
        """Close the file."""
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One write transaction (nested calls join the outer one); rolled back on any exception."""
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self.db.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        else:
            self.db.execute("COMMIT")
        finally:
            self._depth = 0

    # meta

    def get(self, key: str, default: Any = None) -> Any:
        """A stored setting, or `default`."""
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else default

    def put(self, key: str, value: Any) -> None:
        """Store a setting."""
        self.db.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = "
                        "excluded.value", (key, json.dumps(value, ensure_ascii=False)))

    def forget_device(self) -> None:
        """Start afresh for another device: its replica, cursor, seq and outcomes are not this one's."""
        self.db.execute("DELETE FROM replica")
        self.db.execute("DELETE FROM outcome")
        self.db.execute("DELETE FROM retained")
        self.db.execute("DELETE FROM meta WHERE key IN ('cursor', 'next_seq', 'last_sync', 'reference_generation', "
                        "'epoch', 'rebase')")

    def take_seq(self) -> int:
        """The next seq of this device; call inside the transaction that writes the op."""
        seq = int(self.get("next_seq", 1))
        self.put("next_seq", seq + 1)
        return seq

    # outbox

    def append(self, op: dict[str, Any]) -> None:
        """Put an op in the outbox."""
        self.db.execute("INSERT INTO outbox (seq, op, entity, record_id, body) VALUES (?, ?, ?, ?, ?)",
                        (op["seq"], op["op"], op["entity"], op["id"], _dump(op)))

    def pending(self, limit: int | None = None) -> list[dict[str, Any]]:
        """Ops waiting for the hub, lowest seq first."""
        rows = self.db.execute("SELECT body FROM outbox ORDER BY seq LIMIT ?", (-1 if limit is None else limit,))
        return [json.loads(body) for (body,) in rows]

    def pending_for(self, entity: str, record_id: str) -> list[dict[str, Any]]:
        """Ops waiting for the hub that touch one record, in seq order."""
        rows = self.db.execute("SELECT body FROM outbox WHERE entity = ? AND record_id = ? ORDER BY seq",
                               (entity, record_id))
        return [json.loads(body) for (body,) in rows]

    def pending_ids(self, entity: str) -> set[str]:
        """Records of an entity that pending ops touch."""
        return {rid for (rid,) in self.db.execute("SELECT DISTINCT record_id FROM outbox WHERE entity = ?",
                                                  (entity,))}

    def backlog(self) -> int:
        """How many ops wait in the outbox."""
        return int(self.db.execute("SELECT count(*) FROM outbox").fetchone()[0])

    def remove(self, seqs: Iterable[int]) -> None:
        """Drop acknowledged ops from the outbox."""
        self.db.executemany("DELETE FROM outbox WHERE seq = ?", [(s,) for s in seqs])

    # replica

    def record(self, entity: str, record_id: str) -> Record | None:
        """The hub's record as last pulled (plus acknowledged own writes), or None."""
        row = self.db.execute("SELECT fields, clock, rev FROM replica WHERE entity = ? AND id = ?",
                              (entity, record_id)).fetchone()
        return _record(row) if row else None

    def records(self, entity: str) -> dict[str, Record]:
        """Every replica record of an entity."""
        rows = self.db.execute("SELECT id, fields, clock, rev FROM replica WHERE entity = ?", (entity,))
        return {rid: _record((fields, clock, rev)) for rid, fields, clock, rev in rows}

    def put_record(self, entity: str, record_id: str, record: Record) -> None:
        """Store a record in the replica."""
        clock = {name: w.to_json() for name, w in record.clock.items()}
        self.db.execute(
            "INSERT INTO replica (entity, id, fields, clock, rev) VALUES (?, ?, ?, ?, ?) ON CONFLICT (entity, id) "
            "DO UPDATE SET fields = excluded.fields, clock = excluded.clock, rev = excluded.rev",
            (entity, record_id, _dump(record.values), _dump(clock), record.rev))

    # outcomes

    def add_outcome(self, outcome: Outcome) -> None:
        """Keep a rejected or held op for the teacher to see."""
        self.db.execute(
            "INSERT OR REPLACE INTO outcome (op, seq, entity, record_id, author, status, code, message, body, "
            "decided_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (outcome.op, outcome.seq, outcome.entity, outcome.record_id, outcome.author, outcome.status,
             outcome.code, outcome.message, _dump(outcome.body), outcome.decided_at))

    def settle_held(self, op_ids: Iterable[str]) -> None:
        """Forget held ops whose writes came back in a pull: the deputy approved them."""
        self.db.executemany("DELETE FROM outcome WHERE status = 'held' AND op = ?", [(op,) for op in op_ids])

    def outcomes(self) -> list[Outcome]:
        """Rejected and held ops, oldest first."""
        rows = self.db.execute("SELECT op, seq, entity, record_id, author, status, code, message, body, decided_at "
                               "FROM outcome ORDER BY seq")
        return [Outcome(op=op, seq=seq, entity=entity, record_id=rid, author=author, status=status, code=code,
                        message=message, body=json.loads(body), decided_at=at)
                for op, seq, entity, rid, author, status, code, message, body, at in rows]


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def _record(row: tuple[str, str, int]) -> Record:
    fields, clock, rev = row
    return Record(json.loads(fields), {k: Write.from_json(v) for k, v in json.loads(clock).items()}, int(rev))
