"""Long actions run in the background with their progress in the database, so any worker can show it.

`start(kind, params)` records the job (and its audit entry), then runs the registered function in a
thread with its own app context; the job page refreshes itself every two seconds (no JavaScript) until
the job is done. With STAFF_JOBS_INLINE (tests) the job runs before `start` returns.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Flask, abort, current_app, render_template
from werkzeug.wrappers import Response

from app.base.extensions import db
from app.base.models import StaffJob
from app.staff.access import audit, current_user, requires
from app.staff.describe import status_label
from sync import clock

bp = Blueprint("jobs", __name__, url_prefix="/jobs")
JobFunction = Callable[[dict[str, Any], str, "Progress"], dict[str, Any]]
_REGISTRY: dict[str, JobFunction] = {}


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

    def _write(self) -> None:
        job = db.session.get(StaffJob, self.job_id)
        if job is not None:
            job.total, job.done = self._total, self._done
            db.session.commit()


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
        try:
            result = function(params, by, Progress(job_id))
            state = "done"
        except Exception as exc:  # the page must say it failed; the log keeps the trace
            db.session.rollback()
            app.logger.exception("staff job %s failed", job_id)
            result, state = {"error": str(exc)}, "failed"
        job = db.session.get(StaffJob, job_id)
        assert job is not None
        job.state, job.result, job.finished_at = state, result, clock.now()
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
