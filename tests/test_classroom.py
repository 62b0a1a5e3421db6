"""The classroom journal app: sign-in with PINs, the day, one lesson on one screen, the rules on the spot."""

from __future__ import annotations

import datetime as dt

import pytest

from app.base.extensions import db
from app.base.models import Lesson, Mark
from sync import clock
from sync.ids import attendance_id, lesson_id
from sync.pins import hash_pin, verify_pin
from tests.classroom_support import PINS, classroom_machine, csrf, school_with_timetable, sign_in
from tests.school import LESSON_DAY


@pytest.fixture
def school(app):
    """The tiny school with a timetable and PINs."""
    return school_with_timetable()


@pytest.fixture
def machine(app, school, tmp_path):
    """(client, journal app) of a classroom machine serving the tiny school."""
    client, journal = classroom_machine(app, tmp_path / "client.db")
    yield client, journal
    client.close()


@pytest.fixture
def browser(machine):
    """A test client of the journal app."""
    return machine[1].test_client()


def lessons_of_day(browser, day=LESSON_DAY):
    """The day page's table of lessons (without the substitution form's lists)."""
    page = browser.get(f"/day?date={day.isoformat()}").get_data(as_text=True)
    return page.split('<table class="lessons">')[1].split("</table>")[0] if '<table class="lessons">' in page else ""


def lesson_url(school, day=LESSON_DAY, slot=2):
    """The lesson screen of Петрова's maths in 7А."""
    return f"/lesson/{day.isoformat()}/{slot}/{school['c7']}"


def test_pin_hash_is_slow_salted_and_checks():
    stored = hash_pin("4821")
    scheme, iterations, salt, digest = stored.split("$")
    assert scheme == "pbkdf2_sha256" and int(iterations) >= 100_000 and len(salt) >= 16 and len(digest) == 64
    assert hash_pin("4821") != stored  # a new salt every time
    assert verify_pin("4821", stored) and not verify_pin("4822", stored)
    assert not verify_pin("4821", None) and not verify_pin("4821", "md5$1$x$y")


def test_the_hub_pulls_the_pin_hash_down_never_the_pin(machine, school):
    client, _ = machine
    pulled = client.store.record("teacher", school["t_petrova"]).values
    assert pulled["pin_hash"].startswith("pbkdf2_sha256$") and PINS["t_petrova"] not in pulled["pin_hash"]
    assert verify_pin(PINS["t_petrova"], pulled["pin_hash"])


def test_signed_out_pages_send_to_sign_in_and_the_right_pin_opens_the_day(browser, school):
    assert browser.get("/day").headers["Location"].startswith("/signin")
    page = browser.get("/signin").get_data(as_text=True)
    assert "Петрова Анна Ивановна" in page and "Сидоров Олег Петрович" in page
    answer = sign_in(browser, school["t_petrova"], PINS["t_petrova"])
    assert answer.status_code == 302 and answer.headers["Location"] == "/day"
    day = lessons_of_day(browser)
    assert "Математика" in day and "7А" in day and "Русский язык" not in day  # only her own lessons


def test_five_wrong_pins_lock_for_a_minute_even_the_right_one(browser, school, set_clock):
    petrova = school["t_petrova"]
    for _ in range(4):
        answer = sign_in(browser, petrova, "0000")
        assert answer.status_code == 403 and "Неверный PIN. Попробуйте" in answer.get_data(as_text=True)
    assert "заблокирован на 60 с" in sign_in(browser, petrova, "0000").get_data(as_text=True)
    locked = sign_in(browser, petrova, PINS["t_petrova"])
    assert locked.status_code == 403 and "Слишком много неверных попыток" in locked.get_data(as_text=True)
    assert sign_in(browser, school["t_sidorov"], PINS["t_sidorov"]).status_code == 302  # only her sign-in locked
    set_clock(clock.now() + dt.timedelta(seconds=61))
    assert sign_in(browser, petrova, PINS["t_petrova"]).status_code == 302


def test_idle_teacher_is_signed_out_and_sign_out_works(browser, school, set_clock):
    sign_in(browser, school["t_petrova"], PINS["t_petrova"])
    assert browser.get("/day").status_code == 200
    set_clock(clock.now() + dt.timedelta(minutes=11))
    answer = browser.get("/day")
    assert answer.status_code == 302 and "/signin" in answer.headers["Location"]
    assert "Вы вышли автоматически" in browser.get("/signin").get_data(as_text=True)
    sign_in(browser, school["t_petrova"], PINS["t_petrova"])
    assert browser.post("/signout", data={"csrf": csrf(browser)}).status_code == 302
    assert browser.get("/day").status_code == 302


