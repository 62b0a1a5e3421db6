"""The staff Printing page: one class's slips, journal copy and summary sheet as downloads, and signed slips."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import select

from app.base import settings
from app.base.extensions import db
from app.base.models import AuditEntry, WeekAck
from app.staff import viewing
from static_site.paper import pdf
from tests.paper_support import PaperSchool, pdf_text
from tests.staff_support import make_accounts, post, sign_in

TODAY = dt.date(2026, 11, 22)


@pytest.fixture
def school(client):
    """The paper tests' school (Ивановы on paper, Смирновы by link, week 47 of journal) with one account per role."""
    paper = PaperSchool(client)
    paper.week_47()
    make_accounts()
    return paper


@pytest.fixture
def html_only(monkeypatch):
    """WeasyPrint cannot be imported, as on a hub without pango."""
    monkeypatch.setattr(pdf, "WEASYPRINT", "weasyprint_is_not_installed_here")


def document_text(response, tmp_path: Path) -> str:
    """The downloaded document's text: read with pdftotext when a PDF, as it is when HTML."""
    if response.mimetype == "application/pdf":
        path = tmp_path / "download.pdf"
        path.write_bytes(response.data)
        return pdf_text(path)
    return response.get_data(as_text=True)


def test_the_page_offers_the_class_teacher_her_own_class_only(client, school):
    sign_in(client, "petrova")
    page = client.get("/staff/printing/").get_data(as_text=True)
    assert f'<option value="{school["c7"]}" selected>7А</option>' in page and school["c1"] not in page
    assert 'value="2026-W47"' in page  # the current school week is the default
    assert "Отметить подпись" in page


def test_the_weeks_slips_download_names_the_paper_familys_child_and_no_other(client, school, tmp_path):
    sign_in(client, "petrova")
    response = client.get(f"/staff/printing/slips?class={school['c7']}&week=2026-W47")
    assert response.status_code == 200
    suffix = "pdf" if pdf.pdf_missing() is None else "html"
    assert response.headers["Content-Disposition"] == \
        f"attachment; filename*=UTF-8''{quote(f'выписки 7А 2026-W47.{suffix}')}"
    assert response.headers["Cache-Control"] == "no-store"
    text = document_text(response, tmp_path)
    assert "Иванова Мария Петровна" in text and "Помогала одноклассникам" in text
    assert "Смирнов" not in text


def test_every_student_box_prints_a_slip_for_each_student(client, school, tmp_path):
    sign_in(client, "zavuch")
    response = client.get(f"/staff/printing/slips?class={school['c7']}&week=2026-W47&all=1")
    text = document_text(response, tmp_path)
    assert "Иванова Мария Петровна" in text and "Смирнов Павел Олегович" in text


def test_without_weasyprint_the_page_says_so_and_documents_come_as_html(client, school, html_only):
    sign_in(client, "admin")
    page = client.get("/staff/printing/").get_data(as_text=True)
    assert "PDF на этом хабе создать нельзя" in page
    slips = client.get(f"/staff/printing/slips?class={school['c7']}&week=2026-W47")
    assert slips.mimetype == "text/html" and slips.headers["Content-Disposition"].endswith(".html")
    assert "Иванова Мария Петровна" in slips.get_data(as_text=True)
    assert "Смирнов" not in slips.get_data(as_text=True)
    journal = client.get(f"/staff/printing/journal?class={school['c7']}&period=2&by=секретарь Орлова")
    assert journal.headers["Content-Disposition"].startswith("attachment;")
    assert "Линейные уравнения" in journal.get_data(as_text=True) and "секретарь Орлова" in journal.get_data(
        as_text=True)
    sheet = client.get(f"/staff/printing/summary?class={school['c7']}")
    assert sheet.headers["Cache-Control"] == "no-store" and "Смирнов Павел" in sheet.get_data(as_text=True)


def test_a_class_without_paper_families_gets_a_message_not_an_empty_file(client, school):
    db.session.get(type(school.ivanovy), school.ivanovy.id).channel = "link"
    db.session.commit()
    sign_in(client, "petrova")
    response = client.get(f"/staff/printing/slips?class={school['c7']}&week=2026-W47", follow_redirects=True)
    assert response.mimetype == "text/html" and "Content-Disposition" not in response.headers
    assert "Нет учеников 7А, чьи семьи получают дневник на бумаге" in response.get_data(as_text=True)


def test_a_signature_recorded_on_the_page_is_the_familys_confirmation_and_is_audited(client, school):
    sign_in(client, "petrova")
    response = post(client, "/staff/printing/sign", {"student": school["st_ivanova"], "week": "2026-W47",
                                                     "signed_on": "2026-11-20"})
    assert response.status_code == 302
    assert "Иванова Ольга Николаевна подписал(а) выписку" in client.get("/staff/printing/").get_data(as_text=True)
    ack = db.session.scalars(select(WeekAck)).one()
    assert (ack.family_id, ack.guardian_id, ack.week, ack.link_id) == (school.ivanovy.id, school.mother.id,
                                                                       "2026-W47", None)
    weeks = viewing.period_weeks(settings(), settings().periods[1], TODAY)
    row = next(r for r in viewing.class_table(settings(), school["c7"], weeks, TODAY) if r.student.file_no == "S1")
    assert row.count("confirmed", paper=True) == 1
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "paper.sign")).one()
    assert (entry.who, entry.object) == ("petrova", f"student:{school['st_ivanova']}")
    assert "2026-W47 2026-11-20" in entry.detail


