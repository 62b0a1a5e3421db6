"""A student's own link (002 §1.9, §3.6.9; 001 §2.10.1): from the configured age, to their own diary only, under a
guardian's consent like the family's links, with views counted apart from the family's."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from app.base import settings
from app.base.extensions import db
from app.base.models import FamilyLink, Student, StudentWeekView, WeekView
from app.base.settings import load_settings
from static_site.access import family_access
from static_site.links import LinkRefused, export_rows, issue_student, rotate
from tests import site_helpers
from tests.conftest import ROOT
from tests.school import build_tiny_school
from tests.site_helpers import NOW, build, issue_links, links_of, page, page_path, post_week, two_families
from tests.staff_support import csrf_token, make_accounts, sign_in

site_app = site_helpers.site_app
BROWSER = {"User-Agent": "Mozilla/5.0 (Linux; Android 10)"}


def fourteen(school) -> Student:  # type: ignore[no-untyped-def]
    """Мария Иванова, made 14 (born 01.03.2012) for the test."""
    student = db.session.get(Student, school["st_ivanova"])
    assert student is not None
    student.birth_date = dt.date(2012, 3, 1)
    db.session.commit()
    return student


def student_link(families, student: Student) -> FamilyLink:  # type: ignore[no-untyped-def]
    """Issue the student's own link now (committed)."""
    today = NOW.date()
    access = family_access([families["ivanovs"].id], today, NOW)[families["ivanovs"].id]
    link = issue_student(access, student, NOW, today, settings().student_min_age)
    db.session.commit()
    return link


def setup(client):  # type: ignore[no-untyped-def]
    school = build_tiny_school()
    families = two_families(school)
    issue_links()
    post_week(client, school)
    return school, families


def test_a_student_of_14_gets_a_link_to_their_own_diary_only_never_a_siblings(site_app):
    school, families = setup(site_app.test_client())
    link = student_link(families, fourteen(school))
    build(NOW)
    shown = page(link.token)
    assert "Здравствуйте, Мария!" in shown and "Иванова Мария, 7А" in shown
    assert "Белова" not in shown  # the sister in 1А is not on her page
    assert not page_path(link.token, "child-2").exists()
    assert 'name="week"' not in shown and "подтверждают родители" in shown
    family_page = page(links_of(families["ivanovs"])[0].token)
    assert "Белова Ольга, 1А" in family_page  # the guardians' link still shows both children
    assert link.student_id == school["st_ivanova"]


def test_a_student_under_the_configured_age_is_refused_in_russian(site_app):
    school, families = setup(site_app.test_client())
    student = db.session.get(Student, school["st_ivanova"])  # 13 on 22.11.2026
    with pytest.raises(LinkRefused, match="с 14 лет"):
        student_link(families, student)
    db.session.rollback()
    assert db.session.scalars(select(FamilyLink).where(FamilyLink.student_id.is_not(None))).first() is None


def test_the_age_is_read_from_config_with_a_default_of_14(tmp_path):
    text = (ROOT / "config.yaml").read_text(encoding="utf-8")
    assert load_settings(ROOT / "config.yaml").student_min_age == 14
    lower = tmp_path / "lower.yaml"
    lower.write_text(text.replace("student_min_age: 14", "student_min_age: 13"), encoding="utf-8")
    assert load_settings(lower).student_min_age == 13
    left_out = tmp_path / "left_out.yaml"
    left_out.write_text(text.replace("  student_min_age: 14\n", ""), encoding="utf-8")
    assert "student_min_age" not in left_out.read_text(encoding="utf-8")
    assert load_settings(left_out).student_min_age == 14


def test_withdrawn_consent_ends_the_students_own_link_at_the_next_build(site_app):
    school, families = setup(site_app.test_client())
    link = student_link(families, fourteen(school))
    build(NOW)
    assert page_path(link.token).exists()
    for guardian in families["ivanovs"].guardians:
        site_helpers.withdraw_consent(guardian.id)
    build(NOW)
    assert not page_path(link.token).exists()