def test_a_form_without_the_session_token_changes_nothing(browser, machine, school):
    sign_in(browser, school["t_petrova"], PINS["t_petrova"])
    answer = browser.post(lesson_url(school), data={"topic": "Чужая форма"})
    assert answer.status_code == 400 and machine[0].store.backlog() == 0


def lesson_form(browser, school, **extra):
    """A complete lesson form: topic, homework, attendance, two marks."""
    form = {"csrf": csrf(browser), "topic": "Линейные уравнения", "homework": "№ 245, 247",
            "homework_due": "18.11.2026",
            f"att-{school['st_ivanova']}": "present", f"att-{school['st_smirnov']}": "ill",
            f"mark-{school['st_ivanova']}": "5", f"wt-{school['st_ivanova']}": "test",
            f"mark-{school['st_smirnov']}": "", f"wt-{school['st_smirnov']}": "oral",
            f"remark-{school['st_ivanova']}": "Отличная работа у доски", f"rkind-{school['st_ivanova']}": "praise"}
    form.update(extra)
    return form


def test_a_whole_lesson_saved_offline_is_ops_that_reach_the_hub(browser, machine, school, app):
    client, _ = machine
    sign_in(browser, school["t_petrova"], PINS["t_petrova"])
    page = browser.get(lesson_url(school)).get_data(as_text=True)
    assert "Иванова Мария Петровна" in page and "Смирнов Павел Олегович" in page
    answer = browser.post(lesson_url(school), data=lesson_form(browser, school))
    assert answer.status_code == 302, answer.get_data(as_text=True)
    ops = client.store.pending()
    assert sorted(op["entity"] for op in ops) == ["attendance", "attendance", "lesson", "mark", "remark"]
    assert ops[0]["entity"] == "lesson"  # the lesson first: its rows refer to it
    assert {op["author"] for op in ops} == {school["t_petrova"]}  # the signed-in teacher writes
    lesson = lesson_id(school["c7"], None, LESSON_DAY.isoformat(), 2)
    assert client.view("lesson", lesson).values["homework_due"] == "2026-11-18"
    shown = browser.get(lesson_url(school)).get_data(as_text=True)
    assert "Урок сохранён" in shown and 'value="Линейные уравнения"' in shown and "5<sub>К</sub>" in shown
    assert client.view("attendance", attendance_id(lesson, school["st_smirnov"])).values["status"] == "ill"

    # a second save with nothing changed writes nothing
    browser.post(lesson_url(school), data=lesson_form(browser, school, **{f"mark-{school['st_ivanova']}": "",
                                                                           f"remark-{school['st_ivanova']}": ""}))
    assert client.store.backlog() == 5

    result = browser.post("/sync", data={"csrf": csrf(browser)}).get_data(as_text=True)
    assert "Синхронизация выполнена" in result, result
    assert client.store.backlog() == 0
    db.session.expire_all()
    assert db.session.get(Lesson, lesson).topic == "Линейные уравнения"
    assert [m.value for m in db.session.query(Mark).filter_by(lesson_id=lesson)] == ["5"]
    assert "ещё не было" not in browser.get("/day").get_data(as_text=True)  # the last good sync on every page


def test_what_the_hub_would_reject_is_refused_on_the_spot_with_its_message_and_nothing_is_written(
        browser, machine, school):
    client, _ = machine
    sign_in(browser, school["t_petrova"], PINS["t_petrova"])
    bad = lesson_form(browser, school, **{f"mark-{school['st_ivanova']}": "6"})  # not a mark of the school
    answer = browser.post(lesson_url(school), data=bad)
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert "Иванова Мария Петровна: Недопустимое значение поля. (поле value)" in page
    assert client.store.backlog() == 0  # not even the lesson: one form, one transaction
    assert 'value="Линейные уравнения"' in page  # what was typed is still there


