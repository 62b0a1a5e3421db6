"""`year close`: final marks checked, the families' pages of the year kept read-only (or not, by config),
graduates' families not kept; the administrator's page runs the same close and roll-over."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from app.base import settings
from app.base.closed_years import YearClosed, check_open
from app.base.extensions import db
from app.base.models import (
    AcademicYear,
    Assignment,
    Attendance,
    Conflict,
    Consent,
    Family,
    FamilyLink,
    Guardian,
    Lesson,
    Mark,
    OpLog,
    Period,
    PeriodGrade,
    SchoolClass,
    Student,
    new_id,
)
from static_site.access import family_access
from static_site.links import issue, revoke
from static_site.serve import serve_site
from sync import clock, hlc
from tests.school import build_tiny_school, lesson_fields
from tests.staff_support import NEWCOMER, family_with_link, make_accounts, post, sign_in, world

ROOT = Path(__file__).resolve().parent.parent
YEAR = "2026-2027"


def link_for(student: Student, surname: str) -> str:
    """A family of one student with consent and a live link; return the token."""
    guardian = Guardian(last_name=surname, first_name="Анна", middle_name="Ивановна", phone="+7 900 000-00-09",
                        relation="мать")
    family = Family(name=surname, channel="link", guardians=[guardian], students=[student])
    db.session.add(family)
    db.session.flush()
    db.session.add(Consent(guardian_id=guardian.id, state="given", on=dt.date(2026, 9, 1), basis="заявление",
                           channel="paper"))
    db.session.flush()
    now = clock.now()
    token = issue(family_access([family.id], settings().today(now), now)[family.id], guardian, now).token
    db.session.commit()
    return token


@pytest.fixture
def school(app):
    """The tiny school, an 11th-grader with her own family, Иванова's family; the site built."""
    ids = build_tiny_school()
    make_accounts()
    year = db.session.scalars(select(AcademicYear)).one()
    eleven = SchoolClass(year_id=year.id, grade=11, letter="А")
    db.session.add(eleven)
    db.session.flush()
    orlova = Student(file_no="S4", last_name="Орлова", first_name="Дарья", middle_name="Игоревна",
                     birth_date=dt.date(2009, 1, 5), class_id=eleven.id, enrolled_on=dt.date(2026, 9, 1))
    db.session.add(orlova)
    db.session.commit()
    _family, _guardian, link = family_with_link(ids)
    graduate = link_for(orlova, "Орловы")
    return {"ids": ids, "ivanova": link.token, "graduate": graduate, "year": year.id}


def build_site(runner) -> Path:
    result = runner.invoke(args=["site", "build", "--all"])
    assert result.exit_code == 0, result.output
    return settings().site_output_dir


def give_final_marks(school) -> None:
    """Year marks (the last period) for 7А in every subject it is taught."""
    ids = school["ids"]
    last = db.session.scalars(select(Period).where(Period.year_id == school["year"])
                              .order_by(Period.number.desc())).first()
    for n, (student, subject) in enumerate(db.session.execute(
            select(Student.id, Assignment.subject_id).join(Assignment, Assignment.class_id == Student.class_id)
            .where(Student.class_id == ids["c7"]))):
        db.session.add(PeriodGrade(id=new_id(), rev=1000 + n, device_id="hub", author_id=ids["t_petrova"],
                                   entered_hlc=hlc.make(clock.wall_ms()), scope_class_id=ids["c7"], clock=[],
                                   student_id=student, subject_id=subject, period_id=last.id, value="5",
                                   status="graded"))
    db.session.commit()


def test_year_close_lists_missing_final_marks_and_refuses_until_they_are_given(school, runner):
    root = build_site(runner)
    dry = runner.invoke(args=["year", "close"])
    assert dry.exit_code == 0, dry.output
    missing = re.findall(r"нет итоговой отметки: (.+)", dry.output)
    assert len(missing) == 4 and "7А, Иванова Мария Петровна: Математика" in missing
    assert "Пробный запуск, ничего не изменено" in dry.output
    kept = root / "d" / f"{school['ivanova']}-{YEAR}"
    assert (root / "d" / school["ivanova"] / "index.html").is_file() and not kept.exists()
    refused = runner.invoke(args=["year", "close", "--apply"])
    assert refused.exit_code == 1
    assert "год не закрыт: нет 4 итоговых отметок" in refused.output
    assert not kept.exists()

    give_final_marks(school)
    done = runner.invoke(args=["year", "close", "--apply"])
    assert done.exit_code == 0, done.output
    assert "Итоговые отметки 2026-2027: выставлены все." in done.output
    assert "страницы 1 семей за 2026-2027 остаются доступны" in done.output
    page = (kept / "index.html").read_text(encoding="utf-8")
    assert "Иванова" in page and "<form" not in page and "только для просмотра" in page
    assert not (root / "d" / f"{school['graduate']}-{YEAR}").exists()  # the 11th-grader's family: not kept


