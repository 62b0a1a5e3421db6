"""What the hub decided against a teacher's writes reaches the machine: conflicts lost, corrections declined;
a rejected entry is fixed and sent again in one click; the journal's caches follow the pulls."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from app.base.extensions import db
from app.base.models import Attendance, Conflict, Mark, OpLog, Teacher, TimetableEntry
from app.syncing.review import choose_other, decline
from sync import clock
from sync.ids import attendance_id, lesson_id
from tests.classroom_support import PINS, classroom_machine, csrf, school_with_timetable, sign_in
from tests.school import LESSON_DAY, Machine


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


def russian_url(school, day=LESSON_DAY):
    """Сидоров's Russian in 7А, lesson 3."""
    return f"/lesson/{day.isoformat()}/3/{school['c7']}"


def test_a_conflict_the_teachers_write_lost_reaches_the_machine_with_the_hubs_message(app, machine, school):
    client, journal = machine
    sidorov = journal.test_client()
    sign_in(sidorov, school["t_sidorov"], PINS["t_sidorov"])
    ivanova = school["st_ivanova"]
    form = {"csrf": csrf(sidorov), "topic": "Причастие", "homework": "", "homework_due": "",
            f"att-{ivanova}": "late", f"att-{school['st_smirnov']}": "present"}
    assert sidorov.post(russian_url(school), data=form).status_code == 302
    assert client.sync().ok
    lesson = lesson_id(school["c7"], None, LESSON_DAY.isoformat(), 3)
    row = attendance_id(lesson, ivanova)
    # On another machine the homeroom teacher marked her ill, not having seen his write, a second later.
    other = Machine(app.test_client(), "Учительская")
    later = int(clock.now().timestamp() * 1000) + 1000
    answer = other.post([other.op("attendance", row, {"lesson": lesson, "student": ivanova, "status": "ill"},
                                  author=school["t_petrova"], at=later)]).get_json()
    assert answer["results"][0]["status"] == "conflict"
    conflict = db.session.scalars(select(Conflict)).one()
    assert conflict.loser_device == client.device

    assert "conflict-count" not in sidorov.get("/day").get_data(as_text=True)  # not known before the pull
    assert client.sync().ok
    page = sidorov.get("/conflicts").get_data(as_text=True)
    assert "посещаемость" in page and "Иванова Мария" in page and "16.11.2026" in page
    assert "Ваше значение «late» (посещаемость) уступило значению «ill»" in page and "Петрова А. И." in page
    assert "ждёт решения завуча" in page
    assert 'id="conflict-count"' in sidorov.get("/day").get_data(as_text=True)
    petrova = journal.test_client()  # the conflict is Сидоров's: Петрова's list stays empty
    sign_in(petrova, school["t_petrova"], PINS["t_petrova"])
    assert "Конфликтов нет" in petrova.get("/conflicts").get_data(as_text=True)

    choose_other(conflict.id, "zavuch")  # the deputy keeps his value: the decision reaches the machine
    assert client.sync().ok
    page = sidorov.get("/conflicts").get_data(as_text=True)
    assert "Конфликт решён в вашу пользу" in page and "ждёт решения завуча" not in page
    assert client.view("attendance", row).values["status"] == "late"
    assert 'id="conflict-count"' not in sidorov.get("/day").get_data(as_text=True)


def test_an_old_answer_file_does_not_bring_back_an_older_list_and_an_old_hub_changes_nothing(machine):
    from sync import notices

    client, _ = machine
    notices.take(client.store, {"conflicts": [{"kind": "conflict", "op": "o", "entity": "mark", "id": "m",
                                                "author": "t", "message": "Новое", "status": "open"}]},
                 "1900000000000-0000")
    notices.take(client.store, {"conflicts": []}, "1800000000000-0000")  # older: ignored
    notices.take(client.store, {}, "1950000000000-0000")  # a hub without the key: nothing changes
    assert [n["message"] for n in notices.kept(client.store)] == ["Новое"]
    notices.take(client.store, {"conflicts": []}, "1960000000000-0000")
    assert notices.kept(client.store) == []
    from sync.errors import BadAnswer

    with pytest.raises(BadAnswer):
        notices.check({"conflicts": [{"kind": "other"}]})