def test_a_future_lesson_takes_planning_and_refuses_marks_with_the_hubs_code(browser, machine, school):
    client, _ = machine
    next_week = dt.date(2026, 11, 25)
    sign_in(browser, school["t_petrova"], PINS["t_petrova"])
    page = browser.get(lesson_url(school, next_week)).get_data(as_text=True)
    assert "Урок ещё впереди" in page and "att-" not in page
    form = {"csrf": csrf(browser), "topic": "Системы уравнений", "homework": "Повторить § 12",
            "homework_due": "27.11.2026"}
    assert browser.post(lesson_url(school, next_week), data=form).status_code == 302
    lesson = lesson_id(school["c7"], None, next_week.isoformat(), 2)
    from sync.errors import RecordRefused
    with pytest.raises(RecordRefused) as refused:
        client.record("mark", {"lesson": lesson, "student": school["st_ivanova"], "value": "5",
                               "work_type": "oral"}, author=school["t_petrova"])
    assert refused.value.code == "lesson_in_future"
    too_far = dt.date(2026, 12, 12)  # beyond deadlines.plan_ahead_days (14)
    answer = browser.post(lesson_url(school, too_far), data={**form, "csrf": csrf(browser)})
    assert answer.status_code == 422 and "Дата урока ещё не наступила" in answer.get_data(as_text=True)
    assert browser.post("/sync", data={"csrf": csrf(browser)}).status_code == 200
    db.session.expire_all()
    assert db.session.get(Lesson, lesson).homework == "Повторить § 12"  # the hub takes planning ahead


def test_staff_set_a_pin_on_the_hub_and_it_reaches_the_machine_at_the_next_sync(runner, machine, school):
    client, journal = machine
    result = runner.invoke(args=["teacher", "pin", "T4"])  # Орлов: no PIN yet
    assert result.exit_code == 0, result.output
    pin = result.output.strip().splitlines()[-1]
    assert len(pin) == 4 and pin.isdigit()
    assert runner.invoke(args=["teacher", "pin", "T4", "--pin", "12"]).exit_code != 0  # too short: refused
    assert runner.invoke(args=["teacher", "pin", "NOPE", "--pin", "1234"]).exit_code != 0
    browser = journal.test_client()
    assert "не задан PIN" in sign_in(browser, school["t_outsider"], pin).get_data(as_text=True)
    assert client.sync().ok
    assert sign_in(browser, school["t_outsider"], pin).status_code == 302


def test_only_the_teachers_the_device_serves_may_sign_in(machine, school, browser):
    client, _ = machine
    with client.store.transaction():  # the hub's status names the teachers this device serves
        client.store.put("status", {**client.store.get("status"), "teachers": [school["t_petrova"]]})
    page = browser.get("/signin").get_data(as_text=True)
    assert "Петрова Анна Ивановна" in page and "Сидоров" not in page
    answer = sign_in(browser, school["t_sidorov"], PINS["t_sidorov"])
    assert answer.status_code == 403 and "Выберите себя" in answer.get_data(as_text=True)


def test_the_journal_grid_shows_marks_absences_average_forecast_and_takes_period_marks(browser, machine, school):
    client, _ = machine
    sign_in(browser, school["t_petrova"], PINS["t_petrova"])
    days = [LESSON_DAY + dt.timedelta(days=i) for i in range(5)]  # Monday to Friday
    marks = [("5", "test"), ("4", "oral"), ("4", "oral"), ("3", "oral"), ("5", "oral")]
    for day, (value, work_type) in zip(days, marks, strict=True):
        form = lesson_form(browser, school, topic=f"Урок {day.day}", **{
            f"mark-{school['st_ivanova']}": value, f"wt-{school['st_ivanova']}": work_type,
            f"remark-{school['st_ivanova']}": "", f"att-{school['st_smirnov']}": "ill" if day == days[0] else "late"})
        assert browser.post(lesson_url(school, day), data=form).status_code == 302
    grid_url = f"/journal/{school['c7']}/{school['s_math']}"
    assert grid_url in browser.get("/journal").get_data(as_text=True)
    page = browser.get(grid_url).get_data(as_text=True)
    assert "16.11" in page and "20.11" in page and "5К" in page  # a test mark with its letter
    assert "нБ" in page and "оп" in page
    # (5·2 + 4 + 4 + 3 + 5) / 6 = 4,33 → forecast 4; Смирнов has no marks: not enough for a forecast
    assert "4,33" in page and "<td>4</td>" in page and "недостаточно отметок" in page
    answer = browser.post(grid_url, data={"csrf": csrf(browser), f"period-{school['st_ivanova']}": "4",
                                          f"period-{school['st_smirnov']}": "deferred"})
    assert answer.status_code == 302
    entities = [op["entity"] for op in client.store.pending()]
    assert entities.count("period_grade") == 2
    page = browser.get(grid_url).get_data(as_text=True)
    assert 'value="deferred" selected' in page and 'value="4" selected' in page
    assert browser.post("/sync", data={"csrf": csrf(browser)}).status_code == 200
    assert client.store.backlog() == 0 and client.overview()["outcomes"] == []


