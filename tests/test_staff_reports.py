"""Report figures checked against values computed by hand on a small school whose journal came through sync.

The 7А journal of the 2nd quarter (maths, 5 h a week, by Петрова; Russian, 4 h, by Сидоров), each entry
made on the classroom machine at the Moscow time given (the hub receives it all later, which must not matter):

| lesson            | topic / homework            | entered                                   |
|-------------------|-----------------------------|-------------------------------------------|
| M1 пн 09.11 ур. 2 | Дроби / № 1                 | 09.11 9:30 — both in time                  |
| M2 вт 10.11 ур. 2 | — / —                       | 10.11 10:00 (a gap)                        |
| M3 ср 11.11 ур. 2 | Уравнения / № 5             | 12.11 8:00 — topic late, homework late     |
| M4 чт 12.11 ур. 2 | Проценты / № 7 (added 10:50)| topic 9:30; homework due 13:20 (Russian ur. 4 ends 12:20) |
| M5 пт 13.11 ур. 1 | Повторение / № 9 (added 14:00) | homework due 14:15 (Russian ur. 5 ends 13:15) |
| M6 пн 16.11 ур. 3 | cancelled                   | left out everywhere                        |
| R1 чт 12.11 ур. 4 | Причастие / упр. 5          | 12.11 12:00 — in time                      |
| R2 пт 13.11 ур. 5 | — / —                       | a gap                                      |

Marks in maths: Иванова 5 (устный, M1, 09.11), 2 (устный, M2, typed 13.11: late, marks are due in 2 days),
4 (контрольная, M3, 14.11: tests have 3 days), 3 (самостоятельная, M4, 19.11 20:00: written work has 7 days),
5 (устный, M5, 13.11); Смирнов 5 (устный, M1) and a 2 on M2 that was deleted.
Absences in maths: Смирнов ill on M1 (typed 9:35, in time), Иванова unexcused on M3 (typed 12.11: late).
Weighted average of Иванова: (5 + 2 + 4·2 + 3·1,5 + 5) / (1 + 1 + 2 + 1,5 + 1) = 24,5 / 6,5 = 3,77 → forecast 4.
"""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from sqlalchemy import select

from app.base import settings
from app.base.extensions import db
from app.base.models import OpLog
from app.staff import figures
from tests.school import Machine, attendance_key, build_tiny_school, lesson_fields, ms_at
from tests.staff_support import make_accounts, sign_in

DAY = dt.date(2026, 11, 22)


def d(day: int) -> dt.date:
    """A November 2026 date."""
    return dt.date(2026, 11, day)