def test_a_signature_without_the_forms_token_or_for_a_future_week_records_nothing(client, school):
    sign_in(client, "admin")
    form = {"student": school["st_ivanova"], "week": "2026-W47", "signed_on": "2026-11-20"}
    assert post(client, "/staff/printing/sign", form, token=False).status_code == 400
    refused = post(client, "/staff/printing/sign", {**form, "week": "2026-W50"})
    assert refused.status_code == 400
    assert "ещё не наступила" in refused.get_data(as_text=True)
    assert db.session.scalars(select(WeekAck)).all() == []
    assert db.session.scalars(select(AuditEntry).where(AuditEntry.action == "paper.sign")).all() == []


def test_a_subject_teacher_may_not_print_and_the_director_may_not_record_signatures(client, school):
    sign_in(client, "sidorov")
    assert client.get("/staff/printing/").status_code == 403
    assert client.get(f"/staff/printing/slips?class={school['c7']}&all=1").status_code == 403
    sign_in(client, "director")
    assert "Отметить подпись" not in client.get("/staff/printing/").get_data(as_text=True)
    form = {"student": school["st_ivanova"], "week": "2026-W47", "signed_on": "2026-11-20"}
    assert post(client, "/staff/printing/sign", form).status_code == 403
    sign_in(client, "petrova")
    assert client.get(f"/staff/printing/summary?class={school['c1']}").status_code == 403
    assert db.session.scalars(select(WeekAck)).all() == []


def test_one_form_prints_every_document_and_the_page_stays_short(client, school, tmp_path):
    sign_in(client, "zavuch")
    page = client.get("/staff/printing/").get_data(as_text=True)
    assert page.count('action="/staff/printing/document"') == 1  # one form, whatever the number of classes
    assert page.count('name="school" value="1"') == 1  # and the whole school's slips
    slips = client.get(f"/staff/printing/document?class={school['c7']}&document=slips&week=2026-W47")
    assert slips.status_code == 302 and "/staff/printing/slips?" in slips.headers["Location"]
    summary = client.get(f"/staff/printing/document?class={school['c7']}&document=summary")
    assert "/staff/printing/summary?" in summary.headers["Location"]
    everyone = client.get("/staff/printing/slips?school=1&week=2026-W47&all=1")
    assert everyone.status_code == 200 and quote("вся школа") in everyone.headers["Content-Disposition"]
    text = document_text(everyone, tmp_path)
    assert "Иванова Мария Петровна" in text and "Смирнов Павел Олегович" in text


def test_a_class_teacher_may_not_print_the_whole_school(client, school):
    sign_in(client, "petrova")
    assert 'name="school"' not in client.get("/staff/printing/").get_data(as_text=True)
    assert client.get("/staff/printing/slips?school=1&week=2026-W47").status_code == 403


def test_the_journal_copy_is_made_as_a_job_with_its_progress_page_and_downloaded_once(client, school, tmp_path):
    client.application.config["STAFF_JOBS_INLINE"] = True
    sign_in(client, "petrova")
    started = client.get(f"/staff/printing/document?class={school['c7']}&document=journal&period=2&by=Петрова")
    assert started.status_code == 302 and "/staff/jobs/" in started.headers["Location"]
    job_page = client.get(started.headers["Location"]).get_data(as_text=True)
    assert "Скачать копию журнала" in job_page and "_file" not in job_page
    link = re.search(r'href="(/staff/printing/jobs/\d+/file)"', job_page)[1]
    download = client.get(link)
    assert download.status_code == 200 and download.headers["Cache-Control"] == "no-store"
    assert "Линейные уравнения" in document_text(download, tmp_path)
    again = client.get(link)
    assert again.status_code == 302  # the file is not kept on the hub once downloaded
    assert "Файл уже скачан" in client.get(started.headers["Location"]).get_data(as_text=True)
    sign_in(client, "zavuch")
    assert client.get(link).status_code == 404  # only the account that started it


def test_the_signed_slip_form_chooses_the_guardian_and_keeps_its_values_on_an_error(client, school):
    from app.base.models import Guardian

    father = Guardian(last_name="Иванов", first_name="Пётр", middle_name="Сергеевич", relation="отец")
    school.ivanovy.guardians.append(father)
    db.session.commit()
    sign_in(client, "petrova")
    page = client.get("/staff/printing/").get_data(as_text=True)
    assert f'<option value="{school.mother.id}">Иванова Ольга Николаевна (мать)</option>' in page
    assert f'<option value="{father.id}">Иванов Пётр Сергеевич (отец)</option>' in page
    form = {"student": school["st_ivanova"], "week": "2026-W47", "signed_on": "2026-11-20"}
    refused = post(client, "/staff/printing/sign", form)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "Кто подписал выписку? Выберите законного представителя" in html
    assert "--guardian" not in html and "Укажите" not in html
    assert 'value="2026-11-20"' in html and f'<option value="{school["st_ivanova"]}" selected>' in html
    done = post(client, "/staff/printing/sign", {**form, "guardian": father.id})
    assert done.status_code == 302
    shown = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "Иванов Пётр Сергеевич подписал(а) выписку за неделю 16–21 ноября 2026; подпись от 20.11.2026." in shown
    assert db.session.scalars(select(WeekAck)).one().guardian_id == father.id
