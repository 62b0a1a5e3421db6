"""The school, its academic year, periods and holidays, written from config.yaml into the database."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select

from app.base import school_calendar
from app.base.extensions import db
from app.base.models import AcademicYear, School
from app.base.settings import Settings


def ensure_calendar(settings: Settings) -> AcademicYear:
    """Create or update the school row, the configured year, its periods and holidays (unless the school changed
    them on the staff page: then the database's stay); return the year."""
    school = db.session.scalars(select(School)).first() or School()
    school.name, school.timezone = settings.school_name, settings.timezone.key
    db.session.add(school)

    year = db.session.scalars(select(AcademicYear).filter_by(name=settings.year_name)).first()
    if year is None:
        year = AcademicYear(name=settings.year_name)
        db.session.add(year)
    year.start, year.end = settings.year_start, settings.year_end
    db.session.flush()

    if year.calendar_edited_at is None:  # the school's own changes win over the file (app/base/school_calendar)
        school_calendar.write(year, settings.period_kind, list(settings.periods), list(settings.holidays))
    db.session.flush()
    return year


def current_year(settings: Settings) -> AcademicYear:
    """The configured academic year's row, created on first use."""
    year = db.session.scalars(select(AcademicYear).filter_by(name=settings.year_name)).first()
    return year if year is not None else ensure_calendar(settings)


def monday(day: dt.date) -> dt.date:
    """The Monday of the day's week."""
    return day - dt.timedelta(days=day.weekday())


def week_id(day: dt.date) -> str:
    """The ISO week of a day: 2026-W47."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


WEEK_ID = re.compile(r"^(\d{4})-W(\d{2})$")


def week_monday(text: str) -> dt.date | None:
    """The Monday of an ISO week id such as 2026-W47, or None when the text is not one (the one parser of week ids)."""
    match = WEEK_ID.match(text.strip())
    if not match:
        return None
    try:
        return dt.date.fromisocalendar(int(match[1]), int(match[2]), 1)
    except ValueError:
        return None
