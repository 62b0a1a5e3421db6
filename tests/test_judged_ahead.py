"""A batch that finds the batches' turn at writing taken is judged meanwhile (so one worker judges while another
writes) and applied as judged only when everything the judgement read still holds in its turn; else it is judged
again there. A batch that finds the turn free takes it and is judged in it.

Most tests judge a batch ahead, lets something change in between (committed, as another worker or staff would),
then applies it: the outcome must be the one the batch gets when judged after the change.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import gzip
import http.client
import json
import os
import pwd
import stat
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, delete, func, insert, select, text

from app.base import epoch
from app.base.database_file import sqlite_file
from app.base.extensions import db
from app.base.models import Assignment, Device, Lesson, OpLog, device_class
from app.syncing.devices import set_served
from app.syncing.ingest import apply_batch, apply_judged, judge_ahead
from app.syncing.review import approve, decline
from app.syncing.write_turn import TURN_KEY, answering_busy, turn_file, write_turn
from sync import clock
from sync.errors import Busy
from sync.schema import Batch, parse_batch
from tests.conftest import TEST_KEYS
from tests.databases import engine_name
from tests.hub_process import HubProcess
from tests.school import LESSON_DAY, Machine, attendance_key, build_tiny_school, lesson_fields, ms_at
from tests.test_busy import lock_held_elsewhere


@pytest.fixture
def school(app):
    """The tiny school of tests/school.py, on a hub that has begun its first epoch (answered a status)."""
    tiny = build_tiny_school()
    epoch.current()
    db.session.commit()
    return tiny


def batch_of(machine: Machine, ops: list[dict[str, Any]]) -> Batch:
    """The batch a machine would post, parsed as the hub parses it."""
    return parse_batch({"protocol": 1, "device": machine.id, "ops": ops}, max_ops=5000, max_pull=1000)


def outcomes(answer: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(r["status"], r.get("code")) for r in answer["results"]]


def test_nothing_changed_in_between_applies_the_judgement_made_ahead(client, school):
    machine = Machine(client)
    lesson, fields = lesson_fields(school)
    batch = batch_of(machine, [machine.op("lesson", lesson, fields, author=school["t_petrova"])])
    now = clock.now()
    ahead = judge_ahead(machine.id, batch, now)
    assert ahead is not None and outcomes({"results": ahead.applied.results}) == [("applied", None)]
    assert outcomes(apply_judged(machine.id, batch, now, ahead)) == [("applied", None)]
    assert db.session.get(Lesson, lesson).topic == "Линейные уравнения"


def test_a_newer_write_committed_in_between_supersedes_the_batch_judged_ahead(client, school):
    first, second = Machine(client, "Кабинет 12"), Machine(client, "Учительская")
    lesson, fields = lesson_fields(school)
    first.post([first.op("lesson", lesson, fields, author=school["t_petrova"], at=ms_at(LESSON_DAY, 9))])
    older = batch_of(first, [first.op("lesson", lesson, {"topic": "Старая тема"}, author=school["t_petrova"],
                                      at=ms_at(LESSON_DAY, 10))])
    now = clock.now()
    ahead = judge_ahead(first.id, older, now)
    assert ahead is not None and outcomes({"results": ahead.applied.results}) == [("applied", None)]

    newer = second.post([second.op("lesson", lesson, {"topic": "Новая тема"}, author=school["t_petrova"],
                                   at=ms_at(LESSON_DAY, 11))])
    assert newer.status_code == 200

    assert outcomes(apply_judged(first.id, older, now, ahead)) == [("superseded", None)]
    db.session.expire_all()
    assert db.session.get(Lesson, lesson).topic == "Новая тема"


def test_an_assignment_removed_in_between_rejects_the_batch_judged_ahead(client, school):
    machine = Machine(client)
    lesson, fields = lesson_fields(school)
    batch = batch_of(machine, [machine.op("lesson", lesson, fields, author=school["t_petrova"])])
    now = clock.now()
    ahead = judge_ahead(machine.id, batch, now)
    assert ahead is not None and outcomes({"results": ahead.applied.results}) == [("applied", None)]

    db.session.execute(delete(Assignment).where(Assignment.teacher_id == school["t_petrova"]))
    db.session.commit()  # staff took the class from the teacher

    (status, code), = outcomes(apply_judged(machine.id, batch, now, ahead))
    assert status == "rejected" and code is not None
    assert db.session.get(Lesson, lesson) is None


def test_an_op_id_logged_by_another_device_in_between_is_refused_as_taken(client, school):
    first, second = Machine(client, "A"), Machine(client, "B")
    lesson, fields = lesson_fields(school)
    op = first.op("lesson", lesson, fields, author=school["t_petrova"])
    batch = batch_of(first, [op])
    now = clock.now()
    ahead = judge_ahead(first.id, batch, now)
    assert ahead is not None

    assert second.post([{**op, "seq": 1}]).status_code == 200  # the same op id, by another machine, first

    assert outcomes(apply_judged(first.id, batch, now, ahead)) == [("rejected", "op_id_taken")]
    assert db.session.scalar(select(func.count()).select_from(OpLog).where(OpLog.op_id == op["op"])) == 1


def test_the_same_batch_of_a_device_sent_twice_at_once_is_applied_once(client, school):
    """The answer to the first was lost and the machine sent it again while the hub was still writing it."""
    machine = Machine(client)
    lesson, fields = lesson_fields(school)
    ops = [machine.op("lesson", lesson, fields, author=school["t_petrova"])]
    now = clock.now()
    again = batch_of(machine, ops)
    ahead = judge_ahead(machine.id, again, now)
    assert outcomes(apply_batch(machine.id, batch_of(machine, ops), now)) == [("applied", None)]

    assert outcomes(apply_judged(machine.id, again, now, ahead)) == [("duplicate", None)]
    assert db.session.scalar(select(func.count()).select_from(OpLog)) == 1


def test_a_batch_is_not_applied_over_changes_the_caller_left_unsaved(client, school):
    """They would be rolled back by the judgement ahead when the turn is taken and committed with the batch when
    it is free: neither is what the caller asked for, so the batch refuses and the session keeps them."""
    machine = Machine(client)
    lesson, fields = lesson_fields(school)
    batch = batch_of(machine, [machine.op("lesson", lesson, fields, author=school["t_petrova"])])
    device = db.session.get(Device, machine.id)
    device.name = "Кабинет 7"
    with pytest.raises(RuntimeError, match="transaction of its own"):
        apply_batch(machine.id, batch)
    assert device in db.session.dirty
    db.session.flush()  # flushed, still not committed
    with pytest.raises(RuntimeError, match="transaction of its own"):
        apply_batch(machine.id, batch)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(OpLog)) == 0
    assert outcomes(apply_batch(machine.id, batch)) == [("applied", None)]


def test_a_write_judged_while_a_newer_one_commits_never_overwrites_it(client, school, db_url, tmp_path):
    """Real HTTP, gunicorn with two workers: one machine rewrites lessons' topics round after round while another
    sends, once, a newer topic for every one of them. The newer write must stay whatever the interleaving: a batch
    of the first machine judged ahead before it committed and written after would overwrite it (nothing later is
    newer, so nothing would put it back). Fails every time with the check under the lock made to always pass."""
    first, second = Machine(client, "Кабинет 12"), Machine(client, "Учительская")
    hub = HubProcess(db_url, tmp_path / "var", TEST_KEYS, workers=2).start()
    try:
        for attempt in range(3):  # the race is timing's: three tries at it, each on lessons of its own
            days = [dt.date(2026, 9, 1) + dt.timedelta(days=7 * attempt + n) for n in range(5)]
            rounds = [topics(school, first, days, f"Тема {minute}", minute) for minute in range(12)]
            newest = topics(school, second, days, "Последняя тема", 59)
            statuses = race(hub.url, (first.token, rounds), (second.token, newest))
            assert statuses == [200] * 13
            db.session.expire_all()
            lessons = [lesson_fields(school, day=day, slot=slot)[0] for day in days for slot in range(1, 8)]
            assert {db.session.get(Lesson, lesson).topic for lesson in lessons} == {"Последняя тема"}, attempt
    finally:
        hub.stop()


def topics(school: Any, machine: Machine, days: list[dt.date], topic: str, minute: int) -> bytes:
    """A gzipped batch writing every lesson of `days` (slots 1–7) with `topic`, at `minute` past nine."""
    ops = []
    for day in days:
        for slot in range(1, 8):
            lesson, fields = lesson_fields(school, day=day, slot=slot)
            ops.append(machine.op("lesson", lesson, {**fields, "topic": topic}, author=school["t_petrova"],
                                  at=ms_at(day, 9, minute)))
    return gzip.compress(json.dumps({"protocol": 1, "device": machine.id, "ops": ops}).encode())


def race(url: str, rewriter: tuple[str, list[bytes]], newest: tuple[str, bytes]) -> list[int]:
    """Post the rewriter's batches one after another and, once the first is answered, the newest batch beside
    them; the answers' statuses."""
    statuses: list[int] = []
    started = threading.Event()

    def rewrite() -> None:
        for body in rewriter[1]:
            statuses.append(live_post(url, rewriter[0], body)[0])
            started.set()

    thread = threading.Thread(target=rewrite)
    thread.start()
    started.wait(30)
    statuses.append(live_post(url, newest[0], newest[1])[0])
    thread.join()
    return statuses


