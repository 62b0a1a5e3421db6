"""Access requests and consent (002 reg. §2.6–2.17): recorded on the staff pages and by `flask consent`,
decided within the working days, printed as the regulation's forms; the site's access follows the decision.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.base import settings
from app.base.consent import due_on, working_days_after
from app.base.extensions import db
from app.base.models import AccessRequest, AuditEntry, Consent, Family, FamilyLink, Guardian, Student
from static_site.access import family_access
from tests.paper_support import needs_pdf, pdf_text
from tests.school import build_tiny_school
from tests.staff_support import make_accounts, post, sign_in


def two_child_family() -> tuple[Family, Guardian]:
    """The Смирновы: Павел (7А) and Ольга Белова (1А) with their mother, no consent yet."""
    mother = Guardian(last_name="Смирнова", first_name="Ирина", middle_name="Олеговна", phone="+79001112233",
                      relation="мать")
    family = Family(name="Смирновы", channel="paper", guardians=[mother],
                    students=list(db.session.scalars(select(Student).where(Student.file_no.in_(["S2", "S3"])))))
    db.session.add(family)
    db.session.commit()
    return family, mother


@pytest.fixture
def school(app):
    """The tiny school with one account per role and the two-child family."""
    build_tiny_school()
    make_accounts()
    family, mother = two_child_family()
    return {"family": family.id, "mother": mother.id}


def live_links(family_id: str) -> list[FamilyLink]:
    """The family's links that show pages today."""
    conf = settings()
    return family_access([family_id], conf.today())[family_id].live


def request_form(family_id: str, guardian_id: str, **more: str) -> dict[str, object]:
    """A complete request form with the consent signed with it."""
    form: dict[str, object] = {"family": family_id, "guardian": guardian_id, "students": [],
                               "received_on": "20.11.2026",
                               "basis": "паспорт, свидетельства о рождении", "channel": "both", "contact": "",
                               "consent": "1", "consent_on": "20.11.2026", "consent_basis": "согласие № 12"}
    form["students"] = [s.id for s in db.session.get(Family, family_id).students]
    form.update(more)
    return form


def test_working_days_count_from_the_next_day_and_skip_weekends():
    friday = dt.date(2026, 11, 20)
    assert due_on(friday, 2) == dt.date(2026, 11, 24)  # Monday and Tuesday
    assert working_days_after(friday, dt.date(2026, 11, 22)) == 0  # the weekend does not count
    assert working_days_after(friday, dt.date(2026, 11, 25)) == 3


def test_a_request_with_consent_counts_only_once_issued_and_the_dashboard_shows_its_wait(client, runner, school):
    sign_in(client, "admin")
    response = post(client, "/staff/access/new", request_form(school["family"], school["mother"]))
    assert response.status_code == 302, response.get_data(as_text=True)
    item = db.session.scalars(select(AccessRequest)).one()
    assert [s.file_no for s in sorted(item.students, key=lambda s: s.file_no)] == ["S2", "S3"]
    assert item.recorded_by == "admin" and item.contact == "+79001112233" and item.state == "pending"
    consent = db.session.scalars(select(Consent)).one()
    assert consent.request_id == item.id and consent.recorded_by == "admin"
    assert "Выдано ссылок: 0." in runner.invoke(args=["links", "issue", "--all"]).output  # not in force yet
    dashboard = client.get("/staff/dashboard/").get_data(as_text=True)
    assert "Смирнова Ирина Олеговна" in dashboard and "0 раб. дн." in dashboard  # received Friday, now Sunday
    assert "срок 24.11.2026" in dashboard
    page = client.get(f"/staff/access/{item.id}").get_data(as_text=True)
    assert "Предоставить доступ" in page
    assert post(client, f"/staff/access/{item.id}/issue").status_code == 302
    db.session.expire_all()
    assert item.state == "issued" and item.link_id is not None
    assert db.session.get(Family, school["family"]).channel == "both"
    assert [link.id for link in live_links(school["family"])] == [item.link_id]
    shown = client.get(f"/staff/access/{item.id}").get_data(as_text=True)
    token = db.session.get(FamilyLink, item.link_id).token
    assert f"/d/{token}/" in shown and "-".join(re.findall("....", token)) in shown
    assert "Ни один запрос не ждёт решения" in client.get("/staff/dashboard/").get_data(as_text=True)
    actions = set(db.session.scalars(select(AuditEntry.action)))
    assert {"access.request", "access.issue", "link.issue"} & actions >= {"access.request", "access.issue"}
    again = post(client, f"/staff/access/{item.id}/refuse", {"reason": "2.12.4"})
    assert again.status_code == 302 and db.session.get(AccessRequest, item.id).state == "issued"


