"""The one check sequence for an op, run by the hub (`sync.apply.BatchApplier.judge`) and by the classroom
client before an op enters its outbox (`sync.client.SyncClient._write`): what one refuses, the other refuses,
with the same code.

ALGORITHM:
1. A shape problem found when the op was parsed rejects it.
2. A delete of a record nobody knows is `unknown_record`.
3. An upsert's fields are checked against the schema and the school's vocabulary (all required fields when
   the record is new or known only by partial writes).
4. The school's rules (`sync.rules.check`) judge the record as it would be after the op: reject, hold or allow.
"""

from __future__ import annotations

from sync import rules
from sync.merge import Record
from sync.rules import Calendar, Lessons, Reference, Verdict
from sync.schema import Op, Rejection, Vocabulary, check_fields


def check_op(op: Op, current: Record | None, ref: Reference, lessons: Lessons, cal: Calendar,
             vocabulary: Vocabulary, now_ms: int, applied_hlc: str) -> Verdict:
    """Judge one op against the record it changes (`current`, None when unknown) and the school's rules."""
    if op.problem is not None:
        return Verdict(rejection=op.problem)
    if op.action == "delete" and current is None:
        return Verdict(rejection=Rejection("unknown_record"))
    if op.action == "upsert":
        problem = check_fields(op, vocabulary, creating=current is None or incomplete(current))
        if problem is not None:
            return Verdict(rejection=problem)
    merged = {**(current.values if current else {}), **(op.fields if op.action == "upsert" else {})}
    return rules.check(op, merged, ref, lessons, cal, now_ms, applied_hlc)


def incomplete(record: Record) -> bool:
    """A record known only by a tombstone or partial writes still needs every required field."""
    return "deleted" not in record.clock
