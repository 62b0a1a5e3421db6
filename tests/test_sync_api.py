"""The sync endpoint as PROTOCOL.md specifies it, through the Flask test client on a real database."""

from __future__ import annotations

import datetime as dt
import gzip
import json

import pytest
from sqlalchemy import Text, cast, func, select

from app.base.extensions import db
from app.base.models import (
    Attendance,
    Conflict,
    DirtyFamily,
    Family,
    Group,
    Lesson,
    Mark,
    OpLog,
    TimetableEntry,
    family_student,
)
from app.base.timetable_changes import plan
from tests.school import LESSON_DAY, Machine, attendance_key, build_tiny_school, lesson_fields, ms_at


@pytest.fixture
def school(app):
    """The tiny school of tests/school.py."""
    return build_tiny_school()


@pytest.fixture
def machine(client, school):
    """A classroom machine registered for the whole school."""
    return Machine(client)


def statuses(response):
    assert response.status_code == 200, response.get_data(as_text=True)
    return [r["status"] for r in response.get_json()["results"]]


def test_lesson_with_marks_and_attendance_is_applied(machine, school):
    lesson, fields = lesson_fields(school)
    ops = [
        machine.op("lesson", lesson, fields, author=school["t_petrova"]),
        machine.op("mark", "m-1", {"lesson": lesson, "student": school["st_ivanova"], "value": "5",
                                   "work_type": "test"}, author=school["t_petrova"]),
        machine.op("attendance", attendance_key(lesson, school["st_smirnov"]),
                   {"lesson": lesson, "student": school["st_smirnov"], "status": "ill"}, author=school["t_petrova"]),
    ]
    response = machine.post(ops)
    assert statuses(response) == ["applied", "applied", "applied"]
    assert response.get_json()["acked_seq"] == 3
    assert db.session.get(Lesson, lesson).topic == "Линейные уравнения"
    assert db.session.get(Mark, "m-1").value == "5"
    assert db.session.get(Attendance, attendance_key(lesson, school["st_smirnov"])).status == "ill"


def test_same_op_twice_applies_once(machine, school):
    lesson, fields = lesson_fields(school)
    op = machine.op("lesson", lesson, fields, author=school["t_petrova"])
    first = machine.post([op]).get_json()["results"][0]
    again = machine.post([op]).get_json()
    assert again["results"][0] == {"op": op["op"], "status": "duplicate", "first": {"status": "applied"},
                                   "rev": first["rev"]}
    assert again["acked_seq"] == 1
    assert first["status"] == "applied"
    assert db.session.scalar(select(func.count()).select_from(OpLog)) == 1


def test_ops_after_a_gap_wait_queued_until_the_gap_is_filled(machine, school):
    lesson, fields = lesson_fields(school)
    lesson_op = machine.op("lesson", lesson, fields, author=school["t_petrova"])
    mark_op = machine.op("mark", "m-1", {"lesson": lesson, "student": school["st_ivanova"], "value": "4",
                                         "work_type": "oral"}, author=school["t_petrova"])
    response = machine.post([mark_op]).get_json()
    assert response["results"][0]["status"] == "queued" and response["acked_seq"] == 0
    response = machine.post([lesson_op, mark_op]).get_json()
    assert [r["status"] for r in response["results"]] == ["applied", "applied"]
    assert response["acked_seq"] == 2
    assert db.session.get(Mark, "m-1").value == "4"


def test_forbidden_mark_values_and_grade_one_marks_are_rejected_with_reasons(machine, school):
    lesson7, fields7 = lesson_fields(school)
    lesson1, fields1 = lesson_fields(school, cls="c1", teacher="t_kuznetsova")
    response = machine.post([
        machine.op("lesson", lesson7, fields7, author=school["t_petrova"]),
        machine.op("mark", "m-bad", {"lesson": lesson7, "student": school["st_ivanova"], "value": "6",
                                     "work_type": "test"}, author=school["t_petrova"]),
        machine.op("lesson", lesson1, fields1, author=school["t_kuznetsova"]),
        machine.op("mark", "m-g1", {"lesson": lesson1, "student": school["st_first_grader"], "value": "5",
                                    "work_type": "oral"}, author=school["t_kuznetsova"]),
    ]).get_json()
    codes = [(r["status"], r.get("code")) for r in response["results"]]
    assert codes == [("applied", None), ("rejected", "bad_value"), ("applied", None),
                     ("rejected", "grade_has_no_marks")]
    assert response["results"][1]["message"]  # a message staff can read
    assert db.session.get(Mark, "m-bad") is None
    assert response["acked_seq"] == 4


