"""Helpers and fixtures for the family-site tests: a hub with its own site folder, families, links, pages.

The tiny school (tests/school.py) gets two families: the Ivanovs (Мария in 7А and Ольга in 1А, mother and
father each with consent, so two links) and the Smirnovs (Павел in 7А, mother with consent). Its journal
arrives only through sync: `post_week` sends a week of 7А and 1А as a classroom machine would.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from app.base import settings
from app.base.calendar import monday, week_id
from app.base.extensions import db
from app.base.models import Consent, Family, FamilyLink, Guardian, Student
from app.base.timetable_changes import active_change, plan
from static_site.build import build_dirty, site_lock, sweep
from static_site.links import issue_missing
from tests.conftest import ROOT, _empty_all_tables
from tests.hub_process import HubProcess
from tests.school import LESSON_DAY, Machine, attendance_key, lesson_fields, ms_at, period_grade_key

NOW = dt.datetime(2026, 11, 22, 9, 0, tzinfo=dt.UTC)  # a Sunday: the week of LESSON_DAY is the current week
_phones = itertools.count(1000)


def site_config(folder: Path, base_url: str = "http://127.0.0.1:5000") -> Path:
    """A copy of config.yaml whose site is written into `folder`/site."""
    text = (ROOT / "config.yaml").read_text(encoding="utf-8")
    text = text.replace("output_dir: var/site", f"output_dir: {folder / 'site'}")
    text = re.sub(r'base_url: ".*"', f'base_url: "{base_url}"', text)
    path = folder / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def site_app(make_app: Any, tmp_path: Path) -> Iterator[Flask]:
    """A hub whose family site goes to tmp_path/site, on an emptied database."""
    app = make_app(TETRAD_CONFIG=site_config(tmp_path))
    with app.app_context():
        _empty_all_tables()
        yield app
        db.session.remove()


def add_family(name: str, students: list[str], guardians: list[tuple[str, str, str, str, str | None]],
               channel: str = "link") -> Family:
    """A family of these students; guardians as (last, first, middle, relation, consent state or None)."""
    family = Family(name=name, channel=channel)
    for last, first, middle, relation, consent in guardians:
        guardian = Guardian(last_name=last, first_name=first, middle_name=middle, relation=relation,
                            phone=f"+7 900 000-{next(_phones)}")
        family.guardians.append(guardian)
        db.session.add(guardian)
        db.session.flush()
        if consent:
            db.session.add(Consent(guardian_id=guardian.id, state=consent, on=dt.date(2026, 9, 1), channel="link"))
    family.students.extend(db.session.get(Student, s) for s in students)
    db.session.add(family)
    db.session.flush()
    return family


def two_families(school: Any) -> dict[str, Family]:
    """The Ivanovs (two children, two guardians with consent) and the Smirnovs (one child)."""
    ivanovs = add_family("Ивановы", [school["st_ivanova"], school["st_first_grader"]], [
        ("Иванова", "Ольга", "Николаевна", "мать", "given"), ("Иванов", "Пётр", "Сергеевич", "отец", "given")])
    smirnovs = add_family("Смирновы", [school["st_smirnov"]], [("Смирнова", "Елена", "Викторовна", "мать", "given")])
    db.session.commit()
    return {"ivanovs": ivanovs, "smirnovs": smirnovs}


def withdraw_consent(guardian_id: str, on: dt.date = dt.date(2026, 11, 20)) -> None:
    """Record a guardian's withdrawal of consent."""
    db.session.add(Consent(guardian_id=guardian_id, state="withdrawn", on=on, channel="link"))
    db.session.commit()