def test_the_kept_year_is_served_under_the_familys_link_and_survives_a_rebuild(school, runner, app):
    give_final_marks(school)
    build_site(runner)
    assert runner.invoke(args=["year", "close", "--apply"]).exit_code == 0
    build_site(runner)
    serve_site(app)  # as wsgi.py does: the site folder in front of the hub
    client = app.test_client()
    answer = client.get(f"/d/{school['ivanova']}-{YEAR}/index.html")
    body, status, caching = answer.get_data(as_text=True), answer.status_code, answer.headers["Cache-Control"]
    answer.close()
    assert (status, caching) == (200, "private, no-cache")
    assert "Иванова" in body
    missing = client.get(f"/d/{school['graduate']}-{YEAR}/index.html")
    missing.close()
    assert missing.status_code == 404


def test_with_keep_last_year_false_nothing_of_the_year_is_kept(school, make_app, tmp_path):
    text = (ROOT / "config.yaml").read_text(encoding="utf-8").replace("keep_last_year: true", "keep_last_year: false")
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    app = make_app(TETRAD_CONFIG=path)
    with app.app_context():
        runner = app.test_cli_runner()
        root = build_site(runner)
        (root / "d" / f"{school['ivanova']}-2025-2026").mkdir()  # an older year's copy goes too
        give_final_marks(school)
        done = runner.invoke(args=["year", "close", "--apply"])
        db.session.remove()
    assert done.exit_code == 0, done.output
    assert "страницы семей за год не сохраняются (site.keep_last_year: false)" in done.output
    assert not (root / "d" / f"{school['ivanova']}-2025-2026").exists()
    assert not (root / "d" / f"{school['ivanova']}-{YEAR}").exists()


def test_the_administrators_page_closes_the_year_with_the_same_check(school, client, runner):
    client.application.config["STAFF_JOBS_INLINE"] = True
    build_site(runner)
    sign_in(client, "admin")
    assert 'href="/staff/year/">Закрытие учебного года и перевод учащихся<' in client.get("/staff/calendar/").get_data(
        as_text=True)  # the way there: from the calendar, not another item in a full menu
    page = client.get("/staff/year/").get_data(as_text=True)
    assert "7А, Иванова Мария Петровна: Математика" in page
    refused = post(client, "/staff/year/close", {})
    assert refused.status_code == 302
    job = client.get(refused.headers["Location"]).get_data(as_text=True)
    assert "год не закрыт: нет 4 итоговых отметок" in job
    give_final_marks(school)
    done = client.get(post(client, "/staff/year/close", {}).headers["Location"]).get_data(as_text=True)
    assert "остаются доступны" in done
    assert (settings().site_output_dir / "d" / f"{school['ivanova']}-{YEAR}" / "index.html").is_file()
    sign_in(client, "petrova")
    assert client.get("/staff/year/").status_code == 403


def test_a_revoked_link_loses_its_kept_year_at_the_next_build(school, runner):
    give_final_marks(school)
    root = build_site(runner)
    assert runner.invoke(args=["year", "close", "--apply"]).exit_code == 0
    kept = root / "d" / f"{school['ivanova']}-{YEAR}"
    assert kept.is_dir()
    link = db.session.scalars(select(FamilyLink).where(FamilyLink.token == school["ivanova"])).one()
    revoke(link, clock.now())
    db.session.commit()
    result = runner.invoke(args=["site", "build"])
    assert result.exit_code == 0, result.output
    assert not kept.exists() and not (root / "d" / school["ivanova"]).exists()


def pages_of(folder: Path) -> dict[str, bytes]:
    """Every file of a page set, by name."""
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_a_rotated_link_keeps_the_familys_year_and_the_old_token_reads_nothing(school, client, runner):
    client.application.config["STAFF_JOBS_INLINE"] = True
    give_final_marks(school)
    root = build_site(runner)
    assert runner.invoke(args=["year", "close", "--apply"]).exit_code == 0
    old = db.session.scalars(select(FamilyLink).where(FamilyLink.token == school["ivanova"])).one()
    shown = pages_of(root / "d" / f"{old.token}-{YEAR}")
    sign_in(client, "admin")
    assert post(client, f"/staff/families/links/{old.id}/rotate").status_code == 302  # the families page's button
    db.session.expire_all()
    new = db.session.scalars(select(FamilyLink).where(FamilyLink.family_id == old.family_id,
                                                      FamilyLink.revoked_at.is_(None))).one()
    result = runner.invoke(args=["site", "build"])
    assert result.exit_code == 0, result.output
    assert pages_of(root / "d" / f"{new.token}-{YEAR}") == shown  # what the old link showed, byte for byte
    assert not any(old.token.encode() in body for body in shown.values())
    serve_site(client.application)
    statuses = {}
    for token in (old.token, new.token):
        for path in (f"/d/{token}-{YEAR}/index.html", f"/d/{token}/index.html"):
            answer = client.get(path)
            statuses[path.replace(token, "old" if token == old.token else "new")] = answer.status_code
            answer.close()
    assert statuses == {f"/d/old-{YEAR}/index.html": 404, "/d/old/index.html": 404,
                        f"/d/new-{YEAR}/index.html": 200, "/d/new/index.html": 200}


