"""The year's roll-over (`year open`) and a mid-year move (`year move`): checked student by student."""

from __future__ import annotations

import datetime as dt
import html
import io
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from app.base import settings
from app.base.extensions import db
from app.base.models import AcademicYear, Enrolment, Period, SchoolClass, Student, device_class
from app.syncing.devices import register
from static_site.paper import journal_copy, lookup, summary
from sync import clock
from tests.school import build_tiny_school
from tests.staff_support import make_accounts, post, sign_in

ROOT = Path(__file__).resolve().parent.parent
NEW_YEAR = """academic_year:
  name: "2027-2028"
  start: 2027-09-01
  end: 2028-05-31
  period_kind: quarter
  periods:
    - {name: "1 четверть", start: 2027-09-01, end: 2027-10-23}
    - {name: "2 четверть", start: 2027-11-03, end: 2027-12-28}
    - {name: "3 четверть", start: 2028-01-11, end: 2028-03-18}
    - {name: "4 четверть", start: 2028-03-28, end: 2028-05-31}
  holidays:
    - {name: "Осенние каникулы", start: 2027-10-24, end: 2027-11-02}
  school_days: 6
"""
ORDER = """file_no;action;class;last_name;first_name;middle_name;birth_date
S2;repeat;;;;;
S3;change;2Б;;;;
S9;join;8A;Новикова;Анна;Сергеевна;03.05.2014
"""


@pytest.fixture
def school(app):
    """The tiny school, plus 7Б, an 11th-grader and a machine bound to 7А."""
    ids = build_tiny_school()
    year = db.session.scalars(select(AcademicYear)).one()
    teacher = db.session.scalars(select(SchoolClass).where(SchoolClass.grade == 7)).one().homeroom_teacher_id
    db.session.add_all([SchoolClass(year_id=year.id, grade=7, letter="Б"),
                        SchoolClass(year_id=year.id, grade=11, letter="А", homeroom_teacher_id=teacher)])
    db.session.flush()
    eleven = db.session.scalars(select(SchoolClass).where(SchoolClass.grade == 11)).one()
    db.session.add(Student(file_no="S4", last_name="Орлова", first_name="Дарья", middle_name="Игоревна",
                           birth_date=dt.date(2009, 1, 5), class_id=eleven.id, enrolled_on=dt.date(2026, 9, 1)))
    device, _token = register("Кабинет 7А", class_ids=[ids["c7"]])
    db.session.commit()
    return {"device": device.id}


@pytest.fixture
def new_year_app(make_app, tmp_path):
    """The hub after config.yaml was edited for 2027-2028."""
    text = (ROOT / "config.yaml").read_text(encoding="utf-8")
    text = re.sub(r"academic_year:\n.*?  school_days: \d\n", lambda _m: NEW_YEAR, text, flags=re.S)
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return make_app(TETRAD_CONFIG=path)


def order_file(tmp_path: Path, text: str = ORDER) -> Path:
    path = tmp_path / "order.csv"
    path.write_text(text, encoding="utf-8")
    return path


def where(file_no: str) -> tuple[str, str]:
    """A student's current class and its year."""
    student = db.session.scalars(select(Student).where(Student.file_no == file_no)).one()
    cls = db.session.get(SchoolClass, student.class_id)
    year = db.session.get(AcademicYear, cls.year_id)
    return cls.name, year.name


def test_the_dry_run_prints_the_plan_student_by_student_and_changes_nothing(school, new_year_app, tmp_path):
    with new_year_app.app_context():
        result = new_year_app.test_cli_runner().invoke(args=["year", "open", "2027-2028", "--order",
                                                             str(order_file(tmp_path))])
        assert result.exit_code == 0, result.output
        lines = [line.strip() for line in result.output.splitlines()]
        assert lines[0] == "Перевод из 2026-2027 в 2027-2028 — пробный запуск, ничего не изменено:"
        assert lines[1:6] == [
            "Белова Ольга Ивановна (ЛД S3): 1А → 2Б (переход в другой класс)",
            "Иванова Мария Петровна (ЛД S1): 7А → 8А",
            "Смирнов Павел Олегович (ЛД S2): оставлен(а) на второй год, 7А → 7А",
            "Орлова Дарья Игоревна (ЛД S4): выпуск из 11А, выбывает с 01.06.2027, доступ семьи закрывается",
            "Новикова Анна Сергеевна (ЛД S9): зачисляется в 8А",
        ]
        assert "переводятся 1, остаются на второй год 1, переходят в другой класс 1, выбывают 0, выпускаются 1, " \
               "зачисляются 1" in result.output
        assert where("S1") == ("7А", "2026-2027")
        assert db.session.scalars(select(AcademicYear.name)).all() == ["2026-2027"]
        db.session.remove()


