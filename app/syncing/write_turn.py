"""Batches taking turns at the write lock, and a locked or busy database answered "busy" (503, Retry-After).

SQLite has one writer: gunicorn's workers take turns through a lock file beside the database, so a batch
waiting for another starts the moment that one commits. PostgreSQL waits on its row locks as they are.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path

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


@contextlib.contextmanager
def write_turn() -> Iterator[None]:
    """SQLite: batches take turns at the write lock through a lock file beside the database, so a batch waiting
    for one that is being written starts the moment it commits (SQLite's own wait for its lock sleeps 25–100 ms
    at a time); on PostgreSQL the row locks are waited on as they are."""
    path = sqlite_file(db.engine.url)
    if path is None:
        yield
        return
    turn = _open_turn(f"{path}.batch-turn", path)
    try:
        deadline = time.monotonic() + TURN_WAIT_S
        while True:
            try:
                fcntl.flock(turn, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise Busy(retry_after=2) from None
                time.sleep(0.001)
        try:
            yield
        finally:
            fcntl.flock(turn, fcntl.LOCK_UN)
    finally:
        os.close(turn)


def _open_turn(turn: str, database: Path) -> int:
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
