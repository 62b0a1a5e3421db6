"""The sync API of protocol v1: `POST /api/v1/sync` and `GET /api/v1/status`."""

from __future__ import annotations

import gzip
import json
import math
import re
import zlib
from typing import Any

import msgspec
from flask import Blueprint, Flask, Response, request
from werkzeug.exceptions import ClientDisconnected, HTTPException, MethodNotAllowed, RequestEntityTooLarge

from app.base import epoch, settings
from app.base.closed_years import year_closed
from app.base.extensions import db
from app.base.gcpause import fewer_collections
from app.base.wal import checkpoint_after
from app.syncing.devices import authenticate, bound_classes
from app.syncing.ingest import apply_batch
from app.syncing.school_reference import served_teachers
from sync import hlc
from sync.decode import fast_batch, op_texts
from sync.errors import BatchRejected, Busy
from sync.protocol import VERSION
from sync.schema import Batch, parse_batch

bp = Blueprint("api", __name__, url_prefix="/api/v1")
_encode = msgspec.json.Encoder().encode


def json_response(body: dict[str, Any], status: int = 200) -> Response:
    """A JSON answer, gzipped when the client accepts it and it is worth it."""
    data = _encode(body)  # compact UTF-8 JSON, as json.dumps(ensure_ascii=False) writes it, encoded in C
    response = Response(data, status=status, mimetype="application/json")
    if len(data) > 1024 and "gzip" in request.headers.get("Accept-Encoding", ""):
        response.set_data(gzip.compress(data, compresslevel=5))
        response.headers["Content-Encoding"] = "gzip"
        response.headers["Vary"] = "Accept-Encoding"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.errorhandler(BatchRejected)
def batch_rejected(exc: BatchRejected) -> Response:
    """Whole-batch errors as the protocol's error body, in the staff's language."""
    response = json_response(exc.body(), exc.status)
    if isinstance(exc, Busy):
        response.headers["Retry-After"] = str(int(exc.retry_after))
    if exc.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="tetrad"'
    return response


def init_app(app: Flask) -> None:
    """Register the API and answer its routing errors (404, 405) with the protocol's error body too."""
    app.register_blueprint(bp)
    app.register_error_handler(HTTPException, http_error)


def is_api_request() -> bool:
    """Whether the request is addressed to the sync API (its errors are the protocol's JSON)."""
    return request.path.startswith(bp.url_prefix or "/api/")


def http_error(exc: HTTPException) -> Response | HTTPException:
    """An HTTP error of an API request as the protocol's error body (other paths: the exception itself)."""
    if not is_api_request():
        return exc
    codes = {404: "not_found", 405: "method_not_allowed", 413: "too_large", 500: "internal"}
    code = codes.get(exc.code or 400, "internal" if (exc.code or 400) >= 500 else "malformed")
    response = batch_rejected(BatchRejected(code))
    if isinstance(exc, MethodNotAllowed) and isinstance(exc.valid_methods, list):
        response.headers["Allow"] = ", ".join(exc.valid_methods)
    return response


@bp.errorhandler(RequestEntityTooLarge)
def too_large(_exc: RequestEntityTooLarge) -> Response:
    """A body over the configured size, refused before it is read."""
    return batch_rejected(BatchRejected("too_large"))


def read_body(max_body: int, max_inflated: int) -> bytes:
    """The request's body, inflated when gzipped, within the configured limits."""
    if request.content_length is not None and request.content_length > max_body:
        raise BatchRejected("too_large")
    try:
        # MAX_CONTENT_LENGTH is one byte over the limit, so a chunked body over it is seen, not cut.
        raw = request.get_data(cache=False)
    except RequestEntityTooLarge:
        raise BatchRejected("too_large") from None
    except ClientDisconnected:
        raise BatchRejected("malformed", "Пакет пришёл не полностью: связь прервалась.") from None
    if len(raw) > max_body:
        raise BatchRejected("too_large")
    encoding = request.headers.get("Content-Encoding", "identity").strip().lower()
    if encoding == "gzip":
        raw = inflate(raw, max_inflated)
    elif encoding not in ("", "identity"):
        raise BatchRejected("bad_encoding")
    return raw


