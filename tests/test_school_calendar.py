"""The administrator edits the year's periods and holidays: config.yaml gives the defaults, the database's calendar
wins once saved (app/base/school_calendar.py), and every reader sees the same one through settings()."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import select

from app.base import file_settings, settings
from app.base.extensions import db
from app.base.models import AcademicYear, Holiday, Period, PeriodGrade
from app.staff.figures import period_for
from sync.replica import calendar_from, live
from tests import site_helpers
from tests.live import new_client
from tests.school import Machine, build_tiny_school
from tests.site_helpers import NOW, build, issue_links, links_of, page, post_week, two_families
from tests.staff_support import csrf_token, make_accounts, sign_in

site_app = site_helpers.site_app

PERIODS = [("01.09.2026", "24.10.2026"), ("05.11.2026", "29.12.2026"), ("12.01.2027", "20.03.2027"),
           ("30.03.2027", "31.05.2027")]


def calendar_form(client, holidays, periods=PERIODS):  # type: ignore[no-untyped-def]
    """The calendar form as the administrator fills it in."""
    form = {"csrf_token": csrf_token(client), "holiday_rows": str(len(holidays))}
    for n, (start, end) in enumerate(periods, start=1):
        form.update({f"period-{n}-name": f"{n} четверть", f"period-{n}-start": start, f"period-{n}-end": end})
    for n, (name, start, end) in enumerate(holidays, start=1):
        form.update({f"holiday-{n}-name": name, f"holiday-{n}-start": start, f"holiday-{n}-end": end})
    return form


HOLIDAYS = [("Осенние каникулы", "25.10.2026", "04.11.2026"),
            ("Дополнительные каникулы", "23.11.2026", "29.11.2026"),  # a quarantine week, say
            ("Зимние каникулы", "30.12.2026", "11.01.2027"), ("Весенние каникулы", "21.03.2027", "29.03.2027")]


def admin(site_app):  # type: ignore[no-untyped-def]
    client = site_app.test_client()
    school = build_tiny_school()
    make_accounts()
    sign_in(client, "admin")
    return client, school


def test_until_saved_the_file_is_in_force_and_once_saved_the_database_wins(site_app):
    client, _school = admin(site_app)
    assert settings().holidays == file_settings().holidays
    assert settings().holiday_on(dt.date(2026, 11, 24)) is None
    answer = client.post("/staff/calendar/", data=calendar_form(client, HOLIDAYS))
    assert answer.status_code == 302
    assert client.get("/staff/calendar/").get_data(as_text=True).count("Дополнительные каникулы") == 1
    found = settings().holiday_on(dt.date(2026, 11, 24))
    assert found is not None and found.name == "Дополнительные каникулы"
    assert file_settings().holiday_on(dt.date(2026, 11, 24)) is None  # the file is untouched
    runner = site_app.test_cli_runner()
    said = runner.invoke(args=["calendar"])  # `flask calendar` leaves the school's calendar alone, and says so
    assert said.exit_code == 0 and "изменены на странице «Календарь»" in said.output
    assert "Дополнительные каникулы" in set(db.session.scalars(select(Holiday.name)))
    assert client.post("/staff/calendar/reset", data={"csrf_token": csrf_token(client)}).status_code == 302
    assert settings().holiday_on(dt.date(2026, 11, 24)) is None
    assert "Дополнительные каникулы" not in set(db.session.scalars(select(Holiday.name)
                                                                  .where(Holiday.removed_at.is_(None))))


def test_a_wrong_calendar_is_refused_beside_the_field_and_nothing_changes(site_app):
    client, _school = admin(site_app)
    before = set(db.session.execute(select(Holiday.name, Holiday.start, Holiday.end)).all())
    periods = [PERIODS[0], ("05.11.2026", "01.11.2026"), *PERIODS[2:]]
    answer = client.post("/staff/calendar/", data=calendar_form(client, [*HOLIDAYS[:1], ("", "31.13.2026", "")],
                                                                periods))
    text = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert 'id="period-2-end-error"' in text and "Период кончается раньше, чем начинается." in text
    assert 'id="holiday-2-start-error"' in text and "Дата «31.13.2026» не понята" in text
    assert 'value="Осенние каникулы"' in text  # the form keeps what was typed
    db.session.rollback()
    year = db.session.scalars(select(AcademicYear)).one()
    assert year.calendar_edited_at is None
    assert set(db.session.execute(select(Holiday.name, Holiday.start, Holiday.end)).all()) == before
    outside = calendar_form(client, HOLIDAYS, [("01.08.2026", "24.10.2026"), *PERIODS[1:]])
    refused = client.post("/staff/calendar/", data=outside).get_data(as_text=True)
    assert "Период выходит за учебный год" in refused
    no_csrf = {k: v for k, v in calendar_form(client, HOLIDAYS).items() if k != "csrf_token"}
    assert client.post("/staff/calendar/", data=no_csrf).status_code == 400
    db.session.rollback()
    assert db.session.scalars(select(AcademicYear)).one().calendar_edited_at is None


def test_every_reader_sees_the_schools_calendar_site_machines_and_reports(site_app):
    client, school = admin(site_app)
    families = two_families(school)
    issue_links()
    machine: Machine = post_week(client, school)
    build(NOW)
    token = links_of(families["ivanovs"])[0].token
    assert "Дополнительные каникулы" not in page(token)
    assert client.post("/staff/calendar/", data=calendar_form(client, HOLIDAYS)).status_code == 302
    build(NOW)  # every family was queued
    assert "Дополнительные каникулы: 23.11.2026 – 29.11.2026" in page(token)  # the family site
    pulled = machine.post([], pull={"cursor": "0", "limit": 1000}).get_json()["changes"]
    names = {c["fields"]["name"] for c in pulled if c["entity"] == "holiday"}
    assert "Дополнительные каникулы" in names  # the machines' reference
    moved = calendar_form(client, HOLIDAYS, [PERIODS[0], ("05.11.2026", "27.12.2026"), *PERIODS[2:]])
    assert client.post("/staff/calendar/", data=moved).status_code == 302
    assert period_for(settings(), dt.date(2026, 12, 28)).end == dt.date(2026, 12, 27)  # the reports' periods
    pulled = machine.post([], pull={"cursor": "0", "limit": 1000}).get_json()["changes"]
    ends = {c["fields"]["end"] for c in pulled if c["entity"] == "period" and c["fields"]["number"] == 2}
    assert ends == {"2026-12-27"}


def test_a_holiday_removed_on_the_hub_leaves_the_machines_at_their_next_sync(site_app, tmp_path):
    client, _school = admin(site_app)
    assert client.post("/staff/calendar/", data=calendar_form(client, HOLIDAYS)).status_code == 302
    machine = new_client(site_app, tmp_path / "cab12.db")  # a classroom machine's client over the hub's WSGI app
    assert machine.sync().ok

    def held() -> set[str]:  # the machine's holidays: its pulled rows that are not removed
        return {r.values["name"] for r in machine.views("holiday").values() if not r.deleted}

    assert "Дополнительные каникулы" in held()
    kept = [h for h in HOLIDAYS if h[0] != "Дополнительные каникулы"]
    assert client.post("/staff/calendar/", data=calendar_form(client, kept)).status_code == 302  # the row cleared
    pulled = machine.sync()
    assert pulled.ok and pulled.pulled == 1  # only the removed holiday: nothing else changed
    assert held() == {name for name, _, _ in kept}
    gone = next(r for r in machine.views("holiday").values() if r.deleted)
    # an older client that reads no `deleted` on a holiday keeps it as it was, as before (backward compatible)
    assert (gone.values["name"], gone.values["start"], gone.values["end"]) == (
        "Дополнительные каникулы", "2026-11-23", "2026-11-29")
    assert settings().holiday_on(dt.date(2026, 11, 24)) is None  # nor on the hub
    assert client.post("/staff/calendar/", data=calendar_form(client, HOLIDAYS)).status_code == 302  # added again
    assert machine.sync().ok
    assert "Дополнительные каникулы" in held()
    fresh = new_client(site_app, tmp_path / "cab14.db", name="Кабинет 14")
    assert fresh.sync().ok
    assert {r.values["name"] for r in fresh.views("holiday").values() if not r.deleted} == held()


QUARTERS = """  period_kind: quarter
  # The periods, in order, without overlaps, inside the year.
  periods:
    - {name: "1 четверть", start: 2026-09-01, end: 2026-10-24}
    - {name: "2 четверть", start: 2026-11-05, end: 2026-12-29}
    - {name: "3 четверть", start: 2027-01-12, end: 2027-03-20}
    - {name: "4 четверть", start: 2027-03-30, end: 2027-05-31}
