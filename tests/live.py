"""Helpers for client tests: the hub in-process as a transport, networks that break on cue, a real hub process."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Flask
from sqlalchemy import func, select

from app.base import settings
from app.base.extensions import db
from app.base.journal_store import record_of, table
from app.base.models import OpLog
from app.syncing.devices import register
from sync import clock
from sync.client import SyncClient
from sync.errors import TransportError
from sync.merge import Record
from sync.protocol import JOURNAL
from sync.transport import Answer
from tests.school import lesson_fields

HUB = "http://hub.test"


def recent_day(days_ago: int = 1) -> dt.date:
    """A school day before today in the school's timezone (journal entries may not be dated in the future)."""
    today = clock.now().astimezone(settings().timezone).date()
    return max(today - dt.timedelta(days=days_ago), settings().year_start)


class WsgiTransport:
    """Calls the hub in this process through werkzeug's test client, as the network would."""

    def __init__(self, app: Flask) -> None:
        self.client = app.test_client()
        self.requests: list[tuple[str, str, dict[str, str], bytes | None]] = []

    def request(self, method: str, url: str, headers: Mapping[str, str], body: bytes | None) -> Answer:
        """Send the request to the app; return its status, headers (lower-case names) and raw body."""
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        self.requests.append((method, path, dict(headers), body))
        response = self.client.open(path, method=method, headers=dict(headers), data=body)
        return response.status_code, {k.lower(): v for k, v in response.headers.items()}, response.get_data()


def sent_ops(body: bytes | None) -> list[dict[str, Any]]:
    """The ops of a gzipped batch as the client sent it."""
    if not body:
        return []
    ops: list[dict[str, Any]] = json.loads(gzip.decompress(body))["ops"]
    return ops


def oplog_count() -> int:
    """Rows in the hub's op log."""
    return int(db.session.scalar(select(func.count()).select_from(OpLog)) or 0)


CAPTIVE_PAGE = b"<html><body><h1>Wi-Fi</h1><form>Accept the terms</form></body></html>"
FAULTS = ("drop_request", "drop_answer", "cut_request", "cut_answer", "captive", "busy", "repeat")


