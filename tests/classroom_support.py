"""A classroom machine for tests: the tiny school with a timetable and PINs, a client, the journal app."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from flask import Flask

from app.base.extensions import db
from app.base.models import Teacher, TimetableEntry
from classroom import create_app
from sync.client import SyncClient
from sync.pins import hash_pin
from tests.live import WsgiTransport, new_client
from tests.school import TinySchool, build_tiny_school

PINS = {"t_petrova": "4821", "t_sidorov": "7350"}
FAST_PIN_ITERATIONS = 100_000  # the least the project allows; keeps the suite quick


def school_with_timetable() -> TinySchool:
    """The tiny school, with Петрова's maths in 7А as lesson 2 and Сидоров's Russian as lesson 3, Monday to
    Saturday, and the PINs of PINS."""
    school = build_tiny_school()
    for weekday in range(1, 7):
        db.session.add(TimetableEntry(weekday=weekday, slot=2, class_id=school["c7"], group_id=None,
                                      subject_id=school["s_math"], teacher_id=school["t_petrova"],
                                      valid_from=dt.date(2026, 9, 1), valid_to=None))
        db.session.add(TimetableEntry(weekday=weekday, slot=3, class_id=school["c7"], group_id=None,
                                      subject_id=school["s_russian"], teacher_id=school["t_sidorov"],
                                      valid_from=dt.date(2026, 9, 1), valid_to=None))
    for key, pin in PINS.items():
        teacher = db.session.get(Teacher, school[key])
        assert teacher is not None
        teacher.pin_hash = hash_pin(pin, iterations=FAST_PIN_ITERATIONS)
    db.session.commit()
    return school


def classroom_machine(hub: Flask, path: Path, **config: Any) -> tuple[SyncClient, Flask]:
    """A client connected to the in-process hub with its first pull done, and the journal app over its file."""
    client = new_client(hub, path)
    assert client.sync().ok
    app = create_app(path, {"TESTING": True, "CLASSROOM_TRANSPORT": WsgiTransport(hub), **config})
    return client, app


def csrf(browser: Any) -> str:
    """The form token of the browser's session (after any page)."""
    with browser.session_transaction() as session:
        return str(session["csrf"])


def sign_in(browser: Any, teacher: str, pin: str) -> Any:
    """Sign in through the form; return the answer."""
    browser.get("/signin")
    return browser.post("/signin", data={"teacher": teacher, "pin": pin, "csrf": csrf(browser)})
