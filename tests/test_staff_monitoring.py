"""Parents' viewing: the weeks of a period, each cell's state from real views and confirmations, silent families."""

from __future__ import annotations

import csv
import datetime as dt
import io

from app.base import settings
from app.base.extensions import db
from app.base.models import Consent, Family, FamilyLink, Guardian, Student, WeekAck
from app.staff import viewing
from static_site.access import family_access
from static_site.links import issue
from sync import clock
from tests.school import build_tiny_school
from tests.staff_support import family_with_link, make_accounts, sign_in

BROWSER = {"User-Agent": "Mozilla/5.0 (Linux; Android 9) Chrome/120 Mobile"}
TODAY = dt.date(2026, 11, 22)


def test_the_weeks_of_a_period_run_to_the_next_period_holidays_included(app):
    weeks = viewing.period_weeks(settings(), settings().periods[1], TODAY)
    assert [w.monday.isoformat() for w in weeks][:3] == ["2026-11-02", "2026-11-09", "2026-11-16"]
    assert weeks[-1].monday == dt.date(2027, 1, 4) and weeks[-1].holiday and not weeks[-2].holiday
    assert [w.key for w in weeks][:3] == ["2026-W45", "2026-W46", "2026-W47"]
    assert [w.future for w in weeks][2:4] == [False, True]  # Sunday 22.11 still belongs to the week of 16.11
    autumn = viewing.period_weeks(settings(), settings().periods[0], TODAY)
    assert autumn[-1].monday == dt.date(2026, 10, 26) and autumn[-1].holiday  # the autumn holidays after the 1st


def _smirnov_family(school, days_ago: int) -> Family:
    """Смирнов's father, with consent and a link issued `days_ago` days ago, who never opened anything."""
    father = Guardian(last_name="Смирнов", first_name="Олег", middle_name="Петрович", phone="+7 900 000-00-02",
                      relation="отец")
    family = Family(name="Смирновы", channel="both", guardians=[father],
                    students=[db.session.get(Student, school["st_smirnov"])])
    db.session.add(family)
    db.session.flush()
    db.session.add(Consent(guardian_id=father.id, state="given", on=dt.date(2026, 9, 1), basis="заявление № 9",
                           channel="paper"))
    db.session.flush()
    now = clock.now()
    access = family_access([family.id], settings().today(now), now)[family.id]
    issue(access, father, now).issued_at = now - dt.timedelta(days=days_ago)
    db.session.commit()
    return family


def test_cells_join_views_confirmations_changes_and_paper_slips(client):
    school = build_tiny_school()
    make_accounts()
    family, guardian, link = family_with_link(school)
    for week in ("2026-W46", "2026-W47"):
        assert client.get(f"/d/{link.token}/seen-{week}.css", headers=BROWSER).status_code == 200
    for week in ("2026-W46", "2026-W47"):
        assert client.post("/ack", data={"token": link.token, "week": week, "v": "ab12"}).status_code == 200
    db.session.execute(WeekAck.__table__.update().where(WeekAck.week == "2026-W46")
                       .values(changed_at=clock.now()))  # what the site's build does on a change
    db.session.add(WeekAck(family_id=family.id, guardian_id=guardian.id, link_id=None, week="2026-W45",
                           confirmed_at=dt.datetime(2026, 11, 7, 10, 0, tzinfo=dt.UTC), digest=""))
    db.session.commit()
    weeks = viewing.period_weeks(settings(), settings().periods[1], TODAY)
    rows = {r.student.last_name: r for r in viewing.class_table(settings(), school["c7"], weeks, TODAY)}
    ivanova = rows["Иванова"]
    assert [c.state for c in ivanova.cells][:4] == ["confirmed", "changed", "confirmed", "future"]
    assert ivanova.cells[0].paper and not ivanova.cells[2].paper
    assert ivanova.cells[0].confirmed_at.date() == dt.date(2026, 11, 7)
    assert (ivanova.count("confirmed", paper=False), ivanova.count("confirmed", paper=True)) == (1, 1)
    assert [c.state for c in rows["Смирнов"].cells][:4] == ["none", "none", "none", "future"]

    sign_in(client, "petrova")
    text = client.get(f"/staff/monitoring/table.csv?class={school['c7']}&period=2").get_data(as_text=True)
    table = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    assert table[0][:3] == ["Ученик", "02.11.2026–07.11.2026", "09.11.2026–14.11.2026"]
    confirmed_on = clock.now().astimezone(settings().timezone).strftime("%d.%m.%Y")
    assert table[1][:4] == ["Иванова Мария Петровна", "на бумаге 07.11.2026", "изменено после ознакомления",
                            confirmed_on]
    assert table[1][-3:] == ["1", "1", "0"]
    page = client.get("/staff/monitoring/").get_data(as_text=True)  # her only class opens directly
    assert "Просмотр дневника родителями: класс 7А, 2 четверть" in page
    assert 'class="cell changed"' in page and 'class="cell confirmed"' in page