class Faulty:
    """A network that fails on cue: each request takes the next fault from `faults`, then passes through.

    drop_request   the request never reaches the hub
    drop_answer    the hub commits, the answer is lost
    cut_request    the hub gets half the body: it must answer 400 and apply nothing; the client hears nothing
    cut_answer     the hub commits, the client gets half the answer
    captive        a captive portal answers 200 with an HTML page
    busy           the hub answers 503 with Retry-After
    repeat         the batch reaches the hub twice (a proxy retried it); the second answer comes back
    """

    def __init__(self, inner: WsgiTransport, faults: list[str] | None = None, retry_after: int = 3) -> None:
        self.inner = inner
        self.faults = list(faults or [])
        self.retry_after = retry_after
        self.seen: list[str] = []
        self.delivered: list[bytes] = []  # complete POST bodies the hub received

    def request(self, method: str, url: str, headers: Mapping[str, str], body: bytes | None) -> Answer:
        """Play the next fault, if any."""
        fault = self.faults.pop(0) if self.faults else "none"
        self.seen.append(fault)
        if fault == "drop_request":
            raise TransportError("Нет связи с сервером: connection refused")
        if fault == "busy":
            busy = {"error": {"code": "busy", "message": "Сервер занят, повторите позже."}}
            return 503, {"content-type": "application/json", "retry-after": str(self.retry_after)}, \
                json.dumps(busy, ensure_ascii=False).encode()
        if fault == "captive":
            return 200, {"content-type": "text/html; charset=utf-8"}, CAPTIVE_PAGE
        if fault == "cut_request" and body:
            before = oplog_count()
            status, _, answer = self.inner.request(method, url, headers, body[: len(body) // 2])
            assert status == 400, (status, answer)
            assert oplog_count() == before
            raise TransportError("Нет связи с сервером: connection reset by peer")
        answer = self._deliver(method, url, headers, body)
        if fault == "repeat":
            answer = self._deliver(method, url, headers, body)
        if fault == "drop_answer":
            raise TransportError("Нет связи с сервером: connection reset by peer")
        if fault == "cut_answer":
            status, answer_headers, data = answer
            return status, answer_headers, data[: len(data) // 2]
        return answer

    def _deliver(self, method: str, url: str, headers: Mapping[str, str], body: bytes | None) -> Answer:
        answer = self.inner.request(method, url, headers, body)
        if method == "POST" and body:
            self.delivered.append(body)
        return answer


class Tampering:
    """Passes requests to the hub, then damages its sync answers while `active` (after the hub committed)."""

    def __init__(self, inner: WsgiTransport, damage: str) -> None:
        self.inner, self.damage, self.active = inner, damage, False

    def request(self, method: str, url: str, headers: Mapping[str, str], body: bytes | None) -> Answer:
        status, answer_headers, data = self.inner.request(method, url, headers, body)
        if not self.active or not url.endswith("/sync"):
            return status, answer_headers, data
        if self.damage == "captive":
            return 200, {"content-type": "text/html"}, b"<html>Please log in to the Wi-Fi</html>"
        if self.damage == "html_404":
            return 404, {"content-type": "text/html"}, b"<html>Not found</html>"
        if self.damage == "redirect":
            return 302, {"location": "http://portal/login", "content-type": "text/html"}, b""
        if self.damage == "cut_answer":
            return status, answer_headers, data[: len(data) // 2]
        if answer_headers.get("content-encoding") == "gzip":
            data = gzip.decompress(data)
            del answer_headers["content-encoding"]
        answer = json.loads(data)
        if self.damage == "missing_result":
            answer["results"] = answer["results"][:-1]
        elif self.damage == "wrong_op":
            answer["results"][0]["op"] = "someone-else"
        elif self.damage == "protocol_2":
            answer["protocol"] = 2
        elif self.damage == "acked_seq_text":
            answer["acked_seq"] = str(answer["acked_seq"])
        elif self.damage == "acked_seq_low":  # well-formed, but nothing acknowledged: nothing may leave
            answer["acked_seq"] = 0
        elif self.damage == "bad_status":
            answer["results"][0]["status"] = "ok"
        return status, answer_headers, json.dumps(answer).encode()


def new_client(app: Flask, path: Path, name: str = "Кабинет 12", *, transport: Any = None,
               now_ms: Callable[[], int] | None = None, sleeps: list[float] | None = None,
               **options: Any) -> SyncClient:
    """Register a device on the hub and connect a client in `path` to it (in-process transport by default)."""
    _, token = register(name)
    db.session.commit()
    waits = sleeps if sleeps is not None else []
    kwargs: dict[str, Any] = {"sleep": waits.append, "random": lambda: 0.5, **options}
    if now_ms is not None:
        kwargs["now_ms"] = now_ms
    client = SyncClient(path, transport=transport or WsgiTransport(app), **kwargs)
    client.connect(HUB, token)
    return client


def hub_records(entity: str) -> dict[str, Record]:
    """Every record of a journal entity on the hub, as a pull would send it."""
    db.session.expire_all()
    return {row.id: record_of(entity, row) for row in db.session.execute(select(table(entity)))}


def assert_view_equals_hub(client: SyncClient) -> int:
    """Every journal record on the hub equals the client's view (values and per-field clocks); return how many."""
    compared = 0
    for entity in JOURNAL:
        hub = hub_records(entity)
        local = client.views(entity)
        assert set(local) == set(hub), (entity, set(local) ^ set(hub))
        for record_id, record in hub.items():
            assert local[record_id].values == record.values, (entity, record_id)
            assert local[record_id].clock == record.clock, (entity, record_id)
            compared += 1
    return compared


def record_week(client: SyncClient, school: Any, days: int = 6) -> int:
    """Lessons of 7А on the last school days, each with attendance, marks and remarks; return the op count."""
    count = 0
    for back in range(1, days + 1):
        day = dt.date(2026, 11, 22) - dt.timedelta(days=back)
        for slot in range(1, 8):
            lesson, fields = lesson_fields(school, day=day, slot=slot, topic=f"Тема {slot}")
            client.record("lesson", fields, author=school["t_petrova"])
            count += 1
            for student in ("st_ivanova", "st_smirnov"):
                client.record("attendance", {"lesson": lesson, "student": school[student], "status": "present"},
                              author=school["t_petrova"])
                client.record("mark", {"lesson": lesson, "student": school[student], "value": "4",
                                       "work_type": "oral"}, author=school["t_petrova"])
                client.record("remark", {"student": school[student], "date": day.isoformat(), "kind": "remark",
                                         "subject": None, "text": f"Замечание {slot}"}, author=school["t_petrova"])
                count += 3
    return count
