"""`flask --app wsgi year archive DIR` and `archive verify DIR`: the year's signed archive (002 §5; 003 §2.14).

The archive is a folder `archive-<year>/`:
    classes/<class>/journal.pdf     the class's journal copy, every period of the year in one PDF
    classes/<class>/summary.pdf     the summary sheet of period and final marks (сводная ведомость)
    year.json                       the whole year, machine-readable: classes, students, subjects, teachers,
                                    periods, lessons, attendance, marks, remarks, period and final marks, test
                                    plans, and the op log of those records (every op, whatever its outcome)
    signed_manifest.py, README.txt  the verifier (stdlib + cryptography) and how to run it
    manifest.json, manifest.sig     every file's size and SHA-256, signed with the hub's Ed25519 key
`archive verify DIR` checks it with the public key alone (`--key`), the hub's database is never read.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import click
from sqlalchemy import Table, select

from app.base import enrolment, settings, signed_manifest
from app.base.extensions import db
from app.base.journal_store import chunks
from app.base.models import (
    AcademicYear,
    Attendance,
    Enrolment,
    Lesson,
    Mark,
    OpLog,
    Period,
    PeriodGrade,
    Remark,
    SchoolClass,
    Student,
    Subject,
    Teacher,
    TestPlan,
)
from app.cli.backup import copy_private, fail, public_key, signing_key
from app.cli.dbreport import plain_value
from static_site.paper import journal_copy, lookup, pdf, summary
from static_site.paper.lookup import PaperError
from sync import clock

VERIFIER = Path(signed_manifest.__file__)
README = """Архив учебного года {year}, {school}.

Проверка подлинности и целостности (нужны Python 3 и пакет cryptography, сервер Tetrad не нужен):

    python3 signed_manifest.py ЭТА_ПАПКА открытый-ключ-tetrad.pem

