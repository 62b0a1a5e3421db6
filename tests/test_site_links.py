"""Who may see what, family links and their commands, and the forecast rule the pages print."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from sqlalchemy import select

from app.base.extensions import db
from app.base.forecast import NOT_ENOUGH, forecast, weighted_average
from app.base.models import Consent, FamilyLink, Student
from static_site.access import age_on, family_access, visible_children
from static_site.links import TOKEN_PATTERN, new_token
from tests import site_helpers
from tests.school import build_tiny_school
from tests.site_helpers import NOW, add_family, issue_links, links_of, two_families

site_app = site_helpers.site_app  # the fixture: a hub whose site goes to tmp_path/site

TODAY = NOW.date()
WEIGHTS = {"oral": 1.0, "test": 2.0, "independent": 1.5}
THRESHOLDS = {"5": 4.6, "4": 3.6, "3": 2.6}


def test_token_is_160_random_bits_in_lowercase_base32():
    tokens = {new_token() for _ in range(2000)}
    assert len(tokens) == 2000
    assert all(TOKEN_PATTERN.match(t) for t in tokens)  # 32 base32 characters = 160 bits
    assert len({t[:8] for t in tokens}) > 1990  # no common prefix: nothing derived from a counter or an id


def test_links_go_only_to_consenting_guardians_of_families_with_the_link_channel(site_app):
    school = build_tiny_school()
    both = add_family("Оба согласны", [school["st_ivanova"]], [
        ("Иванова", "Ольга", "Николаевна", "мать", "given"), ("Иванов", "Пётр", "Сергеевич", "отец", "given")])
    one = add_family("Согласна мать", [school["st_smirnov"]], [
        ("Смирнова", "Елена", "Викторовна", "мать", "given"), ("Смирнов", "Олег", "Павлович", "отец", None)])
    paper = add_family("На бумаге", [school["st_first_grader"]], [("Белова", "Анна", "Ильинична", "мать", "given")],
                       channel="paper")
    nobody = add_family("Без согласия", [school["st_first_grader"]], [("Белов", "Илья", "Олегович", "отец", None)])
    mixed = add_family("Оба канала", [school["st_first_grader"]], [("Белова", "Вера", "Ильинична", "опекун", "given")],
                       channel="both")
    db.session.commit()
    issue_links()
    assert len(links_of(both)) == 2
    assert [link.guardian_id for link in links_of(one)] == [next(g.id for g in one.guardians if g.relation == "мать")]
    assert links_of(paper) == [] and links_of(nobody) == []
    assert len(links_of(mixed)) == 1
    assert issue_links() == []  # issuing again gives nobody a second link


@pytest.mark.parametrize(("change", "visible"), [
    ("nothing", True),
    ("left_yesterday", False),
    ("leaves_tomorrow", True),
    ("turns_18_today", False),
    ("turns_18_tomorrow", True),
    ("enrolled_tomorrow", False),
])
def test_a_child_is_shown_while_enrolled_and_under_18(site_app, change, visible):
    school = build_tiny_school()
    family = add_family("Смирновы", [school["st_smirnov"]], [("Смирнова", "Елена", "Викторовна", "мать", "given")])
    student = db.session.get(Student, school["st_smirnov"])
    if change == "left_yesterday":
        student.left_on = TODAY
    elif change == "leaves_tomorrow":
        student.left_on = TODAY + dt.timedelta(days=1)
    elif change == "turns_18_today":
        student.birth_date = TODAY.replace(year=TODAY.year - 18)
    elif change == "turns_18_tomorrow":
        student.birth_date = (TODAY + dt.timedelta(days=1)).replace(year=TODAY.year - 18)
    elif change == "enrolled_tomorrow":
        student.enrolled_on = TODAY + dt.timedelta(days=1)
    db.session.commit()
    assert bool(visible_children(family, TODAY)) is visible


def test_age_counts_full_years_and_leap_day_birthdays():
    assert age_on(dt.date(2008, 11, 22), dt.date(2026, 11, 22)) == 18
    assert age_on(dt.date(2008, 11, 23), dt.date(2026, 11, 22)) == 17
    assert age_on(dt.date(2008, 2, 29), dt.date(2026, 2, 28)) == 17
    assert age_on(dt.date(2008, 2, 29), dt.date(2026, 3, 1)) == 18


def test_consent_withdrawn_by_the_only_consenting_guardian_hides_every_child(site_app):
    school = build_tiny_school()
    family = add_family("Смирновы", [school["st_smirnov"]], [("Смирнова", "Елена", "Викторовна", "мать", "given")])
    db.session.commit()
    mother = family.guardians[0]
    db.session.add(Consent(guardian_id=mother.id, state="withdrawn", on=TODAY, channel="link"))
    db.session.commit()
    assert visible_children(family, TODAY) == []
    db.session.add(Consent(guardian_id=mother.id, state="given", on=TODAY, channel="link"))  # same day: withdrawal wins
    db.session.commit()
    assert visible_children(family, TODAY) == []
    db.session.add(Consent(guardian_id=mother.id, state="given", on=TODAY + dt.timedelta(days=1), channel="link"))
    db.session.commit()
    assert visible_children(family, TODAY + dt.timedelta(days=1)) != []


def test_a_guardian_who_withdraws_loses_their_link_while_the_other_keeps_theirs(site_app):
    school = build_tiny_school()
    families = two_families(school)
    issue_links()
    mother_link, father_link = links_of(families["ivanovs"])
    db.session.add(Consent(guardian_id=mother_link.guardian_id, state="withdrawn", on=TODAY, channel="link"))
    db.session.commit()
    access = family_access([families["ivanovs"].id], TODAY, NOW)[families["ivanovs"].id]
    assert [link.id for link in access.live] == [father_link.id]
    assert len(access.children) == 2


def test_revoked_and_expired_links_are_not_live(site_app):
    school = build_tiny_school()
    families = two_families(school)
    issue_links()
    mother_link, father_link = links_of(families["ivanovs"])
    mother_link.revoked_at = NOW
    father_link.expires_at = NOW - dt.timedelta(minutes=1)
    db.session.commit()
    assert family_access([families["ivanovs"].id], TODAY, NOW)[families["ivanovs"].id].live == []


def test_links_commands_issue_rotate_revoke_and_export(site_app):
    school = build_tiny_school()
    families = two_families(school)
    runner = site_app.test_cli_runner()
    issued = runner.invoke(args=["links", "issue", "--all"])
    assert issued.exit_code == 0 and "Выдано ссылок: 3" in issued.output
    exported = runner.invoke(args=["links", "export", "--format", "csv"])
    rows = list(csv.reader(io.StringIO(exported.output)))
    assert rows[0] == ["Семья", "Родитель", "Ссылка", "Дети"]
    ivanov_rows = [r for r in rows[1:] if r[0] == "Ивановы"]
    assert {r[1] for r in ivanov_rows} == {"Иванова Ольга Николаевна", "Иванов Пётр Сергеевич"}
    assert all(r[2].startswith("http://127.0.0.1:5000/d/") and r[2].endswith("/") for r in rows[1:])
    assert ivanov_rows[0][3] == "Иванова Мария Петровна (7А); Белова Ольга Ивановна (1А)"
    old = links_of(families["smirnovs"])[0]
    rotated = runner.invoke(args=["links", "rotate", f"http://127.0.0.1:5000/d/{old.token}/"])
    assert rotated.exit_code == 0, rotated.output
    db.session.expire_all()
    assert db.session.get(FamilyLink, old.id).revoked_reason == "rotated"
    new = [link for link in links_of(families["smirnovs"]) if link.revoked_at is None]
    assert len(new) == 1 and new[0].token in rotated.output and new[0].token != old.token
    revoked = runner.invoke(args=["links", "revoke", "--family", "Ивановы"])
    assert revoked.exit_code == 0 and "Отозвано ссылок: 2" in revoked.output
    rows = list(csv.reader(io.StringIO(runner.invoke(args=["links", "export"]).output)))
    assert [r[0] for r in rows[1:]] == ["Смирновы"]
    refused = runner.invoke(args=["links", "issue", "--guardian", "no-such-guardian"])
    assert refused.exit_code != 0 and "не найден" in refused.output


def test_issue_is_refused_without_consent(site_app):
    school = build_tiny_school()
    add_family("Без согласия", [school["st_smirnov"]], [("Смирнов", "Олег", "Павлович", "отец", None)])
    db.session.commit()
    result = site_app.test_cli_runner().invoke(args=["links", "issue", "--family", "Без согласия"])
    assert result.exit_code != 0 and "нет родителя с согласием" in result.output
    assert db.session.scalars(select(FamilyLink)).all() == []


def test_weighted_average_counts_a_test_twice_and_ignores_pass_marks():
    assert weighted_average([("5", "test"), ("3", "oral")], WEIGHTS) == 4.33
    assert weighted_average([("зачёт", "oral")], WEIGHTS) is None
    assert weighted_average([("4", "unknown"), ("5", "oral"), ("незачёт", "test")], WEIGHTS) == 4.5


@pytest.mark.parametrize(("marks", "expected"), [
    ([("5", "test"), ("4", "oral"), ("5", "oral")], "5"),  # 4,75
    ([("5", "oral"), ("4", "oral"), ("5", "oral"), ("4", "oral"), ("5", "independent")], "5"),  # 4,64
    ([("4", "oral"), ("4", "oral"), ("4", "test")], "4"),  # 4,00
    ([("4", "oral"), ("4", "oral"), ("3", "test")], "3"),  # 3,50
    ([("3", "oral"), ("2", "oral"), ("2", "oral")], "2"),  # 2,33
    ([("5", "oral"), ("5", "oral")], NOT_ENOUGH),  # 2 marks where 3 are needed
])
def test_forecast_reads_the_average_against_the_thresholds(marks, expected):
    assert forecast(marks, WEIGHTS, THRESHOLDS, needed=3).mark == expected


def test_forecast_at_a_threshold_uses_the_shown_average():
    # 4,595 is shown as 4,60, so the forecast must be 5, not 4
    marks = [("5", "oral")] * 119 + [("4", "oral")] * 81  # average 4.595
    result = forecast(marks, {"oral": 1.0}, THRESHOLDS, needed=3)
    assert result.average == 4.6 and result.mark == "5"
