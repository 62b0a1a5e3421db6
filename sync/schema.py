"""Shape checks: the batch envelope (whole-batch errors) and each op's fields (per-op rejections)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from sync import hlc
from sync.errors import BatchRejected
from sync.protocol import JOURNAL, REFERENCE, VERSION

OP_ID = re.compile(r"[A-Za-z0-9_.:-]{1,64}")  # matched whole: no trailing newline
CURSOR = re.compile(r"[0-9]{1,18}")
DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
MAX_TEXT = 10_000
MAX_REF = 64


@dataclass(frozen=True)
class Rejection:
    """Why an op cannot be applied: a reason code and, optionally, the field at fault."""

    code: str
    field: str | None = None


@dataclass
class Op:
    """One op as received; `problem` is set when its shape is wrong."""

    op: str
    seq: int | None
    hlc: str
    author: str
    entity: str
    id: str
    action: str
    fields: dict[str, Any]
    base: int | None
    raw: dict[str, Any] = field(repr=False, default_factory=dict)
    problem: Rejection | None = None
    log_id: int | None = None  # the hub's op log row of an op queued by an earlier batch
    text: str | None = field(repr=False, default=None)  # the op's JSON as sent, when the body showed it


@dataclass(frozen=True)
class Pull:
    """The batch's pull request: changes after `cursor`, at most `limit`; `own`: this device's echoes too."""

    cursor: int
    limit: int
    own: bool = False


@dataclass(frozen=True)
class Rebase:
    """After a restore: "I no longer hold my ops before `from_seq`; the hub's epoch `epoch` may skip them"."""

    epoch: str
    from_seq: int


@dataclass(frozen=True)
class Batch:
    device: str
    ops: list[Op]
    pull: Pull | None
    rebase: Rebase | None = None
    short_results: bool = False  # the device asked for results without op ids (`"results": "short"`)


@dataclass(frozen=True)
class Vocabulary:
    """The values a school allows: mark values and work type codes."""

    mark_values: Collection[str]
    work_types: Collection[str]


def parse_batch(body: Any, max_ops: int, max_pull: int) -> Batch:
    """Check the envelope and parse every op; raise BatchRejected for what stops the whole batch."""
    if not isinstance(body, dict):
        raise BatchRejected("malformed")
    if body.get("protocol") != VERSION or isinstance(body.get("protocol"), bool):
        raise BatchRejected("bad_protocol")
    device, ops = body.get("device"), body.get("ops")
    if not isinstance(device, str) or not device or not isinstance(ops, list):
        raise BatchRejected("malformed")
    if len(ops) > max_ops:
        raise BatchRejected("too_large", f"Пакет слишком большой: {len(ops)} операций, допустимо {max_ops}.")
    for raw in ops:
        if not isinstance(raw, dict) or not isinstance(raw.get("op"), str) or not OP_ID.fullmatch(raw["op"]):
            raise BatchRejected("bad_op_id")
    return Batch(device, [parse_op(raw) for raw in ops], _parse_pull(body.get("pull"), max_pull),
                 _parse_rebase(body.get("rebase")), body.get("results") == "short")


def parse_cursor(value: Any) -> int:
    """A pull cursor as the hub's change number; None means from the start."""
    if value is None:
        return 0
    if isinstance(value, str) and CURSOR.fullmatch(value):
        return int(value)
    raise BatchRejected("malformed", "Неверный курсор выборки изменений (pull.cursor).")


def _parse_pull(value: Any, max_pull: int) -> Pull | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise BatchRejected("malformed", "Неверный запрос изменений (pull).")
    limit = value.get("limit", max_pull)
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise BatchRejected("malformed", "Неверный размер выборки изменений (pull.limit).")
    own = value.get("own", False)
    if not isinstance(own, bool):
        raise BatchRejected("malformed", "Неверный запрос изменений (pull.own).")
    return Pull(parse_cursor(value.get("cursor")), min(limit, max_pull), own)


def _parse_rebase(value: Any) -> Rebase | None:
    if value is None:
        return None
    epoch = value.get("epoch") if isinstance(value, dict) else None
    from_seq = value.get("from_seq") if isinstance(value, dict) else None
    if not isinstance(epoch, str) or not OP_ID.fullmatch(epoch) or isinstance(from_seq, bool) \
            or not isinstance(from_seq, int) or not 1 <= from_seq < 2**62:
        raise BatchRejected("malformed", "Неверная отметка перехода после восстановления (rebase).")
    return Rebase(epoch, from_seq)


