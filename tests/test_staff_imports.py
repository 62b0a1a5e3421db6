"""The secretary's import from the browser: upload, a check listing every bad row, then the import — the same
code as `flask import`, so a file with a bad row changes nothing; progress on the staff job page."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.base import settings
from app.base.calendar import ensure_calendar
from app.base.extensions import db
from app.base.models import Consent, Guardian, SchoolClass, StaffJob, Student, Teacher
from app.staff.users import create_user
from tests.conftest import _empty_all_tables
from tests.staff_support import PASSWORD, post, sign_in

EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples"
ORDER = ["teachers", "subjects", "classes", "students", "groups", "assignments", "timetable"]


@pytest.fixture
def app(make_app):
    """A hub whose long actions run before the request answers."""
    app = make_app(STAFF_JOBS_INLINE=True)
    with app.app_context():
        _empty_all_tables()
        ensure_calendar(settings())
        create_user("admin", "administrator", PASSWORD)
        db.session.commit()
        yield app
        db.session.remove()


def upload(client, name: str, data: bytes) -> str:
    """Upload a file for its check; return the job page."""
    response = post(client, "/staff/import/", {"file": (io.BytesIO(data), name)})
    assert response.status_code == 302, response.get_data(as_text=True)
    assert "/staff/jobs/" in response.headers["Location"]
    return client.get(response.headers["Location"]).get_data(as_text=True)


def import_checked(client, page: str) -> str:
    """Press «Импортировать этот файл» on a check's page; return the import's job page."""
    fields = dict(re.findall(r'name="(stored|name|kind)" value="([^"]*)"', page))
    response = post(client, "/staff/import/run", fields)
    assert response.status_code == 302
    return client.get(response.headers["Location"]).get_data(as_text=True)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def test_the_example_files_are_checked_then_imported_from_the_browser(client):
    sign_in(client, "admin")
    for kind in ORDER:
        path = EXAMPLES / f"{kind}.csv"
        checked = upload(client, path.name, path.read_bytes())
        assert "проверен: ошибок нет" in checked, checked
        assert count(Teacher) == (0 if kind == "teachers" else 7)  # the check wrote nothing
        done = import_checked(client, checked)
        assert f"{path.name} (" in done and "импортирован" in done
    assert (count(Teacher), count(SchoolClass), count(Student), count(Guardian), count(Consent)) == (7, 4, 10, 9, 4)
    summaries = [line for j in db.session.scalars(select(StaffJob)) for line in j.result.get("summary", [])]
    assert "ученики: создано 10, обновлено 0, без изменений 0" in summaries
    assert {c.recorded_by for c in db.session.scalars(select(Consent))} == {"import: students.csv"}
    jobs = db.session.scalars(select(StaffJob).where(StaffJob.kind == "import")).all()
    assert len(jobs) == 14 and all(j.state == "done" and j.done == j.total > 0 for j in jobs)


def test_a_file_with_bad_rows_lists_each_with_its_line_and_changes_nothing(client):
    sign_in(client, "admin")
    for kind in ORDER[:3]:
        path = EXAMPLES / f"{kind}.csv"
        import_checked(client, upload(client, path.name, path.read_bytes()))
    lines = (EXAMPLES / "students.csv").read_text(encoding="utf-8-sig").splitlines()
    lines[2] = lines[2].replace("2015-05-20", "31.02.2015")
    lines[5] = lines[5].replace(";7Б;", ";12Я;")
    page = upload(client, "students.csv", "\n".join(lines).encode())
    assert "students.csv не импортирован: ничего не изменено" in page
    problems = re.findall(r"<li>(students\.csv:\d+: [^<]*)</li>", page)
    assert [p.split(":")[1] for p in problems] == ["3", "6"]
    assert "31.02.2015" in problems[0] and "12Я" in problems[1]
    assert "Импортировать этот файл" not in page
    assert count(Student) == 0 and count(Guardian) == 0


def test_an_upload_without_a_usable_file_is_refused_beside_the_field(client):
    sign_in(client, "admin")
    for data in ({}, {"file": (io.BytesIO(b"x"), "lists.xls")}):
        response = post(client, "/staff/import/", data)
        assert response.status_code == 400
        assert re.search(r'id="file-error"[^>]*>[^<]*(Выберите файл|xlsx)', response.get_data(as_text=True))
    assert count(StaffJob) == 0
    gone = post(client, "/staff/import/run", {"stored": "../../config.yaml"})
    assert gone.status_code == 302 and count(StaffJob) == 0
