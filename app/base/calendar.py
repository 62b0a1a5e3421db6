"""The school, its academic year, periods and holidays, written from config.yaml into the database."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select

from app.base.extensions import db
from app.base.models import AcademicYear, Holiday, Period, School
from app.base.settings import Settings


def ensure_calendar(settings: Settings) -> AcademicYear:
    """Create or update the school row, the configured year, its periods and holidays; return the year."""
    school = db.session.scalars(select(School)).first() or School()
    school.name, school.timezone = settings.school_name, settings.timezone.key
    db.session.add(school)

    year = db.session.scalars(select(AcademicYear).filter_by(name=settings.year_name)).first()
    if year is None:
        year = AcademicYear(name=settings.year_name)
        db.session.add(year)
    year.start, year.end = settings.year_start, settings.year_end
    db.session.flush()

    periods = {p.number: p for p in db.session.scalars(select(Period).filter_by(year_id=year.id))}
    for conf in settings.periods:
        period = periods.pop(conf.number, None) or Period(year_id=year.id, number=conf.number)
        period.name, period.kind, period.start, period.end = conf.name, settings.period_kind, conf.start, conf.end
        db.session.add(period)
    for stale in periods.values():
        db.session.delete(stale)

    holidays = {h.start: h for h in db.session.scalars(select(Holiday).filter_by(year_id=year.id))}
    for rest in settings.holidays:
        holiday = holidays.pop(rest.start, None) or Holiday(year_id=year.id, start=rest.start)
        holiday.name, holiday.end = rest.name, rest.end
        db.session.add(holiday)
    for gone in holidays.values():
        db.session.delete(gone)
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
