"""The review page: what staff see of held corrections, conflicts and rejected ops, and every decision recorded."""

from __future__ import annotations

import datetime as dt
import re
import time

from sqlalchemy import select

from app.base.extensions import db
from app.base.models import Attendance, AuditEntry, Conflict, Mark, OpLog, StaffJob, Student
from tests.staff_support import NEWCOMER, post, sign_in, world


def _page(client) -> str:
    return client.get("/staff/review/").get_data(as_text=True)


def _row(page: str, anchor: str) -> str:
    """The table row with this id."""
    match = re.search(rf'<tr id="{anchor}">(.*?)</tr>', page, re.S)
    assert match, anchor
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(1)))


def test_a_held_correction_shows_record_change_author_machine_and_when(client):
    w = world(client)
    sign_in(client, "zavuch")
    row = _row(_page(client), f"op-{w['held']}")
    assert "Отметка: Иванова Мария Петровна · 7А · Математика · 05.11.2026, урок 2" in row
    assert "отметка: — → 3" in row
    assert "Петрова А. И." in row and "Кабинет 12" in row
    assert "17.11.2026 10:00" in row  # entered on the machine twelve days after the lesson, Moscow time


def test_a_deputy_approves_a_held_correction_and_the_decision_is_recorded(client):
    w = world(client)
    sign_in(client, "zavuch")
    response = post(client, f"/staff/review/op/{w['held']}/approve", {"anchor": "#held"})
    assert response.headers["Location"] == "/staff/review/#held"
    assert "Готово: внесено в журнал." in _page(client)
    db.session.expire_all()
    assert db.session.get(Mark, "m-late-3").value == "3"
    row = db.session.get(OpLog, w["held"])
    assert (row.status, row.decided_by) == ("applied", "zavuch")
    entry = db.session.scalars(select(AuditEntry)).one()
    assert (entry.who, entry.action, entry.object) == ("zavuch", "review.approve", f"op_log:{w['held']}")
    decided = _row(_page(client), f"decided-op-{w['held']}")
    assert "Завуч" not in decided and "zavuch" in decided and "внесено в журнал" in decided


def test_a_second_decision_on_the_same_correction_is_refused_and_not_recorded(client):
    w = world(client)
    sign_in(client, "zavuch")
    post(client, f"/staff/review/op/{w['held']}/decline")
    post(client, f"/staff/review/op/{w['held']}/approve")
    assert "Решение по этой операции уже принято." in _page(client)
    db.session.expire_all()
    assert db.session.get(OpLog, w["held"]).status == "declined"
    assert db.session.get(Mark, "m-late-3") is None
    assert [e.action for e in db.session.scalars(select(AuditEntry))] == ["review.decline"]


def test_a_conflict_shows_both_values_authors_machines_and_the_winner(client):
    w = world(client)
    sign_in(client, "zavuch")
    row = _row(_page(client), f"conflict-{w['conflict']}")
    assert row.startswith(" Посещаемость: Иванова Мария Петровна · 7А · Русский язык · 16.11.2026, урок 2 ")
    assert " посещаемость " in row  # the field
    winner = row.index(" оп Сидоров О. П. · Кабинет 7 · 16.11.2026 11:00 ")
    loser = row.index(" н (Б) Петрова А. И. · Кабинет 12 · 16.11.2026 10:00 ")
    assert winner < loser  # the winner's column comes first
    assert "Оставить «оп»" in row and "Выбрать «н (Б)»" in row


def test_choosing_the_other_value_of_a_conflict_writes_it_to_the_journal(client):
    w = world(client)
    sign_in(client, "zavuch")
    post(client, f"/staff/review/conflict/{w['conflict']}/other")
    db.session.expire_all()
    conflict = db.session.get(Conflict, w["conflict"])
    assert (conflict.resolution, conflict.resolved_by) == ("loser", "zavuch")
    assert db.session.get(Attendance, conflict.record_id).status == "ill"
    page = _page(client)
    assert f'id="conflict-{w["conflict"]}"' not in page
    assert "выбрано «н (Б)»" in page


def test_a_rejected_op_shows_its_reason_and_is_replayed_once_fixed(client):
    w = world(client)
    sign_in(client, "admin")
    assert "Ученик не найден." in _row(_page(client), f"op-{w['rejected']}")
    post(client, f"/staff/review/op/{w['rejected']}/replay")
    assert db.session.get(OpLog, w["rejected"]).status == "rejected"  # still unknown: nothing changed
    db.session.add(Student(id=NEWCOMER, file_no="S9", last_name="Новикова", first_name="Анна",
                           birth_date=dt.date(2013, 2, 2), class_id=w["school"]["c7"],
                           enrolled_on=dt.date(2026, 9, 1)))
    db.session.commit()
    post(client, f"/staff/review/op/{w['rejected']}/replay")
    db.session.expire_all()
    assert db.session.get(OpLog, w["rejected"]).status == "applied"
    assert db.session.get(Mark, "m-unknown").student_id == NEWCOMER


def test_replaying_all_rejections_of_a_reason_runs_in_the_background_with_progress(client, app):
    w = world(client)
    db.session.add(Student(id=NEWCOMER, file_no="S9", last_name="Новикова", first_name="Анна",
                           birth_date=dt.date(2013, 2, 2), class_id=w["school"]["c7"],
                           enrolled_on=dt.date(2026, 9, 1)))
    db.session.commit()
    sign_in(client, "zavuch")
    response = post(client, "/staff/review/replay-all", {"code": "unknown_student"})
    job_page = response.headers["Location"]
    assert job_page.startswith("/staff/jobs/")
    for _ in range(100):
        page = client.get(job_page).get_data(as_text=True)
        if 'http-equiv="refresh"' not in page:
            break
        time.sleep(0.1)
    assert "Завершено: 1 из 1." in page and "внесено в журнал" in page
    db.session.expire_all()
    job = db.session.scalars(select(StaffJob)).one()
    assert (job.state, job.started_by, job.total, job.done) == ("done", "zavuch", 1, 1)
    assert db.session.get(OpLog, w["rejected"]).decided_by == "zavuch"
    assert [e.action for e in db.session.scalars(select(AuditEntry))] == ["job.replay"]
    other = app.test_client()
    sign_in(other, "admin")
    assert other.get(job_page).status_code == 404  # a job's page belongs to whoever started it


def test_the_director_sees_the_queues_without_any_decision_button(client):
    world(client)
    sign_in(client, "director")
    page = _page(client)
    assert "Утвердить" not in page and "Применить повторно" not in page and "Выбрать «" not in page
    assert "Отметка: Иванова Мария Петровна" in page
