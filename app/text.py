"""How a Russian school writes dates, times and names."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

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
