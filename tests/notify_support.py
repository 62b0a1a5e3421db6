"""Notification tests' world: the tiny school's journal through the sync API, two families with channels,
a real SMTP server (aiosmtpd) and a real HTTP server playing the SMS gateway."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from app.base import settings
from app.base.extensions import db
from app.base.models import Consent, Family, Guardian, Student
from app.notify.channels import set_channel
from static_site.access import family_access
from static_site.links import issue
from sync import clock
from tests.hub_process import free_port
from tests.school import LESSON_DAY, Machine, TinySchool, attendance_key, lesson_fields, ms_at

WEEK = "2026-W47"  # LESSON_DAY's week; the suite's today is its Sunday


def journal(client: Any, school: TinySchool) -> None:
    """This week in 7А: a maths 5 and an illness for Иванова, a 2 for Смирнов; homework and a test next week."""
    machine = Machine(client, "Кабинет 12")
    friday = LESSON_DAY + dt.timedelta(days=4)
    lesson, fields = lesson_fields(school, day=friday, homework="Параграф 12, задачи 1–5",
                                   homework_due=(LESSON_DAY + dt.timedelta(days=7)).isoformat())
    author = school["t_petrova"]
    ops = [machine.op("lesson", lesson, fields, author=author, at=ms_at(friday, 9)),
           machine.op("mark", "m-ivanova", {"lesson": lesson, "student": school["st_ivanova"], "value": "5",
                                            "work_type": "oral"}, author=author, at=ms_at(friday, 10)),
           machine.op("mark", "m-smirnov", {"lesson": lesson, "student": school["st_smirnov"], "value": "2",
                                            "work_type": "oral"}, author=author, at=ms_at(friday, 10)),
           machine.op("attendance", attendance_key(lesson, school["st_ivanova"]),
                      {"lesson": lesson, "student": school["st_ivanova"], "status": "ill"}, author=author,
                      at=ms_at(friday, 10)),
           machine.op("test_plan", "tp-next", {"class": school["c7"], "group": None, "subject": school["s_math"],
                                               "date": (LESSON_DAY + dt.timedelta(days=9)).isoformat(),
                                               "work_type": "test", "title": "Контрольная: уравнения"},
                      author=author, at=ms_at(friday, 11))]
    answer = machine.post(ops).get_json()
    assert [r["status"] for r in answer["results"]] == ["applied"] * len(ops), answer


def family(school: TinySchool, surname: str, student: str, guardian: dict[str, str], channels: tuple[str, ...],
           link: bool = True) -> tuple[Family, Guardian]:
    """A family with one consenting guardian, a live link, and consent to these channels."""
    person = Guardian(**guardian)
    record = Family(name=surname, channel="link", guardians=[person],
                    students=[db.session.get(Student, school[student])])
    db.session.add(record)
    db.session.flush()
    db.session.add(Consent(guardian_id=person.id, state="given", on=dt.date(2026, 9, 1), basis="заявление",
                           channel="paper"))
    for channel in channels:
        set_channel(person.id, channel, dt.date(2026, 9, 2), "заявление", absence=True)
    db.session.flush()
    if link:
        now = clock.now()
        issue(family_access([record.id], settings().today(now), now)[record.id], person, now)
    db.session.commit()
    return record, person


def two_families(school: TinySchool) -> dict[str, Any]:
    """Ивановы (mother: SMS and e-mail) and Смирновы (father: e-mail)."""
    ivanovy, mother = family(school, "Ивановы", "st_ivanova", dict(
        last_name="Иванова", first_name="Ольга", middle_name="Николаевна", phone="+7 900 000-00-01",
        email="olga@example.org", relation="мать"), ("sms", "email"))
    smirnovy, father = family(school, "Смирновы", "st_smirnov", dict(
        last_name="Смирнов", first_name="Олег", middle_name="Павлович", phone="+7 900 000-00-02",
        email="oleg@example.org", relation="отец"), ("email",))
    return {"ivanovy": ivanovy, "mother": mother, "smirnovy": smirnovy, "father": father}


class Inbox:
    """aiosmtpd handler: keeps every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        parsed = message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        self.messages.append((list(envelope.rcpt_tos), parsed))  # type: ignore[arg-type]
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for rcpt, m in self.messages if address in rcpt]


class SmtpServer:
    """A real SMTP server on a free local port, for one test."""

    def __init__(self, login: tuple[str, str] | None = None) -> None:
        self.inbox = Inbox()
        self.port = free_port()
        self.logins: list[str] = []
        extra: dict[str, Any] = {}
        if login is not None:
            def check(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
                self.logins.append(data.login.decode())
                return AuthResult(success=(data.login.decode(), data.password.decode()) == login, handled=False)

            # Plain-text AUTH is allowed here only because the test server listens on 127.0.0.1.
            extra = {"authenticator": check, "auth_required": True, "auth_require_tls": False}
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port, **extra)

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()


class Gateway:
    """The example SMS gateway over real HTTP: scripted failures per phone, deduplication by client_ref."""

    def __init__(self) -> None:
        self.script: dict[str, list[str]] = {}  # phone → what to do on each request: ok, slow, 500, garbage, 429
        self.delivered: dict[str, dict[str, Any]] = {}  # client_ref → the accepted request
        self.requests: list[dict[str, Any]] = []
        self.tokens: list[str] = []
        self.lock = threading.Lock()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except BrokenPipeError:  # the client gave up waiting (the "slow" step)
                    pass

            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                data = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with gateway.lock:
                    gateway.requests.append(data)
                    gateway.tokens.append(self.headers.get("Authorization", ""))
                    steps = gateway.script.get(data["to"], [])
                    step = steps.pop(0) if steps else "ok"
                if step == "500":
                    return self._answer(500, b'{"error": "internal"}')
                if step == "429":
                    return self._answer(429, b'{"error": "rate"}', {"Retry-After": "0"})
                if step == "garbage":
                    return self._answer(200, b"<html>captive portal</html>")
                if step == "bad_number":
                    return self._answer(400, b'{"error": "invalid phone"}')
                with gateway.lock:  # accepted: a repeat of the same client_ref gets the same id, no second SMS
                    number = f"gw-{len(gateway.delivered) + 1}"
                    first = gateway.delivered.setdefault(data["client_ref"], {**data, "id": number})
                if step == "slow":
                    time.sleep(1.5)  # accepted, but the answer comes after the client's timeout
                return self._answer(200, json.dumps({"id": first["id"], "status": "accepted"}).encode(),
                                    {"Content-Type": "application/json"})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1/messages"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Gateway:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