def test_a_declined_late_correction_shows_as_declined(app, machine, school, set_clock):
    client, journal = machine
    petrova = journal.test_client()
    sign_in(petrova, school["t_petrova"], PINS["t_petrova"])
    ivanova = school["st_ivanova"]
    form = {"csrf": csrf(petrova), "topic": "Уравнения", "homework": "", "homework_due": "",
            f"att-{ivanova}": "present", f"att-{school['st_smirnov']}": "present"}
    assert petrova.post(f"/lesson/{LESSON_DAY.isoformat()}/2/{school['c7']}", data=form).status_code == 302
    assert client.sync().ok
    set_clock(dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=3))))  # two weeks later
    sign_in(petrova, school["t_petrova"], PINS["t_petrova"])  # (signed out by then)
    late = {**form, "csrf": csrf(petrova), f"mark-{ivanova}": "3", f"wt-{ivanova}": "oral"}
    assert petrova.post(f"/lesson/{LESSON_DAY.isoformat()}/2/{school['c7']}", data=late).status_code == 302
    assert client.sync().ok
    assert [o.status for o in client.store.outcomes()] == ["held"]
    held = db.session.scalars(select(OpLog).where(OpLog.status == "held")).one()
    decline(held.id, "zavuch")
    assert client.sync().ok
    assert [o.status for o in client.store.outcomes()] == ["declined"]
    page = petrova.get("/sync").get_data(as_text=True)
    assert "отклонено завучем" in page and 'class="fix"' not in page  # the deputy's no stands
    assert "Завуч отклонил эту запись" in petrova.get("/conflicts").get_data(as_text=True)


def test_a_mark_refused_for_a_wrong_work_type_is_fixed_and_sent_again_in_one_click(app, machine, school):
    client, journal = machine
    with client.store.transaction():  # the machine still knows a work type the school has since dropped
        status = client.store.get("status")
        client.store.put("status", {**status, "work_types": [*status["work_types"],
                                                             {"code": "project", "name": "Проект", "short": "П"}]})
    petrova = journal.test_client()
    sign_in(petrova, school["t_petrova"], PINS["t_petrova"])
    ivanova, url = school["st_ivanova"], f"/lesson/{LESSON_DAY.isoformat()}/2/{school['c7']}"
    form = {"csrf": csrf(petrova), "topic": "Уравнения", "homework": "", "homework_due": "",
            f"att-{ivanova}": "present", f"att-{school['st_smirnov']}": "present",
            f"mark-{ivanova}": "5", f"wt-{ivanova}": "project"}
    assert petrova.post(url, data=form).status_code == 302
    assert client.sync().ok
    [refused] = client.store.outcomes()
    assert (refused.status, refused.code, refused.entity) == ("rejected", "bad_value", "mark")

    page = petrova.get("/sync").get_data(as_text=True)
    fix = page.split('class="fix"')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
    assert fix.startswith(url) and f"fix={refused.op}" in fix
    opened = petrova.get(fix).get_data(as_text=True)
    assert 'id="fixing"' in opened and "Недопустимое значение поля" in opened
    assert f'name="fix" value="{refused.op}"' in opened
    mark_select = opened.split(f'name="mark-{ivanova}"')[1].split("</select>")[0]
    assert '<option value="5" selected>' in mark_select  # the value typed before, prefilled
    again = {"csrf": csrf(petrova), "fix": refused.op, "topic": "Уравнения", "homework": "", "homework_due": "",
             f"att-{ivanova}": "present", f"att-{school['st_smirnov']}": "present",
             f"mark-{ivanova}": "5", f"wt-{ivanova}": "project"}
    refused_again = petrova.post(fix, data=again)  # still wrong: refused on the spot, the entry stays listed
    assert refused_again.status_code == 422 and "Недопустимое значение поля" in refused_again.get_data(as_text=True)
    assert [o.op for o in client.store.outcomes()] == [refused.op]
    assert petrova.post(fix, data={**again, f"wt-{ivanova}": "oral"}).status_code == 302
    assert client.store.outcomes() == [] and [op["entity"] for op in client.store.pending()] == ["mark"]
    assert client.sync().ok
    db.session.expire_all()
    marks = db.session.scalars(select(Mark).where(Mark.student_id == ivanova)).all()
    assert [(m.value, m.work_type) for m in marks] == [("5", "oral")]
    assert db.session.get(Attendance, attendance_id(lesson_id(school["c7"], None, LESSON_DAY.isoformat(), 2),
                                                    ivanova)) is not None


