"""The weeks a build shows, alike for every family: each week's id, label, school days and nearby holidays.

A week's frame is made once per build (static_site.pages asks `week_frame` for every family's week) and kept
in the build's Snapshot.cache under a key with no class id first, so Snapshot.release keeps it to the end of
the build; the pages only read it.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, NamedTuple

from app.base.calendar import week_id, week_monday
from app.base.text import format_date, week_label

if TYPE_CHECKING:
    from static_site.data import Snapshot


class WeekFrame(NamedTuple):
    """What a week page shows alike for every family."""

    id: str  # 2026-W47
    label: str  # 16–21 ноября 2026
    dates: list[dt.date]  # the school days, Monday first (settings: school_days)
    holidays: list[dict[str, str]]  # holidays within four weeks of its Monday: name, «дд.мм.гггг – дд.мм.гггг»


def week_frame(snap: Snapshot, start: dt.date) -> WeekFrame:
    """The frame of the week beginning on `start` (a Monday), made once per build."""
    key = ("", "week", start)  # no class id first: kept for the whole build (Snapshot.release)
    frame: WeekFrame | None = snap.cache.get(key)
    if frame is None:
        dates = [start + dt.timedelta(days=i) for i in range(snap.conf.school_days)]
        holidays = [{"name": h.name, "dates": f"{format_date(h.start)} – {format_date(h.end)}"}
                    for h in snap.conf.holidays if h.end >= start and h.start <= start + dt.timedelta(days=27)]
        frame = snap.cache[key] = WeekFrame(week_id(start), week_label(start), dates, holidays)
    return frame


def nav_label(wid: str) -> str:
    """16–21.11 for a week id (the week links at the top of a week page)."""
    start = week_monday(wid)
    assert start is not None, wid
    end = start + dt.timedelta(days=5)
    return f"{start:%d.%m}–{end:%d.%m}"
