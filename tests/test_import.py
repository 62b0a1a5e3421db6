"""Spreadsheet import: every layout from CSV and XLSX, re-import, and every kind of bad row.

A bad row is reported as `FILE:LINE: message` and the file changes nothing; each kind of bad row has a
case below that checks both.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.base import settings
from app.base.calendar import ensure_calendar
from app.base.extensions import db
from app.base.models import (
    Assignment,
    Base,
    Consent,
    Family,
    Group,
    Guardian,
    SchoolClass,
    Student,
    Subject,
    Teacher,
    TimetableEntry,
)
from app.importing import LAYOUTS, ImportFailed, find_header, read_sheet, values
from app.importing.errors import CellError, Problem

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "docs" / "examples"
ORDER = ["teachers", "subjects", "classes", "students", "groups", "assignments", "timetable"]


@pytest.fixture
def year(app):
    """The configured academic year, written to the database."""
    year = ensure_calendar(settings())
    db.session.commit()
    return year


@pytest.fixture
def school(runner, year):
    """The example school's teachers, subjects, classes and students, imported."""
    result = run(runner, *(EXAMPLES / f"{kind}.csv" for kind in ORDER[:4]))
    assert result.exit_code == 0, result.output


def run(runner, *args):
    """Invoke `flask import` with these arguments."""
    result = runner.invoke(args=["import", *map(str, args)])
    db.session.rollback()  # see what the command committed, not an older snapshot
    return result


def write(tmp_path: Path, name: str, lines: list[str], encoding: str = "utf-8-sig") -> Path:
    """A CSV file with these lines."""
    path = tmp_path / name
    path.write_bytes("\r\n".join(lines).encode(encoding) + b"\r\n")
    return path


def snapshot() -> dict[str, list[str]]:
    """Every row of every table, to prove that a failed import changed nothing."""
    data = {t.name: sorted(repr(tuple(row)) for row in db.session.execute(t.select()))
            for t in Base.metadata.sorted_tables}
    db.session.rollback()
    return data


def count(model) -> int:
    """Rows of a model."""
    return db.session.scalar(select(func.count()).select_from(model))


def student(file_no: str) -> Student:
    """The student with this номер личного дела."""
    return db.session.scalars(select(Student).filter_by(file_no=file_no)).one()


def family_of(file_no: str) -> list[Family]:
    """The families a student belongs to."""
    return [f for f in db.session.scalars(select(Family)) if student(file_no) in f.students]


def make_xlsx():
    """docs/examples/make_xlsx.py, loaded as a module."""
    spec = importlib.util.spec_from_file_location("make_xlsx", EXAMPLES / "make_xlsx.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# The example files and the whole school


def test_example_files_import_in_documented_order_and_fill_the_school(runner, year):
    result = run(runner, *(EXAMPLES / f"{kind}.csv" for kind in ORDER))
    assert result.exit_code == 0, result.output
    assert (count(Teacher), count(Subject), count(SchoolClass), count(Student)) == (7, 11, 4, 10)
    assert (count(Family), count(Guardian), count(Group), count(Assignment), count(TimetableEntry)) == (
        7, 9, 2, 14, 12)
    seventh_b = db.session.scalars(select(SchoolClass).filter_by(grade=7, letter="Б")).one()
    assert seventh_b.homeroom_teacher.code == "101" and seventh_b.year_id == year.id
    assert student("1005").left_on == dt.date(2026, 10, 15)
    assert student("1002").birth_date == dt.date(2015, 5, 20)
    assert not db.session.scalars(select(Teacher).filter_by(code="107")).one().active
    groups = {g.name: sorted(s.file_no for s in g.students) for g in db.session.scalars(select(Group))}
    assert groups == {"англ. 1 гр.": ["1001", "1003", "1007"], "англ. 2 гр.": ["1004", "1009"]}
    obzh = db.session.scalars(select(Subject).filter_by(name="Основы безопасности жизнедеятельности")).one()
    assert obzh.short == "ОБЖ"
    assert "ученики: создано 10, обновлено 0, без изменений 0" in result.stdout


@pytest.mark.parametrize("kind", ORDER)
def test_kind_is_detected_from_the_headers(kind):
    header = find_header(read_sheet(EXAMPLES / f"{kind}.csv"))
    assert header.layout.kind == kind


def test_reimport_updates_never_duplicates(runner, year, tmp_path):
    files = [EXAMPLES / f"{kind}.csv" for kind in ORDER]
    assert run(runner, *files).exit_code == 0
    before = snapshot()
    again = run(runner, *files)
    assert again.exit_code == 0, again.output
    assert snapshot() == before
    assert "создано 0, обновлено 0" in again.stdout and "создано 1" not in again.stdout

    lines = (EXAMPLES / "students.csv").read_text(encoding="utf-8-sig").splitlines()
    lines[1] = lines[1].replace(";7Б;", ";9А;").replace("8 912 345-67-89", "8 912 999-00-00")
    lines[2] = lines[2].replace("89123456789", "89129990000")
    changed = run(runner, write(tmp_path, "students.csv", lines))
    assert changed.exit_code == 0, changed.output
    assert "ученики: создано 0, обновлено 1, без изменений 9" in changed.stdout
    assert student("1001").school_class.name == "9А"
    assert count(Student) == 10 and count(Guardian) == 9 and count(Family) == 7
    mother = db.session.scalars(select(Guardian).filter_by(last_name="Иванова")).one()
    assert mother.phone == "+79129990000"


def test_reimport_changes_rev_only_of_changed_records(runner, school, tmp_path):
    revs = {t.code: t.rev for t in db.session.scalars(select(Teacher))}
    lines = (EXAMPLES / "teachers.csv").read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1].replace("Анна", "Анна-Мария")
    assert run(runner, write(tmp_path, "teachers.csv", lines, "utf-8")).exit_code == 0
    after = {t.code: t.rev for t in db.session.scalars(select(Teacher))}
    assert after["101"] > revs["101"]
    assert {k: v for k, v in after.items() if k != "101"} == {k: v for k, v in revs.items() if k != "101"}