def live_post(url: str, token: str, body: bytes) -> tuple[int, dict[str, Any]]:
    """POST a gzipped batch over a real socket."""
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=60)
    try:
        connection.request("POST", "/api/v1/sync", body=body, headers={
            "Authorization": f"Bearer {token}", "Content-Type": "application/json", "Content-Encoding": "gzip"})
        answer = connection.getresponse()
        return answer.status, json.loads(answer.read())
    finally:
        connection.close()


# Edges: what the old way (judge under the lock) answered, the batch judged ahead must answer too.

# What the judgement read beside the records and the log, changed by staff between the judgement ahead and the
# write: each of these four fails with `_still_holds` made to always pass.

def test_a_device_bound_to_another_class_in_between_refuses_the_old_class_s_teacher(client, school):
    machine = Machine(client, "Кабинет 7А", class_ids=[school["c7"]])
    lesson, fields = lesson_fields(school)
    batch = batch_of(machine, [machine.op("lesson", lesson, fields, author=school["t_petrova"])])
    now = clock.now()
    ahead = judge_ahead(machine.id, batch, now)
    assert ahead is not None and outcomes({"results": ahead.applied.results}) == [("applied", None)]
    db.session.execute(delete(device_class).where(device_class.c.device_id == machine.id))
    db.session.execute(insert(device_class).values(device_id=machine.id, class_id=school["c1"]))
    db.session.commit()  # staff moved the machine to 1А
    assert outcomes(apply_judged(machine.id, batch, now, ahead)) == [("rejected", "not_your_device")]


