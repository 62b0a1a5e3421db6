"""A student moved to another class mid-week: the family site shows each day in the class of that day.

Смирнов moves from 7А to 7Б on Wednesday 18.11.2026: his week page shows 7А's lessons on Monday and Tuesday
and 7Б's from Wednesday on, with his marks and absences of both; his child page counts the marks of both
classes; an earlier week he may have confirmed keeps its digest; his classmates in 7А and 7Б see nothing of the
other class, nor his marks.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Iterator

from sqlalchemy import event, select

from app.base import enrolment, settings
from app.base.extensions import db
from app.base.models import Assignment, DirtyFamily, SchoolClass, Student
from static_site.build import build_families, site_lock
from tests import site_helpers
from tests.school import LESSON_DAY, Machine, attendance_key, build_tiny_school, lesson_fields, ms_at
from tests.site_helpers import NOW, add_family, build, issue_links, links_of, page, two_families

site_app = site_helpers.site_app  # the fixture: a hub whose site goes to tmp_path/site

MONDAY = LESSON_DAY  # 16.11.2026, the current week at NOW
WEDNESDAY = MONDAY + dt.timedelta(days=2)  # the day of the move


def day(offset: int) -> dt.date:
    return MONDAY + dt.timedelta(days=offset)


def days_of(text: str) -> dict[str, str]:
    """A week page's day sections by their heading («пн, 16 ноября»), for one child."""
    parts = re.split(r"<h3>(\w\w, \d+ ноября)</h3>", text)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts) - 1, 2)}


def digest_of(text: str) -> str:
    found = re.search(r'name="v" value="([0-9a-f]+)"', text)
    assert found, "the week page has no confirmation form"
    return found.group(1)


def setup(client):  # type: ignore[no-untyped-def]
    """The tiny school with 7Б (Козлов), three families with links, and 7А's lesson of the week before."""
    school = build_tiny_school()
    c7 = db.session.get(SchoolClass, school["c7"])
    assert c7 is not None
    seven_b = SchoolClass(year_id=c7.year_id, grade=7, letter="Б", homeroom_teacher_id=school["t_sidorov"])
    db.session.add(seven_b)
    db.session.flush()
    kozlov = Student(file_no="S4", last_name="Козлов", first_name="Артём", middle_name="Ильич",
                     birth_date=dt.date(2013, 7, 7), class_id=seven_b.id, enrolled_on=dt.date(2026, 9, 1))
    db.session.add(kozlov)
    db.session.add_all([Assignment(teacher_id=school["t_petrova"], class_id=seven_b.id, subject_id=school["s_math"],
                                   hours_per_week=5),
                        Assignment(teacher_id=school["t_sidorov"], class_id=seven_b.id,
                                   subject_id=school["s_russian"], hours_per_week=4)])
    db.session.flush()
    school.ids.update({"c7b": seven_b.id, "st_kozlov": kozlov.id})
    families = two_families(school)
    families["kozlovs"] = add_family("Козловы", [kozlov.id], [("Козлова", "Анна", "Сергеевна", "мать", "given")])
    db.session.commit()
    issue_links()
    machine = Machine(client, "Ноутбук")
    earlier, fields = lesson_fields(school, day=day(-6), topic="Тема-А-прошлая", homework="")
    at = ms_at(day(-6), 15)
    post(machine, [machine.op("lesson", earlier, fields, author=school["t_petrova"], at=at),
                   machine.op("mark", "mark-smirnov-0", {"lesson": earlier, "student": school["st_smirnov"],
                                                         "value": "3", "work_type": "oral",
                                                         "comment": "метка-смирнов-а0"},
                              author=school["t_petrova"], at=at)])
    return school, families, machine


def post(machine: Machine, ops: list) -> None:  # type: ignore[type-arg]
    answer = machine.post(ops)
    assert answer.status_code == 200, answer.get_json()
    assert {r["status"] for r in answer.get_json()["results"]} == {"applied"}, answer.get_json()["results"]


def post_the_week(school, machine: Machine) -> None:  # type: ignore[no-untyped-def]
    """7А's and 7Б's lessons of the week of the move, with marks, an absence and tests of both classes."""
    petrova, smirnov = school["t_petrova"], school["st_smirnov"]
    ops, at = [], ms_at(day(3), 16)
    lessons = {}
    for key, cls, offset, slot in (("a-mon", "c7", 0, 2), ("a-tue", "c7", 1, 2), ("a-wed", "c7", 2, 2),
                                   ("b-mon", "c7b", 0, 3), ("b-wed", "c7b", 2, 3), ("b-thu", "c7b", 3, 3)):
        topic = f"Тема-{'А' if cls == 'c7' else 'Б'}-{key[2:]}"
        lessons[key], fields = lesson_fields(school, cls=cls, day=day(offset), slot=slot, topic=topic, homework="")
        ops.append(machine.op("lesson", lessons[key], fields, author=petrova, at=at))
    for mark_id, lesson, student, value in (("m-smirnov-a", "a-mon", smirnov, "4"),
                                            ("m-ivanova-a", "a-wed", school["st_ivanova"], "5"),
                                            ("m-kozlov-b", "b-mon", school["st_kozlov"], "2"),
                                            ("m-smirnov-b", "b-thu", smirnov, "5")):
        comment = f"метка-{mark_id.split('-')[1]}-{lesson}"
        ops.append(machine.op("mark", mark_id, {"lesson": lessons[lesson], "student": student, "value": value,
                                                "work_type": "oral", "comment": comment}, author=petrova, at=at))
    ops.append(machine.op("attendance", attendance_key(lessons["a-tue"], smirnov),
                          {"lesson": lessons["a-tue"], "student": smirnov, "status": "ill"}, author=petrova, at=at))
    for test_id, cls, when, title in (("t-a-tue", "c7", day(1), "Контрольная-А-вторник"),
                                      ("t-a-next", "c7", day(10), "Контрольная-А-четверг"),
                                      ("t-b-next", "c7b", day(10), "Контрольная-Б-четверг")):
        ops.append(machine.op("test_plan", test_id, {"class": school[cls], "group": None, "subject": school["s_math"],
                                                     "date": when.isoformat(), "work_type": "test", "title": title},
                              author=petrova, at=at))
    post(machine, ops)


