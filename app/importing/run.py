"""One file, one transaction: find the header, pick the layout, run its importer, commit or roll back.

ALGORITHM:
1. The header is the first of the first ten rows with a known column; the layout is the one that knows
   most of its columns (or the one given by --kind). Ambiguity, a repeated column or a missing required
   column stops here.
2. The layout's importer reads every row, recording a problem for each bad cell or row and going on.
3. Any problem: roll back and raise ImportFailed with all of them. Otherwise flush and commit
   (or roll back for a dry run), and return the tallies.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from app.base.calendar import current_year
from app.base.extensions import db
from app.base.settings import Settings
from app.importing.context import Context, Tally
from app.importing.errors import ImportFailed, Problem
from app.importing.groups import import_groups
from app.importing.layouts import LAYOUTS, Header, Layout, detect, read_header
from app.importing.readers import Sheet, read_sheet
from app.importing.reference import import_classes, import_subjects, import_teachers
from app.importing.students import import_students
from app.importing.teaching import import_assignments, import_timetable

IMPORTERS: dict[str, Callable[[Context], None]] = {
    "teachers": import_teachers,
    "subjects": import_subjects,
    "classes": import_classes,
    "students": import_students,
    "groups": import_groups,
    "assignments": import_assignments,
    "timetable": import_timetable,
}
KINDS = tuple(IMPORTERS)  # also the order in which a school imports its files


@dataclass
class Result:
    """What an imported file did: its layout, rows read, tallies per kind of record, warnings."""

    file: str
    layout: Layout
    rows: int
    tallies: dict[str, Tally]
    warnings: list[str]
    dry_run: bool = False


def find_header(sheet: Sheet, kind: str | None = None) -> Header:
    """The header row and layout of a file; ImportFailed when they cannot be told or columns are missing."""
    if not sheet.rows:
        raise ImportFailed(sheet.file, [Problem(None, "файл пуст")])
    line, cells, layouts = detect(sheet.rows, kind)
    if not layouts:
        which = f"для вида {kind} ({LAYOUTS[kind].title})" if kind else "ни одного из видов"
        message = f"не найдена строка заголовков {which} в первых 10 строках (столбцы описаны в docs/import.md)"
        raise ImportFailed(sheet.file, [Problem(sheet.rows[0][0], message)])
    if len(layouts) > 1:
        names = ", ".join(f"{layout.title} (--kind {layout.kind})" for layout in layouts)
        message = f"по заголовкам нельзя понять, что в файле: подходят {names}; укажите вид в --kind"
        raise ImportFailed(sheet.file, [Problem(line, message)])
    header = read_header(line, cells, layouts[0])
    problems = [Problem(line, f"столбец «{name}» повторяется") for name in header.repeated]
    problems += [Problem(line, f"нет обязательного столбца «{column.header}»")
                 for column in header.layout.required() if column.key not in header.index]
    if problems:
        raise ImportFailed(sheet.file, problems)
    return header


def run_import(sheet: Sheet, settings: Settings, kind: str | None = None,
               progress: Callable[[int], None] | None = None, dry_run: bool = False) -> Result:
    """Import a read file in one transaction: all of it, or (ImportFailed) nothing."""
    header = find_header(sheet, kind)
    try:
        ctx = Context(sheet, header, settings, current_year(settings), progress)
        with db.session.no_autoflush:
            IMPORTERS[header.layout.kind](ctx)
        if not ctx.problems:
            db.session.flush()
    except SQLAlchemyError as exc:
        db.session.rollback()
        reason = str(getattr(exc, "orig", exc)).splitlines()[0]
        raise ImportFailed(sheet.file, [Problem(None, f"база данных отклонила изменения: {reason}")]) from exc
    except BaseException:
        db.session.rollback()
        raise
    if ctx.problems:
        db.session.rollback()
        raise ImportFailed(sheet.file, ctx.problems)
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
    warnings = []
    if header.unused:
        names = ", ".join(f"«{name}»" for name in header.unused)
        warnings.append(f"{sheet.file}:{header.line}: не используются и пропущены столбцы {names}")
    rows = sum(1 for line, _cells in sheet.rows if line > header.line)
    return Result(sheet.file, header.layout, rows, ctx.tallies, warnings, dry_run)


def import_file(path: str | Path, settings: Settings, kind: str | None = None, dry_run: bool = False) -> Result:
    """Read and import one file (see run_import)."""
    return run_import(read_sheet(path), settings, kind, dry_run=dry_run)