def test_a_teacher_the_device_no_longer_serves_in_between_is_refused(client, school):
    machine = Machine(client, "Учительская")
    lesson, fields = lesson_fields(school)
    batch = batch_of(machine, [machine.op("lesson", lesson, fields, author=school["t_petrova"])])
    now = clock.now()
    ahead = judge_ahead(machine.id, batch, now)
    set_served(machine.id, [school["t_sidorov"]])
    db.session.commit()
    assert outcomes(apply_judged(machine.id, batch, now, ahead)) == [("rejected", "not_your_device")]


def held_substitution(school, machine):
    """An unplanned substitution's lesson, held for the deputy, and a batch with its attendance judged ahead."""
    lesson, fields = lesson_fields(school, teacher="t_outsider", substitute=True)
    outsider = school["t_outsider"]
    assert outcomes(machine.post([machine.op("lesson", lesson, fields, author=outsider)]).get_json()) == [
        ("held", "unplanned_substitution")]
    row = attendance_key(lesson, school["st_smirnov"])
    batch = batch_of(machine, [machine.op("attendance", row, {"lesson": lesson, "student": school["st_smirnov"],
                                                              "status": "ill"}, author=outsider)])
    now = clock.now()
    ahead = judge_ahead(machine.id, batch, now)
    assert ahead is not None and outcomes({"results": ahead.applied.results}) == [("held", "unplanned_substitution")]
    return batch, now, ahead, db.session.scalars(select(OpLog).where(OpLog.status == "held")).one().id


