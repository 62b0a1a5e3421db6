"""Who may write (issue 10, finding 1): a device writes for the teachers it serves and the rows of its classes,
a substitute's lesson only when the deputy planned it; the hub and the classroom client refuse alike."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from app.base.extensions import db
from app.base.models import Lesson, OpLog, TimetableChange
from app.base.timetable_changes import plan
from app.syncing.devices import register, set_served
from app.syncing.review import DecisionError, approve
from sync.client import SyncClient
from sync.errors import RecordRefused
from tests.live import HUB, WsgiTransport, recent_day
from tests.school import LESSON_DAY, Machine, attendance_key, build_tiny_school, lesson_fields


@pytest.fixture
def school(app):
    """The tiny school: 7А (Петрова maths, Сидоров Russian, homeroom Петрова), 1А (Кузнецова)."""
    return build_tiny_school()


@pytest.fixture
def room7(client, school):
    """A machine bound to 7А."""
    return Machine(client, "Кабинет 7А", class_ids=[school["c7"]])


@pytest.fixture
def whole(client, school):
    """A whole-school machine (the deputy's office)."""
    return Machine(client, "Учительская")


def result(machine, op):
    return machine.post([op]).get_json()["results"][0]


def outcome(answer):
    return answer["status"], answer.get("code")


def first_grade_lesson(school, slot=3, **changes):
    return lesson_fields(school, cls="c1", teacher="t_kuznetsova", slot=slot, **changes)


def test_an_author_the_device_does_not_serve_is_rejected(room7, school):
    lesson, fields = first_grade_lesson(school)
    answer = result(room7, room7.op("lesson", lesson, fields, author=school["t_kuznetsova"]))
    assert outcome(answer) == ("rejected", "not_your_device")
    assert answer["message"] == "Это устройство не записывает уроки этого учителя."
    lesson7, fields7 = lesson_fields(school, teacher="t_outsider", substitute=True)
    assert outcome(result(room7, room7.op("lesson", lesson7, fields7, author=school["t_outsider"]))) == (
        "rejected", "not_your_device")
    assert db.session.get(Lesson, lesson) is None


def test_a_bound_device_writes_no_other_class_even_for_a_served_teacher(room7, whole, school):
    """The finding: a 7А machine created a lesson of another class, marked its student and overwrote its topic."""
    lesson, fields = first_grade_lesson(school)
    assert outcome(result(whole, whole.op("lesson", lesson, fields, author=school["t_kuznetsova"]))) == (
        "applied", None)
    set_served(room7.id, [school["t_petrova"], school["t_kuznetsova"]])  # staff let the 7А machine write for her
    db.session.commit()
    other, other_fields = first_grade_lesson(school, slot=4)
    attempts = [
        room7.op("lesson", other, other_fields, author=school["t_kuznetsova"]),
        room7.op("lesson", lesson, {"topic": "Чужая тема"}, author=school["t_kuznetsova"]),
        room7.op("attendance", attendance_key(lesson, school["st_first_grader"]),
                 {"lesson": lesson, "student": school["st_first_grader"], "status": "absent_unexcused"},
                 author=school["t_kuznetsova"]),
        room7.op("remark", "r-1", {"student": school["st_first_grader"], "date": LESSON_DAY.isoformat(),
                                   "kind": "remark", "text": "x"}, author=school["t_kuznetsova"]),
    ]
    answers = room7.post(attempts).get_json()["results"]
    assert [outcome(a) for a in answers] == [("rejected", "not_your_class")] * 4
    assert db.session.get(Lesson, lesson).topic == "Линейные уравнения"
    assert db.session.get(Lesson, other) is None
    own, own_fields = lesson_fields(school)
    assert outcome(result(room7, room7.op("lesson", own, own_fields, author=school["t_petrova"]))) == ("applied", None)


def test_a_planned_substitution_is_written_from_the_substitutes_machine(room7, school):
    plan("substitution", LESSON_DAY, 3, school["c1"], teacher_id=school["t_petrova"], by="deputy")
    db.session.commit()
    lesson, fields = lesson_fields(school, cls="c1", teacher="t_petrova", slot=3, substitute=True)
    attendance = attendance_key(lesson, school["st_first_grader"])
    answers = room7.post([
        room7.op("lesson", lesson, fields, author=school["t_petrova"]),
        room7.op("attendance", attendance, {"lesson": lesson, "student": school["st_first_grader"], "status": "ill"},
                 author=school["t_petrova"]),
    ]).get_json()["results"]
    assert [(a["status"], a.get("substitute")) for a in answers] == [("applied", True), ("applied", True)]
    assert db.session.get(Lesson, lesson).substitute is True
    # the plan covers that lesson only: the next slot is still another class's
    other, other_fields = lesson_fields(school, cls="c1", teacher="t_petrova", slot=4, substitute=True)
    assert outcome(result(room7, room7.op("lesson", other, other_fields, author=school["t_petrova"]))) == (
        "rejected", "not_your_class")


def test_a_removed_plan_no_longer_opens_the_class(room7, school):
    change = plan("substitution", LESSON_DAY, 3, school["c1"], teacher_id=school["t_petrova"], by="deputy")
    change.removed_at = dt.datetime(2026, 11, 15, tzinfo=dt.UTC)
    db.session.commit()
    lesson, fields = lesson_fields(school, cls="c1", teacher="t_petrova", slot=3, substitute=True)
    assert outcome(result(room7, room7.op("lesson", lesson, fields, author=school["t_petrova"]))) == (
        "rejected", "not_your_class")


def test_an_unplanned_substitution_is_held_for_the_deputy_with_its_attendance_and_marks(whole, school):
    lesson, fields = lesson_fields(school, teacher="t_outsider", substitute=True)
    outsider = school["t_outsider"]
    row = attendance_key(lesson, school["st_smirnov"])
    answers = whole.post([
        whole.op("lesson", lesson, fields, author=outsider),
        whole.op("attendance", row, {"lesson": lesson, "student": school["st_smirnov"], "status": "ill"},
                 author=outsider),
    ]).get_json()["results"]
    assert [outcome(a) for a in answers] == [("held", "unplanned_substitution")] * 2
    assert answers[0]["substitute"] is True and "не запланирована" in answers[0]["message"]
    later = result(whole, whole.op("mark", "m-sub", {"lesson": lesson, "student": school["st_ivanova"], "value": "5",
                                                     "work_type": "oral"}, author=outsider))
    assert outcome(later) == ("held", "unplanned_substitution")  # a later batch: the lesson is still held
    assert db.session.get(Lesson, lesson) is None
    held = {r.entity: r.id for r in db.session.scalars(select(OpLog).where(OpLog.status == "held"))}
    with pytest.raises(DecisionError, match="Сначала утвердите урок"):
        approve(held["mark"], "zavuch")
    db.session.rollback()
    assert approve(held["lesson"], "zavuch") == "applied"
    assert approve(held["attendance"], "zavuch") == "applied" and approve(held["mark"], "zavuch") == "applied"
    assert db.session.get(Lesson, lesson).substitute is True


def test_a_school_may_accept_unplanned_substitutions(make_app, school, tmp_path):
    from tests.conftest import ROOT

    config = tmp_path / "config.yaml"
    config.write_text((ROOT / "config.yaml").read_text(encoding="utf-8").replace(
        "allow_unplanned_substitutions: false", "allow_unplanned_substitutions: true"), encoding="utf-8")
    app = make_app(TETRAD_CONFIG=str(config))
    with app.app_context():
        machine = Machine(app.test_client(), "Учительская")
        lesson, fields = lesson_fields(school, teacher="t_outsider", substitute=True)
        answer = result(machine, machine.op("lesson", lesson, fields, author=school["t_outsider"]))
        assert (answer["status"], answer["substitute"]) == ("applied", True)
        status = machine.client.get("/api/v1/status", headers={"Authorization": f"Bearer {machine.token}"})
        assert status.get_json()["allow_unplanned_substitutions"] is True
        db.session.remove()


def test_status_names_the_devices_classes_and_served_teachers(client, room7, whole, school):
    def status(machine):
        return client.get("/api/v1/status", headers={"Authorization": f"Bearer {machine.token}"}).get_json()

    bound = status(room7)
    assert bound["classes"] == [school["c7"]]
    assert bound["teachers"] == sorted([school["t_petrova"], school["t_sidorov"]])
    everyone = status(whole)
    assert everyone["classes"] == [] and set(everyone["teachers"]) == {
        school[k] for k in ("t_petrova", "t_sidorov", "t_kuznetsova", "t_outsider")}
    set_served(room7.id, [school["t_sidorov"]])
    db.session.commit()
    assert status(room7)["teachers"] == [school["t_sidorov"]]


def test_device_serve_sets_the_list_and_device_list_shows_it(runner, room7, school):
    result_ = runner.invoke(args=["device", "serve", room7.id, "--teacher", "T2"])
    assert result_.exit_code == 0, result_.output
    assert "Сидоров О." in result_.output
    listing = runner.invoke(args=["device", "list"]).output
    assert "учителя: Сидоров О." in listing and "Петрова" not in listing
    assert runner.invoke(args=["device", "serve", room7.id, "--teacher", "T99"]).exit_code != 0
    back = runner.invoke(args=["device", "serve", room7.id, "--default"])
    assert "по умолчанию — Петрова А., Сидоров О." in back.output


def test_timetable_cli_plans_lists_and_removes(runner, school):
    planned = runner.invoke(args=["timetable", "substitute", "--date", "16.11.2026", "--slot", "3", "--class", "1А",
                                  "--teacher", "T1", "--note", "Кузнецова на курсах"])
    assert planned.exit_code == 0, planned.output
    assert "16.11.2026, урок 3, 1А: замена, заменяет Петрова Анна" in planned.output
    again = runner.invoke(args=["timetable", "cancel", "--date", "16.11.2026", "--slot", "3", "--class", "1А"])
    assert again.exit_code != 0 and "уже есть изменение" in again.output
    moved = runner.invoke(args=["timetable", "move", "--date", "17.11.2026", "--slot", "1", "--class", "7А",
                                "--to-date", "18.11.2026", "--to-slot", "5"])
    assert moved.exit_code == 0, moved.output
    listing = runner.invoke(args=["timetable", "changes"]).output
    assert "замена" in listing and "перенос на 18.11.2026, урок 5" in listing
    change_id = db.session.scalar(select(TimetableChange.id).where(TimetableChange.kind == "moved"))
    assert runner.invoke(args=["timetable", "remove", change_id]).exit_code == 0
    assert "перенос" not in runner.invoke(args=["timetable", "changes"]).output
    bad = runner.invoke(args=["timetable", "substitute", "--date", "16.11.2027", "--slot", "3", "--class", "1А",
                              "--teacher", "T1"])
    assert bad.exit_code != 0 and "вне учебного года" in bad.output


def test_devices_pull_timetable_changes_with_the_wire_fields(room7, school):
    change = plan("moved", LESSON_DAY, 2, school["c7"], to_date=LESSON_DAY + dt.timedelta(days=1), to_slot=5,
                  subject_id=school["s_math"], note="Экскурсия", by="deputy")
    db.session.commit()
    pulled = room7.post([], pull={"cursor": "0", "limit": 1000}).get_json()["changes"]
    found = [c for c in pulled if c["entity"] == "timetable_change"]
    assert [c["fields"] for c in found] == [{
        "date": "2026-11-16", "slot": 2, "class": school["c7"], "group": None, "kind": "moved", "teacher": None,
        "subject": school["s_math"], "to_date": "2026-11-17", "to_slot": 5, "note": "Экскурсия"}]
    cursor = room7.post([], pull={"cursor": "0", "limit": 1000}).get_json()["cursor"]
    change.removed_at = dt.datetime(2026, 11, 15, tzinfo=dt.UTC)
    db.session.commit()
    again = room7.post([], pull={"cursor": cursor, "limit": 1000}).get_json()["changes"]
    assert [(c["entity"], c["deleted"]) for c in again] == [("timetable_change", True)]


# The classroom client answers the same questions from its replica: what the hub refuses, it refuses at once.

@pytest.fixture
def classroom(app, school, tmp_path):
    """A client on a machine bound to 7А, connected and pulled."""
    _, token = register("Кабинет 7А", [school["c7"]])
    db.session.commit()
    client = SyncClient(tmp_path / "client.db", transport=WsgiTransport(app), sleep=lambda _s: None)
    client.connect(HUB, token)
    yield client
    client.close()


@pytest.mark.parametrize(("case", "code"), [
    ("not_served", "not_your_device"),
    ("other_class", "not_your_class"),
    ("unplanned_elsewhere", "not_your_class"),
])
def test_the_client_refuses_on_the_spot_what_the_hub_rejects(classroom, school, case, code):
    day = recent_day()
    if case == "other_class":
        set_served(classroom.device, [school["t_petrova"], school["t_kuznetsova"]])
        db.session.commit()
    assert classroom.sync().ok
    author = "t_kuznetsova" if case != "unplanned_elsewhere" else "t_petrova"
    _, fields = lesson_fields(school, day=day, cls="c1", teacher=author, slot=3,
                              substitute=case == "unplanned_elsewhere")
    with pytest.raises(RecordRefused) as refused:
        classroom.record("lesson", fields, author=school[author])
    assert refused.value.code == code
    assert classroom.store.backlog() == 0
    raw = {"op": "x-1", "seq": 1, "hlc": classroom._clock().tick(), "author": school[author], "entity": "lesson",
           "id": lesson_fields(school, day=day, cls="c1", teacher=author, slot=3)[0], "action": "upsert",
           "fields": fields, "base": None}
    answer = classroom.transport.client.post(  # type: ignore[attr-defined]
        "/api/v1/sync", json={"protocol": 1, "device": classroom.device, "ops": [raw]},
        headers={"Authorization": f"Bearer {classroom.store.get('token')}"}).get_json()
    assert answer["results"][0]["code"] == code  # the hub says the same


def test_the_client_accepts_a_planned_substitution_and_holds_none_of_it(classroom, school):
    day = recent_day()
    plan("substitution", day, 3, school["c1"], teacher_id=school["t_petrova"], by="deputy")
    db.session.commit()
    assert classroom.sync().ok
    _, fields = lesson_fields(school, day=day, cls="c1", teacher="t_petrova", slot=3, substitute=True)
    recorded = classroom.record("lesson", fields, author=school["t_petrova"])
    assert recorded.held is None
    report = classroom.sync()
    assert report.ok and report.outcomes["applied"] == 1
    # and a whole-school client sees an unplanned one as held, before it is sent
    _, fields4 = lesson_fields(school, day=day, cls="c7", teacher="t_outsider", slot=4, substitute=True)
    set_served(classroom.device, [school["t_outsider"]])
    db.session.commit()
    assert classroom.sync().ok
    assert classroom.record("lesson", fields4, author=school["t_outsider"]).held == "unplanned_substitution"
    assert classroom.sync().ok  # the hub holds it: the replica knows the lesson by its held op only
    lesson4 = lesson_fields(school, day=day, cls="c7", teacher="t_outsider", slot=4)[0]
    mark = classroom.record("mark", {"lesson": lesson4, "student": school["st_ivanova"], "value": "4",
                                     "work_type": "oral"}, author=school["t_outsider"])
    assert mark.held == "unplanned_substitution"
    report = classroom.sync()
    assert report.ok and report.outcomes["held"] == 1  # the hub holds it too, with its lesson


# The staff pages: the deputy plans, the administrator sets a machine's teachers.

def test_the_deputy_plans_and_removes_a_substitution_on_the_staff_page(client, room7, school):
    from tests.staff_support import make_accounts, post, sign_in

    make_accounts()
    sign_in(client, "zavuch")
    bad = post(client, "/staff/timetable/", {"kind": "substitution", "date": "2026-11-16", "slot": "3",
                                             "class": school["c1"], "teacher": ""})
    assert bad.status_code == 400 and "Учитель на замену не найден." in bad.get_data(as_text=True)
    done = post(client, "/staff/timetable/", {"kind": "substitution", "date": "2026-11-16", "slot": "3",
                                              "class": school["c1"], "teacher": school["t_petrova"],
                                              "note": "Курсы"})
    assert done.status_code == 302
    page = client.get("/staff/timetable/").get_data(as_text=True)
    assert "замена: Петрова Анна" in page and "Курсы" in page
    lesson, fields = lesson_fields(school, cls="c1", teacher="t_petrova", slot=3, substitute=True)
    assert outcome(result(room7, room7.op("lesson", lesson, fields, author=school["t_petrova"]))) == (
        "applied", None)
    change = db.session.scalars(select(TimetableChange)).one()
    assert post(client, f"/staff/timetable/{change.id}/remove").status_code == 302
    db.session.expire_all()
    assert db.session.get(TimetableChange, change.id).removed_at is not None


def test_the_administrator_sets_a_machines_teachers_on_the_devices_page(client, room7, school):
    from tests.staff_support import make_accounts, post, sign_in

    make_accounts()
    sign_in(client, "admin")
    page = client.get("/staff/devices/").get_data(as_text=True)
    assert "по умолчанию: Петрова А., Сидоров О." in page
    assert post(client, f"/staff/devices/{room7.id}/teachers", {"teachers": school["t_sidorov"]}).status_code == 302
    lesson, fields = lesson_fields(school)
    assert outcome(result(room7, room7.op("lesson", lesson, fields, author=school["t_petrova"]))) == (
        "rejected", "not_your_device")
    assert "по умолчанию:" not in client.get("/staff/devices/").get_data(as_text=True).split('id="teachers')[1]