def test_a_teacher_writes_only_lessons_of_their_own_assignments(machine, school):
    lesson, fields = lesson_fields(school, teacher="t_outsider")
    result = machine.post([machine.op("lesson", lesson, fields, author=school["t_outsider"])]).get_json()["results"][0]
    assert (result["status"], result["code"]) == ("rejected", "not_your_class")


def test_a_substitute_lesson_is_accepted_and_flagged(machine, school):
    plan("substitution", LESSON_DAY, 2, school["c7"], teacher_id=school["t_outsider"], by="deputy")
    db.session.commit()
    lesson, fields = lesson_fields(school, teacher="t_outsider", substitute=True)
    result = machine.post([machine.op("lesson", lesson, fields, author=school["t_outsider"])]).get_json()["results"][0]
    assert result["status"] == "applied" and result["substitute"] is True
    assert db.session.get(Lesson, lesson).substitute is True


def test_derived_id_must_match_the_key(machine, school):
    _, fields = lesson_fields(school)
    result = machine.post([machine.op("lesson", "not-derived", fields, author=school["t_petrova"])]).get_json()
    assert result["results"][0]["code"] == "bad_id"


def test_reference_entities_are_read_only(machine, school):
    result = machine.post([machine.op("student", school["st_ivanova"], {"last_name": "X"},
                                      author=school["t_petrova"])]).get_json()["results"][0]
    assert (result["status"], result["code"]) == ("rejected", "read_only")


def test_late_mark_is_held_by_its_own_clock_not_by_arrival(machine, school):
    early = dt.date(2026, 11, 5)
    lesson, fields = lesson_fields(school, day=early)
    on_time = machine.op("mark", "m-on-time", {"lesson": lesson, "student": school["st_ivanova"], "value": "5",
                                               "work_type": "oral"}, author=school["t_petrova"],
                         at=ms_at(early, 15))
    late = machine.op("mark", "m-late", {"lesson": lesson, "student": school["st_smirnov"], "value": "3",
                                         "work_type": "oral"}, author=school["t_petrova"],
                      at=ms_at(early + dt.timedelta(days=12)))
    lesson_op = machine.op("lesson", lesson, fields, author=school["t_petrova"], at=ms_at(early, 9))
    lesson_op["seq"], on_time["seq"], late["seq"] = 1, 2, 3
    response = machine.post([lesson_op, on_time, late]).get_json()  # arrives 17 days later: still not held
    assert [(r["status"], r.get("code")) for r in response["results"]] == [
        ("applied", None), ("applied", None), ("held", "late_correction")]
    assert db.session.get(Mark, "m-late") is None
    assert db.session.scalar(select(OpLog.status).where(OpLog.op_id == late["op"])) == "held"


def test_concurrent_writes_by_two_authors_are_resolved_by_hlc_and_recorded(client, school):
    first, second = Machine(client, "Кабинет 12"), Machine(client, "Учительская")
    lesson, fields = lesson_fields(school, subject="s_russian", teacher="t_sidorov")
    first.post([first.op("lesson", lesson, fields, author=school["t_sidorov"], at=ms_at(LESSON_DAY, 9))])
    row = attendance_key(lesson, school["st_ivanova"])
    base_fields = {"lesson": lesson, "student": school["st_ivanova"]}
    first.post([first.op("attendance", row, {**base_fields, "status": "absent_unexcused"},
                         author=school["t_petrova"], at=ms_at(LESSON_DAY, 10))])
    later = second.post([second.op("attendance", row, {**base_fields, "status": "absent_excused"},
                                   author=school["t_sidorov"], at=ms_at(LESSON_DAY, 11))]).get_json()
    assert later["results"][0]["status"] == "conflict"
    assert db.session.get(Attendance, row).status == "absent_excused"
    conflict = db.session.scalars(select(Conflict)).one()
    assert (conflict.winner_value, conflict.loser_value) == ("absent_excused", "absent_unexcused")


def test_an_older_write_arriving_later_is_superseded_and_kept(client, school):
    first, second = Machine(client, "A"), Machine(client, "B")
    lesson, fields = lesson_fields(school)
    first.post([first.op("lesson", lesson, fields, author=school["t_petrova"], at=ms_at(LESSON_DAY, 12))])
    old = second.op("lesson", lesson, {"topic": "Старая тема"}, author=school["t_petrova"], at=ms_at(LESSON_DAY, 9))
    result = second.post([old]).get_json()["results"][0]
    assert result["status"] == "superseded"
    assert db.session.get(Lesson, lesson).topic == "Линейные уравнения"
    assert db.session.scalar(select(OpLog.payload).where(OpLog.op_id == old["op"]))["fields"]["topic"] == "Старая тема"