def test_a_bad_request_form_says_what_is_wrong_beside_each_field_and_saves_nothing(client, school):
    sign_in(client, "admin")
    bad = request_form(school["family"], "", students=[], received_on="31.02.2026", basis=" ",
                       consent_on="01.01.2030")
    response = post(client, "/staff/access/new", bad)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    for field, text in (("guardian", "Выберите представителя"), ("students", "Отметьте хотя бы одного"),
                        ("received_on", "не понята"), ("basis", "Назовите предъявленные документы"),
                        ("consent_on", "ещё не наступила")):
        assert re.search(rf'id="{field}-error"[^>]*>[^<]*{text}', page), field
    assert db.session.scalar(select(func.count()).select_from(AccessRequest)) == 0
    assert db.session.scalar(select(func.count()).select_from(Consent)) == 0
    assert post(client, "/staff/access/new", request_form(school["family"], school["mother"]),
                token=False).status_code == 400  # CSRF
    assert db.session.scalar(select(func.count()).select_from(AccessRequest)) == 0


def test_withdrawal_by_statement_ends_the_link_and_keeps_the_history(client, school):
    sign_in(client, "admin")
    post(client, f"/staff/access/guardian/{school['mother']}/consent",
         {"on": "01.09.2026", "basis": "согласие № 3 от 01.09.2026", "channel": "link"})
    db.session.get(Family, school["family"]).channel = "link"
    db.session.commit()
    issued = post(client, f"/staff/families/{school['family']}/links", {"guardian": school["mother"]})
    assert issued.status_code == 302 and len(live_links(school["family"])) == 1
    refused = post(client, f"/staff/access/guardian/{school['mother']}/withdraw", {"withdraw_on": "21.11.2026",
                                                                                  "statement": ""})
    assert refused.status_code == 400 and "письменное заявление" in refused.get_data(as_text=True)
    assert len(live_links(school["family"])) == 1
    done = post(client, f"/staff/access/guardian/{school['mother']}/withdraw",
                {"withdraw_on": "21.11.2026", "statement": "заявление № 7 от 21.11.2026"})
    assert done.status_code == 302
    assert live_links(school["family"]) == []
    page = client.get(f"/staff/access/guardian/{school['mother']}").get_data(as_text=True)
    assert page.index("заявление № 7") < page.index("согласие № 3")  # newest first, both kept
    assert page.count(">admin, ") == 2


def test_a_class_teacher_records_for_their_class_only_and_the_director_changes_nothing(client, school):
    sign_in(client, "director")
    assert client.get(f"/staff/access/new?family={school['family']}").status_code == 403
    assert client.get(f"/staff/access/guardian/{school['mother']}").status_code == 200
    sign_in(client, "petrova")  # class teacher of 7А, where Павел is
    assert post(client, "/staff/access/new", request_form(school["family"], school["mother"])).status_code == 302
    item = db.session.scalars(select(AccessRequest)).one()
    assert post(client, f"/staff/access/{item.id}/issue").status_code == 403
    only_1a = Family(name="Беловы", channel="link", students=[db.session.scalars(
        select(Student).where(Student.file_no == "S3")).one()], guardians=[Guardian(last_name="Белов",
                                                                                    first_name="Иван")])
    db.session.add(only_1a)
    db.session.commit()
    assert client.get(f"/staff/access/new?family={only_1a.id}").status_code == 403