"""
TRIMESTERS = """  period_kind: trimester
  periods:
    - {name: "1 триместр", start: 2026-09-01, end: 2026-11-28}
    - {name: "2 триместр", start: 2026-11-30, end: 2027-02-27}
    - {name: "3 триместр", start: 2027-03-01, end: 2027-05-31}
"""


def trimester_hub(make_app, tmp_path):  # type: ignore[no-untyped-def]
    """A hub whose config.yaml divides the year into trimesters instead of the school's quarters."""
    text = (Path(__file__).resolve().parent.parent / "config.yaml").read_text(encoding="utf-8")
    assert QUARTERS in text
    config = tmp_path / "trimesters.yaml"
    config.write_text(text.replace(QUARTERS, TRIMESTERS), encoding="utf-8")
    return make_app(TETRAD_CONFIG=config)


def flask_calendar(hub):  # type: ignore[no-untyped-def]
    """`flask calendar` on that hub (in its own app context: the test's is another hub's)."""
    with hub.app_context():
        return hub.test_cli_runner().invoke(args=["calendar"])


def period_rows() -> list[tuple[int, str, str]]:
    return [tuple(r) for r in db.session.execute(select(Period.number, Period.kind, Period.name)
                                                  .where(Period.kind != "year").order_by(Period.number))]