def test_a_delete_is_a_tombstone_that_a_later_upsert_revives(machine, school):
    lesson, fields = lesson_fields(school)
    machine.post([machine.op("lesson", lesson, fields, author=school["t_petrova"], at=ms_at(LESSON_DAY, 9)),
                  machine.op("mark", "m-1", {"lesson": lesson, "student": school["st_ivanova"], "value": "4",
                                             "work_type": "oral"}, author=school["t_petrova"],
                             at=ms_at(LESSON_DAY, 10))])
    deleted = machine.post([machine.op("mark", "m-1", action="delete", author=school["t_petrova"],
                                       at=ms_at(LESSON_DAY, 11))])
    assert statuses(deleted) == ["applied"], deleted.get_json()
    assert db.session.get(Mark, "m-1").deleted is True
    machine.post([machine.op("mark", "m-1", {"value": "5"}, author=school["t_petrova"], at=ms_at(LESSON_DAY, 12))])
    mark = db.session.get(Mark, "m-1")
    db.session.refresh(mark)
    assert (mark.deleted, mark.value) == (False, "5")


def test_pull_returns_reference_and_journal_pages_with_a_cursor(machine, school):
    lesson, fields = lesson_fields(school)
    machine.post([machine.op("lesson", lesson, fields, author=school["t_petrova"])])
    seen, cursor, pages = [], None, 0
    while True:
        answer = machine.post([], pull={"cursor": cursor, "limit": 3, "own": True}).get_json()
        seen += answer["changes"]
        cursor, pages = answer["cursor"], pages + 1
        if not answer["more"]:
            break
    entities = {c["entity"] for c in seen}
    assert {"student", "teacher", "class", "subject", "period", "lesson"} <= entities
    assert pages > 2
    revs = [c["rev"] for c in seen]
    assert revs == sorted(revs) and len(set(revs)) == len(revs)
    students = [c for c in seen if c["entity"] == "student"]
    assert all("birth_date" not in c["fields"] for c in students)


def test_whole_batch_errors_answer_4xx_with_a_russian_message_and_change_nothing(client, machine, school):
    auth = {"Authorization": f"Bearer {machine.token}"}
    cases = [
        (client.post("/api/v1/sync", data=b"{not json", headers={**auth, "Content-Type": "application/json"}), 400),
        (client.post("/api/v1/sync", json={"protocol": 2, "device": machine.id, "ops": []}, headers=auth), 400),
        (client.post("/api/v1/sync", json={"protocol": 1, "device": "dev-other", "ops": []}, headers=auth), 400),
        (client.post("/api/v1/sync", json={"protocol": 1, "device": machine.id, "ops": [{"seq": 1}]},
                     headers=auth), 400),
        (client.post("/api/v1/sync", json={"protocol": 1, "device": machine.id, "ops": []}), 401),
        (client.post("/api/v1/sync", json={"protocol": 1, "device": machine.id, "ops": []},
                     headers={"Authorization": "Bearer forged"}), 401),
    ]
    for response, status in cases:
        assert response.status_code == status
        error = response.get_json()["error"]
        assert error["code"] and any("а" <= ch <= "я" for ch in error["message"].lower())
    assert db.session.scalar(select(func.count()).select_from(OpLog)) == 0


def test_gzip_bodies_are_accepted_and_bombs_refused(client, machine, school):
    lesson, fields = lesson_fields(school)
    body = json.dumps({"protocol": 1, "device": machine.id,
                       "ops": [machine.op("lesson", lesson, fields, author=school["t_petrova"])]}).encode()
    headers = {"Authorization": f"Bearer {machine.token}", "Content-Encoding": "gzip",
               "Content-Type": "application/json"}
    assert client.post("/api/v1/sync", data=gzip.compress(body), headers=headers).status_code == 200
    bomb = gzip.compress(b" " * (65 * 1024 * 1024))
    assert client.post("/api/v1/sync", data=bomb, headers=headers).status_code == 413


def test_a_revoked_device_gets_403_at_once(client, machine, school):
    from app.base.models import Device
    from app.syncing.devices import revoke

    revoke(db.session.get(Device, machine.id))
    db.session.commit()
    assert machine.post([]).status_code == 403