def test_a_closed_years_journal_refuses_staff_decisions_until_the_year_is_reopened(client, runner):
    w = world(client)
    closed = runner.invoke(args=["year", "close", "--apply", "--allow-missing-marks"])
    assert closed.exit_code == 0, closed.output
    assert "журнал года в архиве" in closed.output
    db.session.add(Student(id=NEWCOMER, file_no="S9", last_name="Новикова", first_name="Анна",
                           birth_date=dt.date(2013, 2, 2), class_id=w["school"]["c7"], enrolled_on=dt.date(2026, 9, 1)))
    db.session.commit()  # the rejected op's cause fixed: a replay would now apply
    attendance = db.session.get(Conflict, w["conflict"]).record_id
    before = (db.session.get(Attendance, attendance).status, db.session.get(Mark, "m-late-3"),
              db.session.get(Mark, "m-unknown"))
    sign_in(client, "zavuch")  # the deputy decides and replays
    for path in (f"/staff/review/op/{w['held']}/approve", f"/staff/review/op/{w['rejected']}/replay",
                 f"/staff/review/conflict/{w['conflict']}/other"):
        assert post(client, path).status_code == 302
        page = client.get("/staff/review/").get_data(as_text=True)
        assert "Учебный год 2026-2027 закрыт 22.11.2026: его журнал в архиве, запись не изменена." in page, path
    db.session.expire_all()
    assert (db.session.get(Attendance, attendance).status, db.session.get(Mark, "m-late-3"),
            db.session.get(Mark, "m-unknown")) == before
    assert (db.session.get(OpLog, w["held"]).status, db.session.get(OpLog, w["rejected"]).status) == \
        ("held", "rejected")
    assert db.session.get(Conflict, w["conflict"]).resolved_at is None
    assert db.session.scalars(select(OpLog).where(OpLog.device_id == "hub")).first() is None

    reopened = runner.invoke(args=["year", "reopen", YEAR])
    assert reopened.exit_code == 0 and "снова открыт" in reopened.output
    post(client, f"/staff/review/op/{w['held']}/approve")
    db.session.expire_all()
    assert db.session.get(Mark, "m-late-3").value == "3"
    assert runner.invoke(args=["year", "reopen", YEAR]).exit_code == 1  # not closed: nothing to open


def test_a_records_year_is_its_dates_lessons_or_periods(school, runner):
    assert runner.invoke(args=["year", "close", "--apply", "--allow-missing-marks"]).exit_code == 0
    ids = school["ids"]
    remark = {"student": ids["st_ivanova"], "date": "2026-11-20", "kind": "praise", "subject": None, "text": "…"}
    refused = [("remark", "r-1", remark), ("test_plan", "tp-1", {"date": "2027-05-20"}),
               ("period_grade", "pg-1", {"period": ids["q2"]})]
    for entity, record_id, fields in refused:
        with pytest.raises(YearClosed, match="Учебный год 2026-2027 закрыт"):
            check_open(entity, record_id, fields)
    check_open("remark", "r-2", {**remark, "date": "2027-08-20"})  # summer: no year's day, nothing closed


def test_a_closed_years_journal_refuses_what_classroom_machines_send_and_keeps_it_for_a_reopened_year(
        client, runner):
    w = world(client)
    assert runner.invoke(args=["year", "close", "--apply", "--allow-missing-marks"]).exit_code == 0
    machine, school = w["machine"], w["school"]
    lesson, fields = lesson_fields(school, slot=6)
    lesson_op = machine.op("lesson", lesson, fields, author=school["t_petrova"])
    mark = machine.op("mark", "m-after-close", {"lesson": lesson, "student": school["st_ivanova"], "value": "4",
                                                "work_type": "oral"}, author=school["t_petrova"])
    answer = machine.post([lesson_op, mark])
    assert answer.status_code == 200
    assert [(r["status"], r.get("code"), r.get("message")) for r in answer.get_json()["results"]] == [
        ("rejected", "year_closed", "Учебный год закрыт: его журнал в архиве, запись не изменена.")] * 2
    assert db.session.get(Mark, "m-after-close") is None and db.session.get(Lesson, lesson) is None
    kept = db.session.scalars(select(OpLog).where(OpLog.op_id == lesson_op["op"])).one()
    assert (kept.status, kept.code) == ("rejected", "year_closed")  # nothing accepted is lost

    assert runner.invoke(args=["year", "reopen", YEAR]).exit_code == 0
    sign_in(client, "zavuch")  # the administration reopened the year: the deputy replays what the machine sent
    assert post(client, f"/staff/review/op/{kept.id}/replay").status_code == 302
    db.session.expire_all()
    assert db.session.get(Lesson, lesson).topic == fields["topic"]
    later = machine.op("mark", "m-after-reopen", {"lesson": lesson, "student": school["st_ivanova"], "value": "5",
                                                  "work_type": "oral"}, author=school["t_petrova"])
    assert machine.post([later]).get_json()["results"][0]["status"] == "applied"