def test_a_held_lesson_approved_in_between_takes_its_attendance(client, school):
    machine = Machine(client, "Учительская")
    batch, now, ahead, held = held_substitution(school, machine)
    assert approve(held, "zavuch") == "applied"
    db.session.commit()
    assert outcomes(apply_judged(machine.id, batch, now, ahead)) == [("applied", None)]


def test_a_held_lesson_declined_in_between_leaves_its_attendance_without_a_lesson(client, school):
    machine = Machine(client, "Учительская")
    batch, now, ahead, held = held_substitution(school, machine)
    decline(held, "zavuch")
    db.session.commit()
    assert outcomes(apply_judged(machine.id, batch, now, ahead)) == [("rejected", "unknown_lesson")]


@contextlib.contextmanager
def turn_held_elsewhere(db_url: str) -> Iterator[Callable[[], None]]:
    """Another worker holds the batches' turn (SQLite: the lock on the turn file, through a file description of its
    own; PostgreSQL: the advisory lock, in a transaction of its own); yields the function that lets it go."""
    if engine_name() == "postgresql":
        engine = create_engine(db_url)
        connection = engine.connect()
        transaction = connection.begin()
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": TURN_KEY})
        try:
            yield transaction.rollback
        finally:
            connection.close()
            engine.dispose()
    else:
        turn = os.open(turn_file(sqlite_path(db_url)), os.O_RDONLY | os.O_CREAT, 0o600)
        fcntl.flock(turn, fcntl.LOCK_EX)
        try:
            yield lambda: fcntl.flock(turn, fcntl.LOCK_UN)
        finally:
            os.close(turn)


def sqlite_path(url: Any) -> Path:
    path = sqlite_file(url)
    assert path is not None
    return path


