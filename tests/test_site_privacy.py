"""Property: across randomly generated small schools, no page of a family ever contains a name, a mark or a
remark of a child outside that family, whatever the consent, the channel, the enrolment (a move to another
class included) or the age."""

from __future__ import annotations

import datetime as dt
import shutil
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from app.base import enrolment
from app.base import settings as school_settings
from app.base.calendar import ensure_calendar
from app.base.extensions import db
from app.base.models import Assignment, FamilyLink, Period, SchoolClass, Student, Subject, Teacher
from static_site.build import build_all
from tests import site_helpers
from tests.conftest import _empty_all_tables
from tests.school import LESSON_DAY, Machine, lesson_fields, ms_at
from tests.site_helpers import NOW, add_family, issue_links, pages

site_app = site_helpers.site_app  # the fixture: a hub whose site goes to tmp_path/site

child = st.fixed_dictionaries({
    "class": st.integers(0, 2),
    "state": st.sampled_from(["active", "active", "active", "left", "adult", "first_grade", "moved"]),
    "mark": st.sampled_from(["5", "4", "3", "2", "зачёт"]),
    "absent": st.booleans(),
})
family = st.fixed_dictionaries({
    "children": st.lists(st.integers(0, 11), min_size=1, max_size=3, unique=True),
    "channel": st.sampled_from(["link", "link", "both", "paper"]),
    "consents": st.lists(st.sampled_from(["given", "given", "withdrawn", None]), min_size=1, max_size=2),
})
schools = st.fixed_dictionaries({
    "children": st.lists(child, min_size=2, max_size=12),
    "families": st.lists(family, min_size=1, max_size=8),
})


def tag(number: int) -> dict[str, str]:
    """Strings that belong to one child only: never a substring of another child's."""
    return {"surname": f"Фам{number:03d}", "mark": f"метка-{number:03d}-м", "remark": f"замечание-{number:03d}-з"}


def make_school(plan: dict[str, Any], client: Any) -> tuple[list[Student], list[Any]]:
    """Classes, children and families from the plan; the journal goes through sync."""
    conf = school_settings()
    year = ensure_calendar(conf)
    teacher = Teacher(code="T1", last_name="Учителева", first_name="Анна", middle_name="Ивановна")
    subject = Subject(name="Математика", short="Матем.")
    db.session.add_all([teacher, subject])
    db.session.flush()
    classes = [SchoolClass(year_id=year.id, grade=grade, letter="А", homeroom_teacher_id=teacher.id)
               for grade in (7, 8, 1)]
    db.session.add_all(classes)
    db.session.flush()
    db.session.add_all([Assignment(teacher_id=teacher.id, class_id=c.id, subject_id=subject.id, hours_per_week=2)
                        for c in classes])
    students = []
    for number, spec in enumerate(plan["children"]):
        cls = classes[2] if spec["state"] == "first_grade" else classes[spec["class"] % 2]
        born = dt.date(2008, 1, 1) if spec["state"] == "adult" else dt.date(2013, 5, 5)
        student = Student(file_no=f"F{number}", last_name=tag(number)["surname"], first_name="Имя",
                          middle_name="", birth_date=born, class_id=cls.id, enrolled_on=dt.date(2026, 9, 1),
                          left_on=dt.date(2026, 11, 20) if spec["state"] == "left" else None)
        students.append(student)
    db.session.add_all(students)
    db.session.commit()
    for student, spec in zip(students, plan["children"], strict=True):
        if spec["state"] == "moved":  # to the other class on the Tuesday: Monday's lesson is the old class's
            enrolment.move(student, classes[(spec["class"] + 1) % 2].id, LESSON_DAY + dt.timedelta(days=1))
    db.session.commit()
    families = []
    for index, spec in enumerate(plan["families"]):
        members = sorted({n % len(students) for n in spec["children"]})
        guardians = [(f"Родитель{index}", "Ольга", "Николаевна", "мать", state) for state in spec["consents"][:1]]
        guardians += [(f"Родитель{index}", "Пётр", "Сергеевич", "отец", state) for state in spec["consents"][1:]]
        families.append((add_family(f"Семья {index}", [students[m].id for m in members], guardians,
                                    channel=spec["channel"]), members))
    db.session.commit()
    post_journal(Machine(client, "Ноутбук"), plan, classes, students, teacher, subject)
    return students, families


def post_journal(machine: Machine, plan: dict[str, Any], classes: list[SchoolClass], students: list[Student],
                 teacher: Teacher, subject: Subject) -> None:
    """One lesson per class with a mark, an absence and a remark for every child it may carry."""
    school = {"t": teacher.id, "s": subject.id, **{f"c{i}": c.id for i, c in enumerate(classes)}}
    ops, at = [], ms_at(LESSON_DAY, 15)
    lessons = {}
    for i, cls in enumerate(classes):
        lesson, fields = lesson_fields(school, cls=f"c{i}", subject="s", teacher="t", topic="Общая тема урока")
        lessons[cls.id] = lesson
        ops.append(machine.op("lesson", lesson, fields, author=teacher.id, at=at))
    for number, (student, spec) in enumerate(zip(students, plan["children"], strict=True)):
        if spec["state"] == "left":
            continue  # left before the lesson: the class journal no longer lists the child
        lesson = lessons[(classes[2] if spec["state"] == "first_grade" else classes[spec["class"] % 2]).id]
        if spec["state"] != "first_grade":
            ops.append(machine.op("mark", f"mark-{number}", {"lesson": lesson, "student": student.id,
                                                             "value": spec["mark"], "work_type": "oral",
                                                             "comment": tag(number)["mark"]}, author=teacher.id, at=at))
        if spec["absent"]:
            ops.append(machine.op("attendance", f"att-{number}", {"lesson": lesson, "student": student.id,
                                                                  "status": "ill"}, author=teacher.id, at=at))
        ops.append(machine.op("remark", f"remark-{number}", {"student": student.id, "date": LESSON_DAY.isoformat(),
                                                             "kind": "remark", "subject": None,
                                                             "text": tag(number)["remark"]}, author=teacher.id, at=at))
    answer = machine.post(ops)
    assert answer.status_code == 200


@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(plan=schools)
@pytest.mark.slow
def test_no_page_of_a_family_shows_a_child_outside_it(site_app, plan):
    _empty_all_tables()
    shutil.rmtree(school_settings().site_output_dir, ignore_errors=True)
    students, families = make_school(plan, site_app.test_client())
    issue_links(NOW)
    build_all(school_settings(), now=NOW)
    assert db.session.scalars(select(Period)).first() is not None
    for family, members in families:
        links = db.session.scalars(select(FamilyLink).where(FamilyLink.family_id == family.id)).all()
        text = "".join("".join(pages(link.token).values()) for link in links if site_helpers.page_path(
            link.token).exists())
        for number in range(len(students)):
            if number in members:
                continue
            for value in tag(number).values():
                assert value not in text, f"{family.name} shows {value} of a child outside the family"
        shown = [n for n in members if tag(n)["surname"] in text]
        for number in shown:  # what a family sees of its own child is the child's own record
            spec = plan["children"][number]
            assert spec["state"] in ("active", "first_grade", "moved"), spec
            if spec["state"] in ("active", "moved"):  # a moved child: the old class's Monday mark too
                assert tag(number)["mark"] in text and tag(number)["remark"] in text
        if text:
            assert shown, "a published page set shows at least one of the family's children"
