"""Edges of the judgement made ahead of the write lock (app/syncing/ingest.judge_ahead): what the old way (judge
under the lock) answered, the batch judged ahead must answer too."""

from __future__ import annotations

import os
import pwd
import stat
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.base import epoch
from app.base.extensions import db
from app.base.models import OpLog
from tests.databases import engine_name
from tests.school import Machine, build_tiny_school, lesson_fields
from tests.test_busy import lock_held_elsewhere


def test_a_locked_database_answers_503_on_a_hub_that_has_begun_its_epoch(app, client, db_url):
    """tests/test_busy.py's case once the hub has an epoch (every hub after its first answer), so the batch is
    judged ahead: on PostgreSQL that judgement's reads wait on the lock too, and must give up as "busy"."""
    school = build_tiny_school()
    epoch.current()
    db.session.commit()
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
def test_the_batch_turn_file_beside_the_database_is_the_owners_only(app, client):
    """Like the database and its -wal and -shm files (docs/deployment.md): in a folder others can enter (a database
    in a shared folder keeps that folder's access, tests/test_security_live.py), anyone who can open the file can
    hold its lock and keep every batch waiting until it is answered "busy"."""
    school = build_tiny_school()
    epoch.current()
    db.session.commit()
    turn = Path(f"{db.engine.url.database}.batch-turn")
    turn.unlink(missing_ok=True)
    machine = Machine(client)
    lesson, fields = lesson_fields(school)
    assert machine.post([machine.op("lesson", lesson, fields, author=school["t_petrova"])]).status_code == 200
    assert stat.S_IMODE(turn.stat().st_mode) & 0o077 == 0, oct(turn.stat().st_mode)


@pytest.mark.skipif(engine_name() != "sqlite" or os.geteuid() != 0, reason="SQLite's turn file, made by root")
def test_a_batch_applied_as_root_leaves_the_turn_file_to_the_databases_owner(app, client):
    """`flask … sync import` run as root, not as the hub's user: SQLite gives its -wal and -shm files the database's
    owner, so the hub's own user can still open them; the turn file must be the same, or every batch after fails."""
    school = build_tiny_school()
    epoch.current()
    db.session.commit()
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