# Reading files


def test_cp1251_file_with_comma_delimiter_is_read(runner, year, tmp_path):
    path = write(tmp_path, "teachers.csv", ["Табельный номер,Фамилия,Имя,Отчество", "301,Ёлкина,Алёна,Петровна"],
                 encoding="cp1251")
    result = run(runner, path)
    assert result.exit_code == 0, result.output
    teacher = db.session.scalars(select(Teacher)).one()
    assert (teacher.last_name, teacher.first_name, teacher.middle_name) == ("Ёлкина", "Алёна", "Петровна")


def test_utf8_file_without_bom_with_semicolons_is_read(runner, year, tmp_path):
    path = write(tmp_path, "subjects.csv", ["Предмет;Краткое название", "Химия, углублённо;Хим."], encoding="utf-8")
    assert run(runner, path).exit_code == 0
    assert db.session.scalars(select(Subject.name)).one() == "Химия, углублённо"


def test_title_rows_above_the_header_are_skipped_and_lines_count_from_the_top(runner, year, tmp_path):
    path = write(tmp_path, "teachers.csv", ["Список учителей на 01.09.2026;;", "", "Табельный номер;Фамилия;Имя",
                                            "301;Ёлкина;Алёна", "302;;Борис"])
    result = run(runner, path)
    assert f"{path}:5: Фамилия: не заполнено" in result.stderr


def test_headers_are_matched_ignoring_case_punctuation_and_aliases(runner, year, tmp_path):
    path = write(tmp_path, "teachers.csv", ["таб. №;ФАМИЛИЯ:;имя*", "301;Ёлкина;Алёна"])
    result = run(runner, path)
    assert result.exit_code == 0, result.output
    assert db.session.scalars(select(Teacher.code)).one() == "301"


def test_unused_columns_are_reported_but_do_not_stop_the_import(runner, year, tmp_path):
    path = write(tmp_path, "teachers.csv", ["Табельный номер;Фамилия;Имя;Стаж", "301;Ёлкина;Алёна;12"])
    result = run(runner, path)
    assert result.exit_code == 0
    assert f"{path}:1: не используются и пропущены столбцы «Стаж»" in result.stderr
    assert count(Teacher) == 1


def test_xlsx_with_real_date_and_number_cells_imports_like_the_csv(runner, school, tmp_path):
    before = snapshot()
    target = tmp_path / "students.xlsx"
    make_xlsx().csv_to_xlsx(EXAMPLES / "students.csv", target)
    result = run(runner, target)
    assert result.exit_code == 0, result.output
    assert "ученики: создано 0, обновлено 0, без изменений 10" in result.stdout
    assert snapshot() == before


def test_xlsx_example_in_docs_imports(runner, year, tmp_path):
    assert run(runner, *(EXAMPLES / f"{kind}.csv" for kind in ORDER[:3])).exit_code == 0
    result = run(runner, EXAMPLES / "students.xlsx")
    assert result.exit_code == 0, result.output
    assert student("1001").birth_date == dt.date(2013, 3, 12) and count(Student) == 10


def test_xlsx_errors_name_the_sheet_row(runner, school, tmp_path):
    source = write(tmp_path, "bad.csv", ["Номер личного дела;Фамилия;Имя;Дата рождения;Класс",
                                         "2001;Орлов;Пётр;01.01.2014;7Г"], encoding="utf-8")
    target = tmp_path / "bad.xlsx"
    make_xlsx().csv_to_xlsx(source, target)  # a title row goes above: the bad row is row 3 of the sheet
    result = run(runner, target)
    assert f"{target}:3: Класс: класса 7Г нет в 2026-2027 учебном году" in result.stderr


