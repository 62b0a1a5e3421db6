"""Building the family site: real files on disk, what a page shows, the queue, atomic publishing, the budget."""

from __future__ import annotations

import gzip
import os
import re
import threading

from sqlalchemy import func, select

from app.base import settings
from app.base.extensions import db
from app.base.models import DirtyFamily, FamilyLink, WeekAck
from app.base.rebuild_queue import mark_families_dirty
from static_site import publish
from static_site.access import family_access
from static_site.build import build_all, build_dirty, build_families, site_lock
from static_site.data import Snapshot
from static_site.pages import family_content
from static_site.parallel import cost, parts_by_class
from static_site.render import CSS_SOURCE, css_name
from tests import site_helpers
from tests.school import LESSON_DAY, build_tiny_school
from tests.site_helpers import (
    NOW,
    add_family,
    build,
    issue_links,
    lesson_week_page,
    links_of,
    page,
    page_path,
    pages,
    post_week,
    two_families,
)

site_app = site_helpers.site_app  # the fixture: a hub whose site goes to tmp_path/site


def setup_school(client):  # type: ignore[no-untyped-def]
    """The tiny school with two families, their links and a week of journal, built once."""
    school = build_tiny_school()
    families = two_families(school)
    issue_links()
    post_week(client, school)
    build(NOW)
    return school, families


def test_week_page_shows_the_childrens_week_as_a_russian_school_writes_it(site_app):
    school, families = setup_school(site_app.test_client())
    mother, father = links_of(families["ivanovs"])
    text = page(mother.token, lesson_week_page())
    assert "Уважаемая Ольга Николаевна!" in text
    assert "Иванова Мария, 7А" in text and "Белова Ольга, 1А" in text
    assert "пн, 16 ноября" in text and "Неделя 16–21 ноября 2026" in text
    assert "Линейные уравнения" in text and "№ 245, 247" in text and "к 18.11" in text
    assert '5<sub>К</sub>' in text and "метка-иванова" in text  # the mark, its work type and what it was for
    assert "оп" in text  # lateness
    assert "Урок отменён" in text and "Замена: Петрова А. И." in text
    assert "Похвала" in text and "отлично у доски" in text
    assert "Контрольная по линейным уравнениям" in text
    assert "Данные 7А класса получены" in text and "Данные 1А класса получены" in text
    assert "Я ознакомился(ась)" in text
    assert page(father.token, lesson_week_page()).count("Уважаемый Пётр Сергеевич!") == 1


def test_child_page_shows_average_forecast_deferred_period_mark_and_teachers(site_app):
    school, families = setup_school(site_app.test_client())
    token = links_of(families["ivanovs"])[0].token
    child = page(token, "child-1")
    assert "Иванова Мария Петровна, 7А класс" in child
    assert "5,00" in child  # one test mark, weighted
    assert "недостаточно отметок <span class=\"nw\">(1 из 5)</span>" in child  # maths: 5 h a week, 5 marks needed
    assert "отсрочка" in child  # the deferred period mark in Russian
    assert "Классный руководитель: Петрова Анна Ивановна" in child
    assert "Русский язык: Сидоров Олег Петрович" in child
    assert "Осенние каникулы: 25.10.2026 – 04.11.2026" in child
    first_grader = page(token, "child-2")
    assert "В этом классе отметки не ставятся." in first_grader


def test_a_family_never_sees_another_familys_child(site_app):
    school, families = setup_school(site_app.test_client())
    ivanovs = "".join(pages(links_of(families["ivanovs"])[0].token).values())
    smirnovs = "".join(pages(links_of(families["smirnovs"])[0].token).values())
    assert "Смирнов" not in ivanovs and "метка-смирнов" not in ivanovs and "замечание-смирнов" not in ivanovs
    assert "Иванова Мария" not in smirnovs and "метка-иванова" not in smirnovs and "Белова" not in smirnovs
    assert "забыл тетрадь" in smirnovs and "н (Б)" in smirnovs


