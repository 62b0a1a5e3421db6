"""Helpers for the staff pages' tests: one account per role on the tiny school, signing in, CSRF tokens."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sqlalchemy import select

from app.base import settings
from app.base.consent import record_request
from app.base.extensions import db
from app.base.models import Conflict, Consent, Family, FamilyLink, Guardian, OpLog, StaffUser, Student
from app.base.timetable_changes import plan
from app.staff.users import create_user
from static_site.access import family_access
from static_site.links import issue
from static_site.requests import decide_refuse
from sync import clock
from tests.school import (
    LESSON_DAY,
    Machine,
    TinySchool,
    attendance_key,
    build_tiny_school,
    lesson_fields,
    ms_at,
)

PASSWORD = "verno-parol-2026"
EARLY = dt.date(2026, 11, 5)
NEWCOMER = "00000000-0000-4000-8000-000000000001"
# login → (role, teacher code): Петрова is 7А's class teacher and teaches its maths; Сидоров teaches its Russian.
ACCOUNTS = {
    "admin": ("administrator", None),
    "director": ("director", None),
    "zavuch": ("deputy", None),
    "petrova": ("class_teacher", "T1"),
    "sidorov": ("subject_teacher", "T2"),
}
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def make_accounts() -> None:
    """One account per role, all with PASSWORD."""
    for login, (role, teacher) in ACCOUNTS.items():
        create_user(login, role, PASSWORD, teacher)
    db.session.commit()


def csrf_token(client: Any) -> str:
    """The CSRF token of this client's session, read from a form: the password page, or the login page."""
    page = client.get("/staff/password")
    if page.status_code != 200:
        page = client.get("/staff/login")
    match = TOKEN.search(page.get_data(as_text=True))
    assert match, "no CSRF token on the page"
    return match.group(1)


def sign_in(client: Any, login: str, password: str = PASSWORD) -> Any:
    """Sign in through the login form; return the response."""
    return client.post("/staff/login", data={"login": login, "password": password, "csrf_token": csrf_token(client)})


def post(client: Any, path: str, data: dict[str, Any] | None = None, token: bool = True) -> Any:
    """POST a staff form, with the session's CSRF token unless told otherwise."""
    body = dict(data or {})
    if token:
        body["csrf_token"] = csrf_token(client)
    return client.post(path, data=body)


def held_mark(machine: Machine, school: TinySchool, value: str = "3") -> OpLog:
    """A 7А maths lesson on 5 November and a mark for Иванова typed twelve days later: held for approval."""
    lesson, fields = lesson_fields(school, day=EARLY)
    lesson_op = machine.op("lesson", lesson, fields, author=school["t_petrova"], at=ms_at(EARLY, 9))
    late = machine.op("mark", f"m-late-{value}", {"lesson": lesson, "student": school["st_ivanova"], "value": value,
                                                  "work_type": "oral"},
                      author=school["t_petrova"], at=ms_at(EARLY + dt.timedelta(days=12)))
    machine.post([lesson_op, late])
    return db.session.scalars(select(OpLog).where(OpLog.op_id == late["op"])).one()


def conflict(school: TinySchool, first: Machine, second: Machine) -> None:
    """Петрова (machine A) and Сидоров (machine B) mark Иванова's attendance at one Russian lesson differently."""
    lesson, fields = lesson_fields(school, subject="s_russian", teacher="t_sidorov")
    first.post([first.op("lesson", lesson, fields, author=school["t_sidorov"], at=ms_at(LESSON_DAY, 9))])
    row_id = attendance_key(lesson, school["st_ivanova"])
    both = {"lesson": lesson, "student": school["st_ivanova"]}
    first.post([first.op("attendance", row_id, {**both, "status": "ill"}, author=school["t_petrova"],
                         at=ms_at(LESSON_DAY, 10))])
    second.post([second.op("attendance", row_id, {**both, "status": "late"}, author=school["t_sidorov"],
                           at=ms_at(LESSON_DAY, 11))])


