"""Checking the hub's answers before the client trusts them.

Nothing leaves the outbox on an answer that is not a sync answer for the batch sent: a captive portal's
HTML page, a proxy's error, a body cut short, a result list that does not match the ops one to one all
raise `BadAnswer`.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sync import hlc
from sync.errors import BadAnswer
from sync.merge import Write
from sync.protocol import FINAL_STATUSES, VERSION

RESULT_STATUSES = FINAL_STATUSES | {"queued"}


@dataclass(frozen=True)
class Result:
    """One op's result; `outcome` is the status that counts (a duplicate's first status)."""

    op: str
    status: str
    outcome: str
    code: str | None
    message: str | None
    applied_hlc: str | None
    rev: int | None = None  # the record's rev at which the op's write was made, when the hub says


@dataclass(frozen=True)
class Change:
    """One pulled record: its current values, whether it is deleted, its rev and per-field clock."""

    entity: str
    id: str
    rev: int
    fields: dict[str, Any]
    deleted: bool
    clock: dict[str, Write]


@dataclass(frozen=True)
class SyncAnswer:
    """A well-formed answer to a batch."""

    hub_time: str
    acked_seq: int
    results: list[Result]
    changes: list[Change]
    cursor: str | None
    more: bool


def ops_digest(op_ids: Iterable[str]) -> str:
    """What stands for the op ids in an answer of short results: the first 16 hex digits of their SHA-256."""
    return hashlib.sha256("\n".join(op_ids).encode()).hexdigest()[:16]


def decode(headers: dict[str, str], body: bytes) -> Any:
    """The JSON of an answer body (gunzipped when the hub gzipped it); BadAnswer for anything else."""
    if not headers.get("content-type", "").lower().startswith("application/json"):
        raise BadAnswer(f"Сервер ответил не данными синхронизации ({headers.get('content-type') or 'без типа'}): "
                        "возможно, сеть требует входа через браузер.")
    if headers.get("content-encoding", "").strip().lower() == "gzip":
        try:
            body = gzip.decompress(body)
        except (OSError, EOFError, zlib.error):
            raise BadAnswer("Ответ сервера оборван или повреждён (сжатие).") from None
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise BadAnswer("Ответ сервера оборван или повреждён (JSON).") from None


def _int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _require(condition: bool, what: str) -> None:
    if not condition:
        raise BadAnswer(f"Ответ сервера не по протоколу: {what}.")


def check_status(answer: Any) -> dict[str, Any]:
    """A well-formed `GET /api/v1/status` answer."""
    _require(isinstance(answer, dict), "ожидался объект")
    _require(answer.get("protocol") == VERSION and _int(answer.get("protocol")), "версия протокола")
    _require(isinstance(answer.get("device"), str) and bool(answer["device"]), "device")
    _require(hlc.is_valid(answer.get("hub_time")), "hub_time")
    _require(_int(answer.get("acked_seq")) and answer["acked_seq"] >= 0, "acked_seq")
    values = answer.get("mark_values")
    _require(isinstance(values, list) and all(isinstance(v, str) for v in values), "mark_values")
    types = answer.get("work_types")
    _require(isinstance(types, list) and all(isinstance(t, dict) and isinstance(t.get("code"), str) for t in types),
             "work_types")
    limits = answer.get("limits", {})
    _require(isinstance(limits, dict) and all(_int(v) for v in limits.values()), "limits")
    checked: dict[str, Any] = answer
    return checked


def check_sync(answer: Any, sent: list[dict[str, Any]], pulled: bool) -> SyncAnswer:
    """A well-formed answer to a batch of `sent` ops (and a pull, when asked)."""
    _require(isinstance(answer, dict), "ожидался объект")
    _require(answer.get("protocol") == VERSION and _int(answer.get("protocol")), "версия протокола")
    _require(hlc.is_valid(answer.get("hub_time")), "hub_time")
    _require(_int(answer.get("acked_seq")) and answer["acked_seq"] >= 0, "acked_seq")
    results = answer.get("results")
    _require(isinstance(results, list) and len(results) == len(sent), "по результату на каждую операцию")
    if "ops_digest" in answer:  # short results: one digest of the op ids instead of an id in each
        _require(answer["ops_digest"] == ops_digest(op["op"] for op in sent), "результаты не совпадают с операциями")
        _require(all(isinstance(raw, dict) and "op" not in raw for raw in results), "короткие результаты")
        results = [{**raw, "op": op["op"]} for raw, op in zip(results, sent, strict=True)]
    checked = [_result(raw, op["op"]) for raw, op in zip(results, sent, strict=True)]
    changes: list[Change] = []
    cursor, more = None, False
    if pulled:
        raw_changes = answer.get("changes")
        _require(isinstance(raw_changes, list), "changes")
        changes = [_change(raw) for raw in raw_changes]
        cursor, more = answer.get("cursor"), answer.get("more")
        _require(isinstance(cursor, str) and bool(cursor), "cursor")
        _require(isinstance(more, bool), "more")
    return SyncAnswer(answer["hub_time"], answer["acked_seq"], checked, changes, cursor, bool(more))


def _result(raw: Any, op_id: str) -> Result:
    _require(isinstance(raw, dict) and raw.get("op") == op_id, "результаты не совпадают с операциями")
    status = raw.get("status")
    _require(status in RESULT_STATUSES, f"неизвестный статус {status!r}")
    source = raw
    if status == "duplicate":
        source = raw.get("first")
        _require(isinstance(source, dict) and source.get("status") in RESULT_STATUSES - {"duplicate"}, "first")
    code, message, clamped = source.get("code"), source.get("message"), source.get("clamped_hlc")
    _require(code is None or isinstance(code, str), "code")
    _require(message is None or isinstance(message, str), "message")
    _require(clamped is None or hlc.is_valid(clamped), "clamped_hlc")
    _require(source["status"] != "rejected" or bool(code), "код причины отказа")
    rev = raw.get("rev")
    _require(rev is None or (_int(rev) and rev > 0), "rev результата")
    return Result(op_id, str(status), str(source["status"]), code, message, clamped, rev)


def _change(raw: Any) -> Change:
    _require(isinstance(raw, dict), "изменение")
    entity, record_id, rev, fields = raw.get("entity"), raw.get("id"), raw.get("rev"), raw.get("fields")
    _require(isinstance(entity, str) and bool(entity) and isinstance(record_id, str) and bool(record_id),
             "entity и id изменения")
    _require(_int(rev) and rev >= 0, "rev изменения")
    _require(isinstance(fields, dict) and isinstance(raw.get("deleted", False), bool), "поля изменения")
    clock_raw = raw.get("clock") or {}
    _require(isinstance(clock_raw, dict), "clock изменения")
    try:
        clock = {str(name): Write.from_json(entry) for name, entry in clock_raw.items()}
    except (TypeError, ValueError, IndexError, KeyError):
        raise BadAnswer("Ответ сервера не по протоколу: clock изменения.") from None
    _require(all(hlc.is_valid(w.hlc) for w in clock.values()), "clock изменения")
    return Change(entity, record_id, int(rev), fields, bool(raw.get("deleted", False)), clock)
