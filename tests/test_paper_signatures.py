"""A returned slip signed by a guardian counts as the family's confirmation of the week, on paper."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from app.base import settings
from app.base.extensions import db
from app.base.models import DirtyFamily, Family, WeekAck
from app.staff import viewing
from static_site.access import family_access
from static_site.data import Snapshot
from static_site.pages import family_content
from sync import clock
from tests.paper_support import PaperSchool, day, family, give_link

TODAY = dt.date(2026, 11, 22)


def sign(runner, *args: str):
    """Run `flask slips sign …`."""
    return runner.invoke(args=["slips", "sign", *args])


def site_digest(family_id: str, week: str) -> str:
    """The week's digest as the site's builder computes it today for the family's pages."""
    now = clock.now()
    today = settings().today(now)
    access = family_access([family_id], today, now)[family_id]
    return family_content(Snapshot(settings(), today), access.children).digests[week]


def test_a_signed_slip_is_the_familys_confirmation_on_paper_in_the_staff_table(client, runner):
    school = PaperSchool(client)
    school.week_47()
    result = sign(runner, "--student", "S1", "--week", "2026-W47", "--on", "20.11.2026")
    assert result.exit_code == 0, result.output
    assert ("Семья «Ивановы»: Иванова Ольга Николаевна подписал(а) выписку за неделю 16–21 ноября 2026; "
            "подпись от 20.11.2026") in result.output
    ack = db.session.scalars(select(WeekAck)).one()
    assert (ack.family_id, ack.guardian_id, ack.week, ack.link_id) == (school.ivanovy.id, school.mother.id,
                                                                       "2026-W47", None)
    assert ack.confirmed_at.replace(tzinfo=ack.confirmed_at.tzinfo or dt.UTC).astimezone(
        settings().timezone).date() == dt.date(2026, 11, 20)
    assert db.session.get(DirtyFamily, school.ivanovy.id) is not None  # the site shows it at the next build
    weeks = viewing.period_weeks(settings(), settings().periods[1], TODAY)
    row = next(r for r in viewing.class_table(settings(), school["c7"], weeks, TODAY) if r.student.file_no == "S1")
    cell = row.cells[[w.key for w in weeks].index("2026-W47")]
    assert (cell.state, cell.paper, cell.confirmed_at.astimezone(settings().timezone).date()) == (
        "confirmed", True, dt.date(2026, 11, 20))
    assert row.count("confirmed", paper=True) == 1


def test_a_paper_confirmation_carries_the_sites_digest_so_later_changes_show(client, runner):
    school = PaperSchool(client)
    school.week_47()
    db.session.get(Family, school.smirnovy.id).channel = "both"
    db.session.commit()
    give_link(school.smirnovy, school.father)
    assert sign(runner, "--student", "S2", "--week", "2026-W47", "--on", "21.11.2026").exit_code == 0
    ack = db.session.scalars(select(WeekAck).where(WeekAck.family_id == school.smirnovy.id)).one()
    assert ack.digest == site_digest(school.smirnovy.id, "2026-W47")  # the builder sees nothing changed
    school.post([school.mark("m-sm-late", "wed-math", "st_smirnov", "2", "homework", day(2))])
    assert site_digest(school.smirnovy.id, "2026-W47") != ack.digest  # …until a mark comes in for that week


def test_a_student_with_several_guardians_needs_the_signer_named(client, runner):
    school = PaperSchool(client)
    second, father = family("Иванов П. С.", "paper", [school["st_ivanova"]], ("Иванов", "Пётр", "Сергеевич", "отец"))
    db.session.commit()
    result = sign(runner, "--student", "S1", "--week", "2026-W47", "--on", "20.11.2026")
    assert result.exit_code == 1 and "Укажите --guardian" in result.output
    assert "Иванов Пётр Сергеевич (отец)" in result.output and "Иванова Ольга Николаевна (мать)" in result.output
    result = sign(runner, "--student", "S1", "--week", "2026-W47", "--on", "20.11.2026", "--guardian", "иванов пётр")
    assert result.exit_code == 0, result.output
    ack = db.session.scalars(select(WeekAck)).one()
    assert (ack.family_id, ack.guardian_id) == (second.id, father.id)
    result = sign(runner, "--student", "S1", "--week", "2026-W47", "--on", "20.11.2026", "--guardian", "Петров")
    assert result.exit_code == 1 and "нет законного представителя «Петров»" in result.output


def test_only_a_past_week_signed_within_it_or_since_is_accepted(client, runner):
    PaperSchool(client)
    for week, on, words in (("2026-W49", "20.11.2026", "ещё не наступила"),
                            ("2026-W47", "13.11.2026", "не раньше понедельника недели"),
                            ("2026-W47", "30.11.2026", "не позже сегодняшнего дня"),
                            ("2026-W47", "вчера", "Дата «вчера» не понята")):
        result = sign(runner, "--student", "S1", "--week", week, "--on", on)
        assert result.exit_code == 1 and words in result.output, result.output
    result = sign(runner, "--student", "S404", "--week", "2026-W47", "--on", "20.11.2026")
    assert result.exit_code == 1 and "номером личного дела «S404» не найден" in result.output
    assert db.session.scalars(select(WeekAck)).all() == []


def test_a_standing_confirmation_by_link_is_kept(client, runner):
    school = PaperSchool(client)
    db.session.get(Family, school.smirnovy.id).channel = "both"
    db.session.commit()
    token = give_link(school.smirnovy, school.father)
    assert client.post("/ack", data={"token": token, "week": "2026-W47", "v": "ab12"}).status_code == 200
    before = db.session.scalars(select(WeekAck)).one()
    link_id, confirmed_at = before.link_id, before.confirmed_at
    result = sign(runner, "--student", "S2", "--week", "2026-W47", "--on", "20.11.2026")
    assert result.exit_code == 0 and "уже подтверждена по ссылке" in result.output
    db.session.expire_all()
    after = db.session.scalars(select(WeekAck)).one()
    assert (after.link_id, after.confirmed_at) == (link_id, confirmed_at) and link_id is not None
