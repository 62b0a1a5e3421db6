"""Parents' viewing of the diary (DOMAIN.md "Monitoring parents"): students × school weeks, and silent families.

RULES:
1. The weeks of a period run from the Monday of its first day to the week before the one in which the next
   period starts (to the year's last week for the last period), so the holidays after a period are in it.
2. A student's cell joins every family the student belongs to: *confirmed* (green with the date) when a
   guardian confirmed the week and nothing changed since; *changed* (orange) when every confirmation of
   the week was followed by a change; *opened* (green) when the family's pages of that week were opened;
   otherwise *none* (white). Weeks after the current one are *future*.
3. A confirmation without a link (recorded by staff from a returned paper slip) counts as confirmed, on paper.
4. A family is *silent* when it holds a live link and neither opened any page nor confirmed anything in the
   last SILENT_DAYS days (counted from its first link's issue when it never did).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select

from app.base import enrolment
from app.base.calendar import monday, week_id
from app.base.extensions import db
from app.base.journal_store import chunks
from app.base.models import Family, WeekAck, WeekView, family_student
from app.base.settings import Period, Settings
from app.base.text import aware

# The one rule, re-exported (`X as X` says so to mypy).
from app.notify.calls import SILENT_DAYS as SILENT_DAYS
from app.notify.calls import LinkedFamilies as LinkedFamilies
from app.notify.calls import SilentFamily as SilentFamily
from app.notify.calls import linked_families as linked_families
from app.notify.calls import silent_families as silent_families


@dataclass(frozen=True)
class Week:
    """One school week of the table."""

    monday: dt.date
    key: str  # 2026-W47
    holiday: bool  # every school day of it is a holiday
    future: bool

    @property
    def saturday(self) -> dt.date:
        """The week's last school day (six-day weeks; a five-day school simply has no lessons then)."""
        return self.monday + dt.timedelta(days=5)


def period_weeks(conf: Settings, period: Period, today: dt.date) -> list[Week]:
    """The weeks of a period, holidays after it included."""
    later = [p for p in conf.periods if p.start > period.end]
    stop = monday(later[0].start) if later else monday(conf.year_end) + dt.timedelta(days=7)
    weeks, day = [], monday(period.start)
    while day < stop:
        school_days = [day + dt.timedelta(days=i) for i in range(conf.school_days)]
        holiday = all(any(h.start <= d <= h.end for h in conf.holidays) for d in school_days)
        weeks.append(Week(day, week_id(day), holiday, day > monday(today)))
        day += dt.timedelta(days=7)
    return weeks


@dataclass
class Cell:
    """A student's week: none, opened, confirmed, changed or future; the confirmation's date; paper or not."""

    state: str
    confirmed_at: dt.datetime | None = None
    paper: bool = False


@dataclass
class StudentRow:
    """A student's line: the cells and the counts."""

    student: enrolment.Member
    channels: set[str] = field(default_factory=set)
    cells: list[Cell] = field(default_factory=list)

    def count(self, state: str, paper: bool | None = None) -> int:
        """How many weeks are in this state (confirmed on paper or by link when `paper` is given)."""
        return sum(1 for c in self.cells if c.state == state and (paper is None or c.paper == paper))


def class_table(conf: Settings, class_id: str, weeks: list[Week], today: dt.date) -> list[StudentRow]:
    """Every student of the class enrolled during the weeks, with a cell per week."""
    first, last = weeks[0].monday, weeks[-1].saturday
    students = enrolment.roster(class_id, first, last)
    students.sort(key=lambda s: (s.last_name, s.first_name, s.middle_name, s.id))
    families: dict[str, set[str]] = defaultdict(set)  # student → families
    for part in chunks([s.id for s in students]):
        for family_id, student_id in db.session.execute(select(family_student.c.family_id, family_student.c.student_id)
                                                        .where(family_student.c.student_id.in_(part))):
            families[student_id].add(family_id)
    all_families = sorted({f for fs in families.values() for f in fs})
    keys = [w.key for w in weeks]
    viewed: set[tuple[str, str]] = set()
    acks: dict[tuple[str, str], list[WeekAck]] = defaultdict(list)
    channels: dict[str, str] = {}
    for part in chunks(all_families):
        viewed |= set(db.session.execute(select(WeekView.family_id, WeekView.week)
                                         .where(WeekView.family_id.in_(part), WeekView.week.in_(keys))).all())
        for ack in db.session.scalars(select(WeekAck).where(WeekAck.family_id.in_(part), WeekAck.week.in_(keys))):
            acks[(ack.family_id, ack.week)].append(ack)
        channels.update(db.session.execute(select(Family.id, Family.channel).where(Family.id.in_(part))).all())
    rows = []
    for student in students:
        row = StudentRow(student, {channels[f] for f in families[student.id] if f in channels})
        for week in weeks:
            row.cells.append(_cell(week, [a for f in families[student.id] for a in acks[(f, week.key)]],
                                   any((f, week.key) in viewed for f in families[student.id])))
        rows.append(row)
    return rows


def _cell(week: Week, acks: list[WeekAck], opened: bool) -> Cell:
    """One week's state from its confirmations and views."""
    standing = [a for a in acks if a.changed_at is None]
    if standing:
        latest = max(standing, key=lambda a: aware(a.confirmed_at))
        return Cell("confirmed", aware(latest.confirmed_at), paper=latest.link_id is None)
    if acks:
        latest = max(acks, key=lambda a: aware(a.confirmed_at))
        return Cell("changed", aware(latest.confirmed_at), paper=latest.link_id is None)
    if week.future:
        return Cell("future")
    return Cell("opened" if opened else "none")
