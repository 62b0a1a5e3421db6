"""`flask backup`: a consistent copy of the running hub's database that restores to the same rows."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from app.base import settings
from app.base.calendar import ensure_calendar
from app.base.extensions import db
from app.base.models import Period, SchoolClass, Student, Teacher
from app.cli.backup import pg_tool
from tests.databases import engine_name


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


def take_backup(runner, dest: Path) -> Path:
    """Run `backup DEST` and return the one copy it wrote."""
    result = runner.invoke(args=["backup", str(dest)])
    assert result.exit_code == 0, result.output
    assert "Резервная копия готова" in result.output
    copies = [p for p in dest.iterdir() if not p.name.endswith(".sha256")]
    assert len(copies) == 1, copies
    return copies[0]


def restore(copy: Path, tmp_path: Path, db_url: str) -> str:
    """Restore a copy into a fresh database the way docs/operations.md says; return its URL."""
    if engine_name() == "sqlite":
        target = tmp_path / "restored.db"
        shutil.copyfile(copy, target)
        return f"sqlite:///{target}"
    name = f"restored_{uuid.uuid4().hex[:8]}"
    admin = create_engine(db_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = make_url(db_url).set(database=name)
    libpq = url.set(drivername="postgresql").render_as_string(hide_password=False)
    subprocess.run([pg_tool("pg_restore"), "--no-owner", "--exit-on-error", f"--dbname={libpq}", str(copy)],
                   check=True, capture_output=True)
    return url.render_as_string(hide_password=False)


def read_back(make_app, url: str) -> dict[str, object]:
    """What a hub started on the restored database sees."""
    restored = make_app(SQLALCHEMY_DATABASE_URI=url)
    with restored.app_context():
        try:
            return {
                "periods": [p.name for p in db.session.scalars(select(Period).order_by(Period.number))],
                "teachers": [t.last_name for t in db.session.scalars(select(Teacher).order_by(Teacher.code))],
                "students": [(s.full_name, s.school_class.name) for s in db.session.scalars(select(Student))],
                "revision": db.session.execute(text("SELECT version_num FROM alembic_version")).scalar(),
            }
        finally:
            db.session.remove()
            db.engine.dispose()


def rewrite_checksum(copy: Path) -> None:
    """Make the checksum file agree with the copy as it is now (a copy damaged before it was summed)."""
    digest = hashlib.sha256(copy.read_bytes()).hexdigest()
    copy.with_name(copy.name + ".sha256").write_text(f"{digest}  {copy.name}\n", encoding="utf-8")


def test_backup_restores_into_a_fresh_database_with_the_same_rows(school, runner, make_app, tmp_path, db_url):
    copy = take_backup(runner, tmp_path / "backups")
    restored = read_back(make_app, restore(copy, tmp_path, db_url))
    assert restored["periods"] == ["1 четверть", "2 четверть", "3 четверть", "4 четверть"]
    assert restored["teachers"] == ["Смирнова"]
    assert restored["students"] == [("Иванова Мария Петровна", "7Б")]
    current = db.session.execute(text("SELECT version_num FROM alembic_version")).scalar()
    assert current is not None
    assert restored["revision"] == current


def test_backup_is_named_by_time_with_a_sha256sum_file_beside_it(school, runner, tmp_path):
    copy = take_backup(runner, tmp_path / "new" / "folder")
    suffix = ".sqlite3" if engine_name() == "sqlite" else ".dump"
    assert re.fullmatch(r"tetrad-\d{4}-\d{2}-\d{2}_\d{2}-\d{2}-\d{2}" + re.escape(suffix), copy.name)
    checksum = copy.with_name(copy.name + ".sha256").read_text(encoding="utf-8")
    assert checksum == f"{hashlib.sha256(copy.read_bytes()).hexdigest()}  {copy.name}\n"
    assert not list(copy.parent.glob("*.partial"))


def test_backup_leaves_out_a_write_not_yet_committed(school, runner, make_app, tmp_path, db_url):
    with db.engine.connect() as other:
        other.execute(Teacher.__table__.insert().values(
            id=str(uuid.uuid4()), code="T-2", last_name="Петров", first_name="Пётр", middle_name="",
            active=True, rev=0))
        copy = take_backup(runner, tmp_path / "backups")
        other.rollback()
    assert read_back(make_app, restore(copy, tmp_path, db_url))["teachers"] == ["Смирнова"]


def test_verify_accepts_an_untouched_copy(school, runner, tmp_path):
    copy = take_backup(runner, tmp_path / "backups")
    result = runner.invoke(args=["backup", "--verify", str(copy)])
    assert result.exit_code == 0, result.output
    assert "Контрольная сумма SHA-256 совпадает" in result.output
    assert f"Копия {copy.name} в порядке" in result.output
    if engine_name() == "sqlite":
        assert "Проверка целостности SQLite пройдена" in result.output


def test_verify_refuses_a_tampered_copy(school, runner, tmp_path):
    copy = take_backup(runner, tmp_path / "backups")
    data = bytearray(copy.read_bytes())
    data[len(data) // 2] ^= 0xFF
    copy.write_bytes(bytes(data))
    result = runner.invoke(args=["backup", "--verify", str(copy)])
    assert result.exit_code == 1
    assert "контрольная сумма не совпадает" in result.output
    assert "в порядке" not in result.output


def test_verify_refuses_a_copy_damaged_before_it_was_summed(school, runner, tmp_path):
    copy = take_backup(runner, tmp_path / "backups")
    copy.write_bytes(copy.read_bytes()[: copy.stat().st_size // 2])
    rewrite_checksum(copy)
    result = runner.invoke(args=["backup", "--verify", str(copy)])
    assert result.exit_code == 1, result.output
    assert "не может прочитать" in result.output
    assert "в порядке" not in result.output


def test_verify_refuses_a_copy_without_its_checksum_file(school, runner, tmp_path):
    copy = take_backup(runner, tmp_path / "backups")
    copy.with_name(copy.name + ".sha256").unlink()
    result = runner.invoke(args=["backup", "--verify", str(copy)])
    assert result.exit_code == 1
    assert "нет файла контрольной суммы" in result.output


def test_verify_refuses_a_file_that_is_not_a_database(runner, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("не база\n", encoding="utf-8")
    rewrite_checksum(notes)
    result = runner.invoke(args=["backup", "--verify", str(notes)])
    assert result.exit_code == 1
    assert "не похож на копию базы Tetrad" in result.output


def test_backup_asks_for_a_folder_or_a_file_to_verify(runner):
    result = runner.invoke(args=["backup"])
    assert result.exit_code == 1
    assert "укажите папку для копии" in result.output
