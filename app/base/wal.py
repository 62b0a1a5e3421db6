"""SQLite's write-ahead log: a sync batch's checkpoint runs after its answer has gone out, not inside it.

A commit is durable once its frames are synced to the log (`synchronous = FULL`, app/__init__.py); a checkpoint
only copies them into the database file. SQLite's own automatic checkpoint runs inside the commit that crosses
its threshold (1,000 pages by default), and a 5,000-op batch writes about 3,000: every batch then paid for copying
its pages before it could answer. Here the threshold is a safety net (`AUTOCHECKPOINT_PAGES`, about 40 MB of
log) and the sync API checkpoints once the answer is sent (`checkpoint_after`), while the machine prepares its
next batch and another worker, on the other core, takes it. A passive checkpoint waits for no reader or writer:
what a writer appends meanwhile is copied by the next one.
"""

from __future__ import annotations

import logging

from flask import Response
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from app.base.database_file import sqlite_file
from app.base.extensions import db

AUTOCHECKPOINT_PAGES = 10_000

log = logging.getLogger(__name__)


def checkpoint_after(response: Response) -> Response:
    """Checkpoint the log when the server closes `response`, after its body was sent; SQLite files only."""
    engine = db.engine
    if sqlite_file(engine.url) is not None:
        response.call_on_close(lambda: checkpoint(engine))
    return response


def checkpoint(engine: Engine) -> None:
    """Copy what the log holds into the database file, as far as no reader's snapshot prevents it."""
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
    except DBAPIError as exc:  # the log is only longer until the next checkpoint; the answer has gone already
        log.warning("WAL checkpoint failed: %s", exc)