def test_status_reports_the_clock_acked_seq_and_vocabulary(client, machine):
    answer = client.get("/api/v1/status", headers={"Authorization": f"Bearer {machine.token}"}).get_json()
    assert answer["protocol"] == 1 and answer["device"] == machine.id and answer["acked_seq"] == 0
    assert "зачёт" in answer["mark_values"]
    assert {"code": "test", "name": "Контрольная работа", "short": "К", "weight": 2.0} in answer["work_types"]


def test_families_of_changed_students_are_queued_for_the_site(machine, school):
    family = Family(name="Ивановы", channel="link")
    db.session.add(family)
    db.session.flush()
    db.session.execute(family_student.insert().values(family_id=family.id, student_id=school["st_ivanova"]))
    db.session.commit()
    lesson, fields = lesson_fields(school)
    machine.post([machine.op("lesson", lesson, fields, author=school["t_petrova"])])
    assert db.session.scalars(select(DirtyFamily.family_id)).all() == [family.id]


def test_a_device_bound_to_classes_pulls_only_their_journal_rows(client, school):
    seventh, first = Machine(client, "7А"), Machine(client, "1А", class_ids=[school["c1"]])
    lesson7, fields7 = lesson_fields(school)
    lesson1, fields1 = lesson_fields(school, cls="c1", teacher="t_kuznetsova")
    seventh.post([seventh.op("lesson", lesson7, fields7, author=school["t_petrova"])])
    first.post([first.op("lesson", lesson1, fields1, author=school["t_kuznetsova"])])
    changes = first.post([], pull={"cursor": None, "limit": 5000}).get_json()["changes"]
    lessons = {c["id"] for c in changes if c["entity"] == "lesson"}
    assert lessons == {lesson1}


def test_a_bound_device_pulls_only_the_reference_data_it_needs(client, school):
    """Issue 10, item 11: its classes' students and groups, the timetable of its classes and teachers, all teachers."""
    week = dt.date(2026, 9, 1)
    entries = {
        "c1_kuz": TimetableEntry(weekday=1, slot=1, class_id=school["c1"], subject_id=school["s_math"],
                                 teacher_id=school["t_kuznetsova"], valid_from=week),
        "c7_kuz": TimetableEntry(weekday=2, slot=3, class_id=school["c7"], subject_id=school["s_math"],
                                 teacher_id=school["t_kuznetsova"], valid_from=week),  # her lesson in 7А
        "c7_pet": TimetableEntry(weekday=1, slot=1, class_id=school["c7"], subject_id=school["s_math"],
                                 teacher_id=school["t_petrova"], valid_from=week),
    }
    groups = {"c1": Group(class_id=school["c1"], name="1 группа"), "c7": Group(class_id=school["c7"], name="1 группа")}
    db.session.add_all([*entries.values(), *groups.values()])
    db.session.commit()
    bound, whole = Machine(client, "1А", class_ids=[school["c1"]]), Machine(client, "Учительская")

    def pulled(machine, limit):
        seen, cursor = [], None
        while True:
            answer = machine.post([], pull={"cursor": cursor, "limit": limit}).get_json()
            seen += answer["changes"]
            cursor = answer["cursor"]
            if not answer["more"]:
                return {(c["entity"], c["id"]) for c in seen}

    mine = pulled(bound, 2)  # small pages, resumed from the cursor each time
    assert {i for e, i in mine if e == "student"} == {school["st_first_grader"]}
    assert {i for e, i in mine if e == "group"} == {groups["c1"].id}
    assert {i for e, i in mine if e == "timetable"} == {entries["c1_kuz"].id, entries["c7_kuz"].id}
    assert {i for e, i in mine if e == "teacher"} == {school[t] for t in ("t_petrova", "t_sidorov", "t_kuznetsova",
                                                                          "t_outsider")}
    assert {i for e, i in mine if e == "class"} == {school["c7"], school["c1"]}
    assert {e for e, _ in mine} >= {"school", "period", "subject", "assignment"}
    everything = pulled(whole, 5000)
    assert mine < everything
    assert {i for e, i in everything if e == "student"} == {school[s] for s in ("st_ivanova", "st_smirnov",
                                                                                "st_first_grader")}