@pytest.fixture
def school(app, client):
    """The tiny school with the journal of the table above, sent by two classroom machines."""
    school = build_tiny_school()
    make_accounts()
    maths, russian = Machine(client, "Кабинет 12"), Machine(client, "Кабинет 7")
    petrova = school["t_petrova"]
    ivanova, smirnov = school["st_ivanova"], school["st_smirnov"]
    ops, lessons = [], {}

    def lesson(key, day, slot, topic, homework, at, subject="s_math", teacher="t_petrova", machine=maths, **more):
        lesson_id, fields = lesson_fields(school, day=day, slot=slot, subject=subject, teacher=teacher, topic=topic,
                                          homework=homework, **more)
        lessons[key] = lesson_id
        ops.append(machine.op("lesson", lesson_id, fields, author=school[teacher], at=at))

    lesson("M1", d(9), 2, "Дроби", "№ 1", ms_at(d(9), 9, 30))
    lesson("M2", d(10), 2, "", "", ms_at(d(10), 10))
    lesson("M3", d(11), 2, "Уравнения", "№ 5", ms_at(d(12), 8))
    lesson("M4", d(12), 2, "Проценты", "", ms_at(d(12), 9, 30))
    ops.append(maths.op("lesson", lessons["M4"], {"homework": "№ 7"}, author=petrova, at=ms_at(d(12), 10, 50)))
    lesson("M5", d(13), 1, "Повторение", "", ms_at(d(13), 9))
    ops.append(maths.op("lesson", lessons["M5"], {"homework": "№ 9"}, author=petrova, at=ms_at(d(13), 14)))
    lesson("M6", d(16), 3, "", "", ms_at(d(16), 9), cancelled=True)

    def mark(mark_id, key, student, value, work, at):
        ops.append(maths.op("mark", mark_id, {"lesson": lessons[key], "student": student, "value": value,
                                              "work_type": work}, author=petrova, at=at))

    mark("i1", "M1", ivanova, "5", "oral", ms_at(d(9), 9, 40))
    mark("s1", "M1", smirnov, "5", "oral", ms_at(d(9), 9, 45))
    mark("i2", "M2", ivanova, "2", "oral", ms_at(d(13), 9))
    mark("s2", "M2", smirnov, "2", "oral", ms_at(d(10), 10, 5))
    ops.append(maths.op("mark", "s2", action="delete", author=petrova, at=ms_at(d(10), 10, 6)))
    mark("i3", "M3", ivanova, "4", "test", ms_at(d(14), 12))
    mark("i4", "M4", ivanova, "3", "independent", ms_at(d(19), 20))
    mark("i5", "M5", ivanova, "5", "oral", ms_at(d(13), 10))
    for key, student, status, at in (("M1", smirnov, "ill", ms_at(d(9), 9, 35)),
                                     ("M1", ivanova, "present", ms_at(d(9), 9, 35)),
                                     ("M3", ivanova, "absent_unexcused", ms_at(d(12), 8))):
        ops.append(maths.op("attendance", attendance_key(lessons[key], student),
                            {"lesson": lessons[key], "student": student, "status": status}, author=petrova, at=at))
    outcomes = maths.post(ops).get_json()["results"]
    assert {r["status"] for r in outcomes} == {"applied"}, outcomes
    ops = []
    lesson("R1", d(12), 4, "Причастие", "упр. 5", ms_at(d(12), 12), "s_russian", "t_sidorov", russian)
    lesson("R2", d(13), 5, "", "", ms_at(d(13), 13, 20), "s_russian", "t_sidorov", russian)
    assert {r["status"] for r in russian.post(ops).get_json()["results"]} == {"applied"}
    assert db.session.scalar(select(OpLog.id).where(OpLog.status != "applied")) is None
    school.ids.update({f"l_{k}": v for k, v in lessons.items()})
    return school


def course(school, subject: str, day: dt.date = DAY) -> figures.Course:
    """The 7А course of a subject."""
    return figures.courses(school["c7"], day, school[subject])[0]


def q2():
    """The 2nd quarter."""
    return settings().periods[1]


def test_marks_counts_averages_and_forecasts_match_the_hand_computation(school):
    rows = {r.student.last_name: r for r in figures.course_marks(course(school, "s_math"), settings(), q2(), DAY)}
    ivanova, smirnov = rows["Иванова"], rows["Смирнов"]
    assert [value for value, _work in ivanova.marks] == ["5", "2", "4", "3", "5"]
    assert (ivanova.marks[2], ivanova.count, ivanova.needed) == (("4", "test"), 5, 5)
    assert (ivanova.average, ivanova.forecast, ivanova.status) == (3.77, "4", "ok")
    assert (smirnov.marks, smirnov.count, smirnov.average) == ((("5", "oral"),), 1, 5.0)
    assert (smirnov.forecast, smirnov.status) == (figures.NOT_ENOUGH, "one")
    russian = figures.course_marks(course(school, "s_russian"), settings(), q2(), DAY)
    assert [(r.count, r.status) for r in russian] == [(0, "none"), (0, "none")]


@pytest.mark.parametrize(("day", "required"), [(d(22), 0), (dt.date(2026, 11, 26), 1), (dt.date(2026, 12, 3), 2),
                                              (dt.date(2027, 1, 5), 5)])
def test_marks_required_by_the_regulation_grow_with_the_weeks_of_the_period(school, day, required):
    # The quarter began on Thursday 5 November: 3 full weeks by 26.11, 4 by 03.12; it ended on 29.12.
    rows = figures.course_marks(course(school, "s_math", min(day, q2().end)), settings(), q2(), day)
    assert {r.required_now for r in rows} == {required}
    summary = figures.summary(course(school, "s_math", min(day, q2().end)), settings(), q2(), day)
    assert summary.behind == sum(1 for count in (5, 1) if count < required)