def test_the_real_run_moves_every_student_as_the_order_says_in_one_go(school, new_year_app, tmp_path):
    with new_year_app.app_context():
        result = new_year_app.test_cli_runner().invoke(args=["year", "open", "2027-2028", "--order",
                                                             str(order_file(tmp_path)), "--apply"])
        assert result.exit_code == 0, result.output
        assert "Перевод выполнен" in result.output
        assert where("S1") == ("8А", "2027-2028")
        assert where("S2") == ("7А", "2027-2028")
        assert where("S3") == ("2Б", "2027-2028")
        assert where("S9") == ("8А", "2027-2028")
        graduate = db.session.scalars(select(Student).where(Student.file_no == "S4")).one()
        assert graduate.left_on == dt.date(2027, 6, 1)
        assert where("S4") == ("11А", "2026-2027")
        ivanova = db.session.scalars(select(Student).where(Student.file_no == "S1")).one()
        history = [(db.session.get(SchoolClass, e.class_id).name, e.start, e.end, e.reason) for e in
                   db.session.scalars(select(Enrolment).where(Enrolment.student_id == ivanova.id)
                                      .order_by(Enrolment.start))]
        assert history == [("7А", dt.date(2026, 9, 1), dt.date(2027, 9, 1), "enrolled"),
                           ("8А", dt.date(2027, 9, 1), None, "promoted")]
        new = db.session.scalars(select(AcademicYear).where(AcademicYear.name == "2027-2028")).one()
        assert [p.name for p in db.session.scalars(select(Period).where(Period.year_id == new.id,
                                                                        Period.kind != "year")
                                                   .order_by(Period.number))] == \
               ["1 четверть", "2 четверть", "3 четверть", "4 четверть"]
        bound = db.session.execute(select(device_class.c.class_id).where(
            device_class.c.device_id == school["device"])).scalars().all()
        assert [(db.session.get(SchoolClass, c).name, db.session.get(SchoolClass, c).year_id) for c in bound] \
            == [("8А", new.id)]
        # Last year's summary sheet of 7А still lists both its students, though both are in new classes now.
        old = lookup.find_year("2026-2027")
        context = summary.summary_context(settings(), lookup.find_class("7А", old), old, clock.now())
        assert [s["name"] for s in context["students"]] == ["Иванова Мария Петровна", "Смирнов Павел Олегович"]
        again = new_year_app.test_cli_runner().invoke(args=["year", "open", "2027-2028", "--apply"])
        assert again.exit_code == 1
        assert "уже есть классы" in again.output
        db.session.remove()


def test_a_wrong_order_file_is_refused_with_its_line_and_nothing_changes(school, new_year_app, tmp_path):
    bad = "file_no;action;class\nS2;repeat;\nS3;fly;2Б\nS1;change;\n"
    with new_year_app.app_context():
        result = new_year_app.test_cli_runner().invoke(args=["year", "open", "2027-2028", "--order",
                                                             str(order_file(tmp_path, bad)), "--apply"])
        assert result.exit_code == 1
        assert "строка 3: действие «fly» не из списка" in result.output
        assert "строка 4: для change нужен класс" in result.output
        assert where("S1") == ("7А", "2026-2027")
        db.session.remove()


def test_the_year_must_be_written_into_the_config_first(school, runner):
    result = runner.invoke(args=["year", "open", "2027-2028"])
    assert result.exit_code == 1
    assert "в config.yaml учебный год «2026-2027»" in result.output