def test_a_week_opened_but_not_confirmed_is_green_without_a_date(client):
    school = build_tiny_school()
    _family, _guardian, link = family_with_link(school)
    client.get(f"/d/{link.token}/seen-2026-W47.css", headers=BROWSER)
    client.get(f"/d/{link.token}/seen-2026-W47.css", headers={"User-Agent": "TelegramBot (like TwitterBot)"})
    client.get(f"/d/{link.token}/seen-2026-W46.css", headers={"User-Agent": "TelegramBot (like TwitterBot)"})
    weeks = viewing.period_weeks(settings(), settings().periods[1], TODAY)
    rows = viewing.class_table(settings(), school["c7"], weeks, TODAY)
    assert [c.state for c in rows[0].cells][:3] == ["none", "none", "opened"]  # a preview bot is no reader


def test_families_silent_for_two_weeks_are_listed_with_their_phones(client):
    school = build_tiny_school()
    make_accounts()
    _family, _guardian, link = family_with_link(school)
    client.get(f"/d/{link.token}/seen-2026-W47.css", headers=BROWSER)
    _smirnov_family(school, days_ago=20)
    now = clock.now()
    silent = viewing.silent_families(school["c7"], settings().today(now), now)
    assert [(s.family.name, s.ever) for s in silent] == [("Смирновы", False)]
    db.session.execute(FamilyLink.__table__.update().values(issued_at=now - dt.timedelta(days=10)))
    db.session.commit()
    assert viewing.silent_families(school["c7"], settings().today(now), now) == []
    db.session.execute(FamilyLink.__table__.update().values(issued_at=now - dt.timedelta(days=30)))
    db.session.commit()
    sign_in(client, "petrova")
    page = client.get(f"/staff/monitoring/?class={school['c7']}").get_data(as_text=True)
    silent_part = page.split('id="silent"')[1]
    assert "Смирновы" in silent_part and "+7 900 000-00-02" in silent_part and "Ивановы" not in silent_part


def test_with_links_issued_today_and_no_visit_the_page_says_so_not_that_everyone_opened_it(client):
    school = build_tiny_school()
    make_accounts()
    family_with_link(school)  # a link issued now, never opened
    sign_in(client, "petrova")
    page = client.get(f"/staff/monitoring/?class={school['c7']}").get_data(as_text=True)
    silent_part = page.split('id="silent"')[1]
    assert "недавно открывали" not in silent_part and "открывали дневник за это время" not in silent_part
    assert "Посещений пока нет: всем ссылкам меньше 14 дн." in silent_part
    assert "последние ссылки выданы сегодня" in silent_part
    linked = viewing.linked_families(school["c7"], TODAY, clock.now())
    assert (linked.live, linked.fresh) == (1, 1)


def test_the_leaders_dashboard_counts_the_families_to_phone_per_class_without_their_names(client):
    school = build_tiny_school()
    make_accounts()
    sign_in(client, "zavuch")
    assert "Звонить никому не нужно." in client.get("/staff/dashboard/").get_data(as_text=True)
    _smirnov_family(school, days_ago=20)
    calls = client.get("/staff/dashboard/").get_data(as_text=True).split('id="calls"')[1]
    assert "7А</a>: 1" in calls and "Смирнов" not in calls and "+7 900" not in calls
