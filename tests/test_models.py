"""The schema enforces its rules in the database itself, identically on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.base import settings
from app.base.calendar import ensure_calendar
from app.base.extensions import db
from app.base.models import Period, SchoolClass, Student, Teacher


@pytest.fixture
def year(app):
    """The configured academic year, written to the database."""
    year = ensure_calendar(settings())
    db.session.commit()
    return year


def add_and_commit(*objects):
    db.session.add_all(objects)
    db.session.commit()


def test_calendar_from_config_is_written_once_and_updated_in_place(year):
    ensure_calendar(settings())
    db.session.commit()
    assert [p.name for p in db.session.scalars(select(Period).order_by(Period.number))] == [
        "1 четверть", "2 четверть", "3 четверть", "4 четверть"]


def test_class_grade_must_be_1_to_11(year):
    with pytest.raises(IntegrityError):
        add_and_commit(SchoolClass(year_id=year.id, grade=12, letter="А"))


def test_class_is_unique_per_year_grade_and_letter(year):
    add_and_commit(SchoolClass(year_id=year.id, grade=7, letter="Б"))
    with pytest.raises(IntegrityError):
        add_and_commit(SchoolClass(year_id=year.id, grade=7, letter="Б"))


def test_student_needs_an_existing_class(year):
    with pytest.raises(IntegrityError):
        add_and_commit(Student(file_no="1", last_name="Иванов", first_name="Иван", birth_date=dt.date(2012, 1, 1),
                               class_id="no-such-class", enrolled_on=dt.date(2026, 9, 1)))


def test_student_cannot_leave_before_enrolling(year):
    cls = SchoolClass(year_id=year.id, grade=7, letter="А")
    add_and_commit(cls)
    with pytest.raises(IntegrityError):
        add_and_commit(Student(file_no="1", last_name="Иванов", first_name="Иван", birth_date=dt.date(2012, 1, 1),
                               class_id=cls.id, enrolled_on=dt.date(2026, 9, 1), left_on=dt.date(2026, 8, 1)))


def test_every_change_to_reference_data_gets_a_new_rev(year):
    teacher = Teacher(code="T1", last_name="Петрова", first_name="Анна", middle_name="Ивановна")
    add_and_commit(teacher)
    first = teacher.rev
    teacher.first_name = "Анна-Мария"
    db.session.commit()
    assert teacher.rev > first > 0


def test_migrations_match_the_models(app):
    """Autogenerate finds nothing to add: the Alembic history and the models describe the same schema."""
    from flask_migrate import check

    check()