def school_with_a_quarter_mark() -> list[tuple[int, str, str]]:
    """The tiny school with Иванова's mark for the second quarter; its period rows."""
    school = build_tiny_school()
    db.session.add(PeriodGrade(id="pg-1", clock=[], rev=1, device_id="dev-1", author_id=school["t_petrova"],
                               entered_hlc="0", scope_class_id=school["c7"], student_id=school["st_ivanova"],
                               subject_id=school["s_math"], period_id=school["q2"], value="5", status="graded"))
    db.session.commit()
    return period_rows()


REFUSED = "Период «2 четверть» нельзя убрать или сделать периодом другого вида: по нему выставлено итоговых отметок: 1."


def test_a_period_with_period_marks_is_neither_removed_nor_made_another_kind(app, make_app, tmp_path):
    quarters = school_with_a_quarter_mark()
    db.session.rollback()  # no read transaction left open: the next reads see what the command wrote
    trimesters = trimester_hub(make_app, tmp_path)
    answer = flask_calendar(trimesters)
    assert answer.exit_code == 1
    assert REFUSED in answer.output
    db.session.expire_all()
    assert period_rows() == quarters  # nothing written: the marks keep their quarter

    db.session.delete(db.session.get(PeriodGrade, "pg-1"))
    db.session.commit()
    assert flask_calendar(trimesters).exit_code == 0
    db.session.expire_all()
    assert period_rows() == [(1, "trimester", "1 триместр"), (2, "trimester", "2 триместр"),
                             (3, "trimester", "3 триместр")]


def test_the_calendar_pages_return_to_the_file_refuses_the_same_and_says_why(app, make_app, tmp_path):
    quarters = school_with_a_quarter_mark()
    make_accounts()
    db.session.commit()
    hub = trimester_hub(make_app, tmp_path)
    with hub.app_context():
        client = hub.test_client()
        sign_in(client, "admin")
        answer = client.post("/staff/calendar/reset", data={"csrf_token": csrf_token(client)}, follow_redirects=True)
        assert REFUSED in answer.get_data(as_text=True)
        assert period_rows() == quarters