def _text(value: Any, limit: int = MAX_REF) -> str | None:
    return value if isinstance(value, str) and 0 < len(value) <= limit else None


def parse_op(raw: dict[str, Any]) -> Op:
    """Parse one op; shape problems are recorded on it, not raised."""
    seq = raw.get("seq")
    seq = seq if isinstance(seq, int) and not isinstance(seq, bool) and 0 < seq < 2**62 else None
    base = raw.get("base")
    fields = raw.get("fields")
    stamp = raw.get("hlc")
    valid_hlc = hlc.is_valid(stamp)
    op = Op(
        op=raw["op"],
        seq=seq,
        hlc=str(stamp) if valid_hlc else hlc.ZERO,
        author=_text(raw.get("author")) or "",
        entity=_text(raw.get("entity"), 30) or "",
        id=_text(raw.get("id")) or "",
        action=str(raw["action"]) if raw.get("action") in ("upsert", "delete") else "",
        fields=fields if isinstance(fields, dict) else {},
        base=base if isinstance(base, int) and not isinstance(base, bool) and base >= 0 else None,
        raw=raw,
    )
    op.problem = _shape_problem(op, raw, valid_hlc)
    return op


def _shape_problem(op: Op, raw: dict[str, Any], valid_hlc: bool) -> Rejection | None:
    if op.seq is None:
        return Rejection("bad_seq")
    if not valid_hlc:
        return Rejection("bad_hlc")
    if not op.author or not op.id:
        return Rejection("bad_op")
    if raw.get("base") is not None and op.base is None:
        return Rejection("bad_op", "base")
    if op.entity in REFERENCE:
        return Rejection("read_only")
    if op.entity not in JOURNAL:
        return Rejection("bad_entity")
    if not op.action:
        return Rejection("bad_action")
    fields = raw.get("fields")
    if op.action == "upsert" and not isinstance(fields, dict):
        return Rejection("bad_op", "fields")
    if op.action == "delete" and fields not in (None, {}) and not isinstance(fields, dict):
        return Rejection("bad_op", "fields")
    return None


def check_fields(op: Op, vocabulary: Vocabulary, creating: bool) -> Rejection | None:
    """Check an upsert's field names and value types; a creating upsert must carry every required field."""
    spec = _SPECS[op.entity]
    for name, value in op.fields.items():
        field_spec = spec.get(name)
        if field_spec is None:
            return Rejection("bad_field", name)
        nullable, fits = field_spec
        if not (nullable if value is None else fits(value, vocabulary)):
            return Rejection("bad_value", name)
    if creating:
        for name in _REQUIRED[op.entity]:
            if name not in op.fields:
                return Rejection("missing_field", name)
    return None


Fits = Callable[[Any, "Vocabulary"], bool]  # whether a value (not None) fits a field of one kind


def _is_bool(value: Any, _vocab: Vocabulary) -> bool:
    return isinstance(value, bool)


def _is_small_int(value: Any, _vocab: Vocabulary) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 12


def _is_date(value: Any, _vocab: Vocabulary) -> bool:
    return parse_date(value) is not None


def _is_text(value: Any, _vocab: Vocabulary) -> bool:
    return isinstance(value, str) and len(value) <= MAX_TEXT


def _is_ref(value: Any, _vocab: Vocabulary) -> bool:
    return _text(value) is not None


def _is_mark(value: Any, vocab: Vocabulary) -> bool:
    return isinstance(value, str) and value in vocab.mark_values


def _is_work_type(value: Any, vocab: Vocabulary) -> bool:
    return isinstance(value, str) and value in vocab.work_types


def _fits(kind: str, choices: tuple[str, ...]) -> Fits:
    """The check of a field's kind; an enum's is its choices'."""
    if kind == "enum":
        return lambda value, _vocab: value in choices
    kinds: dict[str, Fits] = {"bool": _is_bool, "int": _is_small_int, "date": _is_date, "text": _is_text,
                              "mark": _is_mark, "work_type": _is_work_type}
    return _is_ref if kind.startswith("ref:") else kinds[kind]


# Per entity, made once: each field's (nullable, the check of its kind), and the fields a creating upsert carries.
_SPECS = {entity: {name: (f.nullable, _fits(f.kind, f.choices)) for name, f in fields.items()}
          for entity, fields in JOURNAL.items()}
_REQUIRED = {entity: [name for name, f in fields.items() if f.required] for entity, fields in JOURNAL.items()}


def parse_date(value: Any) -> dt.date | None:
    """A YYYY-MM-DD string as a date, or None."""
    if not isinstance(value, str) or not DATE.fullmatch(value):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None
