"""The year-end summary sheet of final marks (сводная ведомость), checked against the period marks stored."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from app.base.extensions import db
from app.base.models import AcademicYear, Period
from tests.paper_support import PaperSchool, keep_png, needs_pdf, pdf_pages, pdf_text
from tests.school import ms_at, period_grade_key


def year_marks(school: PaperSchool) -> None:
    """A "year" period and, through sync, marks of the 2nd quarter and the year for both 7А students."""
    year = db.session.scalars(select(AcademicYear)).one()
    final = Period(year_id=year.id, number=9, name="Год", kind="year", start=year.start, end=year.end)
    db.session.add(final)
    db.session.commit()
    q2 = db.session.scalars(select(Period).where(Period.number == 2)).one().id
    ops = []
    for student, subject, period, value, status in (
            ("st_ivanova", "s_math", q2, "5", "graded"), ("st_smirnov", "s_math", q2, "3", "graded"),
            ("st_ivanova", "s_math", final.id, "5", "graded"), ("st_smirnov", "s_math", final.id, None, "not_assessed"),
            ("st_ivanova", "s_russian", final.id, "4", "graded"), ("st_smirnov", "s_russian", final.id, "2", "graded")):
        teacher = "t_petrova" if subject == "s_math" else "t_sidorov"
        ops.append(school.machine.op("period_grade", period_grade_key(school[student], school[subject], period),
                                     {"student": school[student], "subject": school[subject], "period": period,
                                      "value": value, "status": status},
                                     author=school[teacher], at=ms_at(dt.date(2026, 11, 21), 12)))
    school.post(ops)


@needs_pdf
def test_the_summary_sheet_holds_each_students_period_and_year_marks(client, runner, tmp_path):
    school = PaperSchool(client)
    school.week_47()
    school.deferred_period_mark()
    year_marks(school)
    out = tmp_path / "summary.pdf"
    result = runner.invoke(args=["print", "summary", "--class", "7А", "--year", "2026-2027", "--out", str(out)])
    assert result.exit_code == 0, result.output
    pages = pdf_pages(out)
    assert f"Сводная ведомость 7А, 2026-2027, страниц: {pages}." in result.output
    text = pdf_text(out)
    assert "Сводная ведомость итоговых отметок обучающихся 7А класса за 2026-2027 учебный год" in text
    assert "Математика" in text and "Русский язык" in text
    assert text.count("1 ч.") == text.count("4 ч. год") == 2  # four quarters and the year, per subject
    assert "1 Иванова Мария Петровна отсрочка 5 5 4" in text  # maths: Q1 deferred, Q2 5, year 5; Russian: year 4
    assert "2 Смирнов Павел Олегович 4 3 н/а 2" in text
    assert "Математика 1 0 0 0 1 0 100,0 % 100,0 %" in text  # one 5, one not assessed
    assert "Русский язык 0 1 0 1 0 0 50,0 % 50,0 %" in text
    assert "2 Смирнов Павел Олегович 1 1 0" in text.split("Пропуски уроков за год")[1]
    assert "Классный руководитель" in text and "Петрова Анна Ивановна" in text and "Директор" in text
    for page in range(1, pages + 1):
        assert f"стр. {page} из {pages}" in pdf_text(out, page)
    keep_png(out, "summary-7A-2026-2027")


def test_the_summary_sheet_without_year_marks_says_so_and_errors_are_plain(client, runner, tmp_path):
    PaperSchool(client)
    out = tmp_path / "summary.html"
    result = runner.invoke(args=["print", "summary", "--class", "7А", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Годовые отметки в журнал не внесены" in out.read_text(encoding="utf-8")
    result = runner.invoke(args=["print", "summary", "--class", "7А", "--year", "2025-2026", "--out", str(out)])
    assert result.exit_code == 1 and "Учебный год «2025-2026» не найден. Есть: 2026-2027." in result.output
