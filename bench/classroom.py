"""The classroom journal with a term of data on the machine: a lesson screen, its save, and a quarter's grid.

A client file is filled directly (no hub): 20 classes of 25 students, 6 lessons a day for 42 school days
(5,040 lessons), 10 marks and 10 attendance rows a lesson (about 100,000 rows), the reference data and the
status a hub would send. Timed through the app's WSGI interface (the server's own time, no network), median of
repeated requests; beside each, a baseline: the same rows read through raw sqlite3. Targets (issue 13): a lesson
opened and saved ≤ 100 ms each, the grid of a class and subject for a quarter ≤ 150 ms.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from classroom import create_app
from sync import clock, hlc
from sync.client import SyncClient
from sync.ids import attendance_id, lesson_id
from sync.merge import Record, Write
from sync.pins import hash_pin

START = dt.date(2026, 9, 7)
TODAY = dt.datetime(2026, 11, 2, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=3)))  # a Monday
CLASSES, STUDENTS, SLOTS, DAYS = 20, 25, 6, 42
SUBJECTS = ["Математика", "Русский язык", "Литература", "История", "Физика", "Биология"]
PIN = "4821"


def school_days() -> list[dt.date]:
    """DAYS school days (Monday to Saturday) from START."""
    days, day = [], START
    while len(days) < DAYS:
        if day.isoweekday() <= 6:
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def fill(path: Path) -> dict[str, Any]:
    """Write the term into a client file; return the ids the timing needs."""
    client = SyncClient(path)
    store = client.store
    stamp = hlc.make(int(TODAY.timestamp() * 1000) - 86_400_000)
    write = Write(stamp, "dev-hub", "op-0", "t-0", 1)
    rev = iter(range(1, 10**9))

    def put(entity: str, record_id: str, values: dict[str, Any], journal: bool = False) -> None:
        if journal:  # a pulled journal row: every field and `deleted` with its winning write
            values = {**values, "deleted": False}
        store.put_record(entity, record_id, Record(values, {k: write for k in values} if journal else {}, next(rev)))

    work_types = [{"code": "oral", "name": "Устный ответ", "short": "У", "weight": 1.0},
                  {"code": "test", "name": "Контрольная работа", "short": "К", "weight": 2.0}]
    with store.transaction():
        store.put("device", "dev-bench")
        store.put("token", "bench")
        store.put("status", {"protocol": 1, "device": "dev-bench", "hub_time": stamp, "acked_seq": 0,
                             "timezone": "Europe/Moscow", "year": {"start": "2026-09-01", "end": "2027-05-31"},
                             "mark_values": ["5", "4", "3", "2", "1"], "work_types": work_types,
                             "plan_ahead_days": 14, "approval_after_days": 7, "no_marks_grades": [1],
                             "limits": {"max_ops_per_batch": 5000}})
        put("school", "school", {"name": "Школа", "timezone": "Europe/Moscow"})
        put("period", "q1", {"name": "1 четверть", "kind": "quarter", "start": "2026-09-01", "end": "2026-10-24"})
        put("period", "q2", {"name": "2 четверть", "kind": "quarter", "start": "2026-11-02", "end": "2026-12-29"})
        for s, name in enumerate(SUBJECTS):
            put("subject", f"s{s}", {"name": name, "short": name[:5]})
            put("teacher", f"t{s}", {"last_name": f"Учитель{s}", "first_name": "Анна", "middle_name": "",
                                     "pin_hash": hash_pin(PIN, iterations=100_000)})
        for c in range(CLASSES):
            put("class", f"c{c}", {"name": f"{5 + c // 4}{'АБВГ'[c % 4]}", "grade": 5 + c // 4,
                                   "homeroom_teacher": None})
            for n in range(STUDENTS):
                put("student", f"c{c}-st{n}", {"last_name": f"Ученик{n:02d}", "first_name": "Иван", "middle_name": "",
                                               "class": f"c{c}", "active": True, "enrolled_on": "2026-09-01",
                                               "left_on": None})
            for s in range(len(SUBJECTS)):
                put("assignment", f"a{c}-{s}", {"teacher": f"t{s}", "class": f"c{c}", "group": None,
                                                "subject": f"s{s}", "hours_per_week": 5})
            for weekday in range(1, 7):
                for slot in range(1, SLOTS + 1):
                    s = (slot + weekday + c) % len(SUBJECTS)
                    put("timetable", f"tt{c}-{weekday}-{slot}", {"weekday": weekday, "slot": slot, "class": f"c{c}",
                                                                 "group": None, "subject": f"s{s}", "teacher": f"t{s}",
                                                                 "valid_from": "2026-09-01", "valid_to": None})
        for day in school_days():
            for c in range(CLASSES):
                for slot in range(1, SLOTS + 1):
                    s = (slot + day.isoweekday() + c) % len(SUBJECTS)
                    lid = lesson_id(f"c{c}", None, day.isoformat(), slot)
                    put("lesson", lid, {"date": day.isoformat(), "slot": slot, "class": f"c{c}", "group": None,
                                        "subject": f"s{s}", "teacher": f"t{s}", "substitute": False,
                                        "topic": f"Тема {slot}", "homework": "§ 1", "homework_due": None,
                                        "cancelled": False}, journal=True)
                    for n in range(10):
                        student = f"c{c}-st{(n * 2 + slot) % STUDENTS}"
                        put("mark", f"m-{lid}-{n}", {"lesson": lid, "student": student, "value": "54321"[n % 5],
                                                     "work_type": "test" if n == 0 else "oral", "comment": ""},
                            journal=True)
                        put("attendance", attendance_id(lid, f"c{c}-st{n}"),
                            {"lesson": lid, "student": f"c{c}-st{n}", "status": "ill" if n == 3 else "present"},
                            journal=True)
    rows = store.db.execute("SELECT count(*) FROM replica").fetchone()[0]
    client.close()
    return {"rows": rows}


CPU: list[float] = []  # the process CPU time of the last median_ms, beside its wall time


def median_ms(call: Any, repeat: int = 15) -> float:
    """The median wall time of `call()` in milliseconds (after one warm-up); its median CPU time goes to CPU."""
    call()
    times, cpu = [], []
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        call()
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    CPU[:] = [statistics.median(cpu)]
    return statistics.median(times)


def baseline(path: Path, lesson: str) -> tuple[float, float]:
    """Raw sqlite3: one lesson with its marks and attendance; a class's lessons of a quarter with theirs."""
    db = sqlite3.connect(path)

    def one() -> None:
        db.execute("SELECT fields FROM replica WHERE entity = 'lesson' AND id = ?", (lesson,)).fetchall()
        for row in db.execute("SELECT fields FROM replica WHERE entity IN ('mark', 'attendance') "
                              "AND json_extract(fields, '$.lesson') = ?", (lesson,)):
            json.loads(row[0])

    def quarter() -> None:
        lessons = [json.loads(f) for (f,) in db.execute(
            "SELECT fields FROM replica WHERE entity = 'lesson' AND json_extract(fields, '$.class') = 'c0'")]
        for values in lessons:
            if values["subject"] == "s0" and values["date"] >= "2026-09-01":
                lid = lesson_id("c0", None, values["date"], values["slot"])
                db.execute("SELECT fields FROM replica WHERE entity IN ('mark', 'attendance') "
                           "AND json_extract(fields, '$.lesson') = ?", (lid,)).fetchall()

    result = median_ms(one), median_ms(quarter, 5)
    db.close()
    return result