def test_a_planned_substitution_shows_in_the_substitutes_day_and_is_saved_as_one(browser, machine, school):
    client, _ = machine
    from sync.merge import Record

    change = {"date": LESSON_DAY.isoformat(), "slot": 3, "class": school["c7"], "group": None,
              "kind": "substitution", "teacher": school["t_petrova"], "subject": school["s_russian"],
              "to_date": None, "to_slot": None, "note": "Сидоров на курсах"}
    cancelled = {**change, "slot": 2, "kind": "cancelled", "teacher": None, "note": "Экскурсия"}
    with client.store.transaction():  # as the hub's pull of `timetable_change` brings them
        client.store.put_record("timetable_change", "tc-1", Record(change, {}, 10_000))
        client.store.put_record("timetable_change", "tc-2", Record(cancelled, {}, 10_001))
    sign_in(browser, school["t_petrova"], PINS["t_petrova"])
    day = lessons_of_day(browser)
    assert "Русский язык" in day and "замена" in day and "Сидоров на курсах" in day
    assert "отменён" in day and "Экскурсия" in day
    form = lesson_form(browser, school, topic="Причастие")
    assert browser.post(lesson_url(school, slot=3), data=form).status_code == 302
    lesson = client.store.pending()[0]
    assert lesson["fields"]["substitute"] is True and lesson["fields"]["teacher"] == school["t_petrova"]
    assert lesson["fields"]["subject"] == school["s_russian"]
    sidorov = browser.application.test_client()
    sign_in(sidorov, school["t_sidorov"], PINS["t_sidorov"])
    assert "Русский язык" not in lessons_of_day(sidorov)


def test_the_usb_walk_from_the_journal_pages_with_no_http_between_machine_and_hub(
        browser, machine, school, runner, tmp_path):
    import io

    client, _ = machine
    sign_in(browser, school["t_petrova"], PINS["t_petrova"])
    assert browser.post(lesson_url(school), data=lesson_form(browser, school)).status_code == 302
    exported = browser.post("/sync/export", data={"csrf": csrf(browser)})
    assert exported.status_code == 200 and exported.mimetype == "application/gzip"
    stick = tmp_path / "stick"
    stick.mkdir()
    batch = stick / "kab7.json.gz"
    batch.write_bytes(exported.get_data())
    result = runner.invoke(args=["sync", "import", str(batch)])
    assert result.exit_code == 0, result.output
    answer = stick / "kab7.answer.json.gz"
    page = browser.post("/sync/answer", data={"csrf": csrf(browser), "answer": (io.BytesIO(answer.read_bytes()),
                                                                               "kab7.answer.json.gz")},
                        content_type="multipart/form-data").get_data(as_text=True)
    assert "принято 5" in page and client.store.backlog() == 0
    db.session.expire_all()
    assert db.session.get(Lesson, lesson_id(school["c7"], None, LESSON_DAY.isoformat(), 2)).homework == "№ 245, 247"


def test_an_unplanned_substitution_is_recorded_from_the_day_page_as_a_substitution(browser, machine, school):
    client, _ = machine
    sign_in(browser, school["t_petrova"], PINS["t_petrova"])
    answer = browser.get(f"/substitution?date={LESSON_DAY.isoformat()}&class={school['c1']}&slot=1"
                         f"&subject={school['s_math']}")
    target = answer.headers["Location"]
    page = browser.get(target).get_data(as_text=True)
    assert "замена" in page and "Белова Ольга Ивановна" in page
    form = {"csrf": csrf(browser), "topic": "Счёт до двадцати", "homework": "", "homework_due": "",
            f"att-{school['st_first_grader']}": "late"}
    assert browser.post(target, data=form).status_code == 302
    lesson, attendance = client.store.pending()
    assert lesson["fields"]["substitute"] is True and lesson["fields"]["class"] == school["c1"]
    assert attendance["fields"]["status"] == "late"
    day = lessons_of_day(browser)
    assert "Счёт до двадцати" in day and "замена" in day
    assert browser.get(f"/substitution?date={LESSON_DAY.isoformat()}&slot=x").status_code == 302


