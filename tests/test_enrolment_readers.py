"""Every reader of a class's students goes by the enrolment history: a student moved in March is in both
classes for their own dates — on the class list, the families' table, the dashboards, the slips and the export."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from app.base import enrolment, settings
from app.base.extensions import db
from app.base.models import AcademicYear, OpLog, SchoolClass, Student
from app.cli.year import year_export
from app.staff import figures, viewing
from static_site.paper.audience import slip_students
from tests.live import new_client
from tests.school import build_tiny_school, lesson_fields
from tests.staff_support import make_accounts, post, sign_in

MOVED = dt.date(2027, 3, 10)


@pytest.fixture
def school(app):
    """The tiny school with 7Б; Смирнов (S2) moved from 7А to 7Б on 10.03.2027."""
    ids = build_tiny_school()
    year = db.session.scalars(select(AcademicYear)).one()
    seven_b = SchoolClass(year_id=year.id, grade=7, letter="Б")
    db.session.add(seven_b)
    db.session.flush()
    enrolment.move(db.session.get(Student, ids["st_smirnov"]), seven_b.id, MOVED)
    make_accounts()
    db.session.commit()
    return {**ids.ids, "c7b": seven_b.id, "year": year.id}


def names(students) -> list[str]:
    return sorted(s.last_name for s in students)


def test_the_helper_lists_each_class_for_its_own_dates(school):
    before, after = MOVED - dt.timedelta(days=1), MOVED
    assert names(enrolment.roster(school["c7"], before, before)) == ["Иванова", "Смирнов"]
    assert names(enrolment.roster(school["c7"], after, after)) == ["Иванова"]
    assert names(enrolment.roster(school["c7b"], before, before)) == []
    assert names(enrolment.roster(school["c7b"], after, after)) == ["Смирнов"]
    both = enrolment.members([school["c7"], school["c7b"]], before, after)
    assert sorted((m.class_id == school["c7b"], m.last_name) for m in both) == [
        (False, "Иванова"), (False, "Смирнов"), (True, "Смирнов")]
    moved = next(m for m in both if m.class_id == school["c7"] and m.last_name == "Смирнов")
    assert (moved.enrolled_on, moved.left_on) == (dt.date(2026, 9, 1), MOVED)


def test_the_class_list_shows_a_moved_student_in_both_classes(client, school):
    sign_in(client, "admin")
    seven_a = client.get(f"/staff/classlist/?class={school['c7']}").get_data(as_text=True)
    seven_b = client.get(f"/staff/classlist/?class={school['c7b']}").get_data(as_text=True)
    assert "Смирнов" in seven_a and "Иванова" in seven_a
    assert "Смирнов" in seven_b and "Иванова" not in seven_b


def test_dashboards_and_the_families_table_count_the_class_of_that_day(school):
    conf = settings()
    for day, in_a, in_b in ((dt.date(2027, 3, 5), ["Иванова", "Смирнов"], []),
                            (dt.date(2027, 3, 16), ["Иванова"], ["Смирнов"])):
        seven_a, seven_b = figures.courses(school["c7"], day), figures.courses(school["c7b"], day)
        assert seven_a and all(names(c.students) == in_a for c in seven_a)
        assert all(names(c.students) == in_b for c in seven_b)
        weeks = [w for w in viewing.period_weeks(conf, conf.period_on(day), day) if w.monday <= day][-1:]
        assert names(r.student for r in viewing.class_table(conf, school["c7"], weeks, day)) == in_a
        assert names(r.student for r in viewing.class_table(conf, school["c7b"], weeks, day)) == in_b


def test_the_slips_of_the_week_of_the_move_go_to_both_classes(school):
    conf = settings()
    week = dt.date(2027, 3, 8)  # Monday; the move is on Wednesday
    listed = slip_students([school["c7"], school["c7b"]], week, conf, everyone=True)
    assert sorted((s.class_id == school["c7b"], s.last_name) for s in listed) == [
        (False, "Иванова"), (False, "Смирнов"), (True, "Смирнов")]
    assert names(slip_students([school["c7b"]], dt.date(2027, 3, 1), conf, everyone=True)) == []


def test_last_years_export_keeps_its_students_after_they_moved_on(school):
    year = db.session.get(AcademicYear, school["year"])
    rows = year_export(year)["tables"]
    assert {r["last_name"] for r in rows["student"]} >= {"Иванова", "Смирнов"}
    assert {(r["class_id"], r["reason"]) for r in rows["enrolment"]} == {(school["c7"], "enrolled"),
                                                                        (school["c7b"], "moved")}


def test_the_hub_accepts_marks_of_a_moved_student_for_lessons_in_the_old_class_before_the_move(app, tmp_path):
    """An offline machine of 7А wrote marks before it heard of the move; the hub judges them by the history."""
    ids = build_tiny_school()
    year = db.session.scalars(select(AcademicYear)).one()
    seven_b = SchoolClass(year_id=year.id, grade=7, letter="Б")
    db.session.add(seven_b)
    db.session.commit()
    client = new_client(app, tmp_path / "one.db", "Кабинет 7А")
    assert client.sync().ok
    marks = {}
    for day in (dt.date(2026, 11, 17), dt.date(2026, 11, 20)):
        lesson, fields = lesson_fields(ids, day=day, slot=2)
        client.record("lesson", fields, author=ids["t_petrova"])
        marks[day] = client.record("mark", {"lesson": lesson, "student": ids["st_smirnov"], "value": "5",
                                            "work_type": "oral"}, author=ids["t_petrova"]).op
    enrolment.move(db.session.get(Student, ids["st_smirnov"]), seven_b.id, dt.date(2026, 11, 19))
    db.session.commit()
    client.sync()
    outcome = dict(db.session.execute(select(OpLog.op_id, OpLog.status).where(OpLog.op_id.in_(list(marks.values()))))
                   .all())
    codes = dict(db.session.execute(select(OpLog.op_id, OpLog.code).where(OpLog.op_id.in_(list(marks.values()))))
                 .all())
    assert outcome[marks[dt.date(2026, 11, 17)]] == "applied"  # he was in 7А then
    assert (outcome[marks[dt.date(2026, 11, 20)]], codes[marks[dt.date(2026, 11, 20)]]) == \
        ("rejected", "student_not_in_class")  # in 7Б from 19.11


def test_a_class_teachers_move_out_of_a_moved_student_ends_their_new_class_too(client, school):
    """The move-out writes the history: after it the student is in neither class, and a corrected date
    re-dates the same row."""
    sign_in(client, "admin")
    student = school["st_smirnov"]
    for left_on in ("20.04.2027", "15.04.2027"):
        done = post(client, f"/staff/classlist/student/{student}/leave", {"left_on": left_on, "left_order": "№ 12-у"})
        assert done.status_code == 302, done.get_data(as_text=True)
    assert names(enrolment.roster(school["c7b"], dt.date(2027, 4, 14), dt.date(2027, 4, 14))) == ["Смирнов"]
    assert names(enrolment.roster(school["c7b"], dt.date(2027, 4, 15), dt.date(2027, 6, 1))) == []
    assert names(enrolment.roster(school["c7"], dt.date(2027, 4, 15), dt.date(2027, 6, 1))) == ["Иванова"]