def run() -> None:
    """Fill a term, then time the lesson screen, its save and the grid."""
    clock.set_now(TODAY - dt.timedelta(days=7) + dt.timedelta(days=5))  # Saturday 31.10, inside the data
    with tempfile.TemporaryDirectory(prefix="tetrad-bench-classroom-") as folder:
        path = Path(folder) / "client.db"
        started = time.perf_counter()
        info = fill(path)
        print(f"classroom: client file with {info['rows']} records written in {time.perf_counter() - started:.1f} s")
        app = create_app(path, {"TESTING": True})
        web = app.test_client()
        page = web.get("/signin").get_data(as_text=True)
        token = re.search(r'name="csrf" value="([^"]+)"', page)[1]  # type: ignore[index]
        web.post("/signin", data={"csrf": token, "teacher": "t0", "pin": PIN})
        token = re.search(r'name="csrf" value="([^"]+)"', web.get("/day").get_data(as_text=True))[1]  # type: ignore[index]
        day = school_days()[-1]
        lesson_path = None
        for slot in range(1, SLOTS + 1):
            for c in range(CLASSES):
                if (slot + day.isoweekday() + c) % len(SUBJECTS) == 0:
                    lesson_path = (f"/lesson/{day.isoformat()}/{slot}/c{c}", c, slot)
                    break
            if lesson_path:
                break
        assert lesson_path is not None
        url, c, slot = lesson_path
        lid = lesson_id(f"c{c}", None, day.isoformat(), slot)
        opened = median_ms(lambda: web.get(url))
        opened_cpu = CPU[0]
        counter = iter(range(10**6))

        def save() -> None:
            n = next(counter)
            answer = web.post(url, data={"csrf": token, "topic": f"Тема {n}", "homework": "§ 2", "homework_due": "",
                                         f"att-c{c}-st0": "late" if n % 2 else "present",
                                         f"mark-c{c}-st1": "5", f"wt-c{c}-st1": "oral"})
            assert answer.status_code == 302, re.findall(r'class="error"[^>]*>[^<]*', answer.get_data(as_text=True))

        saved = median_ms(save)
        saved_cpu = CPU[0]
        grid = median_ms(lambda: web.get("/journal/c0/s0?period=q1"), 7)
        grid_cpu = CPU[0]
        base_one, base_quarter = baseline(path, lid)
        print(f"classroom: open a lesson      {opened:7.1f} ms, CPU {opened_cpu:6.1f} ms (target ≤ 100; "
              f"raw sqlite3 {base_one:.2f} ms)")
        print(f"classroom: save a lesson      {saved:7.1f} ms, CPU {saved_cpu:6.1f} ms (target ≤ 100; 3 ops a save, "
              "fsync'd)")
        print(f"classroom: quarter grid       {grid:7.1f} ms, CPU {grid_cpu:6.1f} ms (target ≤ 150; "
              f"raw sqlite3 {base_quarter:.2f} ms)")
    clock.set_now(None)
