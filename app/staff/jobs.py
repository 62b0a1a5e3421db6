"""Long actions run in the background with their progress in the database, so any worker can show it.

`start(kind, params)` records the job (and its audit entry), then runs the registered function in a
thread with its own app context; its progress is written on a connection of its own, never by committing the
job's session, so a job that fails half-way leaves none of its work committed; the job page refreshes
itself every two seconds (no JavaScript) until the job is done. With STAFF_JOBS_INLINE (tests) the job runs
before `start` returns.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Flask, abort, current_app, render_template
from sqlalchemy import update
from sqlalchemy.exc import OperationalError
from werkzeug.wrappers import Response

from app.base.extensions import db
from app.base.models import StaffJob
from app.staff.access import audit, current_user, requires
from app.staff.describe import status_label
from sync import clock

bp = Blueprint("jobs", __name__, url_prefix="/jobs")
JobFunction = Callable[[dict[str, Any], str, "Progress"], dict[str, Any]]
_REGISTRY: dict[str, JobFunction] = {}
PROGRESS_WAIT_MS = 50  # how long a progress write waits for SQLite's write lock
BUSY_MS = 5000  # the hub's busy timeout on SQLite (app/__init__.py), given back to the pooled connection


def register(kind: str, function: JobFunction) -> None:
    """Name a job function so that `start` can run it."""
    _REGISTRY[kind] = function


class Progress:
    """What a job function reports: how many steps in all, and each step done (written every few steps)."""

    def __init__(self, job_id: int) -> None:
        self.job_id = job_id
        self._total = 0
        self._done = 0

    def total(self, count: int) -> None:
        """Set the number of steps."""
        self._total = count
        self._write()

    def step(self, count: int = 1) -> None:
        """Count steps done."""
        self._done += count
        if self._done == self._total or self._done % 10 == 0:
            self._write()

    def counts(self) -> tuple[int, int]:
        """Steps in all and steps done, as reported so far."""
        return self._total, self._done

    def _write(self) -> None:
        """Write the counts on a connection of their own: the job's session (its work) is never committed here,
        so a job that fails leaves none of its work behind. On SQLite the job's own uncommitted writes hold the
        database's one write lock; the progress then waits a moment and gives up until the next write."""
        table = StaffJob.__table__
        with db.engine.connect() as connection:
            sqlite = connection.dialect.name == "sqlite"
            try:
                if sqlite:
                    connection.exec_driver_sql(f"PRAGMA busy_timeout = {PROGRESS_WAIT_MS}")
                connection.execute(update(table).where(table.c.id == self.job_id)
                                   .values(total=self._total, done=self._done))
                connection.commit()
            except OperationalError:  # locked by the job's own work (SQLite): the next write catches up
                connection.rollback()
            finally:
                if sqlite:
                    connection.exec_driver_sql(f"PRAGMA busy_timeout = {BUSY_MS}")


def start(kind: str, params: dict[str, Any]) -> StaffJob:
    """Record a job started by the signed-in account and run it in the background."""
    if kind not in _REGISTRY:
        raise KeyError(kind)
    by = current_user().login
    job = StaffJob(kind=kind, started_by=by, started_at=clock.now(), state="running", total=0, done=0,
                   params=params, result={})
    db.session.add(job)
    db.session.flush()
    audit(f"job.{kind}", f"staff_job:{job.id}", repr(params))
    db.session.commit()
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if app.config.get("STAFF_JOBS_INLINE"):
        run(app, job.id)
    else:
        threading.Thread(target=run, args=(app, job.id), daemon=True, name=f"staff-job-{job.id}").start()
    return job


def run(app: Flask, job_id: int) -> None:
    """Run a recorded job to its end, marking it done or failed."""
    with app.app_context():
        job = db.session.get(StaffJob, job_id)
        assert job is not None
        function, params, by = _REGISTRY[job.kind], dict(job.params), job.started_by
        progress = Progress(job_id)
        try:
            result = function(params, by, progress)
            state = "done"
        except Exception as exc:  # the page must say it failed; the log keeps the trace
            db.session.rollback()
            app.logger.exception("staff job %s failed", job_id)
            result, state = {"error": str(exc)}, "failed"
        job = db.session.get(StaffJob, job_id)
        assert job is not None
        job.state, job.result, job.finished_at = state, result, clock.now()
        # the counts as the job reported them (its progress rows were written on another connection)
        job.total, job.done = progress.counts()
        if state == "done":
            job.done = job.total
        db.session.commit()
        db.session.remove()


@bp.route("/<int:job_id>")
@requires("jobs.view")
def show(job_id: int) -> Response | str:
    """A job's progress; the page reloads itself while the job runs."""
    job = db.session.get(StaffJob, job_id)
    if job is None or job.started_by != current_user().login:
        abort(404)
    return render_template("staff/job.html", job=job, status_label=status_label)
