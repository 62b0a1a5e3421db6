"""What an importer works with: the file's rows by column key, existing records by natural key, the tallies.

Existing records are loaded once per file into dicts, so that a row costs no query: 1,000 students
import in about a second. Rows are read through RowView, which records a Problem for each bad cell
and remembers whether the row is usable.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.base.extensions import db
from app.base.models import AcademicYear, Group, SchoolClass, Student, Subject, Teacher
from app.base.settings import Settings
from app.importing import values
from app.importing.errors import CellError, Problem
from app.importing.layouts import Header
from app.importing.readers import Sheet

NAME = values.text(100)  # names and other short texts
INVALID: Any = type("Invalid", (), {"__repr__": lambda self: "INVALID"})()


@dataclass
class Tally:
    """How many records of one kind the file created, changed, or left as they were."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def count(self, created: bool, changed: bool) -> None:
        """Count one record."""
        if created:
            self.created += 1
        elif changed:
            self.updated += 1
        else:
            self.unchanged += 1


def assign(record: Any, **fields: Any) -> bool:
    """Set the fields that differ; whether any did (unchanged records keep their rev)."""
    changed = False
    for name, value in fields.items():
        if getattr(record, name) != value:
            setattr(record, name, value)
            changed = True
    return changed


class Context:
    """One file being imported: its rows, problems, tallies and the existing records."""

    def __init__(self, sheet: Sheet, header: Header, settings: Settings, year: AcademicYear,
                 progress: Callable[[int], None] | None = None) -> None:
        self.sheet, self.header, self.settings, self.year = sheet, header, settings, year
        self.problems: list[Problem] = []
        self.tallies: dict[str, Tally] = {}
        self.progress = progress

    def error(self, line: int | None, message: str) -> None:
        """Record a problem."""
        self.problems.append(Problem(line, message))

    def tally(self, label: str) -> Tally:
        """The tally for records called `label` in the summary (e.g. «ученики»)."""
        return self.tallies.setdefault(label, Tally())

    def has(self, key: str) -> bool:
        """Whether the file has this column."""
        return key in self.header.index

    def rows(self) -> Iterator[RowView]:
        """The data rows below the header, reporting progress as they are read."""
        for line, cells in self.sheet.rows:
            if line <= self.header.line:
                continue
            yield RowView(self, line, cells)
            if self.progress:
                self.progress(1)

    @property
    def year_label(self) -> str:
        """«2026-2027 учебном году», for messages."""
        return f"{self.year.name} учебном году"

    # Existing records by natural key, loaded on first use.

    @cached_property
    def teachers(self) -> dict[str, Teacher]:
        """Teachers by табельный номер."""
        return {t.code: t for t in db.session.scalars(select(Teacher))}

    @cached_property
    def subjects(self) -> dict[str, Subject]:
        """Subjects by name, case and ё ignored."""
        return {values.name_key(s.name): s for s in db.session.scalars(select(Subject))}

    @cached_property
    def classes(self) -> dict[tuple[int, str], SchoolClass]:
        """This year's classes by (grade, letter)."""
        rows = db.session.scalars(select(SchoolClass).filter_by(year_id=self.year.id))
        return {(c.grade, c.letter): c for c in rows}

    @cached_property
    def groups(self) -> dict[tuple[str, str], Group]:
        """This year's groups, with their members, by (class id, name with case ignored)."""
        query = (select(Group).join(SchoolClass, Group.class_id == SchoolClass.id)
                 .where(SchoolClass.year_id == self.year.id).options(selectinload(Group.students)))
        return {(g.class_id, values.name_key(g.name)): g for g in db.session.scalars(query)}

    @cached_property
    def students(self) -> dict[str, Student]:
        """Students by номер личного дела."""
        return {s.file_no: s for s in db.session.scalars(select(Student))}


class RowView:
    """One data row: cells read by column key, each bad cell recorded as a problem of this line."""

    def __init__(self, ctx: Context, line: int, cells: list[Any]) -> None:
        self.ctx, self.line, self.cells = ctx, line, cells
        self.ok = True

    def error(self, message: str) -> None:
        """Record a problem of this row; the row will not be imported."""
        self.ok = False
        self.ctx.error(self.line, message)

    def header(self, key: str) -> str:
        """The column's header as written in the file."""
        return self.ctx.header.names.get(key, key)

    def raw(self, key: str) -> Any:
        """The cell under this column, None when empty or absent."""
        position = self.ctx.header.index.get(key)
        if position is None or position >= len(self.cells):
            return None
        cell = self.cells[position]
        return None if values.is_empty(cell) else cell

    def get(self, key: str, parse: Callable[[Any], Any] = NAME, required: bool = False) -> Any:
        """The parsed cell; None when empty (a problem if required), INVALID when it cannot be read."""
        raw = self.raw(key)
        if raw is None:
            if required:
                self.error(f"{self.header(key)}: не заполнено")
                return INVALID
            return None
        try:
            return parse(raw)
        except CellError as exc:
            self.error(f"{self.header(key)}: {exc}")
            return INVALID

    def school_class(self, key: str = "class") -> SchoolClass | None:
        """This year's class named in the cell; a problem when it is not there."""
        parsed = self.get(key, values.class_name, required=True)
        if parsed is INVALID:
            return None
        found = self.ctx.classes.get(parsed)
        if found is None:
            self.error(f"{self.header(key)}: класса {parsed[0]}{parsed[1]} нет в {self.ctx.year_label} "
                       "(сначала импортируйте классы)")
        return found

    def teacher(self, key: str, required: bool = True) -> Teacher | None:
        """The teacher whose табельный номер is in the cell; a problem when unknown."""
        code = self.get(key, values.text(40), required=required)
        if code is None or code is INVALID:
            return None
        found = self.ctx.teachers.get(code)
        if found is None:
            self.error(f"{self.header(key)}: нет учителя с табельным номером {code} "
                       "(сначала импортируйте учителей)")
        return found

    def subject(self, key: str = "subject", required: bool = True) -> Subject | None:
        """The subject named in the cell; a problem when unknown."""
        name = self.get(key, values.text(100), required=required)
        if name is None or name is INVALID:
            return None
        found = self.ctx.subjects.get(values.name_key(name))
        if found is None:
            self.error(f"{self.header(key)}: нет предмета «{name}» (сначала импортируйте предметы)")
        return found