def inflate(data: bytes, limit: int) -> bytes:
    """Gunzip `data`, refusing with 413 past `limit` bytes (a gzip bomb) and 400 when corrupt."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, limit + 1)
        if len(out) > limit or inflater.unconsumed_tail:
            raise BatchRejected("too_large", "Пакет после распаковки превышает допустимый размер.")
        out += inflater.flush()
    except zlib.error:
        raise BatchRejected("bad_encoding") from None
    if not inflater.eof:
        raise BatchRejected("bad_encoding")
    return out


MAX_DEPTH = 32
_BRACKETS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]')
_SUSPECT_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")


def decode_json(raw: bytes) -> Any:
    """Strict UTF-8 JSON, nested at most MAX_DEPTH deep, finite numbers, no NUL or lone surrogates."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BatchRejected("malformed", "Пакет не в кодировке UTF-8.") from None
    if _depth(raw) > MAX_DEPTH:
        raise BatchRejected("malformed", "Пакет вложен слишком глубоко.")
    try:
        data = json.loads(text, parse_constant=_refuse, parse_float=_finite)
    except (ValueError, RecursionError):
        raise BatchRejected("malformed") from None
    if _SUSPECT_ESCAPE.search(raw) and not _clean_text(data):
        raise BatchRejected("malformed", "В пакете недопустимые символы (NUL или одиночные суррогаты).")
    return data


def _depth(raw: bytes) -> int:
    """The deepest nesting of arrays and objects, strings skipped."""
    depth = deepest = 0
    for match in _BRACKETS.finditer(raw):
        token = match.group()
        if token in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        elif token in (b"]", b"}"):
            depth -= 1
    return deepest


def _clean_text(data: Any) -> bool:
    """No string (key or value) holds NUL or a lone surrogate: neither can be stored."""
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item or any("\ud800" <= ch <= "\udfff" for ch in item):
                return False
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return True


def _refuse(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("number out of range")
    return value


def read_batch(raw: bytes, max_ops: int, max_pull: int) -> Batch:
    """The batch of a body: decoded in C when its types allow (`sync.decode`), else by the general path (strict
    JSON, `parse_batch`) with the same outcome; each op keeps the text it was sent as."""
    batch = fast_batch(raw, max_ops, max_pull)
    if batch is None:
        batch = parse_batch(decode_json(raw), max_ops, max_pull)
        op_texts(raw, batch)
    return batch


@bp.post("/sync")
def sync() -> Response:
    """Apply a device's batch and answer with one result per op (and pulled changes if asked)."""
    conf = settings()
    device = authenticate(request.headers.get("Authorization"))
    device_id = device.id
    db.session.rollback()  # end the read transaction before the batch takes its locks
    raw = read_body(conf.sync["max_body_bytes"], conf.sync["max_inflated_bytes"])
    with fewer_collections():
        batch = read_batch(raw, conf.sync["max_ops_per_batch"], conf.sync["max_pull_limit"])
        if batch.device != device_id:
            raise BatchRejected("wrong_device")
        return checkpoint_after(json_response(apply_batch(device_id, batch)))


@bp.get("/status")
def status() -> Response:
    """The hub's clock, this device's acknowledged seq and scope (classes, teachers served), the limits and the
    school's mark vocabulary."""
    conf = settings()
    device = authenticate(request.headers.get("Authorization"))
    current_epoch = epoch.current_id()
    db.session.commit()  # the hub's first epoch, when this status made it
    return json_response({
        "protocol": VERSION,
        "epoch": current_epoch,
        "retain_days": conf.sync["retain_days"],
        "hub_time": max(hlc.make(hlc.wall_ms()), device.last_hlc),
        "device": device.id,
        "acked_seq": device.acked_seq,
        "last_skew_ms": device.last_skew_ms,
        "limits": {
            "max_ops_per_batch": conf.sync["max_ops_per_batch"],
            "max_body_bytes": conf.sync["max_body_bytes"],
            "max_inflated_bytes": conf.sync["max_inflated_bytes"],
            "max_clock_skew_seconds": conf.sync["max_clock_skew_seconds"],
            "max_pull_limit": conf.sync["max_pull_limit"],
        },
        "timezone": conf.timezone.key,
        "year": {"start": conf.year_start.isoformat(), "end": conf.year_end.isoformat(),
                 "closed": year_closed(conf.year_name)},
        "no_marks_grades": sorted(conf.no_marks_grades),
        "approval_after_days": conf.approval_after_days,
        "plan_ahead_days": conf.deadlines["plan_ahead_days"],
        "allow_unplanned_substitutions": bool(conf.sync["allow_unplanned_substitutions"]),
        "classes": sorted(bound_classes(device.id)),
        "teachers": served_teachers(device.id),
        "mark_values": list(conf.mark_values),
        "work_types": [{"code": w.code, "name": w.name, "short": w.short, "weight": w.weight}
                       for w in conf.work_types],
        "forecast": {"thresholds": conf.forecast_thresholds, "min_marks_one_hour": conf.min_marks_one_hour,
                     "min_marks_more_hours": conf.min_marks_more_hours},
    })
