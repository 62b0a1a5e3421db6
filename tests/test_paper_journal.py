"""The quarterly hard copy of a class journal, read page by page as the deputy who signs it would."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.base import settings
from app.base.extensions import db
from app.base.models import Student
from tests.paper_support import PaperSchool, keep_png, needs_pdf, pdf_lines, pdf_pages, pdf_text


def print_journal(runner, *args: str) -> str:
    """Run `flask print journal …`; it must succeed."""
    result = runner.invoke(args=["print", "journal", *args])
    assert result.exit_code == 0, result.output
    return result.output


SECTIONS = ["Список класса", "Математика", "Русский язык", "Посещаемость", "Отметки за 2 четверть"]


def contents(title_page: str) -> dict[str, int]:
    """Section title → page number, read from the title page's table of contents (in its order)."""
    part = title_page.split("Содержание Стр.")[1].split("Всего страниц")[0]
    found = {title: re.search(re.escape(title) + r" (\d+)", part) for title in SECTIONS}
    assert all(found.values()), part
    assert " ".join(f"{t} {m[1]}" for t, m in found.items()) == part.strip()  # nothing else, nothing out of order
    return {title: int(match[1]) for title, match in found.items()}


@needs_pdf
def test_the_journal_copy_prints_the_period_as_the_database_holds_it(client, runner, tmp_path):
    school = PaperSchool(client)
    school.week_47()
    out = tmp_path / "journal.pdf"
    output = print_journal(runner, "--class", "7А", "--period", "2", "--by", "секретарь Орлова Н. В.",
                           "--out", str(out))
    pages = pdf_pages(out)
    assert f"Классный журнал 7А, 2 четверть 2026-2027, страниц: {pages}. Файл: {out}" in output
    title = pdf_text(out, 1)
    assert "КЛАССНЫЙ ЖУРНАЛ" in title and "7А класс · 2026-2027 учебный год" in title
    assert "2 четверть: 05.11.2026 – 29.12.2026" in title and "Классный руководитель: Петрова Анна Ивановна" in title
    assert f"Всего страниц: {pages}" in title and f"В журнале пронумеровано {pages} стр." in title
    today = settings().today()
    assert "Распечатал(а): секретарь Орлова Н. В." in title and f"Дата печати: {today:%d.%m.%Y}" in title
    for page in range(1, pages + 1):
        assert f"стр. {page} из {pages}" in pdf_text(out, page)
    toc = contents(title)
    for section, page in toc.items():
        assert pdf_text(out, page).startswith(section), section  # the contents point at the right pages

    listed = pdf_text(out, toc["Список класса"])
    for student in db.session.scalars(select(Student).where(Student.class_id == school["c7"])):
        assert f"{student.full_name} {student.birth_date:%d.%m.%Y} {student.file_no}" in listed
    maths = pdf_lines(out, toc["Математика"])
    assert "Учитель: Петрова Анна Ивановна" in maths and "№ Ученик 16.11 18.11 Ср. 2 четверть" in maths
    assert "1 Иванова М. П. 5К оп 5,00" in maths and "2 Смирнов П. О. 3У 3,00" in maths
    assert "1 16.11.2026 Линейные уравнения № 245, 247 (к 18.11)" in maths
    assert "2 18.11.2026 Системы уравнений № 260 (к 20.11)" in maths
    russian = pdf_lines(out, toc["Русский язык"])
    assert "1 Иванова М. П. 4Дк 4,00" in russian and "2 Смирнов П. О. нБ" in russian
    attendance = " ".join(pdf_lines(out, toc["Посещаемость"]))
    assert "1 Иванова Мария Петровна 0 0 0 0 1" in attendance and "2 Смирнов Павел Олегович 1 1 0 0 0" in attendance
    keep_png(out, "journal-7A-q2-title", 1)
    keep_png(out, "journal-7A-q2-maths", toc["Математика"])


@needs_pdf
def test_a_deferred_period_mark_reads_deferred_in_the_journal_copy(client, runner, tmp_path):
    school = PaperSchool(client)
    school.deferred_period_mark()
    out = tmp_path / "q1.pdf"
    print_journal(runner, "--class", "7А", "--period", "1", "--out", str(out))
    text = pdf_text(out)
    grades = text.split("Отметки за 1 четверть")[-1]
    assert "1 Иванова Мария Петровна отсрочка" in grades and "2 Смирнов Павел Олегович 4" in grades
    assert "Распечатал(а): ____" in text or "Распечатал(а):" in text
    keep_png(out, "journal-7A-q1-grades", pdf_pages(out))


@needs_pdf
def test_a_grade_one_journal_has_attendance_and_topics_but_no_marks(client, runner, tmp_path):
    school = PaperSchool(client)
    school.week_47()
    out = tmp_path / "1a.pdf"
    print_journal(runner, "--class", "1А", "--period", "2", "--out", str(out))
    text = pdf_text(out)
    assert "1 Белова О. И. нУ" in text and "Счёт до десяти" in text
    assert "Отметки за" not in text and "Ср." not in text
    assert f"Всего страниц: {pdf_pages(out)}" in text


def test_the_html_copy_is_print_ready_and_errors_are_plain(client, runner, tmp_path):
    school = PaperSchool(client)
    school.week_47()
    out = tmp_path / "journal.html"
    print_journal(runner, "--class", "7А", "--period", "2", "--out", str(out))
    html = out.read_text(encoding="utf-8")
    assert "target-counter(attr(href), page)" in html and "counter(pages)" in html and "Линейные уравнения" in html
    result = runner.invoke(args=["print", "journal", "--class", "7А", "--period", "7", "--out", str(out)])
    assert result.exit_code == 1
    assert "Периода 7 в 2026-2027 учебном году нет. Есть: 1 (1 четверть), 2 (2 четверть)" in result.output