def test_an_administrator_makes_a_pin_on_the_staff_pages_shown_once_and_only_its_hash_kept(app, school):
    from app.base.models import Teacher
    from tests.staff_support import csrf_token, make_accounts
    from tests.staff_support import sign_in as staff_sign_in

    make_accounts()
    staff = app.test_client()
    staff_sign_in(staff, "admin")
    page = staff.get("/staff/devices/").get_data(as_text=True)
    assert "PIN учителей для классного журнала" in page
    answer = staff.post("/staff/devices/pin", data={"teacher": school["t_outsider"], "csrf_token": csrf_token(staff)})
    shown = answer.get_data(as_text=True)
    pin = shown.split('<output id="pin" class="token">')[1].split("</output>")[0]
    assert answer.status_code == 200 and len(pin) == 4 and "не хранится на сервере" in shown
    db.session.expire_all()
    stored = db.session.get(Teacher, school["t_outsider"]).pin_hash
    assert pin not in stored and verify_pin(pin, stored)


def test_every_text_of_the_journal_has_its_russian_translation_compiled_at_start(app, school, tmp_path):
    import io
    from pathlib import Path

    from babel.messages.extract import extract_from_dir
    from babel.messages.mofile import read_mo
    from babel.messages.pofile import read_po

    import classroom

    package = Path(classroom.__file__).parent
    extracted = {message[2] if isinstance(message[2], str) else message[2][0]
                 for message in extract_from_dir(str(package), method_map=[("**.py", "python"),
                                                                           ("**/templates/**.html", "jinja2")],
                                                 keywords={"_": None, "gettext": None, "N_": None})}
    folder = package / "translations" / "ru" / "LC_MESSAGES"
    po = read_po(io.BytesIO((folder / "messages.po").read_bytes()))
    translated = {m.id: m.string for m in po if m.id and m.string and not m.fuzzy}
    assert extracted and extracted - set(translated) == set(), "texts without a Russian translation"
    import os

    mo_path, po_path = folder / "messages.mo", folder / "messages.po"
    if mo_path.exists():  # stale: older than its .po (replaced atomically, so parallel tests never miss it)
        os.utime(mo_path, (po_path.stat().st_mtime - 60, po_path.stat().st_mtime - 60))
    client, journal = classroom_machine(app, tmp_path / "client.db")  # the app compiles its catalog at start
    client.close()
    assert mo_path.stat().st_mtime >= po_path.stat().st_mtime
    mo = read_mo(io.BytesIO(mo_path.read_bytes()))
    assert {m.id: m.string for m in mo if m.id} == translated
    browser = journal.test_client()
    page = browser.get("/signin").get_data(as_text=True)
    assert "Вход в журнал" in page and "— выберите себя —" in page and "Sign in" not in page
    sign_in(browser, school["t_petrova"], PINS["t_petrova"])
    page = browser.get(f"/day?date={LESSON_DAY.isoformat()}").get_data(as_text=True)
    assert "Уроки: пн, 16 ноября (16.11.2026)" in page and "Последняя успешная синхронизация" in page


def test_a_closed_year_refuses_the_lesson_and_the_grid_forms_with_the_hubs_message_after_a_sync(
        runner, browser, machine, school):
    client, _ = machine
    sign_in(browser, school["t_petrova"], PINS["t_petrova"])
    assert runner.invoke(args=["year", "close", "--apply", "--allow-missing-marks"]).exit_code == 0
    assert "Синхронизация выполнена" in browser.post("/sync", data={"csrf": csrf(browser)}).get_data(as_text=True)
    message = "Учебный год закрыт: его журнал в архиве, запись не изменена."
    answer = browser.post(lesson_url(school), data=lesson_form(browser, school))
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422 and message in page
    assert 'value="Линейные уравнения"' in page  # what was typed is still there
    grid = browser.post(f"/journal/{school['c7']}/{school['s_math']}",
                        data={"csrf": csrf(browser), f"period-{school['st_ivanova']}": "4"})
    assert grid.status_code == 422 and message in grid.get_data(as_text=True)
    assert client.store.backlog() == 0
