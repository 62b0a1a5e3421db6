"""A power cut while typing: the journal process is killed (SIGKILL) in the middle of saves.

Every save the teacher saw confirmed is on the machine whole after the restart, no save is there in part, and
the outbox's seqs have no gap: one form is one SQLite transaction (WAL, synchronous = FULL).
"""

from __future__ import annotations

import datetime as dt
import http.client
import http.cookiejar
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from sync.client import SyncClient
from sync.ids import attendance_id, lesson_id
from tests.classroom_support import PINS, school_with_timetable
from tests.conftest import ROOT
from tests.hub_process import free_port
from tests.live import new_client

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="kills a process with SIGKILL")


def start(path, port):
    """`tetrad-classroom` as its own process; wait until it answers."""
    process = subprocess.Popen([sys.executable, "-m", "classroom.cli", "--db", str(path), "--port", str(port)],
                               cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/signin", timeout=1).read()
            return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the journal did not start")


def signed_in(base, teacher, pin):
    """An opener with a signed-in session, and the form token."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    page = opener.open(f"{base}/signin").read().decode()
    token = re.search(r'name="csrf" value="([^"]+)"', page)[1]
    opener.open(f"{base}/signin", urllib.parse.urlencode({"csrf": token, "teacher": teacher, "pin": pin}).encode())
    page = opener.open(f"{base}/day").read().decode()
    return opener, re.search(r'name="csrf" value="([^"]+)"', page)[1]


def school_days(first=dt.date(2026, 9, 7), last=dt.date(2026, 11, 21)):
    """Every Monday-to-Saturday in a range."""
    day = first
    while day <= last:
        if day.isoweekday() <= 6:
            yield day
        day += dt.timedelta(days=1)


@pytest.mark.slow
def test_killing_the_journal_mid_save_loses_at_most_the_form_being_saved(app, tmp_path):
    school = school_with_timetable()
    path = tmp_path / "client.db"
    new_client(app, path).sync()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = start(path, port)
    opener, token = signed_in(base, school["t_petrova"], PINS["t_petrova"])
    confirmed: list[dt.date] = []

    def type_lessons():
        for day in school_days():
            form = {"csrf": token, "topic": f"Тема {day:%d.%m}", "homework": "§ 1", "homework_due": "",
                    f"att-{school['st_ivanova']}": "present", f"att-{school['st_smirnov']}": "late",
                    f"mark-{school['st_ivanova']}": "4", f"wt-{school['st_ivanova']}": "oral"}
            try:
                opener.open(f"{base}/lesson/{day.isoformat()}/2/{school['c7']}",
                            urllib.parse.urlencode(form).encode(), timeout=10).read()
            except (OSError, urllib.error.URLError, http.client.HTTPException):  # killed mid-answer: IncompleteRead
                return
            confirmed.append(day)

    typist = threading.Thread(target=type_lessons)
    typist.start()
    deadline = time.monotonic() + 30
    while len(confirmed) < 8 and time.monotonic() < deadline:
        time.sleep(0.02)
    os.kill(process.pid, signal.SIGKILL)  # the power cut
    process.wait(timeout=10)
    typist.join(timeout=20)
    assert len(confirmed) >= 8

    check = sqlite3.connect(path)
    assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert check.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    check.close()
    client = SyncClient(path)
    try:
        ops = client.store.pending()
        seqs = [op["seq"] for op in ops]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))  # no gap, nothing half-written
        lessons = {op["id"] for op in ops if op["entity"] == "lesson"}
        for day in confirmed:  # every confirmed save is there, whole
            lesson = lesson_id(school["c7"], None, day.isoformat(), 2)
            assert lesson in lessons
        for lesson in lessons:  # and no save is there in part
            view = client.view("lesson", lesson)
            assert view.values["topic"].startswith("Тема ")
            for student in ("st_ivanova", "st_smirnov"):
                assert client.view("attendance", attendance_id(lesson, school[student])) is not None
            assert sum(1 for op in ops if op["entity"] == "mark" and op["fields"]["lesson"] == lesson) == 1
        assert len(lessons) in (len(confirmed), len(confirmed) + 1)  # the last one may have committed unanswered
    finally:
        client.close()

    process = start(path, port)  # the journal starts again on the same file, and the teacher carries on
    try:
        opener, token = signed_in(base, school["t_petrova"], PINS["t_petrova"])
        page = opener.open(f"{base}/lesson/{confirmed[0].isoformat()}/2/{school['c7']}").read().decode()
        assert f"Тема {confirmed[0]:%d.%m}" in page
    finally:
        process.terminate()
        process.wait(timeout=10)
