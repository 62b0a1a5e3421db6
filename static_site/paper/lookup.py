"""What staff type on the command line: a class (7Б), a week (2026-W47), a period, a year; and where files go.

Slips, journal copies and summary sheets are personal data: they are never written into the family
site's output folder, and they are written readable by their owner only.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

from sqlalchemy import select

from app.base.calendar import monday, week_monday
from app.base.classes import LATIN_LOOKALIKES as LATIN_LOOKALIKES
from app.base.classes import sorted_classes
from app.base.extensions import db
from app.base.models import AcademicYear, Period, SchoolClass
from app.base.settings import Settings

CLASS_NAME = re.compile(r"^\s*(\d{1,2})\s*[-\s«\"]?\s*(\w{1,4})\s*[»\"]?\s*$")
WEEK_ID = re.compile(r"^(\d{4})-?W(\d{1,2})$", re.IGNORECASE)


class PaperError(Exception):
    """Staff asked for a document that cannot be made; the message says why, in Russian."""


def find_year(name: str) -> AcademicYear:
    """The academic year with this label (2026-2027)."""
    year = db.session.scalars(select(AcademicYear).where(AcademicYear.name == name.strip())).first()
    if year is None:
        known = ", ".join(db.session.scalars(select(AcademicYear.name).order_by(AcademicYear.start))) or "нет"
        raise PaperError(f"Учебный год «{name}» не найден. Есть: {known}.")
    return year


def find_class(name: str, year: AcademicYear) -> SchoolClass:
    """The class of that year named as a school writes it: 7Б (a Latin look-alike letter is accepted)."""
    match = CLASS_NAME.match(name)
    letter = match[2].upper().translate(LATIN_LOOKALIKES) if match else ""
    found = db.session.scalars(select(SchoolClass).where(
        SchoolClass.year_id == year.id, SchoolClass.grade == int(match[1]), SchoolClass.letter == letter)).first() \
        if match else None
    if found is None:
        classes = sorted_classes(db.session.scalars(select(SchoolClass).where(SchoolClass.year_id == year.id)))
        known = ", ".join(c.name for c in classes) or "нет ни одного"
        raise PaperError(f"Класс «{name}» в {year.name} учебном году не найден. Классы: {known}.")
    return found


def school_classes(year: AcademicYear) -> list[SchoolClass]:
    """Every class of the year in the school's order: 1А, 1Б, 2А …"""
    classes = db.session.scalars(select(SchoolClass).where(SchoolClass.year_id == year.id))
    return sorted_classes(classes)


def parse_week(text: str) -> dt.date:
    """The Monday of a week given as 2026-W47, or as any day of it (16.11.2026 or 2026-11-16)."""
    text = text.strip()
    try:
        if match := WEEK_ID.match(text):  # 2026-W47, also typed as 2026w47 or 2026-W7
            start = week_monday(f"{match[1]}-W{int(match[2]):02d}")
            if start is None:
                raise ValueError(text)
            return start
        if re.match(r"^\d{1,2}\.\d{1,2}\.\d{4}$", text):
            day, month, year = (int(p) for p in text.split("."))
            return monday(dt.date(year, month, day))
        return monday(dt.date.fromisoformat(text))
    except ValueError:
        raise PaperError(f"Неделя «{text}» не понята: укажите её как 2026-W47 или любой её день, 16.11.2026.") from None


def parse_day(text: str) -> dt.date:
    """A date as staff write it (20.11.2026) or in ISO form (2026-11-20)."""
    text = text.strip()
    try:
        if re.match(r"^\d{1,2}\.\d{1,2}\.\d{4}$", text):
            day, month, year = (int(p) for p in text.split("."))
            return dt.date(year, month, day)
        return dt.date.fromisoformat(text)
    except ValueError:
        raise PaperError(f"Дата «{text}» не понята: укажите её как 20.11.2026.") from None


def year_period(year: AcademicYear, number: int) -> Period:
    """The year's period with this number (1 четверть …)."""
    period = db.session.scalars(select(Period).where(Period.year_id == year.id, Period.number == number,
                                                     Period.kind != "year")).first()
    if period is None:
        names = ", ".join(f"{p.number} ({p.name})" for p in db.session.scalars(
            select(Period).where(Period.year_id == year.id, Period.kind != "year").order_by(Period.number)))
        raise PaperError(f"Периода {number} в {year.name} учебном году нет. Есть: {names or 'нет'}.")
    return period


def checked_output(conf: Settings, path: Path) -> Path:
    """The file to write, refused inside the family site's folder (documents there would be public)."""
    target = path.expanduser().resolve()
    site = conf.site_output_dir.resolve()
    if target == site or site in target.parents:
        raise PaperError(f"Документы с персональными данными нельзя сохранять в папку сайта ({site}). "
                         "Укажите другой путь в --out.")
    if target.suffix.lower() not in (".pdf", ".html"):
        raise PaperError("Имя файла в --out должно оканчиваться на .pdf или .html.")
    return target


def write_private(path: Path, data: bytes) -> None:
    """Write a document readable by its owner only, replacing any older file whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.part")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
    os.replace(temporary, path)