def test_kind_option_decides_when_headers_are_ambiguous(runner, school, tmp_path):
    path = write(tmp_path, "list.csv", ["Предмет;Класс", "Химия;7Б"])
    result = run(runner, path)
    assert result.exit_code == 1
    assert (f"{path}:1: по заголовкам нельзя понять, что в файле: подходят нагрузка (--kind assignments), "
            "расписание (--kind timetable); укажите вид в --kind") in result.stderr
    forced = run(runner, "--kind", "subjects", path)
    assert forced.exit_code == 0, forced.output
    assert "не используются и пропущены столбцы «Класс»" in forced.stderr
    assert db.session.scalars(select(Subject).filter_by(name="Химия")).one()


def test_dry_run_checks_and_writes_nothing(runner, school, tmp_path):
    before = snapshot()
    result = run(runner, "--dry-run", EXAMPLES / "assignments.csv")
    assert result.exit_code == 0, result.output
    assert "проверен, ошибок нет (ничего не записано)" in result.stdout
    assert "нагрузка: создано 14" in result.stdout
    assert snapshot() == before


def test_files_after_a_failed_one_are_not_imported(runner, year, tmp_path):
    bad = write(tmp_path, "teachers.csv", ["Табельный номер;Фамилия;Имя", "301;;Алёна"])
    result = run(runner, bad, EXAMPLES / "subjects.csv")
    assert result.exit_code == 1
    assert f"Не импортированы и следующие файлы: {EXAMPLES / 'subjects.csv'}" in result.stderr
    assert count(Subject) == 0


# Students, families and guardians


def test_siblings_with_one_family_code_share_the_family_and_guardians(runner, school):
    (family,) = family_of("1001")
    assert family.name == "ИВ-1" and family_of("1002") == [family]
    assert sorted(g.full_name for g in family.guardians) == ["Иванов Пётр Сергеевич", "Иванова Ольга Николаевна"]
    (morozovs,) = family_of("1006")
    assert morozovs.channel == "both" and family_of("1007") == [morozovs] and len(morozovs.guardians) == 1


def test_row_with_guardians_but_no_family_code_gets_its_own_family(runner, school):
    (family,) = family_of("1004")
    assert family.name == "ЛД 1004" and [g.email for g in family.guardians] == ["kozlov@example.ru"]
    assert family_of("1005") == []


def test_family_code_change_moves_the_student(runner, school, tmp_path):
    path = write(tmp_path, "s.csv", ["Номер личного дела;Фамилия;Имя;Дата рождения;Класс;Семья",
                                     "1002;Иванов;Алексей;20.05.2015;5А;ПВ-1"])
    assert run(runner, path).exit_code == 0
    assert [f.name for f in family_of("1002")] == ["ПВ-1"]
    assert sorted(s.file_no for s in family_of("1001")[0].students) == ["1001"]


def test_guardian_with_a_new_phone_is_updated_not_duplicated(runner, school, tmp_path):
    path = write(tmp_path, "s.csv", [
        "Номер личного дела;Фамилия;Имя;Дата рождения;Класс;Семья;Родитель 1: Фамилия;Родитель 1: Имя;"
        "Родитель 1: Отчество;Родитель 1: Телефон",
        "1010;Павлова;Ксения;03.10.2015;5А;ПВ-1;Павлова;Светлана;Юрьевна;+7 900 000-00-01"])
    result = run(runner, path)
    assert result.exit_code == 0, result.output
    assert "представители: создано 0, обновлено 1, без изменений 0" in result.stdout
    (mother,) = family_of("1010")[0].guardians
    assert mother.phone == "+79000000001"
    assert count(Guardian) == 9


def test_absent_optional_columns_keep_what_the_hub_knows(runner, school, tmp_path):
    path = write(tmp_path, "s.csv", ["Номер личного дела;Фамилия;Имя;Дата рождения;Класс",
                                     "1005;Новиков;Артём;30.11.2012;7Б"])
    result = run(runner, path)
    assert result.exit_code == 0 and "без изменений 1" in result.stdout
    kept = student("1005")
    assert (kept.middle_name, kept.left_on, kept.enrolled_on) == ("Олегович", dt.date(2026, 10, 15),
                                                                 dt.date(2019, 9, 1))
    assert [f.name for f in family_of("1001")] == ["ИВ-1"]


def test_new_student_without_enrolment_date_is_enrolled_at_year_start(runner, school, tmp_path):
    path = write(tmp_path, "s.csv", ["Номер личного дела;Фамилия;Имя;Дата рождения;Класс",
                                     "2001;Орлов;Пётр;2014-01-01;7 б"])
    assert run(runner, path).exit_code == 0
    new = student("2001")
    assert new.enrolled_on == dt.date(2026, 9, 1) and new.school_class.name == "7Б" and new.middle_name == ""


# Groups, teaching load, timetable