def test_a_pull_leaves_out_the_devices_own_records_but_not_what_others_or_staff_changed(client, school):
    """No echo: the cursor moves past records all of whose winning writes are this device's own."""
    one, two = Machine(client, "Кабинет 12"), Machine(client, "Кабинет 14")
    cursor = one.post([], pull={"cursor": None, "limit": 5000}).get_json()["cursor"]
    lesson, fields = lesson_fields(school)
    ops = [one.op("lesson", lesson, fields, author=school["t_petrova"]),
           one.op("mark", "m-own", {"lesson": lesson, "student": school["st_ivanova"], "value": "5",
                                    "work_type": "oral"}, author=school["t_petrova"])]
    results = one.post(ops).get_json()["results"]
    assert all(r["status"] == "applied" and r["rev"] > int(cursor) for r in results)  # it holds them as the hub
    changed = two.post([two.op("lesson", lesson, {"topic": "Системы уравнений"}, author=school["t_petrova"],
                               at=ms_at(LESSON_DAY, 15))])
    assert statuses(changed) == ["applied"]
    answer = one.post([], pull={"cursor": cursor, "limit": 5000}).get_json()
    assert {(c["entity"], c["id"]) for c in answer["changes"]} == {("lesson", lesson)}  # the other machine's write
    assert answer["changes"][0]["fields"]["topic"] == "Системы уравнений" and not answer["more"]
    mark_rev = db.session.get(Mark, "m-own").rev
    assert int(answer["cursor"]) > mark_rev  # the cursor moved past the record left out
    assert one.post([], pull={"cursor": answer["cursor"], "limit": 5000}).get_json()["changes"] == []
    again = one.post([], pull={"cursor": cursor, "limit": 5000, "own": True}).get_json()
    assert {(c["entity"], c["id"]) for c in again["changes"]} == {("lesson", lesson), ("mark", "m-own")}
    everything = one.post([], pull={"cursor": None, "limit": 5000}).get_json()  # from the beginning: all
    assert ("mark", "m-own") in {(c["entity"], c["id"]) for c in everything["changes"]}


def test_an_approved_held_write_reaches_its_own_device_despite_no_echo(client, school):
    from app.syncing.review import approve

    machine = Machine(client)
    cursor = machine.post([], pull={"cursor": None, "limit": 5000}).get_json()["cursor"]
    early = dt.date(2026, 11, 5)
    lesson, fields = lesson_fields(school, day=early)
    lesson_op = machine.op("lesson", lesson, fields, author=school["t_petrova"], at=ms_at(early, 9))
    late = machine.op("mark", "m-late", {"lesson": lesson, "student": school["st_ivanova"], "value": "3",
                                         "work_type": "oral"}, author=school["t_petrova"],
                      at=ms_at(early + dt.timedelta(days=12)))
    answer = machine.post([lesson_op, late])
    assert statuses(answer) == ["applied", "held"]
    row = db.session.scalars(select(OpLog).where(OpLog.op_id == late["op"])).one()
    assert approve(row.id, "zavuch") == "applied"
    changes = machine.post([], pull={"cursor": cursor, "limit": 5000}).get_json()["changes"]
    assert {(c["entity"], c["id"]) for c in changes} == {("mark", "m-late")}  # not the lesson: that is an echo


def test_tokens_signed_with_a_rotated_out_key_still_work_until_it_is_dropped(make_app, school):
    from app.base.models import Device
    from app.syncing.devices import token_for

    machine = Machine(make_app().test_client())
    old_key_app = make_app(SECRET_KEYS=["retired-key"])
    with old_key_app.app_context():
        old_token = token_for(db.session.get(Device, machine.id))
    rotated = make_app(SECRET_KEYS=["new-key", "retired-key"]).test_client()
    assert rotated.get("/api/v1/status", headers={"Authorization": f"Bearer {old_token}"}).status_code == 200
    dropped = make_app(SECRET_KEYS=["new-key"]).test_client()
    assert dropped.get("/api/v1/status", headers={"Authorization": f"Bearer {old_token}"}).status_code == 401


def test_a_known_op_sent_twice_in_one_batch_answers_duplicate_twice(machine, school):
    lesson, fields = lesson_fields(school)
    op = machine.op("lesson", lesson, fields, author=school["t_petrova"])
    machine.post([op])
    again = machine.post([op, op])
    assert statuses(again) == ["duplicate", "duplicate"]


