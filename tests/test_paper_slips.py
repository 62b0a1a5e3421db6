"""Weekly slips read as a parent would read them: the PDF's text against the database, one student per slip."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import re
import subprocess
from pathlib import Path
from xml.etree import ElementTree

from pypdf import PdfReader
from sqlalchemy import select

from app.base import settings
from app.base.extensions import db
from app.base.forecast import weighted_average
from app.base.models import Consent, Family, Lesson, Mark, SchoolClass, Student
from static_site.links import link_url
from static_site.paper import pdf
from static_site.paper.slips import batch_html, batches_pdf, class_batch, qr_svg
from static_site.paper.snapshots import WeekSnapshot
from sync import clock
from tests.paper_support import (
    LONG_HOMEWORK,
    PaperSchool,
    day,
    give_link,
    keep_png,
    needs_pdf,
    pdf_fonts,
    pdf_pages,
    pdf_text,
)

HEADER = "Дневник за неделю"
FOOTER = "Классный руководитель:"


def slips(runner, out: Path, *args: str) -> str:
    """Run `flask slips …` writing to `out`; return its output (it must succeed)."""
    result = runner.invoke(args=["slips", *args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    return result.output


def split(text: str) -> dict[str, str]:
    """The PDF text cut into slips, by the student named on each."""
    parts = [p for p in text.split(settings().school_name) if HEADER in p]
    return {re.search(r"\d{1,2}–\d{1,2} \w+ \d{4} (\w+ \w+ \w+),", p)[1]: p for p in parts}


@needs_pdf
def test_a_slip_shows_the_weeks_journal_as_the_database_holds_it(client, runner, tmp_path):
    school = PaperSchool(client)
    school.week_47()
    out = tmp_path / "7a.pdf"
    assert "Выписок: 1 (7А, неделя 16–21 ноября 2026), страниц: 1" in slips(runner, out, "--class", "7А", "--week",
                                                                              "2026-W47")
    text = pdf_text(out)
    student = db.session.get(Student, school["st_ivanova"])
    assert f"{HEADER} 16–21 ноября 2026 Иванова Мария Петровна, 7А класс" in text
    lessons = db.session.scalars(select(Lesson).where(Lesson.class_id == school["c7"],
                                                      Lesson.date.between(day(0), day(5)))).all()
    assert len(lessons) == 3
    for lesson in lessons:
        assert lesson.topic in text and f"Д/з: {lesson.homework} (к {lesson.homework_due:%d.%m})" in text
    marks = db.session.scalars(select(Mark).where(Mark.student_id == student.id)).all()
    shorts = {w.code: w.short for w in settings().work_types}
    assert sorted(f"{m.value}{shorts[m.work_type]}" for m in marks) == ["4Дк", "5К"]
    for mark in marks:
        assert f"{mark.value}{shorts[mark.work_type]}" in text
    assert "5 — Отличная работа" in text and "Опозданий: 1" in text
    assert "18.11.2026 Похвала (Математика): Помогала одноклассникам" in text
    assert "ср, 25 ноября: Математика — Контрольная работа «Уравнения»" in text
    weights = {w.code: w.weight for w in settings().work_types}
    for subject, lesson_ids in (("Математика", {"mon-math", "wed-math"}), ("Русский язык", {"tue-russian"})):
        ids = {school.lessons[name] for name in lesson_ids}
        average = weighted_average([(m.value, m.work_type) for m in marks if m.lesson_id in ids], weights)
        assert f"{subject} {average:.2f}".replace(".", ",") + " недостаточно отметок (1 из 5)" in text
    assert "2 четверть: средний балл и прогноз на 21.11.2026" in text
    assert "родитель (законный представитель)" in text and "Петрова А. И." in text
    assert pdf_pages(out) == 1
    fonts = pdf_fonts(out)
    assert fonts and all(f[0].split("+")[-1].startswith("DejaVu") and f[-5] == "yes" for f in fonts)  # embedded
    keep_png(out, "slip-7A-W47")


@needs_pdf
def test_every_student_gets_a_slip_with_all_and_none_holds_another_students_data(client, runner, tmp_path):
    school = PaperSchool(client)
    school.week_47()
    out = tmp_path / "all.pdf"
    assert "Выписок: 2 " in slips(runner, out, "--class", "7А", "--week", "2026-W47", "--all")
    assert pdf_pages(out) == 1  # two short slips share a sheet
    found = split(pdf_text(out))
    assert set(found) == {"Иванова Мария Петровна", "Смирнов Павел Олегович"}
    ivanova, smirnov = found["Иванова Мария Петровна"], found["Смирнов Павел Олегович"]
    for foreign in ("Смирнов", "Смирнову повторить теорему", "н (Б)", "3У", "опоздал без записки"):
        assert foreign not in ivanova
    for foreign in ("Иванова", "Отличная работа", "5К", "4Дк", "Помогала одноклассникам"):
        assert foreign not in smirnov
    assert "Пропущено уроков: 1 (по болезни 1)" in smirnov and "Математика 3,00" in smirnov
    keep_png(out, "slips-7A-W47-all")


@needs_pdf
def test_grade_one_slips_carry_no_marks(client, runner, tmp_path):
    school = PaperSchool(client)
    school.week_47()
    out = tmp_path / "1a.pdf"
    slips(runner, out, "--class", "1А", "--week", "2026-W47")
    text = pdf_text(out)
    assert "Белова Ольга Ивановна, 1А класс" in text and "Счёт до десяти" in text and "н (У)" in text
    assert "В 1А классе отметки не ставятся." in text
    assert "средний балл" not in text and "прогноз" not in text.lower() and "Отметки" not in text
    keep_png(out, "slip-1A-W47")


@needs_pdf
def test_an_empty_week_prints_its_days_without_lessons(client, runner, tmp_path):
    school = PaperSchool(client)
    school.week_47()
    out = tmp_path / "empty.pdf"
    slips(runner, out, "--class", "7А", "--week", "2026-W46")
    text = pdf_text(out)
    assert f"{HEADER} 9–14 ноября 2026 Иванова Мария Петровна" in text
    assert text.count("Уроков нет") == 5  # Monday to Friday; an empty Saturday is left out, as on the site
    assert "Пропусков и опозданий нет" in text and "Линейные уравнения" not in text
    assert "Математика — недостаточно отметок (0 из 5)" in text  # the week after holds marks, this one's slip not
    assert "Контрольные работы на следующей неделе (16–21 ноября 2026) Не запланированы." in text


@needs_pdf
def test_a_holiday_week_shows_the_holidays_and_a_deferred_period_mark(client, runner, tmp_path):
    school = PaperSchool(client)
    school.week_47()
    school.deferred_period_mark()
    out = tmp_path / "holidays.pdf"
    slips(runner, out, "--class", "7А", "--week", "26.10.2026", "--all")
    found = split(pdf_text(out))
    ivanova, smirnov = found["Иванова Мария Петровна"], found["Смирнов Павел Олегович"]
    assert ivanova.count("Осенние каникулы") >= 6 and "Уроков нет" not in ivanova
    assert "1 четверть: средний балл и прогноз на 24.10.2026" in ivanova
    assert "за период отсрочка" in ivanova and "за период 4" in smirnov
    assert "отсрочка" not in smirnov


@needs_pdf
def test_a_student_who_joined_mid_week_gets_only_the_days_since(client, runner, tmp_path):
    school = PaperSchool(client)
    newcomer = Student(file_no="S9", last_name="Новикова", first_name="Дарья", middle_name="Игоревна",
                       birth_date=dt.date(2013, 7, 7), class_id=school["c7"], enrolled_on=day(2))
    db.session.add(newcomer)
    db.session.flush()
    db.session.add(Family(name="Новиковы", channel="paper", students=[newcomer]))
    db.session.commit()
    school.ids.ids["st_novikova"] = newcomer.id
    school.week_47()
    school.post([school.mark("m-nov", "wed-math", "st_novikova", "4", "classwork", day(2))])
    out = tmp_path / "joined.pdf"
    slips(runner, out, "--class", "7А", "--week", "2026-W47")
    novikova = split(pdf_text(out))["Новикова Дарья Игоревна"]
    assert "(Зачислен(а) в класс 18.11.2026)" in novikova
    assert novikova.count("не в списке класса в этот день") == 2
    assert "Линейные уравнения" not in novikova and "Причастный оборот" not in novikova
    assert "Системы уравнений" in novikova and "4Р" in novikova and "Математика 4,00" in novikova
    assert "Иванова" not in novikova and "Отличная работа" not in novikova


@needs_pdf
def test_a_long_homework_shrinks_the_type_but_never_splits_a_slip(client, runner, tmp_path):
    school = PaperSchool(client)
    school.week_47()
    school.post([school.lesson(f"long-{i}", day(3), i + 1, homework=LONG_HOMEWORK, topic=f"Повторение {i}")
                 for i in range(4)])
    out = tmp_path / "long.pdf"
    slips(runner, out, "--class", "7А", "--week", "2026-W47", "--all")
    pages = pdf_pages(out)
    assert pages == 2
    for page in range(1, pages + 1):
        text = pdf_text(out, page)
        assert text.count(HEADER) == text.count(FOOTER) == 1  # each slip starts and ends on its own page
        assert text.count(" ".join(LONG_HOMEWORK.split())) == 4
    keep_png(out, "slip-long-homework")


def test_slips_go_only_to_families_on_paper_unless_all(client, runner, tmp_path):
    school = PaperSchool(client)
    school.week_47()
    out = tmp_path / "7a.html"
    slips(runner, out, "--class", "7А", "--week", "2026-W47")
    html = out.read_text(encoding="utf-8")
    assert html.count('class="slip ') == 1 and "Иванова Мария Петровна" in html and "Смирнов" not in html
    assert "size: A4" in html and "break-inside: avoid" in html and 'id="slip-1-end"' in html
    db.session.get(Family, school.smirnovy.id).channel = "both"
    db.session.commit()
    slips(runner, out, "--class", "7А", "--week", "2026-W47")
    assert out.read_text(encoding="utf-8").count('class="slip ') == 2
    assert oct(os.stat(out).st_mode & 0o777) == "0o600"  # personal data: the owner's eyes only


def test_no_family_on_paper_means_no_file(client, runner, tmp_path):
    school = PaperSchool(client)
    db.session.get(Family, school.ivanovy.id).channel = "link"
    db.session.commit()
    out = tmp_path / "none.html"
    output = slips(runner, out, "--class", "7А", "--week", "2026-W47")
    assert "Нет учеников, чьи семьи получают дневник на бумаге" in output and "--all" in output
    assert not out.exists()


def test_a_qr_code_only_when_configured_and_never_without_consent(app, client, runner, tmp_path):
    school = PaperSchool(client)
    school.week_47()
    db.session.get(Family, school.smirnovy.id).channel = "both"
    db.session.get(Family, school.ivanovy.id).channel = "both"
    db.session.add(Consent(guardian_id=school.mother.id, state="withdrawn", on=dt.date(2026, 10, 1), basis="отзыв",
                           channel="paper"))
    db.session.commit()
    token = give_link(school.smirnovy, school.father)
    out = tmp_path / "qr.html"
    app.extensions["tetrad.settings"] = dataclasses.replace(settings(), paper_qr_on_slips=False)
    slips(runner, out, "--class", "7А", "--week", "2026-W47")
    assert "<img" not in out.read_text(encoding="utf-8")  # switched off: no code for anyone
    app.extensions["tetrad.settings"] = dataclasses.replace(settings(), paper_qr_on_slips=True)
    slips(runner, out, "--class", "7А", "--week", "2026-W47")
    sections = out.read_text(encoding="utf-8").split('<section class="slip ')[1:]
    ivanova = next(s for s in sections if "Иванова Мария" in s)
    smirnov = next(s for s in sections if "Смирнов Павел" in s)
    assert "<img" not in ivanova  # her mother withdrew consent: no link, no code
    url = link_url(settings(), token)
    assert f'src="{qr_svg(url)}"' in smirnov.replace("&#39;", "'").replace("&#34;", '"').replace("&amp;", "&")
    assert url in smirnov and "Смирнов Олег Петрович" in smirnov


def test_slips_are_never_written_into_the_site_folder(client, runner, tmp_path):
    PaperSchool(client)
    inside = settings().site_output_dir / "d" / "slips.pdf"
    result = runner.invoke(args=["slips", "--class", "7А", "--out", str(inside)])
    assert result.exit_code == 1 and "нельзя сохранять в папку сайта" in result.output
    assert not inside.exists()
    result = runner.invoke(args=["slips", "--class", "7Я", "--out", str(tmp_path / "x.pdf")])
    assert result.exit_code == 1 and "Класс «7Я» в 2026-2027 учебном году не найден. Классы: 1А, 7А." in result.output
    result = runner.invoke(args=["slips", "--class", "7А", "--school"])
    assert result.exit_code == 2 and "либо --class" in result.output


def test_without_weasyprint_the_pdf_command_says_what_to_install(client, runner, tmp_path, monkeypatch):
    school = PaperSchool(client)
    school.week_47()
    monkeypatch.setattr(pdf, "WEASYPRINT", "weasyprint_absent_in_this_test")
    result = runner.invoke(args=["slips", "--class", "7А", "--week", "2026-W47", "--out", str(tmp_path / "s.pdf")])
    assert result.exit_code == 1
    assert "PDF не создан" in result.output and f"apt-get install {pdf.INSTALL}" in result.output
    assert "--out файл.html" in result.output and not (tmp_path / "s.pdf").exists()
    slips(runner, tmp_path / "s.html", "--class", "7А", "--week", "2026-W47")  # the HTML still works


@needs_pdf
def test_a_whole_schools_week_in_one_document(client, runner, tmp_path):
    school = PaperSchool(client)
    school.week_47()
    out = tmp_path / "school.pdf"
    output = slips(runner, out, "--school", "--week", "2026-W47", "--all")
    assert "Выписок: 3 (вся школа, неделя 16–21 ноября 2026), страниц: 2" in output
    assert pdf_pages(out) == 2  # a class's slips never share a sheet with another class's
    assert "Белова Ольга Ивановна, 1А класс" in pdf_text(out, 1) and "7А класс" in pdf_text(out, 2)
    outline = [entry.title for entry in PdfReader(out).outline]  # an entry a slip, its student's line, in order
    assert outline == ["Белова Ольга Ивановна, 1А класс", "Иванова Мария Петровна, 7А класс",
                       "Смирнов Павел Олегович, 7А класс"]


@needs_pdf
def test_a_reprint_reuses_the_unchanged_classes_byte_for_byte(app, client, runner, tmp_path):
    school = PaperSchool(client)
    school.week_47()
    cache = Path(app.config["VAR_DIR"]) / "paper-cache"
    first = tmp_path / "first.pdf"
    slips(runner, first, "--school", "--week", "2026-W47", "--all")  # two classes, laid out in two processes
    kept = sorted(p.name for p in cache.glob("*.pdf"))
    assert len(kept) == 2 and (cache.stat().st_mode & 0o077) == 0
    again = tmp_path / "again.pdf"
    slips(runner, again, "--school", "--week", "2026-W47", "--all")
    assert again.read_bytes() == first.read_bytes() and sorted(p.name for p in cache.glob("*.pdf")) == kept
    marked = pdf.to_pdf(pdf.layout("<p>Взято из кэша</p>"))
    for path in cache.glob("*.pdf"):
        path.write_bytes(marked)
    reused = tmp_path / "reused.pdf"
    slips(runner, reused, "--school", "--week", "2026-W47", "--all")
    assert pdf_text(reused, 1).strip() == pdf_text(reused, 2).strip() == "Взято из кэша"  # nothing laid out again
    for path in cache.glob("*.pdf"):
        path.unlink()
    fresh = tmp_path / "fresh.pdf"
    slips(runner, fresh, "--school", "--week", "2026-W47", "--all")
    assert fresh.read_bytes() == first.read_bytes()  # a cached class is exactly what a new layout writes
    school.post([school.lesson("fri-math", day(4), 4, topic="Повторение: системы уравнений")])
    changed = tmp_path / "changed.pdf"
    slips(runner, changed, "--school", "--week", "2026-W47", "--all")
    assert "Повторение: системы уравнений" in pdf_text(changed, 2) and changed.read_bytes() != first.read_bytes()
    now = sorted(p.name for p in cache.glob("*.pdf"))
    assert len(now) == 3 and len(set(now) & set(kept)) == 2  # 1А reused, 7А laid out anew beside its old entry
    assert pdf_text(changed, 1) == pdf_text(first, 1)


@needs_pdf
def test_layout_shares_one_font_configuration_and_restores_the_collector_thresholds():
    import gc

    before = gc.get_threshold()
    first = pdf.layout("<p>Иванова Мария: 5, 4</p>")
    data = pdf.combine([first, pdf.layout("<p>Петров Иван: 3</p>")])
    assert gc.get_threshold() == before
    assert data.startswith(b"%PDF") and pdf.font_config() is pdf.font_config()


def test_the_class_document_cache_forgets_entries_unused_for_sixty_days(tmp_path):
    cache = pdf.PartCache(tmp_path / "paper-cache")
    cache.put("a" * 64, b"%PDF-old", 1)
    old = tmp_path / "paper-cache" / f"{'a' * 64}.1.pdf"
    now = old.stat().st_mtime
    os.utime(old, (now - 61 * 86_400, now - 61 * 86_400))
    cache.put("b" * 64, b"%PDF-new", 2)
    assert not old.exists() and cache.get("b" * 64) == (b"%PDF-new", 2) and cache.get("a" * 64) is None
    assert cache.hits == 1


def _pngs(path: Path, folder: Path) -> list[bytes]:
    """Every page of the PDF rendered at 60 dpi, as PNG bytes."""
    subprocess.run(["pdftoppm", "-png", "-r", "60", str(path), str(folder / path.stem)], check=True)
    return [p.read_bytes() for p in sorted(folder.glob(f"{path.stem}-*.png"))]


@needs_pdf
def test_a_class_laid_out_in_halves_prints_exactly_the_whole_documents_pages(app, client, tmp_path):
    school = PaperSchool(client)
    school.week_47()
    snap = WeekSnapshot(settings(), day(0))
    seven = db.session.scalars(select(SchoolClass).where(SchoolClass.grade == 7)).one()
    batch = class_batch(snap, seven, True, False, clock.now())
    two = batch.slips
    # 11 slips, two to a sheet: halves of 6 and 5, the guess of a page per slip wrong, laid out again and joined;
    # 9: the first half's 5th slip alone on its sheet, the 6th would have joined it: laid out whole instead
    for count, joined in ((11, True), (9, False)):
        batch.slips = [dataclasses.replace(two[i % len(two)], number=i + 1) for i in range(count)]
        whole, pages = batches_pdf(snap, [batch], 1)
        halves, split_pages = batches_pdf(snap, [batch], 2)
        assert (halves != whole) is joined and split_pages == pages  # joined: each half its own font subsets
        (tmp_path / f"whole{count}.pdf").write_bytes(whole)
        (tmp_path / f"halves{count}.pdf").write_bytes(halves)
        assert _pngs(tmp_path / f"halves{count}.pdf", tmp_path) == _pngs(tmp_path / f"whole{count}.pdf", tmp_path)
        assert f"стр. {pages} из {pages}" in pdf_text(tmp_path / f"halves{count}.pdf", pages)


def _html5_tree(html: str) -> bytes:
    """The tree WeasyPrint's own HTML parser builds from the page, serialized."""
    import weasyprint

    return ElementTree.tostring(weasyprint.HTML(string=html).etree_element)