def test_groups_file_sets_exactly_the_members_listed_and_bumps_the_rev(runner, school, tmp_path):
    assert run(runner, EXAMPLES / "groups.csv").exit_code == 0
    group = db.session.scalars(select(Group).filter_by(name="англ. 2 гр.")).one()
    rev = group.rev
    path = write(tmp_path, "g.csv", ["Класс;Группа;Номер личного дела", "7Б;Англ. 2 гр.;1004", "7Б;англ. 2 гр.;1005"])
    result = run(runner, path)
    assert result.exit_code == 0, result.output
    group = db.session.scalars(select(Group).filter_by(name="Англ. 2 гр.")).one()
    assert sorted(s.file_no for s in group.students) == ["1004", "1005"] and group.rev > rev
    assert count(Group) == 2


def test_assignments_and_timetable_create_the_groups_they_name(runner, school):
    assert run(runner, EXAMPLES / "assignments.csv").exit_code == 0
    groups = {g.name: g for g in db.session.scalars(select(Group))}
    assert set(groups) == {"англ. 1 гр.", "англ. 2 гр."} and groups["англ. 1 гр."].students == []
    english = db.session.scalars(select(Subject).filter_by(name="Английский язык")).one()
    assert groups["англ. 1 гр."].subject_id == english.id
    result = run(runner, EXAMPLES / "timetable.csv")
    assert result.exit_code == 0, result.output
    assert count(Group) == 2
    monday_third = db.session.scalars(select(TimetableEntry).filter_by(weekday=1, slot=3)).all()
    assert {e.group_id for e in monday_third} == {groups["англ. 1 гр."].id, groups["англ. 2 гр."].id}


def test_assignment_hours_accept_a_decimal_comma(runner, school):
    assert run(runner, EXAMPLES / "assignments.csv").exit_code == 0
    hours = db.session.scalars(select(Assignment.hours_per_week).join(Subject).filter(
        Subject.name == "Информатика")).one()
    assert hours == 1.5


def test_timetable_reimport_updates_the_teacher_of_a_slot(runner, school, tmp_path):
    assert run(runner, EXAMPLES / "timetable.csv").exit_code == 0
    path = write(tmp_path, "t.csv", ["День недели;Урок;Класс;Предмет;Учитель (табельный номер)",
                                     "Понедельник;1;7Б;Русский язык;106"])
    result = run(runner, path)
    assert result.exit_code == 0, result.output
    entry = db.session.scalars(select(TimetableEntry).filter_by(weekday=1, slot=1)
                               .join(SchoolClass).filter(SchoolClass.grade == 7)).one()
    assert entry.valid_from == dt.date(2026, 9, 1) and entry.valid_to is None
    assert db.session.get(Teacher, entry.teacher_id).code == "106"
    assert count(TimetableEntry) == 12


def test_valid_to_closes_a_lesson_and_a_new_one_follows(runner, school):
    assert run(runner, EXAMPLES / "timetable.csv").exit_code == 0
    tuesday_third = db.session.scalars(select(TimetableEntry).filter_by(weekday=2, slot=3)
                                       .order_by(TimetableEntry.valid_from)).all()
    assert [(e.valid_from, e.valid_to) for e in tuesday_third] == [
        (dt.date(2026, 9, 1), dt.date(2026, 12, 29)), (dt.date(2027, 1, 12), None)]


# Bad rows: each is reported as FILE:LINE: message and the file changes nothing

TEACHERS = "Табельный номер;Фамилия;Имя;Отчество;Работает"
SUBJECTS = "Предмет;Краткое название"
CLASSES = "Класс;Классный руководитель (табельный номер)"
STUDENTS = ("Номер личного дела;Фамилия;Имя;Отчество;Дата рождения;Класс;Дата зачисления;Дата выбытия;Семья;"
            "Дневник семьи;Представитель 1: Фамилия;Представитель 1: Имя;Представитель 1: Телефон")
GOOD_STUDENT = "2001;Орлов;Пётр;;01.01.2014;7Б;01.09.2026;;F-9;ссылка;Орлова;Анна;89001112233"
GROUPS = "Класс;Группа;Предмет;Номер личного дела;Фамилия"
GOOD_GROUP = "7Б;информ. 1 гр.;Информатика;1001;Иванова"
ASSIGNMENTS = "Учитель (табельный номер);Класс;Группа;Предмет;Часов в неделю"
GOOD_ASSIGNMENT = "103;9А;;Английский язык;3"
TIMETABLE = "День недели;Урок;Класс;Группа;Предмет;Учитель (табельный номер);Действует с;Действует по"
GOOD_LESSON = "ср;1;9А;;История;106;;"