def queued() -> set[str]:
    return set(db.session.scalars(select(DirtyFamily.family_id)))


def test_a_moved_students_week_shows_each_day_in_the_class_of_that_day(site_app):
    school, families, machine = setup(site_app.test_client())
    build(NOW)
    smirnov_link = links_of(families["smirnovs"])[0].token
    earlier_before = page(smirnov_link, "2026-W46")
    assert "Тема-А-прошлая" in earlier_before
    current_before = digest_of(page(smirnov_link))
    assert not queued()

    student = db.session.get(Student, school["st_smirnov"])
    enrolment.move(student, school["c7b"], WEDNESDAY)
    db.session.commit()
    assert queued() == {families["smirnovs"].id}  # the move queues the moved child's family, nobody else
    post_the_week(school, machine)
    build(NOW)

    text = page(smirnov_link)
    assert "Смирнов Павел, 7Б" in text
    week = days_of(text)
    monday, tuesday, wednesday, thursday = (week[k] for k in ("пн, 16 ноября", "вт, 17 ноября", "ср, 18 ноября",
                                                              "чт, 19 ноября"))
    assert "Тема-А-mon" in monday and "метка-smirnov-a-mon" in monday and "Тема-Б-mon" not in monday
    assert "Тема-А-tue" in tuesday and "н (Б)" in tuesday
    assert "Тема-Б-wed" in wednesday and "Тема-А-wed" not in wednesday
    assert "Тема-Б-thu" in thursday and "метка-smirnov-b-thu" in thursday
    assert "метка-ivanova" not in text and "метка-kozlov" not in text

    child = page(smirnov_link, "child-1")  # the period's marks of both classes, the tests of each class's days
    assert all(d in child for d in ("10.11", "16.11", "19.11"))
    assert "4,00" in child  # 3 (7А, 10.11), 4 (7А, 16.11), 5 (7Б, 19.11): oral marks weigh alike
    assert "Контрольная-А-вторник" in child and "Контрольная-Б-четверг" in child
    assert "Контрольная-А-четверг" not in child

    earlier_after = page(smirnov_link, "2026-W46")  # the earlier week is unchanged: same lessons, same digest
    assert "Тема-А-прошлая" in earlier_after and digest_of(earlier_after) == digest_of(earlier_before)
    assert digest_of(text) != current_before

    ivanova = page(links_of(families["ivanovs"])[0].token)  # a classmate in 7А sees 7А only, on every day
    assert "Тема-А-wed" in ivanova and "метка-ivanova-a-wed" in ivanova
    assert "Тема-Б" not in ivanova and "метка-smirnov" not in ivanova and "метка-kozlov" not in ivanova
    ivanova_child = page(links_of(families["ivanovs"])[0].token, "child-1")
    assert "Контрольная-А-четверг" in ivanova_child and "Контрольная-Б" not in ivanova_child
    kozlov_link = links_of(families["kozlovs"])[0].token  # a classmate in 7Б sees 7Б only, on every day
    kozlov = page(kozlov_link)
    assert "Тема-Б-mon" in kozlov and "метка-kozlov-b-mon" in kozlov and "Тема-Б-thu" in kozlov
    assert "Тема-А" not in kozlov and "метка-smirnov" not in kozlov and "метка-ivanova" not in kozlov
    kozlov_child = page(kozlov_link, "child-1")
    assert "Контрольная-Б-четверг" in kozlov_child and "Контрольная-А" not in kozlov_child
    assert "Тема-А" not in page(kozlov_link, "2026-W46")


def test_leaving_the_school_queues_the_family(site_app):
    school, families, _machine = setup(site_app.test_client())
    build(NOW)
    assert not queued()
    enrolment.leave(db.session.get(Student, school["st_kozlov"]), day(4))
    db.session.commit()
    assert queued() == {families["kozlovs"].id}


def test_the_old_classes_journals_cost_no_query_per_family(site_app):
    """The history and the old class's journal are read for the whole build at once: building every family
    takes as many queries as building the moved child's family alone."""
    school, families, machine = setup(site_app.test_client())
    enrolment.move(db.session.get(Student, school["st_smirnov"]), school["c7b"], WEDNESDAY)
    enrolment.move(db.session.get(Student, school["st_ivanova"]), school["c7b"], WEDNESDAY + dt.timedelta(days=1))
    db.session.commit()
    post_the_week(school, machine)
    conf = settings()
    counts = []
    for ids in ([families["smirnovs"].id], [f.id for f in families.values()]):
        db.session.expire_all()
        with counted() as statements:
            with site_lock(conf.site_output_dir):
                build_families(conf, ids, NOW)
        db.session.commit()
        counts.append(len(statements))
    assert counts[0] == counts[1], counts
    assert "Тема-А-wed" in page(links_of(families["ivanovs"])[0].token)  # Иванова moved on Thursday


@contextlib.contextmanager
def counted() -> Iterator[list[str]]:
    statements: list[str] = []

    def record(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