def test_a_student_who_moved_in_march_is_in_both_journal_copies_for_their_own_dates(school, runner):
    result = runner.invoke(args=["year", "move", "S2", "7Б", "10.03.2027"])
    assert result.exit_code == 0, result.output
    assert "Смирнов Павел Олегович: 7А → 7Б с 10.03.2027." in result.output
    year = lookup.find_year("2026-2027")
    third, fourth = lookup.year_period(year, 3), lookup.year_period(year, 4)
    seven_a, seven_b = lookup.find_class("7А", year), lookup.find_class("7Б", year)

    def listed(cls, period):
        context = journal_copy.journal_context(settings(), cls, period, "", clock.now())
        return [(s["name"], s["note"]) for s in context["students"]]

    assert listed(seven_a, third) == [("Иванова Мария Петровна", ""), ("Смирнов Павел Олегович",
                                                                        "выбыл(а) 10.03.2027")]
    assert listed(seven_b, third) == [("Смирнов Павел Олегович", "зачислен(а) 10.03.2027")]
    assert listed(seven_a, fourth) == [("Иванова Мария Петровна", "")]
    assert listed(seven_b, fourth) == [("Смирнов Павел Олегович", "")]
    sheet = summary.summary_context(settings(), seven_a, year, clock.now())
    assert [(s["name"], s["note"]) for s in sheet["students"]] == [
        ("Иванова Мария Петровна", ""), ("Смирнов Павел Олегович", "выбыл(а) 10.03.2027")]


def test_a_student_imported_into_another_class_keeps_the_old_class_in_its_journal_copy(school, runner, tmp_path):
    path = tmp_path / "students.csv"
    path.write_text("Номер личного дела;Фамилия;Имя;Отчество;Дата рождения;Класс\n"
                    "S2;Смирнов;Павел;Олегович;02.05.2013;7Б\n", encoding="utf-8")
    result = runner.invoke(args=["import", str(path)])
    assert result.exit_code == 0, result.output
    db.session.rollback()
    year = lookup.find_year("2026-2027")
    second = lookup.year_period(year, 2)  # 05.11–29.12.2026; the school's today is 22.11.2026

    def listed(name):
        context = journal_copy.journal_context(settings(), lookup.find_class(name, year), second, "", clock.now())
        return [(s["name"], s["note"]) for s in context["students"]]

    assert listed("7А") == [("Иванова Мария Петровна", ""), ("Смирнов Павел Олегович", "выбыл(а) 22.11.2026")]
    assert listed("7Б") == [("Смирнов Павел Олегович", "зачислен(а) 22.11.2026")]


def test_the_demo_school_rolls_over_student_by_student_as_the_order_says(app, new_year_app, tmp_path):
    """Every demo student is checked against an expectation computed here, not by the roll-over's code."""
    from app.base.calendar import ensure_calendar
    from app.demo import DEFAULT_SEED
    from app.demo.school import build_school, write_school

    old = ensure_calendar(settings())
    write_school(build_school(settings(), DEFAULT_SEED, old.id))
    db.session.commit()
    classes = {c.id: c for c in db.session.scalars(select(SchoolClass))}
    last_day = dt.date(2027, 5, 31)
    staying = sorted((s for s in db.session.scalars(select(Student))
                      if s.left_on is None or s.left_on > last_day), key=lambda s: s.file_no)
    by_grade = {}
    for s in staying:
        by_grade.setdefault(classes[s.class_id].grade, []).append(s)
    repeat, leave, change = by_grade[5][0], by_grade[9][0], by_grade[3][0]
    other_letter = "Я"
    order = ("file_no;action;class;last_name;first_name;middle_name;birth_date\n"
             f"{repeat.file_no};оставить;;;;;\n{leave.file_no};leave;;;;;\n"
             f"{change.file_no};change;4{other_letter};;;;\n"
             "NEW-1;join;1А;Новикова;Анна;Сергеевна;03.05.2020\n")
    expected = {}
    for s in staying:
        cls = classes[s.class_id]
        if s is repeat:
            expected[s.file_no] = (cls.name, "2027-2028", None)
        elif s is leave:
            expected[s.file_no] = (cls.name, "2026-2027", dt.date(2027, 6, 1))
        elif s is change:
            expected[s.file_no] = (f"4{other_letter}", "2027-2028", None)
        elif cls.grade == 11:
            expected[s.file_no] = (cls.name, "2026-2027", dt.date(2027, 6, 1))
        else:
            expected[s.file_no] = (f"{cls.grade + 1}{cls.letter}", "2027-2028", None)
    gone = {s.file_no: (classes[s.class_id].name, s.left_on) for s in db.session.scalars(select(Student))
            if s.file_no not in expected}
    db.session.remove()
    with new_year_app.app_context():
        result = new_year_app.test_cli_runner().invoke(args=["year", "open", "2027-2028", "--order",
                                                             str(order_file(tmp_path, order)), "--apply"])
        assert result.exit_code == 0, result.output
        plan_lines = [line for line in result.output.splitlines() if "(ЛД " in line]
        assert len(plan_lines) == len(staying) + 1
        for file_no, (name, year, left_on) in expected.items():
            student = db.session.scalars(select(Student).where(Student.file_no == file_no)).one()
            assert (where(file_no), student.left_on) == ((name, year), left_on), file_no
        for file_no, (name, left_on) in gone.items():  # left during the year: untouched
            student = db.session.scalars(select(Student).where(Student.file_no == file_no)).one()
            assert (where(file_no), student.left_on) == ((name, "2026-2027"), left_on)
        assert where("NEW-1") == ("1А", "2027-2028")
        db.session.remove()