def test_saving_the_calendar_page_over_periods_with_period_marks_is_refused_on_the_page_not_a_500(
        app, make_app, tmp_path):
    quarters = school_with_a_quarter_mark()  # and a mark for the fourth quarter, which trimesters do not have
    q4 = db.session.scalars(select(Period.id).where(Period.kind == "quarter", Period.number == 4)).one()
    first = db.session.get(PeriodGrade, "pg-1")
    assert first is not None
    db.session.add(PeriodGrade(id="pg-4", clock=[], rev=1, device_id="dev-1", author_id=first.author_id,
                               entered_hlc="0", scope_class_id=first.scope_class_id, student_id=first.student_id,
                               subject_id=first.subject_id, period_id=q4, value="4", status="graded"))
    make_accounts()
    db.session.commit()
    hub = trimester_hub(make_app, tmp_path)  # `flask calendar` was refused: the page shows the file's trimesters
    with hub.app_context():
        client = hub.test_client()
        sign_in(client, "admin")
        form = calendar_form(client, [], [("01.09.2026", "28.11.2026"), ("30.11.2026", "27.02.2027"),
                                          ("01.03.2027", "31.05.2027")])
        answer = client.post("/staff/calendar/", data=form)
        page = answer.get_data(as_text=True)
        assert answer.status_code == 400
        assert REFUSED in page  # beside the second period's name
        assert "Период «4 четверть» нельзя убрать" in page  # no field of its own on the page: said above the form
        db.session.expire_all()
        assert period_rows() == quarters
        assert db.session.scalars(select(AcademicYear.calendar_edited_at)).one() is None


def test_a_deleted_period_mark_still_keeps_its_period_and_is_named_as_deleted(app, make_app, tmp_path):
    quarters = school_with_a_quarter_mark()
    grade = db.session.get(PeriodGrade, "pg-1")
    assert grade is not None
    grade.deleted = True  # a teacher deleted it: the row stays, and with it the foreign key
    db.session.commit()
    answer = flask_calendar(trimester_hub(make_app, tmp_path))
    assert answer.exit_code == 1
    assert ("Период «2 четверть» нельзя убрать или сделать периодом другого вида: по нему выставлено итоговых "
            "отметок: 0 (и удалённых, которые журнал хранит: 1).") in answer.output
    db.session.expire_all()
    assert period_rows() == quarters


def test_a_period_removed_from_the_calendar_leaves_the_machines_at_their_next_sync(app, make_app, tmp_path):
    build_tiny_school()
    machine = new_client(app, tmp_path / "cab12.db")  # a classroom machine's client over the hub's WSGI app
    try:
        assert machine.sync().ok

        def held() -> list[str]:  # the periods the machine's journal offers: pulled, not removed
            return sorted(r.values["name"] for r in live(machine.store.records("period")).values())

        assert held() == ["1 четверть", "2 четверть", "3 четверть", "4 четверть"]
        fourth = next(pid for pid, r in machine.store.records("period").items() if r.values["number"] == 4)
        db.session.rollback()
        assert flask_calendar(trimester_hub(make_app, tmp_path)).exit_code == 0  # no marks: the 4th quarter goes
        report = machine.sync()
        assert report.ok and report.pulled == 4  # three periods renamed, the fourth removed
        assert held() == ["1 триместр", "2 триместр", "3 триместр"]
        gone = machine.store.records("period")[fourth]
        assert gone.values["deleted"] is True and gone.values["name"] == "4 четверть"  # its last fields, as sent
        assert calendar_from(machine.store, machine.store.get("status") or {}).year_end == dt.date(2027, 5, 31)
        fresh = new_client(app, tmp_path / "cab14.db", name="Кабинет 14")  # a machine set up afterwards
        try:
            assert fresh.sync().ok
            assert sorted(r.values["name"] for r in live(fresh.store.records("period")).values()) == held()
        finally:
            fresh.close()
    finally:
        machine.close()
