"""`flask --app wsgi device …` and `sync import`: the commands staff run for classroom machines."""

from __future__ import annotations

import gzip
import json

from sqlalchemy import func, select

from app.base.extensions import db
from app.base.models import Device, Lesson, OpLog
from tests.school import Machine, build_tiny_school, lesson_fields


def test_device_add_prints_a_working_token_as_the_last_line(app, runner, client):
    build_tiny_school()
    result = runner.invoke(args=["device", "add", "Кабинет 7", "--class", "7А"])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    answer = client.get("/api/v1/status", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200
    assert db.session.get(Device, answer.get_json()["device"]).name == "Кабинет 7"


def test_device_add_refuses_an_unknown_class(app, runner):
    build_tiny_school()
    result = runner.invoke(args=["device", "add", "Кабинет 7", "--class", "9В"])
    assert result.exit_code != 0 and "9В" in result.output
    assert db.session.scalar(select(func.count()).select_from(Device)) == 0


def test_device_revoke_makes_the_token_fail_with_403(app, runner, client):
    build_tiny_school()
    token = runner.invoke(args=["device", "add", "Кабинет 7"]).output.strip().splitlines()[-1]
    device_id = client.get("/api/v1/status", headers={"Authorization": f"Bearer {token}"}).get_json()["device"]
    assert runner.invoke(args=["device", "revoke", device_id]).exit_code == 0
    assert client.get("/api/v1/status", headers={"Authorization": f"Bearer {token}"}).status_code == 403


def test_device_list_shows_seq_backlog_and_rejections(app, runner, client):
    school = build_tiny_school()
    machine = Machine(client, "Кабинет 12")
    lesson, fields = lesson_fields(school)
    machine.post([machine.op("lesson", lesson, fields, author=school["t_petrova"]),
                  machine.op("mark", "m", {"value": "9"}, author=school["t_petrova"])])
    output = runner.invoke(args=["device", "list"]).output
    row = next(line for line in output.splitlines() if machine.id in line)
    assert "Кабинет 12" in row and " 2 " in row  # acked seq 2
    assert row.split()[-3] == "1" or " 1 " in row  # one rejected op


def test_sync_import_applies_a_usb_file_like_http_and_twice_is_harmless(app, runner, client, tmp_path):
    school = build_tiny_school()
    machine = Machine(client, "Без связи")
    lesson, fields = lesson_fields(school)
    body = {"protocol": 1, "device": machine.id,
            "ops": [machine.op("lesson", lesson, fields, author=school["t_petrova"])]}
    path = tmp_path / "batch.json.gz"
    path.write_bytes(gzip.compress(json.dumps(body).encode()))
    first = runner.invoke(args=["sync", "import", str(path)])
    assert first.exit_code == 0, first.output
    assert "applied: 1" in first.output
    again = runner.invoke(args=["sync", "import", str(path)])
    assert "duplicate: 1" in again.output
    assert db.session.get(Lesson, lesson).topic == "Линейные уравнения"
    assert db.session.scalar(select(func.count()).select_from(OpLog)) == 1


def test_sync_import_of_a_broken_file_says_why_and_changes_nothing(app, runner, client, tmp_path):
    build_tiny_school()
    path = tmp_path / "batch.json.gz"
    path.write_bytes(b"\x1f\x8b not really gzip")
    result = runner.invoke(args=["sync", "import", str(path)])
    assert result.exit_code != 0 and "сжатие" in result.output
    assert db.session.scalar(select(func.count()).select_from(OpLog)) == 0