def post_week(client: Any, school: Any, machine: Machine | None = None) -> Machine:
    """A week's journal of 7А and 1А through sync: lessons, marks, absences, a remark, a test, a period mark."""
    machine = machine or Machine(client, "Ноутбук 7А")
    petrova, sidorov, kuz = school["t_petrova"], school["t_sidorov"], school["t_kuznetsova"]
    ivanova, smirnov, olga = school["st_ivanova"], school["st_smirnov"], school["st_first_grader"]
    math, fields = lesson_fields(school, topic="Линейные уравнения", homework="№ 245, 247")
    russian, rfields = lesson_fields(school, slot=3, subject="s_russian", teacher="t_sidorov", topic="Причастие",
                                     homework="Упр. 120")
    tuesday = LESSON_DAY + dt.timedelta(days=1)
    cancelled, cfields = lesson_fields(school, day=tuesday, slot=1, topic="", homework="", cancelled=True)
    substituted, sfields = lesson_fields(school, day=tuesday, slot=2, subject="s_russian", teacher="t_petrova",
                                         topic="Деепричастие", homework="", substitute=True)
    first, ffields = lesson_fields(school, cls="c1", teacher="t_kuznetsova", slot=1, topic="Счёт до десяти",
                                   homework="")
    if active_change(tuesday, 2, school["c7"], None) is None:  # the deputy planned Петрова's substitution
        plan("substitution", tuesday, 2, school["c7"], teacher_id=petrova, by="deputy")
        db.session.commit()
    at = ms_at(LESSON_DAY, 15)
    ops = [
        machine.op("lesson", math, fields, author=petrova, at=at),
        machine.op("lesson", russian, rfields, author=sidorov, at=at),
        machine.op("lesson", cancelled, cfields, author=petrova, at=at),
        machine.op("lesson", substituted, sfields, author=petrova, at=at),
        machine.op("lesson", first, ffields, author=kuz, at=at),
        machine.op("mark", "mark-ivanova-1", {"lesson": math, "student": ivanova, "value": "5", "work_type": "test",
                                              "comment": "метка-иванова"}, author=petrova, at=at),
        machine.op("mark", "mark-smirnov-1", {"lesson": math, "student": smirnov, "value": "3", "work_type": "oral",
                                              "comment": "метка-смирнов"}, author=petrova, at=at),
        machine.op("attendance", attendance_key(russian, smirnov), {"lesson": russian, "student": smirnov,
                                                                    "status": "ill"}, author=sidorov, at=at),
        machine.op("attendance", attendance_key(math, ivanova), {"lesson": math, "student": ivanova,
                                                                 "status": "late"}, author=petrova, at=at),
        machine.op("remark", "remark-ivanova-1", {"student": ivanova, "date": LESSON_DAY.isoformat(),
                                                  "kind": "praise", "subject": school["s_math"],
                                                  "text": "замечание-иванова: отлично у доски"}, author=petrova, at=at),
        machine.op("remark", "remark-smirnov-1", {"student": smirnov, "date": LESSON_DAY.isoformat(),
                                                  "kind": "remark", "subject": None,
                                                  "text": "замечание-смирнов: забыл тетрадь"}, author=petrova, at=at),
        machine.op("test_plan", "test-7a-1", {"class": school["c7"], "group": None, "subject": school["s_math"],
                                              "date": "2026-11-26", "work_type": "test",
                                              "title": "Контрольная по линейным уравнениям"}, author=petrova, at=at),
        machine.op("period_grade", period_grade_key(ivanova, school["s_russian"], school["q2"]),
                   {"student": ivanova, "subject": school["s_russian"], "period": school["q2"], "value": None,
                    "status": "deferred"}, author=sidorov, at=at),
        machine.op("attendance", attendance_key(first, olga), {"lesson": first, "student": olga, "status": "present"},
                   author=kuz, at=at),
    ]
    answer = machine.post(ops)
    assert answer.status_code == 200, answer.get_json()
    statuses = {r["status"] for r in answer.get_json()["results"]}
    assert statuses <= {"applied", "superseded"}, answer.get_json()["results"]
    return machine


def issue_links(now: dt.datetime = NOW) -> list[FamilyLink]:
    """A link for every consenting guardian (committed)."""
    links = issue_missing(now.date(), now)
    db.session.commit()
    return links


def build(now: dt.datetime | None = None) -> None:
    """The next build, as the worker makes it: sweep, then the queue."""
    conf = settings()
    with site_lock(conf.site_output_dir):
        sweep(conf, now)
        build_dirty(conf, now=now)


def links_of(family: Family) -> list[FamilyLink]:
    """The family's links, mother's first, then father's, then any other."""
    order = {"мать": 0, "отец": 1}
    relation = {g.id: g.relation for g in db.session.scalars(select(Guardian))}
    links = db.session.scalars(select(FamilyLink).where(FamilyLink.family_id == family.id))
    return sorted(links, key=lambda link: (order.get(relation.get(link.guardian_id, ""), 9), link.issued_at))


def page_path(token: str, name: str = "index") -> Path:
    """Where a published page of a link is on disk."""
    return settings().site_output_dir / "d" / token / f"{name}.html"


def page(token: str, name: str = "index") -> str:
    """A published page's text."""
    return page_path(token, name).read_text(encoding="utf-8")


def pages(token: str) -> dict[str, str]:
    """Every published page of a link, by name."""
    folder = settings().site_output_dir / "d" / token
    return {p.stem: p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.html"))}


def lesson_week_page(now: dt.datetime = NOW) -> str:
    """The page name showing LESSON_DAY's week when the build runs at `now`."""
    return "index" if monday(now.date()) == monday(LESSON_DAY) else week_id(LESSON_DAY)


@contextlib.contextmanager
def running_site_hub(make_app: Any, db_url: str, tmp_path: Path,
                     extra_args: tuple[str, ...] = ()) -> Iterator[tuple[Any, HubProcess]]:
    """A running hub and an app on the same database and site folder; the school and links are the test's.
    `extra_args` go to gunicorn (e.g. its access log)."""
    from tests.conftest import TEST_KEYS, _empty_all_tables

    hub = HubProcess(db_url, tmp_path / "var", TEST_KEYS, extra_args=extra_args)
    config = site_config(tmp_path, hub.url)
    hub.env["TETRAD_CONFIG"] = str(config)
    app = make_app(TETRAD_CONFIG=config)
    with app.app_context():
        _empty_all_tables()
        hub.start()
        try:
            yield app, hub
        finally:
            hub.stop()
            db.session.remove()
