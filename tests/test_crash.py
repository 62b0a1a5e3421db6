"""The hub killed (SIGKILL) while it applies a batch: after a restart nothing is partial, nothing twice."""

from __future__ import annotations

import datetime as dt
import gzip
import http.client
import json
import threading
import time

import pytest
from sqlalchemy import func, select

from app.base.extensions import db
from app.base.models import Attendance, Device, Lesson, OpLog
from sync.ids import attendance_id
from tests.conftest import TEST_KEYS
from tests.hub_process import HubProcess
from tests.school import Machine, build_tiny_school, lesson_fields, ms_at


def big_batch(machine: Machine, school, first_day: dt.date, lessons: int) -> list[dict]:
    """Lessons on consecutive days with attendance and a mark for both students of 7А."""
    ops, day, slot = [], first_day, 1
    for _ in range(lessons):
        lesson, fields = lesson_fields(school, day=day, slot=slot)
        ops.append(machine.op("lesson", lesson, fields, author=school["t_petrova"], at=ms_at(day, 9)))
        for student in (school["st_ivanova"], school["st_smirnov"]):
            ops.append(machine.op("attendance", attendance_id(lesson, student),
                                  {"lesson": lesson, "student": student, "status": "present"},
                                  author=school["t_petrova"], at=ms_at(day, 9, 5)))
            ops.append(machine.op("mark", f"m-{day}-{slot}-{student}", {"lesson": lesson, "student": student,
                                  "value": "4", "work_type": "oral"}, author=school["t_petrova"], at=ms_at(day, 9, 30)))
        slot += 1
        if slot > 7:
            slot, day = 1, day + dt.timedelta(days=1)
    return ops


def post(url: str, token: str, body: bytes, timeout: float = 30) -> tuple[int, dict] | None:
    """POST a gzipped batch over a real socket; None when the connection died."""
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        connection.request("POST", "/api/v1/sync", body=body, headers={
            "Authorization": f"Bearer {token}", "Content-Type": "application/json", "Content-Encoding": "gzip"})
        answer = connection.getresponse()
        return answer.status, json.loads(answer.read())
    except (OSError, http.client.HTTPException):
        return None
    finally:
        connection.close()


def counts(device_id: str) -> tuple[int, int, int, int]:
    """Op log rows, acked seq, lessons and attendance rows a device created: what a crash could tear."""
    db.session.rollback()
    log = db.session.scalar(select(func.count()).select_from(OpLog).where(OpLog.device_id == device_id))
    acked = db.session.scalar(select(Device.acked_seq).where(Device.id == device_id))
    lessons = db.session.scalar(select(func.count()).select_from(Lesson).where(Lesson.device_id == device_id))
    marks = db.session.scalar(select(func.count()).select_from(Attendance).where(Attendance.device_id == device_id))
    return log, acked, lessons, marks


@pytest.mark.parametrize("kill_after", [0.02, 0.1, 3.0])
def test_hub_killed_mid_batch_leaves_all_or_nothing_and_the_retry_applies_once(app, client, db_url, tmp_path,
                                                                               kill_after):
    school = build_tiny_school()
    machine = Machine(client, "Кабинет 12")
    ops = big_batch(machine, school, dt.date(2026, 9, 1), lessons=560)
    body = gzip.compress(json.dumps({"protocol": 1, "device": machine.id, "ops": ops}).encode())
    hub = HubProcess(db_url, tmp_path / "var", TEST_KEYS).start()
    try:
        outcome: list[object] = []
        sender = threading.Thread(target=lambda: outcome.append(post(hub.url, machine.token, body)))
        sender.start()
        time.sleep(kill_after)
        hub.kill()
        sender.join()

        log, acked, lessons, rows = counts(machine.id)
        if kill_after <= 0.1:  # long before a 2,800-op batch can commit: the request must have been cut
            assert outcome == [None]
        whole = (len(ops), len(ops), 560, 1120)
        assert (log, acked, lessons, rows) in [(0, 0, 0, 0), whole]

        hub.start()
        status, answer = post(hub.url, machine.token, body)
        assert status == 200
        expected = "duplicate" if log else "applied"
        assert {r["status"] for r in answer["results"]} == {expected}
        assert answer["acked_seq"] == len(ops)
        assert counts(machine.id) == whole
    finally:
        hub.stop()