def test_a_pull_of_reference_data_reaches_pages_the_process_had_cached(app, machine, school):
    client, journal = machine
    petrova = journal.test_client()
    sign_in(petrova, school["t_petrova"], PINS["t_petrova"])
    day = LESSON_DAY.isoformat()
    assert "Физика" not in petrova.get(f"/day?date={day}").get_data(as_text=True).split("Замена")[0]
    from app.base.models import Subject

    db.session.add(Subject(id="s-physics", name="Физика", short="Физ."))
    db.session.add(TimetableEntry(weekday=1, slot=5, class_id=school["c7"], group_id=None, subject_id="s-physics",
                                  teacher_id=school["t_petrova"], valid_from=dt.date(2026, 9, 1), valid_to=None))
    teacher = db.session.get(Teacher, school["t_petrova"])
    teacher.last_name = "Петрова-Лебедева"
    db.session.commit()
    assert client.sync().ok
    page = petrova.get(f"/day?date={day}").get_data(as_text=True)
    assert "Физика" in page.split("Замена")[0] and "Петрова-Лебедева" in page


class SlowLink:
    """The in-process hub behind a slow link: every exchange takes half a second."""

    def __init__(self, inner) -> None:
        self.inner = inner

    def request(self, method, url, headers, body):
        """Wait, then pass the request on."""
        import time

        time.sleep(0.5)
        return self.inner.request(method, url, headers, body)


def test_the_sync_button_runs_in_the_background_with_a_progress_page_that_refreshes_itself(app, school, tmp_path):
    import time

    from tests.live import WsgiTransport

    client, journal = classroom_machine(app, tmp_path / "slow.db", CLASSROOM_SYNC_WAIT=0,
                                        CLASSROOM_TRANSPORT=SlowLink(WsgiTransport(app)))
    try:
        petrova = journal.test_client()
        sign_in(petrova, school["t_petrova"], PINS["t_petrova"])
        form = {"csrf": csrf(petrova), "topic": "Уравнения", "homework": "", "homework_due": "",
                f"att-{school['st_ivanova']}": "late", f"att-{school['st_smirnov']}": "present"}
        assert petrova.post(f"/lesson/{LESSON_DAY.isoformat()}/2/{school['c7']}", data=form).status_code == 302
        started = petrova.post("/sync", data={"csrf": csrf(petrova)})
        assert started.status_code == 302 and started.headers["Location"] == "/sync/progress"
        page = petrova.get("/sync/progress").get_data(as_text=True)
        assert '<meta http-equiv="refresh" content="1">' in page
        assert "Отправлено пакетов: 0 из 1" in page and "операций 0 из 3" in page
        assert "Последняя успешная синхронизация" in page  # the frame, with the last good sync, stays
        assert petrova.get("/day").status_code == 200  # the journal answers meanwhile
        for _ in range(300):
            page = petrova.get("/sync/progress").get_data(as_text=True)
            if 'id="sync-result"' in page:
                break
            time.sleep(0.1)
        assert "Синхронизация выполнена" in page and "http-equiv" not in page
        assert client.store.backlog() == 0
    finally:
        client.close()


def test_the_shared_reference_follows_the_devices_scope_in_a_new_status(machine, school):
    from sync.client import SyncClient
    from sync.errors import RecordRefused

    client, _ = machine
    fields = {"student": school["st_ivanova"], "date": LESSON_DAY.isoformat(), "kind": "praise",
              "subject": None, "text": "Молодец"}
    client.record("remark", fields, author=school["t_sidorov"])  # builds the process's shared reference
    with client.store.transaction():  # the hub's next status serves Петрова alone
        client.store.put("status", {**client.store.get("status"), "teachers": [school["t_petrova"]]})
    other = SyncClient(client.store.path)  # another request's client of the same file
    try:
        with pytest.raises(RecordRefused) as refused:
            other.record("remark", fields, author=school["t_sidorov"])
        assert refused.value.code == "not_your_device"
        other.record("remark", fields, author=school["t_petrova"])
    finally:
        other.close()
