"""The family's week pages show what is planned (002 reg. §2.1): the deputy's substitutions, moved and cancelled
lessons, homework announced ahead, and a page for the week ahead when something is planned in it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from app.base.extensions import db
from app.base.models import DirtyFamily, TimetableChange
from app.base.timetable_changes import plan, remove
from tests import site_helpers
from tests.school import build_tiny_school, lesson_fields, ms_at
from tests.site_helpers import NOW, add_family, build, issue_links, links_of, page_path, post_week, two_families

site_app = site_helpers.site_app

MONDAY = dt.date(2026, 11, 23)  # the week after NOW's (NOW is Sunday 22.11.2026)
AHEAD = "2026-W48"


def setup(client):  # type: ignore[no-untyped-def]
    """The tiny school, the two families, a third with the first grader only, their links and a built site."""
    school = build_tiny_school()
    families = two_families(school)
    families["belovs"] = add_family("Беловы", [school["st_first_grader"]], [
        ("Белова", "Нина", "Ивановна", "мать", "given")])
    db.session.commit()
    issue_links()
    post_week(client, school)
    build(NOW)
    return school, families


def dirty() -> set[str]:
    """The families on the rebuild queue."""
    return set(db.session.scalars(select(DirtyFamily.family_id)))


def text(token: str, name: str) -> str:
    """A published page's text, or "" when it is not there."""
    path = page_path(token, name)
    return path.read_text(encoding="utf-8") if path.exists() else ""


def test_planned_changes_show_on_the_week_ahead_in_russian_and_it_cannot_be_confirmed(site_app):
    school, families = setup(site_app.test_client())
    plan("substitution", MONDAY, 2, school["c7"], teacher_id=school["t_outsider"], subject_id=school["s_math"],
         by="deputy")
    plan("cancelled", MONDAY + dt.timedelta(days=1), 1, school["c7"], subject_id=school["s_math"], by="deputy")
    plan("moved", MONDAY + dt.timedelta(days=1), 3, school["c7"], subject_id=school["s_russian"],
         to_date=MONDAY + dt.timedelta(days=2), to_slot=3, by="deputy")
    db.session.commit()
    build(NOW)
    mother = links_of(families["ivanovs"])[0]
    ahead = text(mother.token, AHEAD)
    assert "Неделя 23–28 ноября 2026" in ahead
    assert "Замена: Орлов И. С." in ahead
    assert "Урок отменён" in ahead
    assert "Урок перенесён на 25.11.2026, 3-й урок" in ahead
    assert "Перенесён с 24.11.2026, 3-й урок" in ahead  # and on its new day
    assert 'name="week"' not in ahead and "когда она начнётся" in ahead  # no confirmation before it begins
    assert f'href="{AHEAD}.html"' in text(mother.token, "index")  # the current week links to it
    smirnov = links_of(families["smirnovs"])[0]
    assert "Замена: Орлов И. С." in text(smirnov.token, AHEAD)  # a classmate's family too


def test_homework_announced_ahead_is_shown_on_the_week_ahead(site_app):
    client = site_app.test_client()
    school, families = setup(client)
    machine = post_week(client, school)
    lesson, fields = lesson_fields(school, day=MONDAY, slot=1, topic="Системы уравнений", homework="§ 12, № 301")
    answer = machine.post([machine.op("lesson", lesson, fields, author=school["t_petrova"],
                                      at=ms_at(dt.date(2026, 11, 22), 11))])
    assert [r["status"] for r in answer.get_json()["results"]] == ["applied"]
    assert families["ivanovs"].id in dirty()
    build(NOW)
    ahead = text(links_of(families["ivanovs"])[0].token, AHEAD)
    assert "Системы уравнений" in ahead and "Д/з: § 12, № 301" in ahead


def test_the_week_ahead_is_built_only_for_a_family_with_something_planned_in_it(site_app):
    school, families = setup(site_app.test_client())
    belova = links_of(families["belovs"])[0]
    assert text(belova.token, "index") and not text(belova.token, AHEAD)  # 1А has nothing planned next week
    assert text(links_of(families["ivanovs"])[0].token, AHEAD)  # 7А has a test on 26.11
    plan("cancelled", MONDAY + dt.timedelta(days=3), 1, school["c1"], subject_id=school["s_math"], by="deputy")
    db.session.commit()
    build(NOW)
    assert "Урок отменён" in text(belova.token, AHEAD)


def test_planning_or_removing_a_change_queues_exactly_the_classs_families(site_app):
    school, families = setup(site_app.test_client())
    assert dirty() == set()
    change = plan("cancelled", MONDAY, 1, school["c1"], by="deputy")
    db.session.commit()
    assert dirty() == {families["ivanovs"].id, families["belovs"].id}  # 1А's families, not the Smirnovs
    build(NOW)
    token = links_of(families["belovs"])[0].token
    assert "Урок отменён" in text(token, AHEAD)
    remove(change.id)
    db.session.commit()
    assert dirty() == {families["ivanovs"].id, families["belovs"].id}
    build(NOW)
    assert db.session.get(TimetableChange, change.id).removed_at is not None
    assert not text(token, AHEAD)  # nothing planned any more: no week-ahead page


def test_a_change_in_the_current_week_is_shown_and_counts_in_the_weeks_digest(site_app):
    school, families = setup(site_app.test_client())
    token = links_of(families["ivanovs"])[0].token
    week = "2026-W47"
    before = text(token, "index")
    plan("substitution", dt.date(2026, 11, 20), 4, school["c7"], teacher_id=school["t_sidorov"],
         subject_id=school["s_russian"], by="deputy")
    db.session.commit()
    build(NOW)
    after = text(token, "index")
    assert "Замена: Сидоров О. П." in after and "Замена: Сидоров О. П." not in before
    digest = [line for line in after.splitlines() if f'value="{week}"' in line]
    assert digest and digest != [line for line in before.splitlines() if f'value="{week}"' in line]


def test_the_paper_slip_of_the_week_shows_the_deputys_changes_too(site_app):
    from app.base import settings
    from app.base.models import Student
    from static_site.paper.slips import make_slip
    from static_site.paper.snapshots import WeekSnapshot

    school, _families = setup(site_app.test_client())
    plan("moved", dt.date(2026, 11, 19), 4, school["c7"], subject_id=school["s_russian"],
         to_date=dt.date(2026, 11, 20), to_slot=5, by="deputy")
    db.session.commit()
    student = db.session.get(Student, school["st_smirnov"])
    slip = make_slip(WeekSnapshot(settings(), dt.date(2026, 11, 16)), student, 1)
    notes = [row.note for day in slip.days for row in day["rows"]]
    assert "Урок перенесён на 20.11.2026, 5-й урок" in notes and "Перенесён с 19.11.2026, 4-й урок" in notes
    assert "Замена: Петрова А. И." in notes  # the substitution post_week's deputy planned