def test_pages_are_published_as_an_atomic_symlink_to_an_immutable_page_set(site_app):
    school, families = setup_school(site_app.test_client())
    token = links_of(families["smirnovs"])[0].token
    link = settings().site_output_dir / "d" / token
    before = os.readlink(link)
    assert link.is_symlink() and before.startswith("../.pages/")
    assert sorted(p.name for p in link.iterdir()) == sorted(
        [f"{n}.html" for n in pages(token)] + [f"{n}.html.gz" for n in pages(token)])
    assert gzip.decompress((link / "index.html.gz").read_bytes()) == (link / "index.html").read_bytes()
    mark_families_dirty({families["smirnovs"].id})
    db.session.commit()
    build(NOW)
    assert os.readlink(link) != before  # a new page set, swapped in one rename
    assert (link.parent / before).is_dir()  # the old one stays a moment for readers that resolved it
    assert publish.collect_garbage(settings().site_output_dir, grace=0) >= 1
    assert not (link.parent / before).exists()


def test_reader_never_sees_a_missing_or_partial_page_during_rebuilds(site_app):
    school, families = setup_school(site_app.test_client())
    token = links_of(families["smirnovs"])[0].token
    path = page_path(token)
    expected_end = b"</html>"
    seen, problems, stop = [], [], threading.Event()

    def read() -> None:
        while not stop.is_set():
            try:
                data = path.read_bytes()
            except OSError as exc:
                problems.append(repr(exc))
                continue
            if not data.rstrip().endswith(expected_end):
                problems.append(f"partial page of {len(data)} bytes")
            seen.append(len(data))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for _ in range(5):
            mark_families_dirty({families["smirnovs"].id})
            db.session.commit()
            build(NOW)
    finally:
        stop.set()
        reader.join()
    assert seen and problems == []


def test_incremental_build_touches_only_queued_families(site_app):
    school, families = setup_school(site_app.test_client())
    ivanov_link = settings().site_output_dir / "d" / links_of(families["ivanovs"])[0].token
    smirnov_link = settings().site_output_dir / "d" / links_of(families["smirnovs"])[0].token
    ivanovs_before, smirnovs_before = os.readlink(ivanov_link), os.readlink(smirnov_link)
    mark_families_dirty({families["smirnovs"].id})
    db.session.commit()
    conf = settings()
    with site_lock(conf.site_output_dir):
        report = build_dirty(conf, now=NOW)
    assert report.families == 1
    assert os.readlink(ivanov_link) == ivanovs_before  # never rewritten, never deleted
    assert os.readlink(smirnov_link) != smirnovs_before
    assert (ivanov_link / "index.html").is_file()


def test_a_build_reads_the_own_records_of_the_children_it_shows_not_their_classmates(site_app):
    school, families = setup_school(site_app.test_client())
    conf = settings()
    today = conf.today(NOW)
    ivanovs = family_access([families["ivanovs"].id], today, NOW)[families["ivanovs"].id].children
    snap = Snapshot(conf, today)
    journals = snap.classes(snap.class_ids(ivanovs), ivanovs)
    seventh = journals[school["c7"]]
    ivanova, smirnov = school["st_ivanova"], school["st_smirnov"]
    assert [m.id for m in seventh.marks[ivanova]] == ["mark-ivanova-1"]
    assert [r.id for r in seventh.remarks[ivanova]] == ["remark-ivanova-1"]
    assert smirnov not in seventh.marks and smirnov not in seventh.attendance and smirnov not in seventh.remarks
    partial = family_content(snap, ivanovs)
    # a paper journal copy asks for whole classes: the classmates are read then, nobody's records twice
    whole, fresh = snap.classes(set(journals)), Snapshot(conf, today).classes(set(journals))
    for class_id, journal in fresh.items():
        for part in ("marks", "attendance", "remarks", "grades"):
            assert dict(getattr(whole[class_id], part)) == dict(getattr(journal, part))
    assert [m.id for m in whole[school["c7"]].marks[smirnov]] == ["mark-smirnov-1"]
    complete = Snapshot(conf, today)
    complete.classes(set(journals))
    assert family_content(complete, ivanovs) == partial  # the same pages either way


