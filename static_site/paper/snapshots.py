"""The site's Snapshot (static_site.data) narrowed for paper: one week for slips, one period for the journal copy.

The journal is read by the site's own loader, so a paper document leaves out deleted records, reads
groups and period marks, and computes averages exactly as the family pages do.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from app.base.extensions import db
from app.base.models import Period
from app.base.settings import Settings
from static_site.data import Snapshot

WEEK = dt.timedelta(days=7)


class WeekSnapshot(Snapshot):
    """One week's slips: the week alone, averages up to the week's end, and the next week's planned tests."""

    week_ahead = False  # a slip prints its own week; the site's week-ahead page is not made (static_site.planned)

    def __init__(self, conf: Settings, week: dt.date) -> None:
        sunday = week + dt.timedelta(days=6)
        super().__init__(conf, sunday)  # "today" is the week's Sunday: the week is the current one, its period shown
        self.week = week
        self.weeks = [week]
        self.period_end_full = self.period_end
        self.period_end = min(self.period_end, sunday)  # a reprint of an old week shows that week's averages
        self.end = max(self.end, sunday + WEEK)
        self.period_id = db.session.scalars(select(Period.id).where(
            Period.start == self.period_start, Period.end == self.period_end_full, Period.kind != "year")).first()

    @property
    def next_week(self) -> tuple[dt.date, dt.date]:
        """Monday and Sunday of the following week."""
        start = self.week + WEEK
        return start, start + dt.timedelta(days=6)


class PeriodSnapshot(Snapshot):
    """One period's journal of the classes asked for, from its first day to its last."""

    def __init__(self, conf: Settings, start: dt.date, end: dt.date, name: str) -> None:
        super().__init__(conf, end)
        self.start, self.end = start, end
        self.period_start, self.period_end, self.period_name = start, end, name