BAD_ROWS = {
    "teacher_twice": (TEACHERS, "301;Белова;Ирина;;да", "301;Белова;Инна;;да",
                      "учитель с табельным номером 301 уже есть в строке 2"),
    "teacher_without_surname": (TEACHERS, "301;Белова;Ирина;;да", "302;;Инна;;да", "Фамилия: не заполнено"),
    "teacher_surname_too_long": (TEACHERS, "301;Белова;Ирина;;да", "302;" + "Б" * 101 + ";Инна;;да",
                                 "Фамилия: слишком длинное значение (101 знаков, можно не больше 100)"),
    "teacher_active_not_yes_no": (TEACHERS, "301;Белова;Ирина;;да", "302;Белова;Инна;;может",
                                  "Работает: «может»: нужно «да» или «нет»"),
    "subject_twice": (SUBJECTS, "Химия;Хим.", "химия;Х", "предмет «химия» уже есть в строке 2"),
    "subject_short_too_long": (SUBJECTS, "Химия;Хим.", "Физика;Физика для любознательных",
                               "Краткое название: слишком длинное значение (25 знаков, можно не больше 20)"),
    "class_grade_12": (CLASSES, "2А;104", "12А;101", "Класс: класс «12А»: параллель должна быть от 1 до 11"),
    "class_grade_0": (CLASSES, "2А;104", "0Б;101", "Класс: класс «0Б»: параллель должна быть от 1 до 11"),
    "class_not_a_class": (CLASSES, "2А;104", "седьмой;101",
                          "Класс: «седьмой» — не название класса; нужна параллель и буква, например 7Б"),
    "class_unknown_homeroom_teacher": (CLASSES, "2А;104", "3А;999", "Классный руководитель (табельный номер): "
                                       "нет учителя с табельным номером 999 (сначала импортируйте учителей)"),
    "class_twice": (CLASSES, "2А;104", "2 а;103", "класс 2А уже есть в строке 2"),
    "student_unknown_class": (STUDENTS, GOOD_STUDENT, "2002;Орлов;Иван;;01.01.2014;7Г;;;;;;;",
                              "Класс: класса 7Г нет в 2026-2027 учебном году (сначала импортируйте классы)"),
    "student_grade_outside_1_11": (STUDENTS, GOOD_STUDENT, "2002;Орлов;Иван;;01.01.2014;12Б;;;;;;;",
                                   "Класс: класс «12Б»: параллель должна быть от 1 до 11"),
    "student_bad_date": (STUDENTS, GOOD_STUDENT, "2002;Орлов;Иван;;31.02.2014;7Б;;;;;;;",
                         "Дата рождения: «31.02.2014» — не дата; нужна дата ДД.ММ.ГГГГ или ГГГГ-ММ-ДД"),
    "student_twice_in_file": (STUDENTS, GOOD_STUDENT, "2001;Орлов;Иван;;01.01.2014;7Б;;;;;;;",
                              "ученик с номером личного дела 2001 уже есть в строке 2"),
    "student_without_first_name": (STUDENTS, GOOD_STUDENT, "2002;Орлов;;;01.01.2014;7Б;;;;;;;",
                                   "Имя: не заполнено"),
    "student_leaves_before_enrolling": (STUDENTS, GOOD_STUDENT, "2002;Орлов;Иван;;01.01.2014;7Б;01.09.2026;"
                                        "01.08.2026;;;;;", "дата выбытия 01.08.2026 раньше даты зачисления 01.09.2026"),
    "student_born_after_enrolling": (STUDENTS, GOOD_STUDENT, "2002;Орлов;Иван;;01.10.2026;7Б;01.09.2026;;;;;;",
                                     "дата рождения 01.10.2026 не раньше даты зачисления 01.09.2026"),
    "guardian_without_first_name": (STUDENTS, GOOD_STUDENT, "2002;Орлов;Иван;;01.01.2014;7Б;;;;;Орлова;;89001112233",
                                    "Представитель 1: Имя: не заполнено"),
    "guardian_bad_phone": (STUDENTS, GOOD_STUDENT, "2002;Орлов;Иван;;01.01.2014;7Б;;;;;Орлова;Анна;позвонить",
                           "Представитель 1: Телефон: «позвонить» — не номер телефона"),
    "guardian_phones_disagree": (STUDENTS, GOOD_STUDENT, "2002;Орлов;Иван;;01.01.2014;7Б;;;F-9;;Орлова;Анна;"
                                 "89005556677", "у представителя Орлова Анна (семья F-9) здесь телефон "
                                 "+79005556677, а в строке 2 — +79001112233"),
    "guardian_bad_email": ("Номер личного дела;Фамилия;Имя;Дата рождения;Класс;Представитель 1: Фамилия;"
                           "Представитель 1: Имя;Представитель 1: Эл. почта",
                           "2001;Орлов;Пётр;01.01.2014;7Б;Орлова;Анна;anna@example.ru",
                           "2002;Орлов;Иван;01.01.2014;7Б;Орлова;Анна;anna.example.ru",
                           "Представитель 1: Эл. почта: «anna.example.ru» — не адрес электронной почты"),
    "family_channel_unknown": (STUDENTS, GOOD_STUDENT, "2002;Орлов;Иван;;01.01.2014;7Б;;;F-9;почта;;;",
                               "Дневник семьи: «почта»: нужно «ссылка», «бумага» или «оба»"),
    "family_channel_disagrees": (STUDENTS, GOOD_STUDENT, "2002;Орлов;Иван;;01.01.2014;7Б;;;F-9;бумага;;;",
                                 "семья F-9: «Дневник семьи» здесь «бумага», а в строке 2 — «ссылка»"),
    "group_unknown_student": (GROUPS, GOOD_GROUP, "7Б;информ. 1 гр.;Информатика;9999;",
                              "Номер личного дела: нет ученика с номером личного дела 9999 "
                              "(сначала импортируйте учеников)"),
    "group_student_of_another_class": (GROUPS, GOOD_GROUP, "7Б;информ. 1 гр.;Информатика;1002;Иванов",
                                       "ученик 1002 (Иванов Алексей Петрович) учится в 5А, а не в 7Б"),
    "group_surname_differs": (GROUPS, GOOD_GROUP, "7Б;информ. 1 гр.;Информатика;1003;Петров",
                              "в личном деле 1003 записан(а) Смирнов Дмитрий Андреевич, а в файле — Петров"),
    "group_member_twice": (GROUPS, GOOD_GROUP, "7Б;Информ. 1 гр.;;1001;",
                           "ученик 1001 уже есть в группе «Информ. 1 гр.» 7Б в строке 2"),
    "group_subject_disagrees": (GROUPS, GOOD_GROUP, "7Б;информ. 1 гр.;Английский язык;1003;Смирнов",
                                "группа «информ. 1 гр.» 7Б: предмет здесь «Английский язык», "
                                "а в строке 2 — «Информатика»"),
    "group_unknown_subject": (GROUPS, GOOD_GROUP, "7Б;астр. 1 гр.;Астрономия;1003;",
                              "Предмет: нет предмета «Астрономия» (сначала импортируйте предметы)"),
    "assignment_unknown_teacher": (ASSIGNMENTS, GOOD_ASSIGNMENT, "999;9А;;История;2",
                                   "Учитель (табельный номер): нет учителя с табельным номером 999"),
    "assignment_unknown_class": (ASSIGNMENTS, GOOD_ASSIGNMENT, "106;9Д;;История;2",
                                 "Класс: класса 9Д нет в 2026-2027 учебном году"),
    "assignment_zero_hours": (ASSIGNMENTS, GOOD_ASSIGNMENT, "106;9А;;История;0",
                              "Часов в неделю: «0»: часов в неделю должно быть больше 0 и не больше 20"),
    "assignment_too_many_hours": (ASSIGNMENTS, GOOD_ASSIGNMENT, "106;9А;;История;25",
                                  "Часов в неделю: «25»: часов в неделю должно быть больше 0 и не больше 20"),
    "assignment_hours_not_a_number": (ASSIGNMENTS, GOOD_ASSIGNMENT, "106;9А;;История;много",
                                      "Часов в неделю: «много» — не число"),
    "assignment_twice": (ASSIGNMENTS, GOOD_ASSIGNMENT, "103;9а;;английский язык;2",
                         "нагрузка учителя 103 по предмету «Английский язык» в 9А уже есть в строке 2"),
    "lesson_bad_weekday": (TIMETABLE, GOOD_LESSON, "пнд;2;9А;;История;106;;",
                           "День недели: «пнд» — не день недели; нужно пн, вт, ср, чт, пт, сб или число от 1 до 7"),
    "lesson_on_sunday": (TIMETABLE, GOOD_LESSON, "7;2;9А;;История;106;;",
                         "День недели: вс — не учебный день (в школе 6 учебных дней в неделю, config.yaml)"),
    "lesson_slot_without_bell": (TIMETABLE, GOOD_LESSON, "ср;9;9А;;История;106;;",
                                 "Урок: урока 9 нет в расписании звонков (есть уроки 1–7)"),
    "lesson_slot_not_a_number": (TIMETABLE, GOOD_LESSON, "ср;первый;9А;;История;106;;",
                                 "Урок: «первый» — не целое число"),
    "lesson_slot_taken": (TIMETABLE, GOOD_LESSON, "3;1;9А;;Информатика;102;01.09.2026;",
                          "у 9А урок 1 в ср с 01.09.2026 уже есть в строке 2"),
    "lesson_ends_before_it_starts": (TIMETABLE, GOOD_LESSON, "ср;2;9А;;История;106;01.11.2026;01.10.2026",
                                     "«Действует по» 01.10.2026 раньше, чем «Действует с» 01.11.2026"),
    "lesson_outside_the_year": (TIMETABLE, GOOD_LESSON, "ср;2;9А;;История;106;01.08.2026;",
                                "Действует с: 01.08.2026 вне 2026-2027 учебного года (01.09.2026–31.05.2027)"),
    "lesson_unknown_subject": (TIMETABLE, GOOD_LESSON, "ср;2;9А;;Астрономия;106;;",
                               "Предмет: нет предмета «Астрономия»"),
    "lesson_unknown_teacher": (TIMETABLE, GOOD_LESSON, "ср;2;9А;;История;999;;",
                               "Учитель (табельный номер): нет учителя с табельным номером 999"),
}


