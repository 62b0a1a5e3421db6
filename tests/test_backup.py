"""`flask backup`, `backup verify`, `restore`: signed copies to several media that restore to the same rows."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import stat
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, select, text
from sqlalchemy.engine import make_url

from app.base import settings, signed_manifest
from app.base.calendar import ensure_calendar
from app.base.extensions import db
from app.base.journal_store import load
from app.base.keys import load_signing_key
from app.base.models import HubEpoch, Lesson, SchoolClass, Student, Teacher
from tests.databases import engine_name
from tests.school import Machine, build_tiny_school, lesson_fields

ROOT = Path(__file__).resolve().parent.parent
DATABASE = "database.sqlite3" if engine_name() == "sqlite" else "database.dump"


@pytest.fixture
def school(app):
    """A calendar, a teacher and a class with one student, committed."""
    year = ensure_calendar(settings())
    teacher = Teacher(code="T-1", last_name="Смирнова", first_name="Ольга", middle_name="Николаевна")
    db.session.add(teacher)
    db.session.flush()
    cls = SchoolClass(year_id=year.id, grade=7, letter="Б", homeroom_teacher_id=teacher.id)
    db.session.add(cls)
    db.session.flush()
    db.session.add(Student(file_no="17", last_name="Иванова", first_name="Мария", middle_name="Петровна",
                           birth_date=dt.date(2013, 4, 2), class_id=cls.id, enrolled_on=dt.date(2026, 9, 1)))
    db.session.commit()


def take_backup(runner, *dests: Path) -> list[Path]:
    """Run `backup DEST…` and return the copy it wrote in each destination."""
    result = runner.invoke(args=["backup", *map(str, dests)])
    assert result.exit_code == 0, result.output
    copies = []
    for dest in dests:
        found = [p for p in dest.iterdir() if p.name.startswith("tetrad-")]
        assert len(found) == 1, found
        copies.append(found[0])
    return copies


def verify(runner, path: Path, *extra: str):
    """`backup verify PATH`."""
    return runner.invoke(args=["backup", "verify", str(path), *extra])


def empty_database(tmp_path: Path, db_url: str) -> str:
    """The URL of a new, empty database of the engine under test."""
    if engine_name() == "sqlite":
        (tmp_path / "restored").mkdir(exist_ok=True)
        return f"sqlite:///{tmp_path / 'restored' / 'tetrad.db'}"
    name = f"restored_{uuid.uuid4().hex[:8]}"
    admin = create_engine(db_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(db_url).set(database=name).render_as_string(hide_password=False)


def report_of(runner) -> list[str]:
    """`backup report`, as lines."""
    result = runner.invoke(args=["backup", "report"])
    assert result.exit_code == 0, result.output
    return result.output.splitlines()


def test_one_run_writes_a_signed_copy_to_every_destination_owner_only(school, runner, app, tmp_path):
    first, second = take_backup(runner, tmp_path / "usb1", tmp_path / "disk" / "backups")
    assert first.name == second.name
    assert re.fullmatch(r"tetrad-2026-11-22_12-0\d-\d\d", first.name)  # the school's clock, Moscow time
    names = sorted(p.name for p in first.iterdir())
    assert names == sorted([DATABASE, "config.yaml", "manifest.json", "manifest.sig"])
    assert names == sorted(p.name for p in second.iterdir())
    for copy in (first, second):
        assert stat.S_IMODE(copy.stat().st_mode) == 0o700
        for item in copy.iterdir():
            assert stat.S_IMODE(item.stat().st_mode) == 0o600, item
    manifest = json.loads((first / "manifest.json").read_text(encoding="utf-8"))
    listed = {f["path"]: f for f in manifest["files"]}
    assert set(listed) == {DATABASE, "config.yaml"}
    assert listed[DATABASE]["size"] == (second / DATABASE).stat().st_size
    assert listed["config.yaml"]["sha256"] == signed_manifest.sha256_of(ROOT / "config.yaml")
    current = db.session.execute(text("SELECT version_num FROM alembic_version")).scalar()
    assert manifest["schema_revision"] == current
    assert manifest["op_log_high_water"] == 0
    assert manifest["epoch"] == db.session.scalars(select(HubEpoch.epoch)).one()
    key = load_signing_key(app.config["VAR_DIR"])
    assert stat.S_IMODE((app.config["VAR_DIR"] / "signing_key.pem").stat().st_mode) == 0o600
    assert signed_manifest.problems(second, [key.public_key()]) == []


def test_verify_accepts_an_untouched_copy_and_names_what_it_checked(school, runner, tmp_path):
    (copy,) = take_backup(runner, tmp_path / "backups")
    result = verify(runner, copy)
    assert result.exit_code == 0, result.output
    assert "Подпись верна" in result.output
    assert "контрольные суммы SHA-256 всех 2 файлов совпадают" in result.output
    if engine_name() == "sqlite":
        assert "Проверка целостности SQLite пройдена" in result.output
    else:
        assert "Архив pg_dump читается целиком" in result.output
    assert f"Копия {copy.name} в порядке" in result.output


def test_a_flipped_byte_is_detected(school, runner, tmp_path):
    (copy,) = take_backup(runner, tmp_path / "backups")
    data = bytearray((copy / DATABASE).read_bytes())
    data[len(data) // 2] ^= 0x01
    (copy / DATABASE).write_bytes(bytes(data))
    result = verify(runner, copy)
    assert result.exit_code == 1
    assert f"файл {DATABASE}: контрольная сумма SHA-256 не совпадает с описью" in result.output
    assert "в порядке" not in result.output


def test_a_missing_file_is_detected(school, runner, tmp_path):
    (copy,) = take_backup(runner, tmp_path / "backups")
    (copy / "config.yaml").unlink()
    result = verify(runner, copy)
    assert result.exit_code == 1
    assert "нет файла config.yaml, указанного в описи" in result.output


def test_a_copy_signed_by_another_key_is_detected(school, runner, tmp_path):
    (copy,) = take_backup(runner, tmp_path / "backups")
    other = tmp_path / "other.pem"
    other.write_text(signed_manifest.public_pem(Ed25519PrivateKey.generate().public_key()), encoding="utf-8")
    result = verify(runner, copy, "--key", str(other))
    assert result.exit_code == 1
    assert "подпись сделана другим ключом" in result.output


def test_an_edited_manifest_breaks_the_signature(school, runner, tmp_path):
    (copy,) = take_backup(runner, tmp_path / "backups")
    manifest = copy / "manifest.json"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace('"op_log_high_water": 0',
                                                                     '"op_log_high_water": 9'), encoding="utf-8")
    result = verify(runner, copy)
    assert result.exit_code == 1
    assert "подпись описи неверна" in result.output


def test_a_copy_damaged_before_it_was_signed_fails_the_database_check(school, runner, app, tmp_path):
    (copy,) = take_backup(runner, tmp_path / "backups")
    database = copy / DATABASE
    database.write_bytes(database.read_bytes()[: database.stat().st_size // 2])
    old = json.loads((copy / "manifest.json").read_text(encoding="utf-8"))
    fields = {k: v for k, v in old.items() if k not in ("format", "version", "key", "files")}
    signed_manifest.sign(copy, [DATABASE, "config.yaml"], load_signing_key(app.config["VAR_DIR"]), **fields)
    result = verify(runner, copy)
    assert result.exit_code == 1, result.output
    assert "не может прочитать" in result.output


def test_a_folder_that_is_not_a_copy_is_named(runner, tmp_path):
    result = verify(runner, tmp_path)
    assert result.exit_code == 1
    assert "не резервная копия Tetrad" in result.output


def test_restore_into_an_empty_database_gives_the_same_report_and_a_new_epoch(school, runner, make_app, tmp_path,
                                                                              db_url):
    (copy,) = take_backup(runner, tmp_path / "backups")
    live = report_of(runner)
    assert "  student: 1" in live
    old_epoch = db.session.scalars(select(HubEpoch.epoch)).one()
    restored = make_app(SQLALCHEMY_DATABASE_URI=empty_database(tmp_path, db_url))
    with restored.app_context():
        result = restored.test_cli_runner().invoke(args=["restore", str(copy)])
        assert result.exit_code == 0, result.output
        assert "Отчёт совпадает с подписанным в копии" in result.output
        assert report_of(restored.test_cli_runner()) == live
        assert "\n".join(live) in result.output
        epochs = db.session.execute(select(HubEpoch.epoch, HubEpoch.reason, HubEpoch.source)
                                    .order_by(HubEpoch.number)).all()
        assert [e.epoch for e in epochs][0] == old_epoch
        assert [(e.reason, e.source) for e in epochs] == [("start", None), ("restore", copy.name)]
        assert f"Новая эпоха сервера: {epochs[-1].epoch}" in result.output
        assert [s.full_name for s in db.session.scalars(select(Student))] == ["Иванова Мария Петровна"]
        db.session.remove()
    if engine_name() == "sqlite":
        assert stat.S_IMODE((tmp_path / "restored" / "tetrad.db").stat().st_mode) == 0o600


def test_restore_refuses_a_database_that_is_not_empty(school, runner, tmp_path):
    (copy,) = take_backup(runner, tmp_path / "backups")
    before = report_of(runner)
    result = runner.invoke(args=["restore", str(copy)])
    assert result.exit_code == 1
    assert "не пуста" in result.output
    assert report_of(runner) == before


def test_restore_refuses_a_copy_that_does_not_verify_and_leaves_the_target_empty(school, runner, make_app,
                                                                                 tmp_path, db_url):
    (copy,) = take_backup(runner, tmp_path / "backups")
    (copy / "config.yaml").write_text("school: {}\n", encoding="utf-8")
    restored = make_app(SQLALCHEMY_DATABASE_URI=empty_database(tmp_path, db_url))
    with restored.app_context():
        result = restored.test_cli_runner().invoke(args=["restore", str(copy)])
        assert result.exit_code == 1
        assert "копия не прошла проверку, не восстанавливайте из неё" in result.output
        assert "config.yaml" in result.output
        with db.engine.connect() as conn:
            assert inspect(conn).get_table_names() == []
        db.session.remove()


def fake_copy(dest: Path, name: str, key: Ed25519PrivateKey) -> None:
    """An old copy in `dest`: only its signed manifest matters to pruning."""
    folder = dest / name
    folder.mkdir(parents=True)
    signed_manifest.sign(folder, [], key, kind="backup")


def test_old_copies_are_pruned_by_the_daily_and_monthly_rule(school, make_app, tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text((ROOT / "config.yaml").read_text(encoding="utf-8")
                      .replace("keep_daily: 14", "keep_daily: 3").replace("keep_monthly: 12", "keep_monthly: 2"),
                      encoding="utf-8")
    app = make_app(TETRAD_CONFIG=config)
    dest = tmp_path / "backups"
    with app.app_context():
        key = load_signing_key(app.config["VAR_DIR"])
        for stamp in ("2026-11-21_10-00-00", "2026-11-21_02-30-00", "2026-11-20_02-30-00", "2026-11-19_02-30-00",
                      "2026-10-31_02-30-00", "2026-10-05_02-30-00", "2026-09-30_02-30-00"):
            fake_copy(dest, f"tetrad-{stamp}", key)
        fake_copy(dest, "tetrad-2026-01-01_02-30-00", Ed25519PrivateKey.generate())  # another hub's copy
        (dest / "notes").mkdir()
        result = app.test_cli_runner().invoke(args=["backup", str(dest)])
        db.session.remove()
    assert result.exit_code == 0, result.output
    # Days, newest first: 22 (the new copy), 21 (its newest, 10-00), 20 — three days. Months: 11 (the new
    # copy), 10 (its newest, 31.10) — two months. Everything else of this hub goes.
    left = sorted(p.name for p in dest.iterdir())
    assert left[:-1] == ["notes", "tetrad-2026-01-01_02-30-00", "tetrad-2026-10-31_02-30-00",
                         "tetrad-2026-11-20_02-30-00", "tetrad-2026-11-21_10-00-00"]
    assert left[-1].startswith("tetrad-2026-11-22_")
    for gone in ("2026-11-21_02-30-00", "2026-11-19_02-30-00", "2026-10-05_02-30-00", "2026-09-30_02-30-00"):
        assert f"удалена старая копия tetrad-{gone}" in result.output


def test_a_destination_that_cannot_be_written_fails_the_run_but_not_the_others(school, runner, tmp_path):
    blocked = tmp_path / "blocked"
    blocked.write_text("a file, not a folder\n", encoding="utf-8")
    result = runner.invoke(args=["backup", str(tmp_path / "good"), str(blocked)])
    assert result.exit_code == 1
    assert f"Ошибка: {blocked}:" in result.output
    assert len(list((tmp_path / "good").iterdir())) == 1


def test_the_public_key_is_printed_and_checks_a_copy_alone_without_the_hub(school, runner, tmp_path):
    (copy,) = take_backup(runner, tmp_path / "backups")
    result = runner.invoke(args=["backup", "public-key"])
    assert result.exit_code == 0, result.output
    assert "Отпечаток ключа:" in result.output
    pem = result.output[result.output.index("-----BEGIN PUBLIC KEY-----"):]
    key_file = tmp_path / "tetrad-public-key.pem"
    key_file.write_text(pem, encoding="utf-8")
    lone = tmp_path / "lone" / "signed_manifest.py"
    lone.parent.mkdir()
    lone.write_bytes((ROOT / "app" / "base" / "signed_manifest.py").read_bytes())
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    run = lambda: subprocess.run([sys.executable, "-I", str(lone), str(copy), str(key_file)],  # noqa: E731
                                 cwd=lone.parent, capture_output=True, text=True, env=env, check=False)
    done = run()
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Подпись верна" in done.stdout
    (copy / "config.yaml").write_text("changed\n", encoding="utf-8")
    done = run()
    assert done.returncode == 1
    assert "config.yaml" in done.stdout


def test_backup_without_a_destination_shows_the_commands(runner):
    result = runner.invoke(args=["backup"])
    assert "verify" in result.output and "public-key" in result.output


def test_a_copy_taken_before_a_migration_restores_and_matches_its_report(app, client, runner, make_app, tmp_path,
                                                                         db_url):
    """A school upgrades the hub, then restores last week's copy: restore migrates it, and the report signed in the
    copy still matches, though the migration (c3f1a8d2e5b7) rewrote how every journal row's clock is stored."""
    school = build_tiny_school()
    machine = Machine(client)
    lesson, fields = lesson_fields(school)
    author = school["t_petrova"]
    answer = machine.post([machine.op("lesson", lesson, fields, author=author),
                           machine.op("lesson", lesson, {"topic": "Дроби"}, author=author)])
    assert [r["status"] for r in answer.get_json()["results"]] == ["applied", "applied"]
    db.session.commit()
    downgrade(revision="b7c4e2a9d310")
    try:
        (copy,) = take_backup(runner, tmp_path / "backups")
    finally:
        upgrade()
    restored = make_app(SQLALCHEMY_DATABASE_URI=empty_database(tmp_path, db_url))
    with restored.app_context():
        result = restored.test_cli_runner().invoke(args=["restore", str(copy)])
        assert result.exit_code == 0, result.output
        assert "Отчёт совпадает с подписанным в копии" in result.output
        assert db.session.get(Lesson, lesson).topic == "Дроби"
        assert load("lesson", [lesson])[lesson].clock["topic"].op == answer.get_json()["results"][1]["op"]
        db.session.remove()
