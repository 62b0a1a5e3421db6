"""A locked database answers 503 with Retry-After, never a 500, and the batch is applied on retry."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator

from sqlalchemy import create_engine, func, select, text

from app.base.extensions import db
from app.base.models import OpLog
from tests.databases import engine_name
from tests.school import Machine, build_tiny_school, lesson_fields


@contextlib.contextmanager
def lock_held_elsewhere(db_url: str) -> Iterator[None]:
    """Another process holds the write lock (SQLite) or an exclusive lock on the op log (PostgreSQL)."""
    if engine_name() == "postgresql":
        engine = create_engine(db_url)
        with engine.connect() as connection, connection.begin() as transaction:
            connection.execute(text("LOCK TABLE op_log IN ACCESS EXCLUSIVE MODE"))
            yield
            transaction.rollback()
        engine.dispose()
    else:
        connection = sqlite3.connect(db_url.removeprefix("sqlite:///"), isolation_level=None)
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            connection.execute("ROLLBACK")
            connection.close()


def test_a_locked_database_answers_503_with_retry_after_then_applies_on_retry(app, client, db_url):
    school = build_tiny_school()
    machine = Machine(client)
    lesson, fields = lesson_fields(school)
    op = machine.op("lesson", lesson, fields, author=school["t_petrova"])
    with lock_held_elsewhere(db_url):
        busy = machine.post([op])
    assert busy.status_code == 503
    assert int(busy.headers["Retry-After"]) > 0
    error = busy.get_json()["error"]
    assert error["code"] == "busy" and "занят" in error["message"]
    assert db.session.scalar(select(func.count()).select_from(OpLog)) == 0
    retry = machine.post([op])
    assert retry.status_code == 200 and retry.get_json()["results"][0]["status"] == "applied"