def turn_is_taken(db_url: str) -> bool:
    """Whether another worker trying for the batches' turn now would have to wait."""
    if engine_name() == "postgresql":
        engine = create_engine(db_url)
        with engine.connect() as connection, connection.begin() as transaction:
            free = connection.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": TURN_KEY})
            transaction.rollback()
        engine.dispose()
        return not free
    turn = os.open(turn_file(sqlite_path(db_url)), os.O_RDONLY | os.O_CREAT, 0o600)
    try:
        fcntl.flock(turn, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(turn)


def test_a_batch_finding_the_turn_free_takes_it_without_judging_ahead(app, school, db_url):
    """One machine at a time (a school's night): one judgement, in the turn, not one ahead and its check again."""
    assert not turn_is_taken(db_url)
    with write_turn(while_waiting=lambda: pytest.fail("judged ahead with the turn free")) as ahead:
        assert ahead is None
        assert turn_is_taken(db_url)
    db.session.rollback()
    assert not turn_is_taken(db_url)


def test_a_batch_finding_the_turn_taken_is_judged_before_it_waits(app, school, db_url):
    """The judgement is made while the other worker still writes; the turn is taken when that one lets it go. Were
    it judged only after waiting, this would wait for a turn never given up and answer "busy"."""
    with turn_held_elsewhere(db_url) as let_go:
        def judge_while_the_other_writes() -> str:
            let_go()  # the other batch commits while this one is being judged
            return "judged ahead"
        with write_turn(while_waiting=judge_while_the_other_writes) as ahead:
            assert ahead == "judged ahead"
            assert turn_is_taken(db_url)  # by this batch now
        db.session.rollback()


def test_a_turn_held_longer_than_the_wait_answers_busy(app, school, db_url):
    """Five seconds, SQLite's busy timeout and PostgreSQL's lock timeout: then "busy", and the machine retries."""
    with turn_held_elsewhere(db_url), pytest.raises(Busy):
        with answering_busy(), write_turn():
            pytest.fail("the turn was given while another held it")


def test_a_locked_database_answers_503_on_a_hub_that_has_begun_its_epoch(client, school, db_url):
    """tests/test_busy.py's case once the hub has an epoch (every hub after its first answer). On PostgreSQL, with
    the turn held by another batch, so this one is judged ahead: that judgement's reads wait on the lock too, and
    must give up as "busy". On SQLite, with the turn free: the write waits on SQLite's lock and gives up."""
    machine = Machine(client)
    lesson, fields = lesson_fields(school)
    op = machine.op("lesson", lesson, fields, author=school["t_petrova"])
    turn = turn_held_elsewhere(db_url) if engine_name() == "postgresql" else contextlib.nullcontext()
    with lock_held_elsewhere(db_url), turn:
        busy = machine.post([op])
    assert busy.status_code == 503, busy.get_json()
    assert int(busy.headers["Retry-After"]) > 0
    assert busy.get_json()["error"]["code"] == "busy"
    assert db.session.scalar(select(func.count()).select_from(OpLog)) == 0
    retry = machine.post([op])
    assert retry.status_code == 200 and retry.get_json()["results"][0]["status"] == "applied"


@pytest.mark.skipif(engine_name() != "sqlite", reason="the turn file is SQLite's")
def test_the_batch_turn_file_beside_the_database_is_the_owners_only(client, school):
    """Like the database and its -wal and -shm files (docs/deployment.md): in a folder others can enter (a database
    in a shared folder keeps that folder's access, tests/test_security_live.py), anyone who can open the file can
    hold its lock and keep every batch waiting until it is answered "busy"."""
    turn = turn_file(sqlite_path(db.engine.url))
    turn.unlink(missing_ok=True)
    machine = Machine(client)
    lesson, fields = lesson_fields(school)
    assert machine.post([machine.op("lesson", lesson, fields, author=school["t_petrova"])]).status_code == 200
    assert stat.S_IMODE(turn.stat().st_mode) & 0o077 == 0, oct(turn.stat().st_mode)


@pytest.mark.skipif(engine_name() != "sqlite" or os.geteuid() != 0, reason="SQLite's turn file, made by root")
def test_a_batch_applied_as_root_leaves_the_turn_file_to_the_databases_owner(client, school):
    """`flask … sync import` run as root, not as the hub's user: SQLite gives its -wal and -shm files the database's
    owner, so the hub's own user can still open them; the turn file must be the same, or every batch after fails."""
    database = Path(db.engine.url.database)
    turn = turn_file(database)
    turn.unlink(missing_ok=True)
    nobody = pwd.getpwnam("nobody")
    before = database.stat()
    os.chown(database, nobody.pw_uid, nobody.pw_gid)  # the hub's user's database
    try:
        machine = Machine(client)
        lesson, fields = lesson_fields(school)
        assert machine.post([machine.op("lesson", lesson, fields, author=school["t_petrova"])]).status_code == 200
        assert (turn.stat().st_uid, turn.stat().st_gid) == (nobody.pw_uid, nobody.pw_gid)
    finally:
        os.chown(database, before.st_uid, before.st_gid)
        turn.unlink(missing_ok=True)
