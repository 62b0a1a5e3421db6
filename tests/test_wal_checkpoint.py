"""SQLite: a sync batch's write-ahead log is copied into the database file after its answer is sent, not inside it.

The database file opened `immutable` (SQLite then reads the file alone, not the log) shows what has been
checkpointed: a batch's ops are in the log when the answer is made, and in the file once the server has closed the
answer (the test client closes it at `response.close()`, as gunicorn does once the body is written).
"""

from __future__ import annotations

import logging
import sqlite3

import pytest
from flask import Response
from sqlalchemy import create_engine

from app.base import wal
from app.base.database_file import sqlite_file
from app.base.extensions import db
from tests.databases import engine_name
from tests.school import Machine, attendance_key, build_tiny_school, lesson_fields

pytestmark = pytest.mark.skipif(engine_name() != "sqlite", reason="SQLite's write-ahead log")


def in_database_file(op_ids: list[str]) -> int:
    """How many of these ops the database file itself holds, without its log."""
    path = sqlite_file(db.engine.url)
    assert path is not None
    with sqlite3.connect(f"file:{path}?immutable=1", uri=True) as file_only:
        marks = ",".join("?" * len(op_ids))
        return file_only.execute(f"SELECT count(*) FROM op_log WHERE op_id IN ({marks})", op_ids).fetchone()[0]


@pytest.fixture
def batch(client):
    school = build_tiny_school()
    machine = Machine(client)
    lesson, fields = lesson_fields(school)
    ops = [machine.op("lesson", lesson, fields, author=school["t_petrova"]),
           machine.op("attendance", attendance_key(lesson, school["st_smirnov"]),
                      {"lesson": lesson, "student": school["st_smirnov"], "status": "ill"},
                      author=school["t_petrova"])]
    return machine, ops


def test_a_batch_is_in_the_log_when_answered_and_in_the_file_once_the_answer_is_closed(batch):
    machine, ops = batch
    op_ids = [op["op"] for op in ops]
    response = machine.post(ops)
    assert [r["status"] for r in response.get_json()["results"]] == ["applied", "applied"]
    assert in_database_file(op_ids) == 0  # answered from the log: the commit did not wait for a checkpoint
    response.close()
    assert in_database_file(op_ids) == 2


def test_the_automatic_checkpoint_is_only_a_safety_net(app):
    with db.engine.connect() as connection:
        pages = connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar()
    assert pages == wal.AUTOCHECKPOINT_PAGES
    assert pages * 4096 >= 3 * 12_000_000  # three 5,000-op batches' log (about 12 MB each) before it steps in


def test_a_checkpoint_that_fails_is_logged_not_raised_the_answer_having_gone(tmp_path, caplog, monkeypatch):
    monkeypatch.setattr(wal.log, "disabled", False)  # the migrations' fileConfig disables loggers made before it
    engine = create_engine(f"sqlite:///{tmp_path / 'gone' / 'tetrad.db'}")  # a folder that is not there
    with caplog.at_level(logging.WARNING, logger=wal.__name__):
        wal.checkpoint(engine)
    engine.dispose()
    assert "WAL checkpoint failed" in caplog.text


def test_a_postgresql_or_memory_database_gets_no_checkpoint(app, monkeypatch):
    monkeypatch.setattr(wal, "sqlite_file", lambda _url: None)
    with app.test_request_context():
        response = wal.checkpoint_after(Response(b"{}"))
    assert response._on_close == []
