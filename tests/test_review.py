"""Staff decisions: approve or decline held corrections, replay fixed rejections, settle conflicts."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from app.base.extensions import db
from app.base.models import Attendance, Conflict, Mark, OpLog, Student
from app.syncing.review import DecisionError, approve, choose_other, decline, replay
from tests.school import LESSON_DAY, Machine, attendance_key, build_tiny_school, lesson_fields, ms_at

EARLY = dt.date(2026, 11, 5)


@pytest.fixture
def school(app):
    """The tiny school of tests/school.py."""
    return build_tiny_school()


def held_mark(machine, school):
    """A lesson on 5 November and a mark typed twelve days later: held for approval."""
    lesson, fields = lesson_fields(school, day=EARLY)
    lesson_op = machine.op("lesson", lesson, fields, author=school["t_petrova"], at=ms_at(EARLY, 9))
    late = machine.op("mark", "m-late", {"lesson": lesson, "student": school["st_ivanova"], "value": "3",
                                         "work_type": "oral"}, author=school["t_petrova"],
                      at=ms_at(EARLY + dt.timedelta(days=12)))
    machine.post([lesson_op, late])
    return db.session.scalars(select(OpLog).where(OpLog.op_id == late["op"])).one()


def test_an_approved_late_correction_enters_the_journal_and_the_pull(client, school):
    machine = Machine(client)
    row = held_mark(machine, school)
    assert approve(row.id, "zavuch") == "applied"
    assert db.session.get(Mark, "m-late").value == "3"
    db.session.refresh(row)
    assert (row.status, row.decided_by) == ("applied", "zavuch")
    changes = machine.post([], pull={"cursor": None, "limit": 1000}).get_json()["changes"]
    assert any(c["entity"] == "mark" and c["id"] == "m-late" for c in changes)


def test_a_declined_correction_stays_in_the_log_and_out_of_the_journal(client, school):
    row = held_mark(Machine(client), school)
    decline(row.id, "zavuch")
    assert db.session.get(Mark, "m-late") is None
    db.session.refresh(row)
    assert row.status == "declined"
    with pytest.raises(DecisionError):
        approve(row.id, "zavuch")


def test_a_rejected_op_is_replayed_once_its_cause_is_fixed(client, school):
    machine = Machine(client)
    lesson, fields = lesson_fields(school)
    newcomer = "00000000-0000-4000-8000-000000000001"
    lesson_op = machine.op("lesson", lesson, fields, author=school["t_petrova"])
    mark = machine.op("mark", "m-new", {"lesson": lesson, "student": newcomer, "value": "5", "work_type": "oral"},
                      author=school["t_petrova"])
    answer = machine.post([lesson_op, mark]).get_json()
    assert answer["results"][1]["code"] == "unknown_student"
    row = db.session.scalars(select(OpLog).where(OpLog.op_id == mark["op"])).one()
    db.session.add(Student(id=newcomer, file_no="S9", last_name="Новикова", first_name="Анна", middle_name="",
                           birth_date=dt.date(2013, 2, 2), class_id=school["c7"], enrolled_on=dt.date(2026, 9, 1)))
    db.session.commit()
    assert replay(row.id, "secretary") == "applied"
    assert db.session.get(Mark, "m-new").student_id == newcomer


def test_staff_may_choose_the_losing_value_of_a_conflict(client, school):
    first, second = Machine(client, "A"), Machine(client, "B")
    lesson, fields = lesson_fields(school, subject="s_russian", teacher="t_sidorov")
    first.post([first.op("lesson", lesson, fields, author=school["t_sidorov"], at=ms_at(LESSON_DAY, 9))])
    row_id = attendance_key(lesson, school["st_ivanova"])
    both = {"lesson": lesson, "student": school["st_ivanova"]}
    first.post([first.op("attendance", row_id, {**both, "status": "ill"}, author=school["t_petrova"],
                         at=ms_at(LESSON_DAY, 10))])
    second.post([second.op("attendance", row_id, {**both, "status": "late"}, author=school["t_sidorov"],
                           at=ms_at(LESSON_DAY, 11))])
    conflict = db.session.scalars(select(Conflict)).one()
    choose_other(conflict.id, "zavuch")
    db.session.expire_all()
    assert db.session.get(Attendance, row_id).status == "ill"
    assert db.session.get(Conflict, conflict.id).resolution == "loser"
    assert len(db.session.scalars(select(Conflict)).all()) == 1  # the hub saw both writes: no new conflict
    changes = first.post([], pull={"cursor": None, "limit": 1000}).get_json()["changes"]
    pulled = next(c for c in changes if c["id"] == row_id)
    assert pulled["fields"]["status"] == "ill"