@pytest.mark.parametrize("case", BAD_ROWS)
def test_bad_row_is_reported_with_its_line_and_changes_nothing(runner, school, tmp_path, case):
    header, good, bad, message = BAD_ROWS[case]
    path = write(tmp_path, f"{case}.csv", [header, good, bad])
    before = snapshot()
    result = run(runner, path)
    assert result.exit_code == 1, result.output
    assert f"{path}:3: {message}" in result.stderr
    assert f"Файл {path} не импортирован (1 ошибка); база данных не изменена." in result.stderr
    assert snapshot() == before


def test_good_rows_of_the_bad_row_cases_import(runner, school, tmp_path):
    for header, good in {(h, g) for h, g, _bad, _message in BAD_ROWS.values()}:
        result = run(runner, write(tmp_path, "good.csv", [header, good]))
        assert result.exit_code == 0, (header, result.output)


def test_every_error_of_the_file_is_listed_in_line_order(runner, school, tmp_path):
    path = write(tmp_path, "students.csv", [
        STUDENTS, GOOD_STUDENT,
        "2002;Орлов;Иван;;31.02.2014;7Г;;;;;;;",
        "2003;Орлова;Мила;;01.01.2014;7Б;;;;;;;",
        "2001;Орлов;Пётр;;01.01.2014;7Б;;;;;;;",
    ])
    before = snapshot()
    result = run(runner, path)
    errors = [line for line in result.stderr.splitlines() if line.startswith(f"{path}:")]
    assert errors == [
        f"{path}:3: Дата рождения: «31.02.2014» — не дата; нужна дата ДД.ММ.ГГГГ или ГГГГ-ММ-ДД",
        f"{path}:3: Класс: класса 7Г нет в 2026-2027 учебном году (сначала импортируйте классы)",
        f"{path}:5: ученик с номером личного дела 2001 уже есть в строке 2",
    ]
    assert "(3 ошибки)" in result.stderr and result.exit_code == 1
    assert snapshot() == before


