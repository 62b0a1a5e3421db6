"""Edges of the judgement made ahead of the write lock (app/syncing/ingest.judge_ahead): what the old way (judge
under the lock) answered, the batch judged ahead must answer too."""

from __future__ import annotations

import os
import pwd
import stat
from pathlib import Path

import pytest
from sqlalchemy import delete, func, insert, select

from app.base import epoch
from app.base.extensions import db
from app.base.models import OpLog, device_class
from app.syncing.devices import set_served
from app.syncing.ingest import apply_judged, judge_ahead
from app.syncing.review import approve, decline
from sync import clock
from tests.databases import engine_name
from tests.school import Machine, attendance_key, build_tiny_school, lesson_fields
from tests.test_busy import lock_held_elsewhere
from tests.test_judged_ahead import batch_of, outcomes


@pytest.fixture
def school(app):
    """The tiny school, on a hub that has begun its first epoch (so batches are judged ahead)."""
    tiny = build_tiny_school()
    epoch.current()
    db.session.commit()
    return tiny


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


def test_a_locked_database_answers_503_on_a_hub_that_has_begun_its_epoch(client, school, db_url):
    """tests/test_busy.py's case once the hub has an epoch (every hub after its first answer), so the batch is
    judged ahead: on PostgreSQL that judgement's reads wait on the lock too, and must give up as "busy"."""
    machine = Machine(client)
    lesson, fields = lesson_fields(school)
    op = machine.op("lesson", lesson, fields, author=school["t_petrova"])
    with lock_held_elsewhere(db_url):
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
    turn = Path(f"{db.engine.url.database}.batch-turn")
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
    turn = Path(f"{database}.batch-turn")
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