def test_queue_keeps_a_family_marked_again_during_its_build(site_app):
    school, families = setup_school(site_app.test_client())
    conf = settings()
    mark_families_dirty({families["smirnovs"].id, families["ivanovs"].id})
    db.session.commit()
    original = build_families

    def build_while_a_batch_arrives(*args, **kwargs):  # type: ignore[no-untyped-def]
        report = original(*args, **kwargs)
        # a sync batch commits while the pages are being written: the Smirnovs are marked again
        mark_families_dirty({families["smirnovs"].id})
        db.session.commit()
        return report

    import static_site.build as build_module
    build_module.build_families = build_while_a_batch_arrives
    try:
        with site_lock(conf.site_output_dir):
            build_dirty(conf, now=NOW)
    finally:
        build_module.build_families = original
    queued = set(db.session.scalars(select(DirtyFamily.family_id)))
    assert queued == {families["smirnovs"].id}


def test_full_rebuild_removes_page_sets_of_unknown_tokens_and_keeps_the_others(site_app):
    school, families = setup_school(site_app.test_client())
    root = settings().site_output_dir
    stray = root / "d" / ("a" * 32)
    stray.mkdir()
    (stray / "index.html").write_text("old pages of a deleted family")
    report = build_all(settings(), now=NOW)
    assert not stray.exists()
    assert report.links == 3 and report.removed == 1
    assert all(page_path(link.token).is_file() for f in families.values() for link in links_of(f))
    assert db.session.scalar(select(func.count()).select_from(DirtyFamily)) == 0


def test_change_after_confirmation_is_marked_orange_and_shown(site_app):
    client = site_app.test_client()
    school, families = setup_school(client)
    link = links_of(families["smirnovs"])[0]
    week = LESSON_DAY.strftime("%G-W%V")
    text = page(link.token, lesson_week_page())
    digest = text.split('name="v" value="')[1].split('"')[0]
    answer = client.post("/ack", data={"token": link.token, "week": week, "v": digest})
    assert answer.status_code == 200 and "вы подтвердили" in answer.get_data(as_text=True)
    build(NOW)
    assert "Ознакомлен(а)" in page(link.token, lesson_week_page())
    ack = db.session.scalars(select(WeekAck)).one()
    assert ack.changed_at is None
    mark_families_dirty({families["smirnovs"].id})  # a rebuild without any journal change keeps it white-green
    db.session.commit()
    build(NOW)
    db.session.expire_all()
    assert db.session.scalars(select(WeekAck)).one().changed_at is None
    from tests.school import Machine
    machine = Machine(client, "Ноутбук 2")
    late = machine.op("mark", "mark-smirnov-late", {"lesson": _math_lesson(school), "student": school["st_smirnov"],
                                                    "value": "4", "work_type": "oral"}, author=school["t_petrova"])
    assert machine.post([late]).status_code == 200
    build(NOW)
    db.session.expire_all()
    assert db.session.scalars(select(WeekAck)).one().changed_at is not None
    assert "появились изменения" in page(link.token, lesson_week_page())


def _math_lesson(school):  # type: ignore[no-untyped-def]
    from tests.school import lesson_fields
    return lesson_fields(school)[0]


def test_week_page_of_two_children_fits_the_budget_and_css_is_small(site_app):
    school, families = setup_school(site_app.test_client())
    token = links_of(families["ivanovs"])[0].token
    week = page_path(token, lesson_week_page())
    assert len(week.with_name(week.name + ".gz").read_bytes()) <= 14 * 1024
    assert len(gzip.compress(week.read_bytes(), 9)) <= 14 * 1024
    css = settings().site_output_dir / css_name()
    assert css.read_bytes() == CSS_SOURCE.read_bytes() and len(css.read_bytes()) <= 8 * 1024
    text = week.read_text(encoding="utf-8")
    assert "<script" not in text and "@font-face" not in CSS_SOURCE.read_text() and "http" not in text
    assert "<img" not in text