FILE_PROBLEMS = {
    "missing_required_column": (["Номер личного дела;Фамилия;Имя;Класс", "2001;Орлов;Пётр;7Б"],
                                ":1: нет обязательного столбца «Дата рождения»"),
    "repeated_column": (["Табельный номер;Фамилия;Имя;Фамилия", "301;Белова;Ирина;Белова"],
                        ":1: столбец «Фамилия» повторяется"),
    "no_known_header": (["Фрукт;Цвет", "Яблоко;красный"],
                        ":1: не найдена строка заголовков ни одного из видов в первых 10 строках"),
    "empty_file": ([""], ": файл пуст"),
    "guardian_without_name_columns": (["Номер личного дела;Фамилия;Имя;Дата рождения;Класс;Представитель 2: Телефон",
                                       "2001;Орлов;Пётр;01.01.2014;7Б;89001112233"],
                                      ":1: нет обязательного столбца «Представитель 2: Фамилия» и "
                                      "«Представитель 2: Имя»"),
}


@pytest.mark.parametrize("case", FILE_PROBLEMS)
def test_bad_file_is_reported_and_changes_nothing(runner, school, tmp_path, case):
    lines, message = FILE_PROBLEMS[case]
    path = write(tmp_path, f"{case}.csv", lines)
    before = snapshot()
    result = run(runner, path)
    assert result.exit_code == 1
    assert f"{path}{message}" in result.stderr
    assert snapshot() == before


def test_missing_old_and_damaged_files_are_refused(runner, year, tmp_path):
    assert f"{tmp_path / 'none.csv'}: файл не найден" in run(runner, tmp_path / "none.csv").stderr
    old = tmp_path / "list.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0")
    assert f"{old}: формат .xls не поддерживается: сохраните файл как .xlsx или CSV" in run(runner, old).stderr
    broken = tmp_path / "list.xlsx"
    broken.write_bytes(b"not a zip file")
    assert f"{broken}: не удалось открыть файл Excel" in run(runner, broken).stderr
    huge = tmp_path / "huge.csv"
    huge.write_bytes(("Табельный номер;Фамилия;Имя\n301;Белова;Ирина\n302;" + "Б" * 200_000 + ";Инна\n").encode())
    result = run(runner, huge)
    assert f"{huge}:3: файл CSV повреждён" in result.stderr and result.exit_code == 1
    assert count(Teacher) == 0


def test_kind_option_for_a_file_of_another_kind_finds_no_header(runner, year):
    result = run(runner, "--kind", "teachers", EXAMPLES / "timetable.csv")
    assert result.exit_code == 1
    assert (f"{EXAMPLES / 'timetable.csv'}:1: не найдена строка заголовков для вида teachers (учителя)"
            in result.stderr)


# Large files