def rejected_mark(school: TinySchool, machine: Machine) -> OpLog:
    """A mark for a student the hub does not know yet: rejected with unknown_student."""
    lesson, fields = lesson_fields(school, slot=3)
    lesson_op = machine.op("lesson", lesson, fields, author=school["t_petrova"])
    mark = machine.op("mark", "m-unknown", {"lesson": lesson, "student": NEWCOMER, "value": "5", "work_type": "oral"},
                      author=school["t_petrova"])
    machine.post([lesson_op, mark])
    return db.session.scalars(select(OpLog).where(OpLog.op_id == mark["op"])).one()


def family_with_link(school: TinySchool) -> tuple[Family, Guardian, FamilyLink]:
    """Иванова's mother, with consent given on 1 September and a link issued now."""
    guardian = Guardian(last_name="Иванова", first_name="Ольга", middle_name="Николаевна", phone="+7 900 000-00-01",
                        relation="мать")
    family = Family(name="Ивановы", channel="link", guardians=[guardian],
                    students=[db.session.get(Student, school["st_ivanova"])])
    db.session.add(family)
    db.session.flush()
    db.session.add(Consent(guardian_id=guardian.id, state="given", on=dt.date(2026, 9, 1), basis="заявление № 5",
                           channel="paper"))
    db.session.flush()
    now = clock.now()
    access = family_access([family.id], settings().today(now), now)[family.id]
    link = issue(access, guardian, now)
    db.session.commit()
    return family, guardian, link


def access_requests(family: Family, guardian: Guardian) -> tuple[str, str]:
    """Two requests of the family's guardian about Иванова: one waiting, one refused (2.12.4)."""
    students = list(family.students)
    waiting = record_request(family, guardian, students, dt.date(2026, 11, 20), "паспорт", "link", "", "admin")
    refused = record_request(family, guardian, students, dt.date(2026, 11, 19), "паспорт", "link", "", "admin")
    decide_refuse(refused, "2.12.4", "admin", dt.date(2026, 11, 20))
    db.session.commit()
    return waiting.id, refused.id


def family_across_classes(school: TinySchool) -> FamilyLink:
    """Смирнов (7А) and his sister in 1А, their father with consent and a link: its letter shows both."""
    guardian = Guardian(last_name="Смирнов", first_name="Олег", middle_name="Павлович", phone="+7 900 000-00-02",
                        relation="отец")
    family = Family(name="Смирновы", channel="link", guardians=[guardian],
                    students=[db.session.get(Student, school["st_smirnov"]),
                              db.session.get(Student, school["st_first_grader"])])
    db.session.add(family)
    db.session.flush()
    db.session.add(Consent(guardian_id=guardian.id, state="given", on=dt.date(2026, 9, 1), basis="заявление № 6",
                           channel="paper"))
    db.session.flush()
    now = clock.now()
    link = issue(family_access([family.id], settings().today(now), now)[family.id], guardian, now)
    db.session.commit()
    return link


def world(client: Any) -> dict[str, Any]:
    """The tiny school with accounts, a held correction, a conflict, a rejected op, a machine, a family, requests."""
    school = build_tiny_school()
    make_accounts()
    first, second = Machine(client, "Кабинет 12"), Machine(client, "Кабинет 7")
    held = held_mark(first, school)
    conflict(school, first, second)
    rejected = rejected_mark(school, first)
    family, guardian, link = family_with_link(school)
    waiting, refused = access_requests(family, guardian)
    return {"request": waiting, "refused": refused, "school": school, "machine": first, "held": held.id,
            "rejected": rejected.id,
            "conflict": db.session.scalars(select(Conflict.id)).one(), "device": first.id, "family": family.id,
            "guardian": guardian.id, "link": link.id, "change": _planned_change(school),
            "users": {u.login: u.id for u in db.session.scalars(select(StaffUser))}}


def _planned_change(school: TinySchool) -> str:
    """A cancelled lesson the deputy planned (for the substitutions page)."""
    change = plan("cancelled", LESSON_DAY, 5, school["c7"], by="zavuch")
    db.session.commit()
    return change.id