def test_non_token_files_hold_no_personal_data(site_app):
    school, families = setup_school(site_app.test_client())
    root = settings().site_output_dir
    shared = [root / "robots.txt", root / "404.html", root / css_name()]
    names = ["Иванов", "Смирнов", "Белова", "Петрова", "Ольга"]
    for path in shared:
        assert not any(name in path.read_text(encoding="utf-8") for name in names), path
    assert (root / "robots.txt").read_text() == "User-agent: *\nDisallow: /d/\nDisallow: /ack\n"
    visible = [p.name for p in root.iterdir() if not p.name.startswith(".")]
    assert sorted(visible) == sorted(["d", "robots.txt", "404.html", css_name()])


def test_site_build_command_shows_progress_and_builds_everything(site_app):
    school = build_tiny_school()
    families = two_families(school)
    issue_links()
    runner = site_app.test_cli_runner()
    result = runner.invoke(args=["site", "build", "--all"])
    assert result.exit_code == 0, result.output
    assert "Готово" in result.output and "ссылок опубликовано 3" in result.output
    assert all(page_path(link.token).is_file() for f in families.values() for link in links_of(f))
    assert db.session.scalar(select(func.count()).select_from(FamilyLink)) == 3
    incremental = runner.invoke(args=["site", "build"])
    assert incremental.exit_code == 0 and "семей 0" in incremental.output


def test_a_test_is_named_once_and_a_first_graders_link_promises_what_the_page_has(site_app):
    _school, families = setup_school(site_app.test_client())
    token = links_of(families["ivanovs"])[0].token
    week = page(token, lesson_week_page())
    assert "Контрольная по линейным уравнениям" in week and "(Контрольная работа)" not in week
    assert "Контрольная по линейным уравнениям" in page(token, "child-1")
    assert "(Контрольная работа)" not in page(token, "child-1")
    first_grader = page(token, "child-2")
    promise = re.search(r'<p class="more"><a href="child-2.html">([^<]+)</a>', week)[1]
    assert promise == "Пропуски, учителя, каникулы"
    assert "Пропуски за" in first_grader and "Учителя" in first_grader and "Каникулы" in first_grader


def test_pages_are_frozen_by_the_page_view_without_a_request_and_gz_twins_match(site_app, monkeypatch):
    from static_site import render

    rendering, _freezer = render.site_app()

    def no_request(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("a test-client request while freezing")

    monkeypatch.setattr(rendering, "test_client", no_request)
    school, families = setup_school(site_app.test_client())
    folder = settings().site_output_dir / "d" / links_of(families["ivanovs"])[0].token
    names = sorted(path.name for path in folder.glob("*.html"))
    assert "index.html" in names and any(name.startswith("child-") for name in names)
    for name in names:
        assert gzip.decompress((folder / f"{name}.gz").read_bytes()) == (folder / name).read_bytes()


def test_a_parallel_rebuild_cuts_the_families_into_parts_of_equal_cost_in_class_order(site_app):
    school = build_tiny_school()
    two_families(school)
    for number in range(4):  # no consent: nothing to show, nothing to build, and they sort first
        add_family(f"Без согласия {number}", [school["st_smirnov"]], [("Петров", "Иван", None, "отец", None)])
    db.session.commit()
    issue_links()
    accesses = family_access(None, NOW.date(), NOW)
    parts = parts_by_class(NOW, 2)
    assert sorted(i for part in parts for i in part) == sorted(accesses)  # every family once
    costs = [sum(cost(accesses[i]) for i in part) for part in parts]
    assert len(parts) == 2 and min(costs) > 0, (parts, costs)  # before: the four empty families made one part
    assert max(costs) - min(costs) <= max(cost(a) for a in accesses.values())
    report = build_all(settings(), now=NOW, processes=2)
    assert (report.families, report.links) == (6, 3)
    assert all(page_path(link.token).is_file() for a in accesses.values() for link in a.live)