def test_the_administrators_page_rolls_over_with_the_same_plan_as_the_cli(school, new_year_app, tmp_path):
    new_year_app.config["STAFF_JOBS_INLINE"] = True
    with new_year_app.app_context():
        make_accounts()
        dry = new_year_app.test_cli_runner().invoke(args=["year", "open", "2027-2028", "--order",
                                                          str(order_file(tmp_path))])
        db.session.remove()
    cli_plan = [line.strip() for line in dry.output.splitlines() if line.startswith("  ")]
    client = new_year_app.test_client()
    sign_in(client, "admin")
    assert "Перевод на 2027-2028 учебный год" in client.get("/staff/year/").get_data(as_text=True)
    shown = post(client, "/staff/year/plan", {"file": (io.BytesIO(ORDER.encode()), "order.csv")})
    page = client.get(shown.headers["Location"]).get_data(as_text=True)
    ui_plan = [html.unescape(item) for item in re.findall(r"<li>(.*?)</li>", page.split('class="year-plan"')[1])]
    assert ui_plan == cli_plan and len(ui_plan) == 5
    assert "Это план: пока ничего не записано." in page
    with new_year_app.app_context():
        assert where("S1") == ("7А", "2026-2027")  # the dry run changed nothing
        db.session.remove()
    stored = re.search(r'name="stored" value="([^"]+)"', page)[1]
    done = client.get(post(client, "/staff/year/open", {"stored": stored}).headers["Location"])
    assert "Перевод выполнен: 2027-2028 учебный год открыт." in done.get_data(as_text=True)
    with new_year_app.app_context():
        assert [where(n) for n in ("S1", "S2", "S3", "S9")] == [("8А", "2027-2028"), ("7А", "2027-2028"),
                                                                ("2Б", "2027-2028"), ("8А", "2027-2028")]
        db.session.remove()
    again = client.get(post(client, "/staff/year/plan", {}).headers["Location"]).get_data(as_text=True)
    assert "уже есть классы" in again


def test_a_graduates_family_loses_its_pages_at_the_build_after_the_roll_over(school, new_year_app, tmp_path,
                                                                             set_clock):
    from tests.test_year_close import link_for

    orlova = db.session.scalars(select(Student).where(Student.file_no == "S4")).one()
    orlova.birth_date = dt.date(2010, 3, 1)  # under 18 all summer: only the roll-over ends her family's access
    graduate = link_for(orlova, "Орловы")
    ivanova = link_for(db.session.scalars(select(Student).where(Student.file_no == "S1")).one(), "Ивановы")
    set_clock(dt.datetime(2027, 8, 25, 12, 0, tzinfo=dt.UTC))  # the summer: the old year is over
    with new_year_app.app_context():
        runner = new_year_app.test_cli_runner()
        assert runner.invoke(args=["site", "build", "--all"]).exit_code == 0
        root = settings().site_output_dir
        assert (root / "d" / graduate / "index.html").is_file()
        result = runner.invoke(args=["year", "open", "2027-2028", "--apply"])
        assert result.exit_code == 0, result.output
        built = runner.invoke(args=["site", "build"])  # only the queued families: every family of the old year
        assert built.exit_code == 0, built.output
        db.session.remove()
    assert not (root / "d" / graduate).exists()  # the 11th-grader left on 01.06.2027: the access ended
    page = (root / "d" / ivanova / "child-1.html").read_text(encoding="utf-8")
    assert "8А" in page and "7А" not in page  # queued by the roll-over: her pages show the new class