@needs_pdf
def test_the_refusal_decision_prints_with_its_reason_ticked_and_the_directors_name(client, school, tmp_path: Path):
    sign_in(client, "admin")
    post(client, "/staff/access/new", request_form(school["family"], school["mother"]))
    item = db.session.scalars(select(AccessRequest)).one()
    assert post(client, f"/staff/access/{item.id}/refuse", {"reason": ""}).status_code == 302
    assert db.session.get(AccessRequest, item.id).state == "pending"
    assert post(client, f"/staff/access/{item.id}/refuse", {"reason": "2.12.5"}).status_code == 302
    response = client.get(f"/staff/access/{item.id}/refusal")
    assert response.mimetype == "application/pdf"
    path = tmp_path / "refusal.pdf"
    path.write_bytes(response.data)
    text = " ".join(pdf_text(path).split())
    assert "РЕШЕНИЕ" in text and "Смирнова Ирина Олеговна" in text
    assert "☒ 2.12.5. в представленных заявителем документах содержатся противоречивые сведения" in text
    assert text.count("☒") == 1 and text.count("☐") == 5
    assert "Просветова А. С." in text
    assert live_links(school["family"]) == []  # the consent of a refused request never counts


@needs_pdf
def test_the_consent_form_names_both_children_of_the_family(client, school, tmp_path: Path):
    sign_in(client, "petrova")
    response = client.get(f"/staff/access/forms/{school['family']}?doc=consent&guardian={school['mother']}")
    path = tmp_path / "consent.pdf"
    path.write_bytes(response.data)
    text = " ".join(pdf_text(path).split())
    assert "СОГЛАСИЕ ЗАКОННОГО ПРЕДСТАВИТЕЛЯ" in text and "Смирнова Ирина Олеговна" in text
    assert "Смирнов Павел Олегович, 7А класс" in text and "Белова Ольга Ивановна, 1А класс" in text
    assert settings().school_name in text
    blank = client.get(f"/staff/access/forms/{school['family']}?doc=request&guardian={school['mother']}&format=html")
    html = blank.get_data(as_text=True)
    assert "ЗАПРОС (ЗАЯВЛЕНИЕ)" in html and "Просветова А. С." in html and "+79001112233" in html


def test_the_consent_commands_record_decide_withdraw_and_list(runner, school):
    record = runner.invoke(args=["consent", "record", "Смирнова Ирина", "--date", "20.11.2026", "--basis",
                                 "согласие № 14", "--channel", "link", "--request", "--children", "S2",
                                 "--by", "secretar"])
    assert record.exit_code == 0, record.output
    item = db.session.scalars(select(AccessRequest)).one()
    assert [s.file_no for s in item.students] == ["S2"] and item.recorded_by == "secretar"
    waiting = runner.invoke(args=["consent", "list", "--waiting"])
    assert item.id in waiting.output and "ждёт 0 раб. дн." in waiting.output
    decided = runner.invoke(args=["consent", "decide", item.id, "--issue"])
    assert decided.exit_code == 0, decided.output
    assert "/d/" in decided.output and len(live_links(school["family"])) == 1
    twice = runner.invoke(args=["consent", "decide", item.id, "--refuse", "2.12.1"])
    assert twice.exit_code != 0 and "уже принято решение" in twice.output
    unknown = runner.invoke(args=["consent", "record", "Никто Такой", "--basis", "x"])
    assert unknown.exit_code != 0 and "не найден" in unknown.output
    withdrawn = runner.invoke(args=["consent", "withdraw", "+79001112233", "--statement", "заявление № 8"])
    assert withdrawn.exit_code == 0, withdrawn.output
    assert live_links(school["family"]) == []
    listed = runner.invoke(args=["consent", "list", "--guardian", "Смирнова"])
    assert "отозвано  заявление № 8" in listed.output and "дано  согласие № 14" in listed.output


def test_the_consent_command_helps_in_russian(runner, app):
    for args in (["consent", "--help"], ["consent", "record", "--help"], ["consent", "decide", "--help"]):
        result = runner.invoke(args=args)
        assert result.exit_code == 0 and re.search("[а-я]{5}", result.output), args
    assert "Записать согласие" in runner.invoke(args=["consent", "--help"]).output
