"""The class teacher's lists: add, correct and move out students, correct and regroup guardians — own class
only, every form checked whole, every change in the audit log, and the family site following the rules."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import func, select

from app.base import settings
from app.base.extensions import db
from app.base.models import AuditEntry, Family, Guardian, Student
from static_site.access import family_access
from tests.school import build_tiny_school
from tests.staff_support import family_with_link, make_accounts, post, sign_in


@pytest.fixture
def school(app):
    """The tiny school, accounts, and Иванова's family with a live link."""
    tiny = build_tiny_school()
    make_accounts()
    family, guardian, link = family_with_link(tiny)
    return {"tiny": tiny, "family": family.id, "guardian": guardian.id, "link": link.id}


def live(family_id: str) -> list[str]:
    """Ids of the family's live links today."""
    return [link.id for link in family_access([family_id], settings().today())[family_id].live]


def audit_of(action: str) -> list[str]:
    """The details of the audit entries of this action."""
    return list(db.session.scalars(select(AuditEntry.detail).where(AuditEntry.action == action)))


def test_a_class_teacher_adds_a_student_to_a_new_family(client, school):
    sign_in(client, "petrova")
    page = client.get(f"/staff/classlist/?class={school['tiny']['c7']}").get_data(as_text=True)
    assert "Иванова Мария Петровна" in page and "Ивановы" in page and "Иванова Ольга Николаевна" in page
    response = post(client, f"/staff/classlist/student/new?class={school['tiny']['c7']}", {
        "class": school["tiny"]["c7"], "file_no": "S9", "last_name": "Орлова", "first_name": "Вера",
        "middle_name": "", "birth_date": "04.05.2013", "enrolled_on": "16.11.2026", "family": "ОР-1"})
    assert response.status_code == 302
    student = db.session.scalars(select(Student).where(Student.file_no == "S9")).one()
    assert student.class_id == school["tiny"]["c7"] and student.enrolled_on == dt.date(2026, 11, 16)
    assert db.session.scalars(select(Family).where(Family.name == "ОР-1")).one().students == [student]
    assert audit_of("student.add") == ["7А: Орлова Вера (S9) family: — → ОР-1"]


def test_a_bad_student_form_changes_nothing_and_says_why_beside_each_field(client, school):
    sign_in(client, "petrova")
    before = db.session.scalar(select(func.count()).select_from(Student))
    response = post(client, f"/staff/classlist/student/new?class={school['tiny']['c7']}", {
        "class": school["tiny"]["c7"], "file_no": "S1", "last_name": "", "first_name": "Вера",
        "birth_date": "31.02.2013", "enrolled_on": "16.11.2026"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    for field, text in (("last_name", "Заполните это поле"), ("birth_date", "не дата"),
                        ("file_no", "уже у ученика Иванова Мария Петровна")):
        assert re.search(rf'id="{field}-error"[^>]*>[^<]*{text}', page), field
    assert 'value="Вера"' in page  # the form comes back as typed
    assert db.session.scalar(select(func.count()).select_from(Student)) == before
    assert audit_of("student.add") == []


def test_moving_out_with_date_and_order_ends_the_familys_pages(client, school):
    sign_in(client, "petrova")
    student = school["tiny"]["st_ivanova"]
    refused = post(client, f"/staff/classlist/student/{student}/leave", {"left_on": "22.11.2026", "left_order": ""})
    assert refused.status_code == 400 and live(school["family"]) == [school["link"]]
    done = post(client, f"/staff/classlist/student/{student}/leave",
                {"left_on": "22.11.2026", "left_order": "№ 45-у от 21.11.2026"})
    assert done.status_code == 302
    moved = db.session.get(Student, student)
    assert moved.left_on == dt.date(2026, 11, 22) and moved.left_order == "№ 45-у от 21.11.2026"
    assert live(school["family"]) == []
    assert audit_of("student.leave") == ["left_on:  → 22.11.2026; left_order:  → № 45-у от 21.11.2026"]
    page = client.get(f"/staff/classlist/?class={school['tiny']['c7']}").get_data(as_text=True)
    assert "приказ № 45-у от 21.11.2026" in page


def test_guardians_are_corrected_added_and_taken_out_of_the_family(client, school):
    sign_in(client, "petrova")
    base = f"/staff/classlist/family/{school['family']}/guardian"
    bad = post(client, f"{base}/{school['guardian']}", {"last_name": "Иванова", "first_name": "Ольга",
                                                        "phone": "12", "email": "нет"})
    assert bad.status_code == 400 and "не номер телефона" in bad.get_data(as_text=True)
    good = post(client, f"{base}/{school['guardian']}", {"last_name": "Иванова", "first_name": "Ольга",
                                                         "middle_name": "Николаевна", "phone": "8 900 000-00-09",
                                                         "relation": "мать"})
    assert good.status_code == 302
    assert db.session.get(Guardian, school["guardian"]).phone == "+79000000009"
    assert audit_of("guardian.edit") == ["Ивановы: phone: +7 900 000-00-01 → +79000000009"]
    assert post(client, base, {"last_name": "Иванов", "first_name": "Пётр", "relation": "отец"}).status_code == 302
    family = db.session.get(Family, school["family"])
    assert sorted(g.first_name for g in family.guardians) == ["Ольга", "Пётр"]
    assert post(client, f"{base}/{school['guardian']}/remove").status_code == 302
    assert [g.first_name for g in db.session.get(Family, school["family"]).guardians] == ["Пётр"]
    assert live(school["family"]) == []  # the mother's link: she is no longer in the family
    assert audit_of("family.guardian_remove") == ["Ивановы: − Иванова Ольга Николаевна"]


def test_only_ones_own_class_and_the_director_only_reads(client, school):
    sign_in(client, "petrova")
    assert client.get(f"/staff/classlist/?class={school['tiny']['c1']}").status_code == 403
    other = school["tiny"]["st_first_grader"]
    assert post(client, f"/staff/classlist/student/{other}/leave", {"left_on": "22.11.2026",
                                                                    "left_order": "1"}).status_code == 403
    sign_in(client, "director")
    assert client.get(f"/staff/classlist/?class={school['tiny']['c1']}").status_code == 200
    assert post(client, f"/staff/classlist/student/{other}/leave", {"left_on": "22.11.2026",
                                                                    "left_order": "1"}).status_code == 403
    assert db.session.get(Student, other).left_on is None


def test_the_administrator_changes_an_accounts_role_but_not_their_own(client, school):
    from app.base.models import StaffUser

    sign_in(client, "admin")
    sidorov = db.session.scalars(select(StaffUser).where(StaffUser.login == "sidorov")).one()
    refused = post(client, f"/staff/accounts/{sidorov.id}/role", {"role": "class_teacher", "teacher": "T9"})
    assert refused.status_code == 400 and "T9" in refused.get_data(as_text=True)
    assert post(client, f"/staff/accounts/{sidorov.id}/role", {"role": "deputy"}).status_code == 302
    db.session.expire_all()
    assert sidorov.role == "deputy"
    assert audit_of("account.role") == ["sidorov: subject_teacher → deputy"]
    me = db.session.scalars(select(StaffUser).where(StaffUser.login == "admin")).one()
    post(client, f"/staff/accounts/{me.id}/role", {"role": "director"})
    db.session.expire_all()
    assert me.role == "administrator"