Открытый ключ хранится отдельно, в бумажном деле архива (команда «flask --app wsgi backup public-key»),
отпечаток ключа: {fingerprint}. Ответ «Подпись верна…» означает, что ни один файл не изменён с {made}.
"""

year_group = click.Group("year", help="Учебный год: архив года, перевод на новый год, перевод ученика.")
archive_group = click.Group("archive", help="Архив учебного года: проверка.")


@year_group.command("archive")
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@click.option("--year", "year_name", help="Учебный год, например 2026-2027 (по умолчанию текущий).")
def archive_command(dest: Path, year_name: str | None) -> None:
    """Записать архив года в DEST: журнал и ведомость каждого класса (PDF), выгрузку года (JSON), подписанную опись."""
    missing = pdf.pdf_missing()
    if missing:
        fail(missing)
    conf = settings()
    try:
        year = lookup.find_year(year_name or conf.year_name)
    except PaperError as exc:
        fail(str(exc))
    folder = dest / f"archive-{year.name}"
    if folder.exists():
        fail(f"папка {folder} уже есть: архив года пишется один раз. Удалите её или укажите другую папку.")
    partial = dest / f"archive-{year.name}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True, mode=0o700)
    now = clock.now()
    files: list[str] = []
    classes = lookup.school_classes(year)
    periods = list(db.session.scalars(select(Period).where(Period.year_id == year.id, Period.kind != "year")
                                      .order_by(Period.number)))
    for school_class in classes:
        base = f"classes/{school_class.name}"
        (partial / base).mkdir(parents=True, mode=0o700)
        documents = [journal_copy.journal_document(journal_copy.journal_context(conf, school_class, period, "", now))[0]
                     for period in periods]
        lookup.write_private(partial / base / "journal.pdf", pdf.combine(documents))
        sheet = summary.summary_document(summary.summary_context(conf, school_class, year, now))
        lookup.write_private(partial / base / "summary.pdf", pdf.to_pdf(sheet))
        files += [f"{base}/journal.pdf", f"{base}/summary.pdf"]
        click.echo(f"  {school_class.name}: журнал ({len(periods)} периода), сводная ведомость")
    export = year_export(year)
    lookup.write_private(partial / "year.json", (json.dumps(export, ensure_ascii=False, indent=1) + "\n").encode())
    key = signing_key()
    copy_private(VERIFIER, partial / "signed_manifest.py")
    lookup.write_private(partial / "README.txt", README.format(
        year=year.name, school=conf.school_name, fingerprint=signed_manifest.fingerprint(key.public_key()),
        made=now.astimezone(conf.timezone).strftime("%d.%m.%Y")).encode())
    files += ["year.json", "signed_manifest.py", "README.txt"]
    counts = {name: len(rows) for name, rows in export["tables"].items()}
    signed_manifest.sign(partial, files, key, kind="archive", year=year.name, school=conf.school_name,
                         created_at=now.isoformat(timespec="seconds"), classes=[c.name for c in classes],
                         rows=counts)
    partial.rename(folder)
    click.echo(f"Архив {year.name} готов: {folder} ({len(classes)} классов, операций в журнале операций "
               f"{counts['op_log']}). Проверка: flask --app wsgi archive verify {folder}")


@archive_group.command("verify")
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("--key", "key_file", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Открытый ключ (PEM); по умолчанию ключ этого сервера.")
def verify_command(folder: Path, key_file: Path | None) -> None:
    """Проверить архив года: подпись описи и контрольные суммы всех файлов (база данных не нужна)."""
    key = public_key(key_file)
    problems = signed_manifest.problems(folder, [key])
    if problems:
        fail("архив не прошёл проверку:\n" + "\n".join(f"  – {p}" for p in problems))
    manifest = signed_manifest.read(folder)
    click.echo(f"Подпись верна (ключ {manifest['key']}); все {len(manifest['files'])} файлов архива "
               f"{manifest.get('year')} совпадают с описью.")


def year_export(year: AcademicYear) -> dict[str, Any]:
    """The year's records as plain rows by table, sorted by id, with the op log of those records."""
    classes = list(db.session.scalars(select(SchoolClass.id).where(SchoolClass.year_id == year.id)))
    periods = list(db.session.scalars(select(Period.id).where(Period.year_id == year.id)))
    students = enrolment.student_ids(classes, year.start, year.end)  # who was in them, moved or not
    lessons = _ids(Lesson, Lesson.class_id, classes)
    tables = {
        "academic_year": _rows(AcademicYear, AcademicYear.id, [year.id]),
        "period": _rows(Period, Period.id, periods),
        "class": _rows(SchoolClass, SchoolClass.id, classes),
        "student": _rows(Student, Student.id, students),
        "enrolment": _rows(Enrolment, Enrolment.class_id, classes),
        "teacher": _rows(Teacher, None, []),
        "subject": _rows(Subject, None, []),
        "lesson": _rows(Lesson, Lesson.id, lessons),
        "attendance": _rows(Attendance, Attendance.lesson_id, lessons),
        "mark": _rows(Mark, Mark.lesson_id, lessons),
        "remark": [r for r in _rows(Remark, Remark.student_id, students)
                   if year.start.isoformat() <= str(r["date"]) <= year.end.isoformat()],
        "period_grade": _rows(PeriodGrade, PeriodGrade.period_id, periods),
        "test_plan": _rows(TestPlan, TestPlan.class_id, classes),
    }
    records = {str(r["id"]) for name in ("lesson", "attendance", "mark", "remark", "period_grade", "test_plan")
               for r in tables[name]}
    tables["op_log"] = sorted(_rows(OpLog, OpLog.record_id, sorted(records)), key=lambda r: r["id"])
    return {"format": "tetrad-year-export", "version": 1, "year": year.name, "tables": tables}


def _ids(model: Any, column: Any, values: list[str]) -> list[str]:
    found: list[str] = []
    for part in chunks(values):
        found += db.session.scalars(select(model.id).where(column.in_(part)))
    return found


def _rows(model: Any, column: Any, values: list[str]) -> list[dict[str, Any]]:
    """Every row of the model (column None), or those whose `column` is in `values`, as plain dicts by id."""
    table: Table = model.__table__
    rows: list[dict[str, Any]] = []
    parts = [None] if column is None else list(chunks(values))
    for part in parts:
        query = select(table) if part is None else select(table).where(column.in_(part))
        rows += [{k: plain_value(v) for k, v in row._mapping.items()} for row in db.session.execute(query)]
    return sorted(rows, key=lambda r: str(r.get("id")))