def test_timeliness_judges_each_entry_by_the_machines_clock_against_its_deadline(school):
    result = figures.course_timeliness(course(school, "s_math"), settings(), q2(), DAY)
    assert {kind: result.counts(kind) for kind in ("topic", "homework", "absence", "mark")} == {
        "topic": (4, 1), "homework": (4, 1), "absence": (2, 1), "mark": (6, 1)}
    late = [(e.kind, e.lesson.date, e.what) for e in result.late]
    assert sorted(late) == sorted([("mark", d(10), "Иванова Мария Петровна: 2"),
                                   ("absence", d(11), "Иванова Мария Петровна"), ("homework", d(11), ""),
                                   ("topic", d(11), "")])
    assert result.on_time_share() == 12 / 16
    homework = {e.lesson.date: e for e in result.entries if e.kind == "homework"}
    assert homework[d(13)].deadline == dt.datetime(2026, 11, 13, 14, 15, tzinfo=settings().timezone)
    assert not homework[d(13)].late  # 14:00, after the maths lesson but within an hour of the class's last one


def test_lessons_without_topic_or_homework_leave_cancelled_lessons_out(school):
    maths = figures.lessons_without(course(school, "s_math"), q2(), DAY)
    assert [(lesson.date, lesson.slot) for lesson in maths] == [(d(10), 2)]
    russian = figures.lessons_without(course(school, "s_russian"), q2(), DAY)
    assert [(lesson.date, lesson.slot) for lesson in russian] == [(d(13), 5)]


def test_the_class_table_and_its_csv_agree_with_the_hand_computation(school, client):
    sign_in(client, "zavuch")
    args = f"class={school['c7']}&period=2&day=2026-11-22"
    page = client.get(f"/staff/reports/?{args}").get_data(as_text=True)
    assert "Класс 7А: 2 четверть" in page and "Данные с 05.11.2026 по 22.11.2026." in page
    response = client.get(f"/staff/reports/summary.csv?{args}")
    assert response.headers["Content-Type"].startswith("text/csv")
    assert "filename*=UTF-8''7%D0%90" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    assert rows[0][:4] == ["Предмет", "Учителя", "Часов в неделю", "Учеников"]
    assert rows[1] == ["Математика", "Петрова А. И.", "5,0", "2", "0", "1", "0", "5", "0", "1", "1", "75"]
    assert rows[2] == ["Русский язык", "Сидоров О. П.", "4,0", "2", "2", "0", "0", "2", "0", "1", "1", "100"]


def test_the_subject_report_and_its_csv_files_show_the_same_figures(school, client):
    sign_in(client, "petrova")
    args = f"class={school['c7']}&subject={school['s_math']}&period=2&day=2026-11-22"
    page = client.get(f"/staff/reports/course?{args}").get_data(as_text=True)
    assert "3,77" in page and "недостаточно отметок" in page and "Нужно к этому дню: 0" in page
    marks = list(csv.reader(io.StringIO(client.get(f"/staff/reports/marks.csv?{args}").get_data(as_text=True)
                                        .lstrip("\ufeff")), delimiter=";"))
    assert marks[1:] == [["Иванова Мария Петровна", "5 2 4К 3С 5", "5", "0", "5", "3,77", "4", "достаточно"],
                         ["Смирнов Павел Олегович", "5", "1", "0", "5", "5,00", "недостаточно отметок",
                          "одна отметка"]]
    timeliness = list(csv.reader(io.StringIO(client.get(f"/staff/reports/timeliness.csv?{args}")
                                             .get_data(as_text=True).lstrip("\ufeff")), delimiter=";"))
    assert len(timeliness) == 1 + 16
    assert sum(1 for row in timeliness if row[-1] == "с опозданием") == 4
    assert ["Темы уроков", "11.11.2026", "2", "", "12.11.2026 8:00", "11.11.2026 23:59", "с опозданием"] in timeliness
    gaps = list(csv.reader(io.StringIO(client.get(f"/staff/reports/gaps.csv?{args}").get_data(as_text=True)
                                       .lstrip("\ufeff")), delimiter=";"))
    assert gaps[1:] == [["10.11.2026", "2", "", ""]]
    printable = client.get(f"/staff/reports/course?{args}&print=1").get_data(as_text=True)
    assert 'class="print-view"' in printable and 'class="menu"' not in printable


