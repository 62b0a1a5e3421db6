"""Batches taking turns at the write lock, and a locked or busy database answered "busy" (503, Retry-After).

Batches take turns at writing: on SQLite (one writer) through a lock file beside the database, so a batch waiting
for another starts the moment that one commits; on PostgreSQL through a transaction-level advisory lock. A batch
that finds the turn free takes it at once and is judged in it; one that finds it taken is judged meanwhile
(`while_waiting`, the judgement ahead of app/syncing/ingest.py), so one worker judges while the other writes.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, OperationalError

from app.base.database_file import sqlite_file
from app.base.extensions import db
from sync.errors import Busy


@contextlib.contextmanager
def answering_busy() -> Iterator[None]:
    """Any error ends the transaction; a locked or busy database is answered "busy" (503 with Retry-After): the
    judgement ahead's reads wait on locks too (PostgreSQL: a table locked by a migration)."""
    try:
        yield
    except (OperationalError, DBAPIError) as exc:
        db.session.rollback()
        if is_busy(exc):
            raise Busy(retry_after=2) from None
        raise
    except Exception:
        db.session.rollback()
        raise


TURN_WAIT_S = 5.0  # as long as SQLite's busy timeout (app/__init__.py): then the batch is answered "busy"


T = TypeVar("T")
TURN_KEY = 0x7E7A_AD01  # PostgreSQL's advisory lock for the batches' turn (per database)


@contextlib.contextmanager
def write_turn(while_waiting: Callable[[], T | None] = lambda: None) -> Iterator[T | None]:
    """Hold the batches' turn at writing for the body; yield None when it was free at once, else what
    `while_waiting` returned, called before waiting for the turn (without it). SQLite: a lock file beside the
    database, so the waiting batch starts the moment the other commits (SQLite's own wait for its lock sleeps
    25–100 ms at a time); PostgreSQL: an advisory lock held until the transaction ends, waited on as long as
    the lock timeout. Waited on longer than that, the batch is answered "busy"."""
    if db.engine.dialect.name == "postgresql":
        yield _postgresql_turn(while_waiting)
        return
    path = sqlite_file(db.engine.url)
    if path is None:
        yield None
        return
    turn = _open_turn(turn_file(path), path)
    try:
        waited: T | None = None
        if not _try_lock(turn):
            waited = while_waiting()
            deadline = time.monotonic() + TURN_WAIT_S
            while not _try_lock(turn):
                if time.monotonic() > deadline:
                    raise Busy(retry_after=2) from None
                time.sleep(0.001)
        try:
            yield waited
        finally:
            fcntl.flock(turn, fcntl.LOCK_UN)
    finally:
        os.close(turn)


def turn_file(database: Path) -> Path:
    """The SQLite batches' turn file, beside the database."""
    return database.with_name(f"{database.name}.batch-turn")


def _try_lock(turn: int) -> bool:
    try:
        fcntl.flock(turn, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


def _postgresql_turn(while_waiting: Callable[[], T | None]) -> T | None:
    """Take the turn in the session's transaction (released by its commit or rollback)."""
    if db.session.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": TURN_KEY}):
        return None
    db.session.rollback()
    waited = while_waiting()
    db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": TURN_KEY})  # lock_timeout: "busy"
    return waited


def _open_turn(turn: Path, database: Path) -> int:
    """The turn file, made owner-only like the database (whoever can open it can hold its lock), read-only (a
    lock needs no more); made by root (a command run as root), it is given the database's owner, as SQLite gives
    its -wal and -shm files."""
    fd = os.open(turn, os.O_RDONLY | os.O_CREAT, 0o600)
    if os.geteuid() == 0:
        owner = os.stat(database)
        os.fchown(fd, owner.st_uid, owner.st_gid)
    return fd


def is_busy(exc: DBAPIError) -> bool:
    """Whether a database error means "locked or busy, try again" rather than a bug."""
    text = str(exc.orig).lower() if exc.orig is not None else str(exc).lower()
    markers = ("database is locked", "database is busy", "deadlock", "could not serialize", "lock timeout",
               "canceling statement due to lock", "could not obtain lock", "too many clients", "connection")
    return any(marker in text for marker in markers)
