"""How a Russian school writes dates, times and names."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from app.base.models import Guardian

MONTHS_GENITIVE = ("января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября",
                   "октября", "ноября", "декабря")
WEEKDAYS = ("пн", "вт", "ср", "чт", "пт", "сб", "вс")


def format_date(day: dt.date) -> str:
    """16.11.2026"""
    return day.strftime("%d.%m.%Y")


def format_day(day: dt.date) -> str:
    """пн, 16 ноября"""
    return f"{WEEKDAYS[day.weekday()]}, {day.day} {MONTHS_GENITIVE[day.month - 1]}"


def aware(moment: dt.datetime) -> dt.datetime:
    """A stored moment with its timezone (SQLite returns it naive; it was stored as UTC)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def format_datetime(moment: dt.datetime, tz: ZoneInfo) -> str:
    """16.11.2026 8:30 in the school's timezone."""
    local = aware(moment).astimezone(tz)
    return f"{format_date(local.date())} {local.hour}:{local.minute:02d}"


def format_decimal(value: float, places: int = 2) -> str:
    """4,25"""
    return f"{value:.{places}f}".replace(".", ",")


def week_label(start: dt.date) -> str:
    """16–21 ноября 2026 (Monday to Saturday)."""
    end = start + dt.timedelta(days=5)
    if start.month == end.month:
        return f"{start.day}–{end.day} {MONTHS_GENITIVE[end.month - 1]} {end.year}"
    return f"{start.day} {MONTHS_GENITIVE[start.month - 1]} – {end.day} {MONTHS_GENITIVE[end.month - 1]} {end.year}"


def short_name(first: str, middle: str, last: str) -> str:
    """Петрова А. И."""
    initials = " ".join(f"{p[0]}." for p in (first, middle) if p)
    return f"{last} {initials}".strip()


def greeting(guardian: Guardian) -> str:
    """Уважаемая Ольга Николаевна: first name and patronymic, as a school addresses a parent."""
    name = " ".join(p for p in (guardian.first_name, guardian.middle_name) if p)
    middle = guardian.middle_name.lower()
    female = middle.endswith(("вна", "чна", "кызы")) or (not middle and guardian.relation == "мать")
    male = middle.endswith(("вич", "ич", "оглы")) or (not middle and guardian.relation == "отец")
    if female:
        return f"Уважаемая {name}"
    return f"Уважаемый {name}" if male else f"Здравствуйте, {name}"