def test_a_grade_without_marks_shows_no_marks_columns(school, client):
    sign_in(client, "zavuch")
    page = client.get(f"/staff/reports/course?class={school['c1']}&subject={school['s_math']}").get_data(as_text=True)
    assert "В этой параллели отметки не ставятся" in page


def test_csv_cells_that_look_like_formulas_stay_text():
    from app.staff.csvout import _cell

    assert _cell('=HYPERLINK("http://x","y")') == '\'=HYPERLINK("http://x","y")'
    assert _cell("-5") == "'-5" and _cell(-5) == -5 and _cell(None) == "" and _cell("Тема") == "Тема"


def _timetable(school, weekdays=(1, 2, 3, 4, 5), slot=2):
    """7А maths at lesson `slot` on the given weekdays, from 1 September."""
    from app.base.models import TimetableEntry

    db.session.add_all(TimetableEntry(weekday=w, slot=slot, class_id=school["c7"], subject_id=school["s_math"],
                                      teacher_id=school["t_petrova"], valid_from=dt.date(2026, 9, 1))
                       for w in weekdays)
    db.session.commit()


def test_a_timetable_lesson_nobody_recorded_by_its_deadline_is_missing_in_every_figure(school, client, set_clock):
    _timetable(school)
    maths = course(school, "s_math")
    missing = figures.missing_lessons(maths, settings(), q2(), DAY)
    # Thu 5, Fri 6 (before the first lesson typed), Tue 17 … Fri 20 November; Mon 9 … Fri 13 are recorded
    # (Fri 13 in lesson 1, not 2: moved, not missing), Mon 16 is recorded as cancelled; Sat 21 has no maths.
    assert [m.date for m in missing] == [d(5), d(6), d(17), d(18), d(19), d(20)]
    result = figures.course_timeliness(maths, settings(), q2(), DAY)
    assert result.counts("topic") == (4 + 6, 1 + 6) and result.counts("homework") == (4 + 6, 1 + 6)
    assert result.counts("absence") == (2, 1)
    assert result.on_time_share() == 12 / (16 + 12)
    line = figures.summary(maths, settings(), q2(), DAY)
    assert (line.lessons, line.missing, line.without_topic, line.without_homework) == (5 + 6, 6, 1 + 6, 1 + 6)
    sign_in(client, "zavuch")
    args = f"class={school['c7']}&subject={school['s_math']}&period=2&day=2026-11-22"
    page = client.get(f"/staff/reports/course?{args}").get_data(as_text=True)
    assert "Уроки расписания, которые никто не записал" in page and "20.11.2026" in page
    gaps = client.get(f"/staff/reports/gaps.csv?{args}").get_data(as_text=True)
    assert gaps.count("урок не записан") == 12
    # On the morning of Friday 20 November the lessons of the 20th are not late yet (the deadline is the day's end).
    set_clock(dt.datetime(2026, 11, 20, 10, 0, tzinfo=settings().timezone))
    early = figures.missing_lessons(maths, settings(), q2(), d(20))
    assert [m.date for m in early] == [d(5), d(6), d(17), d(18), d(19)]


def test_holidays_and_days_outside_the_periods_plan_no_lessons(school):
    _timetable(school)
    planned = figures.planned_lessons(settings(), school["c7"], dt.date(2026, 10, 22), dt.date(2026, 11, 6))
    # 22, 23 October are in the 1st quarter; 26 October … 4 November are the autumn holidays.
    assert [p.date for p in planned] == [dt.date(2026, 10, 22), dt.date(2026, 10, 23), d(5), d(6)]


def test_marks_of_the_last_days_are_due_with_the_period_marks(school):
    # The 2nd quarter ends on 29.12, period marks are due 2 days later: a written work of 28.12 (7 days) is due
    # on 31.12, not on 04.01; an oral mark of 10.11 keeps its own 2 days.
    conf, tz = settings(), settings().timezone
    assert conf.deadlines["period_marks_days"] == 2 and conf.deadlines["written_work_days"] == 7
    due = figures.mark_deadline(dt.date(2026, 12, 28), "independent", q2(), conf)
    assert due == dt.datetime.combine(dt.date(2026, 12, 31), dt.time.max, tz)
    assert figures.mark_deadline(d(10), "oral", q2(), conf) == dt.datetime.combine(d(12), dt.time.max, tz)
