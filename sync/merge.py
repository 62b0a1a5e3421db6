"""Field-level last-writer-wins merge, shared by the hub and the classroom client.

ALGORITHM:
1. An upsert writes each field it carries plus `deleted = False`; a delete writes `deleted = True` only.
2. For each written field, the write wins when its stamp (hlc, device, op) is greater than the stamp of
   the field's current write: HLC first, then device id, then op id, all compared as strings.
3. A winning write replaces the value and the field's clock entry; a losing write changes nothing.
4. A conflict is recorded (whoever won) when the two writes come from different authors on different
   machines, hold different values, and the incoming op's `base` is older than the rev at which the
   current write was made: the author had not seen it.
5. The op is `applied` when any field won, else `superseded`; with a conflict it is `conflict`.

Every replica that has seen the same set of writes holds the same values, whatever the order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple


class Write(NamedTuple):
    """Who wrote a field, and when: the stamp that decides last-writer-wins (a tuple: cheap to make)."""

    hlc: str
    device: str
    op: str
    author: str
    rev: int = 0  # the record's rev on the hub when this write was made; 0 where unknown

    def stamp(self) -> tuple[str, str, str]:
        """The total order of writes: HLC, then device id, then op id."""
        return (self.hlc, self.device, self.op)

    def to_json(self) -> list[Any]:
        """Compact form kept in a record's clock."""
        return list(self)

    @classmethod
    def from_json(cls, data: list[Any]) -> Write:
        """Read the compact form back."""
        return cls(str(data[0]), str(data[1]), str(data[2]), str(data[3]), int(data[4]))


@dataclass
class Record:
    """A replica's copy of one journal record: resolved values and the winning write of each field."""

    values: dict[str, Any] = field(default_factory=dict)
    clock: dict[str, Write] = field(default_factory=dict)
    rev: int = 0

    @property
    def deleted(self) -> bool:
        """Whether the record is currently a tombstone."""
        return bool(self.values.get("deleted", False))


@dataclass(frozen=True)
class FieldConflict:
    """Two authors wrote one field concurrently; both writes and values are kept."""

    field: str
    winner: Write
    loser: Write
    winner_value: Any
    loser_value: Any


@dataclass
class Outcome:
    """What one op did to a record."""

    won: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    conflicts: list[FieldConflict] = field(default_factory=list)

    @property
    def status(self) -> str:
        """The op's result status."""
        if self.conflicts:
            return "conflict"
        return "applied" if self.won else "superseded"


def written_fields(action: str, fields: dict[str, Any]) -> dict[str, Any]:
    """The fields an op writes: an upsert's fields and `deleted = False`, or just `deleted = True`."""
    if action == "delete":
        return {"deleted": True}
    return {**fields, "deleted": False}


def merge(record: Record, action: str, fields: dict[str, Any], write: Write, base: int | None) -> Outcome:
    """Apply one op's writes to `record` in place, field by field; return what happened."""
    outcome = Outcome()
    clock, values = record.clock, record.values
    written = written_fields(action, fields)
    if not clock:  # a new record: every field is a first write
        values.update(written)
        clock.update(dict.fromkeys(written, write))
        outcome.won = list(written)
        return outcome
    stamp = write.stamp()
    for name, value in written.items():
        current = clock.get(name)
        if current is None:  # the field's first write
            values[name] = value
            clock[name] = write
            outcome.won.append(name)
            continue
        wins = stamp > current.stamp()
        if _concurrent(current, write, base) and values.get(name) != value:
            winner, loser = (write, current) if wins else (current, write)
            winner_value, loser_value = (value, values.get(name)) if wins else (values.get(name), value)
            outcome.conflicts.append(FieldConflict(name, winner, loser, winner_value, loser_value))
        if wins:
            values[name] = value
            clock[name] = write
            outcome.won.append(name)
        else:
            outcome.lost.append(name)
    return outcome


def _concurrent(current: Write, incoming: Write, base: int | None) -> bool:
    """Whether the incoming author wrote without having seen the current write."""
    if current.author == incoming.author or current.device == incoming.device:
        return False
    return base is None or base < current.rev