def test_a_student_who_leaves_loses_the_own_link_and_rotation_keeps_it_the_students(site_app):
    school, families = setup(site_app.test_client())
    student = fourteen(school)
    link = student_link(families, student)
    new = rotate(link, NOW.date(), NOW)
    db.session.commit()
    assert new.student_id == student.id and link.revoked_reason == "rotated"
    assert [r.guardian for r in export_rows(settings(), NOW.date(), NOW) if r.url.endswith(f"/{new.token}/")] == [
        "Иванова Мария Петровна (ученик)"]
    student.left_on = dt.date(2026, 11, 20)
    db.session.commit()
    build(NOW)
    assert not page_path(new.token).exists()


def test_a_students_views_are_counted_apart_and_the_student_cannot_confirm_a_week(site_app):
    client = site_app.test_client()
    school, families = setup(client)
    link = student_link(families, fourteen(school))
    build(NOW)
    assert client.get(f"/d/{link.token}/seen-2026-W47.css", headers=BROWSER).status_code == 200
    client.get(f"/d/{link.token}/seen-2026-W47.css", headers=BROWSER)
    views = db.session.scalars(select(StudentWeekView)).all()
    assert [(v.student_id, v.week, v.views) for v in views] == [(school["st_ivanova"], "2026-W47", 2)]
    assert db.session.scalars(select(WeekView)).first() is None  # not the family's views
    answer = client.post("/ack", data={"token": link.token, "week": "2026-W47", "v": ""})
    assert answer.status_code == 403 and "Подтверждают родители" in answer.get_data(as_text=True)


def test_the_links_student_command_issues_and_refuses_in_russian(site_app):
    school, families = setup(site_app.test_client())
    runner = site_app.test_cli_runner()
    refused = runner.invoke(args=["links", "student", "S1"])
    assert refused.exit_code != 0 and "с 14 лет" in refused.output
    fourteen(school)
    done = runner.invoke(args=["links", "student", "S1"])
    assert done.exit_code == 0, done.output
    assert "Иванова Мария Петровна (ученик): http" in done.output
    assert "ученику" in runner.invoke(args=["links", "student", "--help"]).output


def test_the_administrator_issues_a_student_link_on_the_families_page(site_app):
    client = site_app.test_client()
    school, families = setup(client)
    fourteen(school)
    make_accounts()
    sign_in(client, "admin")
    page_text = client.get(f"/staff/families/?class={school['c7']}").get_data(as_text=True)
    assert "Выдать ученику собственную ссылку" in page_text
    assert page_text.count("Выдать ученику собственную ссылку") == 1  # Павел is 13
    answer = client.post(f"/staff/families/{families['ivanovs'].id}/student-links",
                         data={"student": school["st_ivanova"], "csrf_token": csrf_token(client)})
    assert answer.status_code == 302
    link = db.session.scalars(select(FamilyLink).where(FamilyLink.student_id == school["st_ivanova"])).one()
    listed = client.get(f"/staff/families/?class={school['c7']}").get_data(as_text=True)
    assert "Иванова Мария Петровна (ученик, только свой дневник)" in listed
    letter = client.get(f"/staff/families/links/{link.id}/letter").get_data(as_text=True)
    assert "Здравствуйте, Мария!" in letter and "Белова" not in letter
    no_csrf = client.post(f"/staff/families/{families['ivanovs'].id}/student-links",
                          data={"student": school["st_ivanova"]})
    assert no_csrf.status_code in (400, 403)


def test_slips_and_messages_never_hand_a_guardian_the_students_own_link(site_app):
    from app.notify.jobs import guardian_link
    from static_site.links import revoke
    from static_site.paper.audience import qr_links

    school, families = setup(site_app.test_client())
    for link in links_of(families["ivanovs"]):
        revoke(link, NOW)
    db.session.commit()
    own = student_link(families, fourteen(school))
    access = family_access([families["ivanovs"].id], NOW.date(), NOW)[families["ivanovs"].id]
    assert [link.id for link in access.live] == [own.id]
    assert all(guardian_link(access, g.id) is None for g in families["ivanovs"].guardians)
    sisters = [db.session.get(Student, school["st_first_grader"]), db.session.get(Student, school["st_ivanova"])]
    assert qr_links(settings(), sisters, NOW.date(), NOW) == {}  # no slip carries Мария's own link