def test_a_thousand_students_import_in_seconds_with_a_progress_bar(runner, school, tmp_path):
    lines = ["Номер личного дела;Фамилия;Имя;Отчество;Дата рождения;Класс;Семья;Представитель 1: Фамилия;"
             "Представитель 1: Имя;Представитель 1: Телефон"]
    for n in range(1000):
        lines.append(f"{5000 + n};Фамилия{n};Имя{n};Отчество;01.01.2014;{('5А', '7Б', '9А')[n % 3]};"
                     f"С-{n // 2};Родитель{n // 2};Мать;8900{n // 2:07d}")
    path = write(tmp_path, "big.csv", lines)
    started = time.perf_counter()
    result = run(runner, path)
    elapsed = time.perf_counter() - started
    assert result.exit_code == 0, result.output
    assert f"Импорт {path}" in result.stderr
    assert "ученики: создано 1000" in result.stdout and "семьи: создано 500" in result.stdout
    assert count(Student) == 1010 and count(Guardian) == 509
    assert elapsed < 8, f"1,000 students took {elapsed:.1f} s"
    started = time.perf_counter()
    assert "ученики: создано 0, обновлено 0, без изменений 1000" in run(runner, path).stdout
    assert time.perf_counter() - started < 8


# Cells and documentation


@pytest.mark.parametrize("raw, expected", [
    ("16.11.2026", dt.date(2026, 11, 16)), ("1.9.2026", dt.date(2026, 9, 1)), ("2026-11-16", dt.date(2026, 11, 16)),
    (dt.date(2026, 11, 16), dt.date(2026, 11, 16)), (dt.datetime(2026, 11, 16, 0, 0), dt.date(2026, 11, 16)),
    ("16.11.2026 0:00", dt.date(2026, 11, 16)),
])
def test_dates_are_read_in_russian_iso_and_excel_forms(raw, expected):
    assert values.date(raw) == expected


@pytest.mark.parametrize("raw", ["16/11/2026", "16.11.26", "2026-13-01", "вчера"])
def test_other_date_forms_are_refused(raw):
    with pytest.raises(CellError, match="не дата"):
        values.date(raw)


@pytest.mark.parametrize("raw, expected", [
    ("7Б", (7, "Б")), ("7 б", (7, "Б")), ("10-А", (10, "А")), ("7B", (7, "В")), (5, (5, "")), ("11 «А»", (11, "А")),
])
def test_class_names_are_read_as_schools_write_them(raw, expected):
    assert values.class_name(raw) == expected


@pytest.mark.parametrize("raw, expected", [
    ("8 912 345-67-89", "+79123456789"), ("+7 (912) 345-67-89", "+79123456789"), (89123456789, "+79123456789"),
    ("9123456789", "+79123456789"), ("2-15-34", "2-15-34"),
])
def test_phones_are_normalized_so_that_the_same_number_matches(raw, expected):
    assert values.phone(raw) == expected


def test_every_layout_column_and_alias_is_documented():
    text = (ROOT / "docs" / "import.md").read_text(encoding="utf-8")
    missing = [name for layout in LAYOUTS.values() for column in layout.columns
               for name in (column.header, *column.aliases) if name.replace("{n}", "N").strip() not in text]
    missing += [f"--kind {kind}" for kind in LAYOUTS if f"--kind {kind}" not in text]
    missing += [p.name for p in EXAMPLES.iterdir() if p.name not in text]
    assert missing == []


def test_problems_print_as_file_line_message_in_line_order():
    failed = ImportFailed("f.csv", [Problem(7, "б"), Problem(None, "файл"), Problem(3, "а")])
    assert failed.lines() == ["f.csv: файл", "f.csv:3: а", "f.csv:7: б"]


def test_consent_columns_record_paper_consents_once_and_links_can_then_be_issued(runner, year, tmp_path):
    result = run(runner, *(EXAMPLES / f"{kind}.csv" for kind in ORDER))
    assert result.exit_code == 0, result.output
    assert "согласия: создано 4" in result.stdout
    consents = {c.basis: c for c in db.session.scalars(select(Consent))}
    assert set(consents) == {f"согласие № {n} от {d}.09.2026" for n, d in ((1, "05"), (2, "10"), (3, "07"),
                                                                          (4, "12"))}
    assert consents["согласие № 3 от 07.09.2026"].channel == "both"
    assert all(c.recorded_by == f"import: {EXAMPLES / 'students.csv'}"[:60] for c in consents.values())
    again = run(runner, EXAMPLES / "students.csv")
    assert again.exit_code == 0 and "согласия" not in again.stdout and count(Consent) == 4
    issued = runner.invoke(args=["links", "issue", "--all"])
    assert "Выдано ссылок: 3." in issued.output  # Смирнова chose paper for the family СМ-1
    lines = (EXAMPLES / "students.csv").read_text(encoding="utf-8-sig").splitlines()
    lines[4] = lines[4].rsplit(";", 3)[0] + ";;;оба"  # a channel without a date
    lines[8] = lines[8].rsplit(";", 3)[0] + ";31.12.2099;;"  # a date not come yet
    bad = run(runner, write(tmp_path, "students.csv", lines))
    assert bad.exit_code != 0
    assert ":5: представитель 1: у согласия нет даты" in bad.stderr
    assert ":9: представитель 1: дата согласия 31.12.2099 ещё не наступила" in bad.stderr
    assert count(Consent) == 4