def test_an_op_id_owned_by_another_device_is_refused_every_time_without_a_500(client, school):
    first, second = Machine(client, "A"), Machine(client, "B")
    lesson, fields = lesson_fields(school)
    op = first.op("lesson", lesson, fields, author=school["t_petrova"])
    first.post([op])
    stolen = {**op, "seq": 1}
    assert [r.get("code") for r in second.post([stolen]).get_json()["results"]] == ["op_id_taken"]
    resent = second.post([stolen])  # the answer was lost: the same op again
    assert resent.status_code == 200 and resent.get_json()["results"][0]["status"] == "rejected"
    assert db.session.scalar(select(func.count()).select_from(OpLog).where(OpLog.op_id == op["op"])) == 1


def test_clamped_ops_of_a_fast_clock_keep_their_order(machine, school):
    lesson, fields = lesson_fields(school)
    years_ahead = ms_at(LESSON_DAY) + 3 * 365 * 86_400_000
    machine.post([machine.op("lesson", lesson, fields, author=school["t_petrova"])])
    mark = {"lesson": lesson, "student": school["st_ivanova"], "work_type": "oral"}
    answer = machine.post([
        machine.op("mark", "m-fast", {**mark, "value": "4"}, author=school["t_petrova"], at=years_ahead),
        machine.op("mark", "m-fast", {"value": "5"}, author=school["t_petrova"], at=years_ahead + 1),
    ]).get_json()
    assert all("clamped_hlc" in r for r in answer["results"])
    assert answer["results"][0]["clamped_hlc"] < answer["results"][1]["clamped_hlc"]
    assert db.session.get(Mark, "m-fast").value == "5"


def test_a_class_teacher_cannot_open_a_lesson_of_a_subject_they_do_not_teach(machine, school):
    lesson, fields = lesson_fields(school, subject="s_russian", teacher="t_petrova")
    result = machine.post([machine.op("lesson", lesson, fields, author=school["t_petrova"])]).get_json()["results"][0]
    assert (result["status"], result["code"]) == ("rejected", "not_your_class")


def test_the_op_log_keeps_each_op_as_the_bytes_it_was_sent_as(client, machine, school):
    lesson, fields = lesson_fields(school)
    ops = [machine.op("lesson", lesson, fields, author=school["t_petrova"]),
           machine.op("mark", "m-1", {"lesson": lesson, "student": school["st_ivanova"], "value": "5",
                                      "work_type": "test", "comment": "Молодец"}, author=school["t_petrova"])]
    # Spaced out and with an escaped letter, as no serialiser of ours writes it: logged as it came.
    texts = [json.dumps(op, indent=1, ensure_ascii=False).replace("Молодец", "\\u041colodets") for op in ops]
    raw = f'{{"protocol": 1, "device": "{machine.id}", "ops": [{", ".join(texts)}]}}'.encode()
    response = client.post("/api/v1/sync", data=gzip.compress(raw), headers={
        "Authorization": f"Bearer {machine.token}", "Content-Encoding": "gzip"})
    assert statuses(response) == ["applied", "applied"]
    stored = db.session.execute(select(OpLog.op_id, cast(OpLog.payload, Text)).order_by(OpLog.id)).all()
    assert [(ops[0]["op"], texts[0]), (ops[1]["op"], texts[1])] == [tuple(row) for row in stored]
    assert db.session.get(Mark, "m-1").comment == "Мolodets"


def test_stored_clocks_keep_one_entry_per_write_and_survive_the_migration_both_ways(machine, school):
    """A record's clock is stored as one entry per distinct write with its fields; the migration that brought this
    form reads the old one ({field: write}) and writes it back on downgrade, the merge seeing the same clock."""
    from flask_migrate import downgrade, upgrade

    from app.base.journal_store import load

    lesson, fields = lesson_fields(school)
    author = school["t_petrova"]
    assert statuses(machine.post([machine.op("lesson", lesson, fields, author=author)])) == ["applied"]
    assert statuses(machine.post([machine.op("lesson", lesson, {"topic": "Дроби"}, author=author)])) == ["applied"]
    before = load("lesson", [lesson])[lesson]
    stored = db.session.scalar(select(Lesson.clock).where(Lesson.id == lesson))
    assert len(stored) == 2 and stored[1][5:] == ["topic", "deleted"]  # the creating write, then the second upsert's
    assert {name for entry in stored for name in entry[5:]} == set(fields) | {"deleted"}
    db.session.commit()

    downgrade(revision="b7c4e2a9d310")
    db.session.expire_all()
    old = db.session.scalar(select(Lesson.clock).where(Lesson.id == lesson))
    assert old["topic"] == list(before.clock["topic"]) and old["date"] == list(before.clock["date"])
    db.session.commit()
    upgrade()
    db.session.expire_all()
    assert load("lesson", [lesson])[lesson] == before
