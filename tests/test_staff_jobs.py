"""A long staff action's progress is written on a connection of its own: a job that fails half-way leaves none of
its work committed, and the progress of a job that has written nothing yet is visible while it runs."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from app.base.extensions import db
from app.base.models import StaffJob, Subject
from app.staff import jobs
from sync import clock


def recorded(kind: str) -> int:
    """A job row as `jobs.start` records it."""
    job = StaffJob(kind=kind, started_by="admin", started_at=clock.now(), state="running", total=0, done=0,
                   params={}, result={})
    db.session.add(job)
    db.session.commit()
    return job.id


def read_job(job_id: int) -> Any:
    """The job's row as another worker's page reads it (a connection of its own, committed data only)."""
    with db.engine.connect() as connection:
        return connection.execute(select(StaffJob.__table__).where(StaffJob.__table__.c.id == job_id)).one()


@pytest.fixture
def registered(monkeypatch):
    """Register test job functions for the duration of a test."""
    def add(kind: str, function: Any) -> None:
        monkeypatch.setitem(jobs._REGISTRY, kind, function)
    return add


def test_a_job_failing_half_way_leaves_none_of_its_work_committed(app, registered):
    def half_then_fail(params: dict[str, Any], by: str, progress: jobs.Progress) -> dict[str, Any]:
        progress.total(20)
        for number in range(10):
            db.session.add(Subject(name=f"Предмет {number}", short=f"П{number}"))
            db.session.flush()
            progress.step()
        raise RuntimeError("файл оборвался на середине")

    registered("half", half_then_fail)
    job_id = recorded("half")
    jobs.run(app, job_id)
    db.session.rollback()
    assert db.session.scalars(select(Subject)).all() == []  # none of the ten subjects was committed
    row = read_job(job_id)
    assert row.state == "failed" and "оборвался" in row.result["error"]


def test_progress_is_visible_to_another_connection_while_the_job_runs(app, registered):
    seen: list[tuple[int, int]] = []

    def counting(params: dict[str, Any], by: str, progress: jobs.Progress) -> dict[str, Any]:
        progress.total(30)
        progress.step(20)
        row = read_job(params["id"])
        seen.append((row.total, row.done))
        db.session.add(Subject(name="Физика", short="Физ."))
        return {"ok": 1}

    registered("count", counting)
    job_id = recorded("count")
    job = db.session.get(StaffJob, job_id)
    job.params = {"id": job_id}
    db.session.commit()
    jobs.run(app, job_id)
    assert seen == [(30, 20)]
    row = read_job(job_id)
    assert row.state == "done" and row.done == 30
    db.session.rollback()
    assert [s.name for s in db.session.scalars(select(Subject))] == ["Физика"]  # the job's work, committed at its end