@needs_pdf
def test_slips_parsed_as_xml_are_the_tree_and_the_pdf_the_html_parser_makes(app, client, tmp_path):
    school = PaperSchool(client)
    school.week_47()
    db.session.get(Family, school.smirnovy.id).channel = "both"
    db.session.commit()
    give_link(school.smirnovy, school.father)
    app.extensions["tetrad.settings"] = dataclasses.replace(settings(), paper_qr_on_slips=True)
    snap = WeekSnapshot(settings(), day(0))
    seven = db.session.scalars(select(SchoolClass).where(SchoolClass.grade == 7)).one()
    batch = class_batch(snap, seven, True, True, clock.now())
    html = batch_html(snap, batch)
    assert "<img" in html and "<br/>" in html and "<sub>" in html  # a QR code, a mark's comment, a work type
    document = pdf.xhtml_document(html)
    assert document is not None and ElementTree.tostring(document.etree_element) == _html5_tree(html)
    assert pdf.to_pdf(pdf.layout(html, xhtml=True)) == pdf.to_pdf(pdf.layout(html))
    # A character XML refuses (a vertical tab pasted into a topic): WeasyPrint's own parser, the same slip
    first = batch.slips[0].days[0]
    first["rows"] = (first["rows"][0]._replace(topic="Дроби\x0bи проценты"), *first["rows"][1:])
    html = batch_html(snap, batch)
    assert "Дроби\x0bи" in html and pdf.xhtml_document(html) is None
    assert pdf.to_pdf(pdf.layout(html, xhtml=True)) == pdf.to_pdf(pdf.layout(html))
